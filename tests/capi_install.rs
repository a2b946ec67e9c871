//! `make install DESTDIR=...` lays out what a C user needs, and both C
//! examples build from it through pkg-config, dynamically and statically,
//! and run.

mod capi_util;

use std::path::Path;
use std::process::Command;

use capi_util::{cc, installed, netns, root, run_ok, scratch, text};

const EXAMPLES: [&str; 3] = ["publish", "lookup", "browse"];

fn needed_and_paths(exe: &Path) -> String {
    text(&run_ok(Command::new("readelf").arg("-d").arg(exe)).stdout)
}

#[test]
fn install_layout_and_pkg_config() {
    let inst = installed();
    let lib = inst.libdir();
    for f in [
        "libironicmdns.so.0.1.0",
        "libironicmdns.so.0",
        "libironicmdns.so",
        "libironicmdns.a",
        "pkgconfig/ironicmdns.pc",
    ] {
        assert!(lib.join(f).exists(), "{f} is not installed");
    }
    let header = std::fs::read(inst.includedir().join("ironicmdns.h")).unwrap();
    assert_eq!(
        header,
        std::fs::read(root().join("include/ironicmdns.h")).unwrap()
    );

    let modversion = inst.pkg_config(&["--modversion"]);
    assert_eq!(modversion, [env!("CARGO_PKG_VERSION")]);
    let cflags = inst.pkg_config(&["--cflags"]);
    assert_eq!(cflags, [format!("-I{}", inst.includedir().display())]);
    let static_libs = inst.pkg_config(&["--static", "--libs"]);
    for l in ["-lironicmdns", "-lpthread", "-ldl", "-lm"] {
        assert!(
            static_libs.iter().any(|a| a == l),
            "pkg-config --static --libs lacks {l}: {static_libs:?}"
        );
    }
    // --define-prefix finds the prefix from where the .pc file lies.
    let out = run_ok(
        Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", inst.pkgconfig_dir())
            .env_remove("PKG_CONFIG_SYSROOT_DIR")
            .args(["--define-prefix", "--cflags", "ironicmdns"]),
    );
    assert_eq!(
        text(&out.stdout).trim(),
        format!("-I{}", inst.includedir().display())
    );
}

#[test]
fn examples_build_dynamically_and_statically_through_pkg_config() {
    let inst = installed();
    let dir = scratch("examples");
    let cflags = inst.pkg_config(&["--cflags"]);
    let dynamic = inst.pkg_config(&["--libs"]);
    // The same flags, but the archive instead of the shared library.
    let fully_static: Vec<String> = inst
        .pkg_config(&["--static", "--libs"])
        .into_iter()
        .map(|a| {
            if a == "-lironicmdns" {
                "-l:libironicmdns.a".to_owned()
            } else {
                a
            }
        })
        .collect();
    for name in EXAMPLES {
        let src = root().join(format!("examples/c/{name}.c"));
        let dyn_exe = dir.join(format!("{name}-dynamic"));
        let static_exe = dir.join(format!("{name}-static"));
        cc(&[&src], &dyn_exe, &cflags, &dynamic);
        cc(&[&src], &static_exe, &cflags, &fully_static);

        let d = needed_and_paths(&dyn_exe);
        assert!(
            d.contains("Shared library: [libironicmdns.so.0]"),
            "{name}-dynamic:\n{d}"
        );
        let s = needed_and_paths(&static_exe);
        assert!(
            !s.contains("libironicmdns"),
            "{name}-static still needs the shared library:\n{s}"
        );
        for (exe, dynamic_section) in [(&dyn_exe, &d), (&static_exe, &s)] {
            assert!(
                !dynamic_section.contains("RPATH") && !dynamic_section.contains("RUNPATH"),
                "{exe:?} has an rpath"
            );
            // An unknown flag: usage, exit 2, before any network use.
            let out = Command::new(exe)
                .arg("--bogus")
                .env("LD_LIBRARY_PATH", inst.libdir())
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{exe:?}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).starts_with(&format!("usage: {name}")),
                "{exe:?}: {}",
                text(&out.stderr)
            );
        }
    }
}

#[test]
fn lookup_example_says_not_found_in_an_empty_network() {
    let Some(ns) = netns("lookup_example_says_not_found_in_an_empty_network") else {
        return;
    };
    let inst = installed();
    let dir = scratch("lookup-empty");
    let exe = dir.join("lookup");
    cc(
        &[&root().join("examples/c/lookup.c")],
        &exe,
        &inst.pkg_config(&["--cflags"]),
        &inst.pkg_config(&["--libs"]),
    );
    let started = std::time::Instant::now();
    let out = ns
        .command(
            &exe,
            &[
                "-o",
                "lookup_attempts=1",
                "-o",
                "lookup_timeout=0.2",
                "baremetal",
            ],
        )
        .env("LD_LIBRARY_PATH", inst.libdir())
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    if stderr.contains("not yet implemented") {
        eprintln!(
            "PENDING lookup example: {}",
            stderr.lines().last().unwrap_or_default()
        );
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout {} stderr {stderr}",
        text(&out.stdout)
    );
    assert!(
        stderr.starts_with("lookup: baremetal: not found"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "one attempt of 0.2 s took {:?}",
        started.elapsed()
    );
}
