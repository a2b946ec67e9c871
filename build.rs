//! Link settings of the C library (docs/DESIGN.md "The C ABI"):
//! - soname `libironicmdns.so.<major>`: it moves only when the ABI breaks;
//! - a version script made from `ironicmdns.symbols` (the checked list of
//!   exported symbols) that keeps every other symbol local;
//! - for the `ironic-mdns` binary, where the linker is lld (rustc's default
//!   on x86_64 Linux since 1.90), `src/bin/ironic-mdns.order`: the functions
//!   it runs, packed together (scripts/symbol-order.sh says why). Other
//!   linkers do not know the option; a probe link decides.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=ironicmdns.symbols");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets CARGO_PKG_VERSION_MAJOR");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libironicmdns.so.{major}");

    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let list =
        fs::read_to_string(dir.join("ironicmdns.symbols")).expect("ironicmdns.symbols is readable");
    let mut script = String::from("{\n  global:\n");
    for name in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(
            name.starts_with("zc_"),
            "ironicmdns.symbols: {name} is not a zc_* name"
        );
        script.push_str(&format!("    {name};\n"));
    }
    script.push_str("  local:\n    *;\n};\n");
    let out =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("ironicmdns.map");
    fs::write(&out, script).expect("OUT_DIR is writable");
    println!(
        "cargo:rustc-cdylib-link-arg=-Wl,--version-script={}",
        out.display()
    );

    let order = dir.join("src/bin/ironic-mdns.order");
    println!("cargo:rerun-if-changed={}", order.display());
    let args = [
        format!("-Wl,--symbol-ordering-file={}", order.display()),
        "-Wl,--no-warn-symbol-ordering".to_string(),
    ];
    if order.exists() && linker_takes(&args) {
        for a in &args {
            println!("cargo:rustc-link-arg-bins={a}");
        }
    }
}

/// Whether the linker rustc uses for this target accepts `args`: an empty
/// program is linked with them (with the same rustc, target, linker and
/// RUSTFLAGS as the real build).
fn linker_takes(args: &[String]) -> bool {
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let src = out.join("probe.rs");
    if fs::write(&src, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.arg("--crate-name=probe")
        .arg("--edition=2021")
        .arg("-o")
        .arg(out.join("probe"))
        .arg(&src);
    if let Ok(target) = env::var("TARGET") {
        cmd.arg("--target").arg(target);
    }
    if let Ok(linker) = env::var("RUSTC_LINKER") {
        cmd.arg("-C").arg(format!("linker={linker}"));
    }
    if let Ok(flags) = env::var("CARGO_ENCODED_RUSTFLAGS") {
        cmd.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    for a in args {
        cmd.arg("-C").arg(format!("link-arg={a}"));
    }
    let ok = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _ = fs::remove_file(out.join("probe"));
    if !ok {
        println!(
            "cargo:warning=the linker does not take --symbol-ordering-file (not lld?): \
             ironic-mdns is linked without {}",
            Path::new("src/bin/ironic-mdns.order").display()
        );
    }
    ok
}
