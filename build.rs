//! Link settings of the C library (docs/DESIGN.md "The C ABI"):
//! - soname `libironicmdns.so.<major>`: it moves only when the ABI breaks;
//! - a version script made from `ironicmdns.symbols` (the checked list of
//!   exported symbols) that keeps every other symbol local.
//!
//! OWNER: capi helper.

use std::env;
use std::fs;
use std::path::PathBuf;

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
}
