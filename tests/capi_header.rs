//! include/ironicmdns.h is what the pinned cbindgen makes of src/capi/, and
//! it compiles as strict C99 and as C++11.
//!
//! After changing src/capi/: `make header` (or
//! `IRONICMDNS_BLESS=1 cargo test --test capi_header`) rewrites the header.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let config =
        cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root().join("src/capi/mod.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("the header is UTF-8")
}

#[test]
fn committed_header_is_what_cbindgen_generates() {
    let fresh = generate();
    let path = root().join("include/ironicmdns.h");
    if std::env::var_os("IRONICMDNS_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/ironicmdns.h");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let tmp = std::env::temp_dir().join(format!("ironicmdns-{}.h", std::process::id()));
        std::fs::write(&tmp, &fresh).expect("write the fresh header");
        panic!(
            "include/ironicmdns.h is stale: the fresh one is in {}; see `diff -u {} {}`, \
             and run `make header` to update it",
            tmp.display(),
            path.display(),
            tmp.display()
        );
    }
}

#[test]
fn header_declares_the_fixed_abi() {
    let h = generate();
    for needle in [
        "typedef int32_t zc_status;",
        "#define ZC_OK 0",
        "typedef struct zc_zeroconf zc_zeroconf;",
        "typedef struct zc_options zc_options;",
        "typedef struct zc_props zc_props;",
        "zc_status zc_new(const zc_options *opts, zc_zeroconf **out);",
        "zc_status zc_close(zc_zeroconf *zc);",
        "const char *zc_strerror(zc_status status);",
        "#define ZC_VERSION_MAJOR 0",
        "#define ZC_MAX_INPUT 4096",
        "size_t zc_last_error(const zc_zeroconf *zc, char *buf, size_t len);",
        "typedef struct zc_cancel zc_cancel;",
        "zc_status zc_cancel_new(zc_cancel **out);",
        "zc_status zc_cancel_trigger(const zc_cancel *cancel);",
        "void zc_cancel_free(zc_cancel *cancel);",
        "#define ZC_ENDPOINT_VALIDATED 1",
    ] {
        assert!(h.contains(needle), "header lacks {needle:?}");
    }
    // Status codes are only ever appended to: these values never change.
    let codes = [
        ("ZC_OK", 0),
        ("ZC_ERR_INVALID_ARGUMENT", -1),
        ("ZC_ERR_REGISTRATION", -2),
        ("ZC_ERR_NAME_CONFLICT", -3),
        ("ZC_ERR_NOT_FOUND", -4),
        ("ZC_ERR_NO_VALID_ADDRESS", -5),
        ("ZC_ERR_DECODE", -6),
        ("ZC_ERR_IO", -7),
        ("ZC_ERR_CLOSED", -8),
        ("ZC_ERR_POISONED", -9),
        ("ZC_ERR_INTERNAL", -10),
        ("ZC_ERR_AUTH", -11),
        ("ZC_ERR_CANCELLED", -12),
    ];
    for (name, value) in codes {
        assert!(
            h.contains(&format!("#define {name} {value}\n")),
            "{name} must stay {value}"
        );
    }
    assert_eq!(
        h.matches("#define ZC_ERR_").count(),
        codes.len() - 1,
        "a new ZC_ERR_* code: append it to this table (never renumber)"
    );
    assert!(
        !h.lines()
            .any(|l| l.contains("enum ") && !l.trim_start().starts_with('*')),
        "status codes are plain #defines, never C enums"
    );
    assert!(!h.contains("uintptr_t"), "sizes are size_t");
}

fn compiles(compiler: &str, args: &[&str], src: &Path) {
    let out = std::env::temp_dir().join(format!(
        "ironicmdns-hdr-{}-{compiler}.o",
        std::process::id()
    ));
    let res = Command::new(compiler)
        .args(args)
        .arg("-I")
        .arg(root().join("include"))
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    let _ = std::fs::remove_file(&out);
    assert!(
        res.status.success(),
        "{compiler} {args:?} rejects the header:\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
}

#[test]
fn header_compiles_as_c99_and_cpp11() {
    let dir = std::env::temp_dir().join(format!("ironicmdns-hdr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Uses every type and a few calls, so that a bad declaration shows.
    let body = r#"#include <ironicmdns.h>
#include <ironicmdns.h> /* the include guard works */
int use_header(void);
int use_header(void) {
    zc_options *opts = NULL;
    zc_zeroconf *zc = NULL;
    zc_props *props = NULL;
    char buf[16];
    zc_status st = zc_options_new(&opts);
    if (st == ZC_OK) st = zc_new(opts, &zc);
    (void)zc_last_error(zc, buf, sizeof buf);
    (void)zc_props_new(&props);
    zc_props_free(props);
    zc_options_free(opts);
    (void)zc_close(zc);
    return (int)st + ZC_VERSION_MAJOR + (zc_strerror(ZC_ERR_INTERNAL) != NULL);
}
"#;
    let c = dir.join("use.c");
    let cpp = dir.join("use.cpp");
    std::fs::write(&c, body).unwrap();
    std::fs::write(&cpp, body).unwrap();
    compiles(
        "gcc",
        &["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra"],
        &c,
    );
    compiles(
        "g++",
        &["-std=c++11", "-pedantic", "-Werror", "-Wall", "-Wextra"],
        &cpp,
    );
    let _ = std::fs::remove_dir_all(&dir);
}
