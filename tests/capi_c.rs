//! tests/c/bad_input.c, built against the installed library, run under
//! valgrind in a private network namespace: every documented status, no
//! crash, no memory error, no leak. OWNER: capi helper.

mod capi_util;

use capi_util::{cc, have_tool, installed, netns, root, scratch, text};

#[test]
fn bad_input_at_every_entry_point_under_valgrind() {
    let Some(ns) = netns("bad_input_at_every_entry_point_under_valgrind") else { return };
    let inst = installed();
    let dir = scratch("bad_input");
    let exe = dir.join("bad_input");
    cc(&[&root().join("tests/c/bad_input.c")], &exe, &inst.pkg_config(&["--cflags"]), &inst.pkg_config(&["--libs"]));

    let valgrind = have_tool("bad_input under valgrind", "valgrind", "--version");
    let mut args: Vec<String> = Vec::new();
    let program = if valgrind {
        args.extend(
            ["-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect"]
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
        .expect("run bad_input");
    let stdout = text(&out.stdout);
    for line in stdout.lines().filter(|l| l.starts_with("PENDING")) {
        eprintln!("bad_input: {line}");
    }
    assert!(
        out.status.success() && stdout.contains("bad_input: all checks passed"),
        "bad_input failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        out.status,
        text(&out.stderr)
    );
}
