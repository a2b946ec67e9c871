//! The C ABI from other languages: a Python ctypes script and a Go cgo
//! program (tests/ffi/) call version, strerror, options, properties and a
//! lookup nobody answers, inside a private network namespace.

mod capi_util;

use capi_util::{have_tool, installed, netns, root, run_ok, scratch, text};
use std::process::{Command, Output};

fn report(name: &str, out: &Output, ok_line: &str) {
    let stdout = text(&out.stdout);
    for line in stdout.lines().filter(|l| l.starts_with("PENDING")) {
        eprintln!("{name}: {line}");
    }
    assert!(
        out.status.success() && stdout.contains(ok_line),
        "{name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn python_ctypes_smoke() {
    let Some(ns) = netns("python_ctypes_smoke") else {
        return;
    };
    if !have_tool("python_ctypes_smoke", "python3", "--version") {
        return;
    }
    let lib = installed().libdir().join("libironicmdns.so.0");
    let script = root().join("tests/ffi/smoke.py");
    let out = ns
        .command("python3", &[script.as_os_str(), lib.as_os_str()])
        .output()
        .expect("run python3");
    report("python ctypes", &out, "ffi-python: ok");
}

#[test]
fn go_cgo_smoke() {
    let Some(ns) = netns("go_cgo_smoke") else {
        return;
    };
    if !have_tool("go_cgo_smoke", "go", "version") {
        return;
    }
    let inst = installed();
    let dir = scratch("go");
    let exe = dir.join("smoke");
    // Built here (no network needed: GOPROXY=off), run in the namespace.
    run_ok(
        Command::new("go")
            .current_dir(root().join("tests/ffi/go"))
            .args(["build", "-o"])
            .arg(&exe)
            .arg("main.go")
            .env("CGO_ENABLED", "1")
            .env("CGO_CFLAGS", inst.pkg_config(&["--cflags"]).join(" "))
            .env("CGO_LDFLAGS", inst.pkg_config(&["--libs"]).join(" "))
            .env("GOCACHE", dir.join("gocache"))
            .env("GOPATH", dir.join("gopath"))
            .env("GOPROXY", "off")
            .env("GO111MODULE", "off"),
    );
    let out = ns
        .command(&exe, &[] as &[&str])
        .env("LD_LIBRARY_PATH", inst.libdir())
        .output()
        .expect("run the Go smoke");
    report("go cgo", &out, "ffi-go: ok");
}
