//! The ABI as the installed library shows it: exactly the symbols listed in
//! ironicmdns.symbols (only zc_*), each declared in the header; soname
//! libironicmdns.so.0; no RPATH/RUNPATH; none of the fuzz target bodies
//! (the cargo feature `fuzzing`) in the static or the shared library.

mod capi_util;

use std::collections::BTreeSet;
use std::process::Command;

use capi_util::{installed, root, run_ok, text};

fn listed() -> BTreeSet<String> {
    let list = std::fs::read_to_string(root().join("ironicmdns.symbols")).unwrap();
    list.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn library() -> std::path::PathBuf {
    installed().libdir().join("libironicmdns.so.0.1.0")
}

#[test]
fn exported_symbols_are_exactly_the_list() {
    let out = run_ok(
        Command::new("nm")
            .args(["-D", "--defined-only"])
            .arg(library()),
    );
    let exported: BTreeSet<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|s| s.split('@').next().unwrap_or(s).to_owned())
        .collect();
    let listed = listed();
    let extra: Vec<_> = exported.difference(&listed).collect();
    let missing: Vec<_> = listed.difference(&exported).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "exported but not listed: {extra:?}; listed but not exported: {missing:?}"
    );
    assert!(
        exported.iter().all(|s| s.starts_with("zc_")),
        "only zc_* may be exported: {exported:?}"
    );
}

/// The names of the symbols `file` defines (every symbol table: internal
/// functions too), as stored (mangled). `readelf`, not `nm`: the objects of
/// an LTO release archive carry LLVM bitcode, which binutils' `nm` hands to
/// its LTO plugin and then lists nothing.
fn defined_symbols(file: &std::path::Path) -> Vec<String> {
    let out = run_ok(Command::new("readelf").args(["-s", "-W"]).arg(file));
    // `Num: Value Size Type Bind Vis Ndx Name`; Ndx UND is an import.
    text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() >= 8 && f[0].ends_with(':') && f[6] != "UND")
        .map(|f| f[7].to_owned())
        .collect()
}

#[test]
fn no_fuzzing_code_in_the_installed_libraries() {
    // `cargo test` turns the feature on (Cargo.toml's dev-dependency on the
    // crate itself); `make install` builds without it, and so must ship
    // neither the bodies nor anything they alone use. Rust's manglings
    // (legacy and v0) both keep each path segment, `7fuzzing`, readable.
    let lib = installed().libdir();
    for (file, ours) in [
        ("libironicmdns.a", "10ironicmdns"),
        ("libironicmdns.so.0.1.0", "zc_"),
    ] {
        let symbols = defined_symbols(&lib.join(file));
        assert!(
            symbols.iter().any(|s| s.contains(ours)),
            "{file}: no {ours} symbol; is it the library? {} symbols",
            symbols.len()
        );
        let fuzzing: Vec<_> = symbols
            .iter()
            .filter(|s| s.to_ascii_lowercase().contains("fuzzing"))
            .collect();
        assert!(fuzzing.is_empty(), "{file} holds fuzzing code: {fuzzing:?}");
    }
}

#[test]
fn symbols_list_is_sorted_and_matches_the_header() {
    let list = std::fs::read_to_string(root().join("ironicmdns.symbols")).unwrap();
    let names: Vec<&str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        names, sorted,
        "ironicmdns.symbols must be sorted, without duplicates"
    );
    let header = std::fs::read_to_string(root().join("include/ironicmdns.h")).unwrap();
    // Declarations, not the comments: `type name(` outside comment lines.
    let declared: BTreeSet<String> = header
        .lines()
        .filter(|l| !l.trim_start().starts_with('*') && !l.trim_start().starts_with("/*"))
        .filter(|l| l.contains('('))
        .filter_map(|l| l.split('(').next())
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter(|name| name.starts_with("zc_"))
        .map(str::to_owned)
        .collect();
    assert_eq!(
        declared,
        listed(),
        "the header's functions and ironicmdns.symbols differ"
    );
}

#[test]
fn soname_and_no_rpath() {
    let out = run_ok(Command::new("readelf").arg("-d").arg(library()));
    let dynamic = text(&out.stdout);
    assert!(
        dynamic.contains("Library soname: [libironicmdns.so.0]"),
        "soname:\n{dynamic}"
    );
    assert!(
        !dynamic.contains("(RPATH)") && !dynamic.contains("(RUNPATH)"),
        "rpath:\n{dynamic}"
    );
    let lib = installed().libdir();
    assert_eq!(
        std::fs::read_link(lib.join("libironicmdns.so.0"))
            .unwrap()
            .to_str(),
        Some("libironicmdns.so.0.1.0")
    );
    assert_eq!(
        std::fs::read_link(lib.join("libironicmdns.so"))
            .unwrap()
            .to_str(),
        Some("libironicmdns.so.0")
    );
}
