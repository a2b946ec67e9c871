//! The C test programs of tests/c/, built against the installed library
//! and run under valgrind in a private network namespace: bad_input.c (every
//! documented status, no crash, no memory error, no leak) and threads.c
//! (one handle shared by threads). OWNER: capi helper.

mod capi_util;

use capi_util::{cc, have_tool, installed, netns, root, scratch, text};

/// Build tests/c/NAME.c and run it (under valgrind when installed) in a
/// private namespace; it must print "NAME: all checks passed".
fn run_c_test(test: &str, name: &str) {
    let Some(ns) = netns(test) else { return };
    let inst = installed();
    let dir = scratch(name);
    let exe = dir.join(name);
    let mut libs = inst.pkg_config(&["--libs"]);
    libs.push("-pthread".to_owned());
    cc(
        &[&root().join(format!("tests/c/{name}.c"))],
        &exe,
        &inst.pkg_config(&["--cflags"]),
        &libs,
    );

    let valgrind = have_tool(test, "valgrind", "--version");
    let mut args: Vec<String> = Vec::new();
    let program = if valgrind {
        args.extend(
            [
                "-q",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite,indirect",
            ]
            .map(String::from),
        );
        args.push(exe.display().to_string());
        "valgrind".to_owned()
    } else {
        exe.display().to_string()
    };
    let out = ns
        .command(&program, &args)
        .env("LD_LIBRARY_PATH", inst.libdir())
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    let stdout = text(&out.stdout);
    for line in stdout.lines().filter(|l| l.starts_with("PENDING")) {
        eprintln!("{name}: {line}");
    }
    assert!(
        out.status.success() && stdout.contains(&format!("{name}: all checks passed")),
        "{name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        text(&out.stderr)
    );
}

#[test]
fn bad_input_at_every_entry_point_under_valgrind() {
    run_c_test("bad_input_at_every_entry_point_under_valgrind", "bad_input");
}

#[test]
fn one_handle_shared_by_threads_under_valgrind() {
    run_c_test("one_handle_shared_by_threads_under_valgrind", "threads");
}
