//! The C test programs of tests/c/, built against the installed library
//! and run under valgrind in a private network namespace: bad_input.c (every
//! documented status, no crash, no memory error, no leak) and threads.c
//! (one handle shared by threads), contract.c (service types, interfaces,
//! options, keys, a quiet log), close_race.c (zc_close from any thread) and
//! cancel_race.c (cancel tokens racing every blocking call).

mod capi_util;

use capi_util::{cc, have_tool, installed, netns, root, scratch, text};

/// How to run one C test program.
struct Run<'a> {
    /// Arguments for the program.
    args: &'a [&'a str],
    /// Under valgrind (when installed), with these extra valgrind flags.
    valgrind: Option<&'a [&'a str]>,
    /// Environment: (name, Some(value)) sets, (name, None) removes.
    env: &'a [(&'a str, Option<&'a str>)],
}

const UNDER_VALGRIND: Run<'static> = Run {
    args: &[],
    valgrind: Some(&[]),
    env: &[],
};

/// Build tests/c/NAME.c once per process.
fn build_c_test(name: &str) -> std::path::PathBuf {
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
    exe
}

/// Build tests/c/NAME.c and run it as `how` says in a private namespace;
/// it must print "NAME: all checks passed". Returns (stdout, stderr), or
/// None when no namespace can be made (the test then says so).
fn run_c_test(test: &str, name: &str, how: &Run) -> Option<(String, String)> {
    let ns = netns(test)?;
    let inst = installed();
    let exe = build_c_test(name);
    let valgrind = how.valgrind.is_some() && have_tool(test, "valgrind", "--version");
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
        args.extend(
            how.valgrind
                .unwrap_or_default()
                .iter()
                .map(|a| a.to_string()),
        );
        args.push(exe.display().to_string());
        "valgrind".to_owned()
    } else {
        exe.display().to_string()
    };
    args.extend(how.args.iter().map(|a| a.to_string()));
    let mut cmd = ns.command(&program, &args);
    cmd.env("LD_LIBRARY_PATH", inst.libdir());
    for (k, v) in how.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("run {name}: {e}"));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(&format!("{name}: all checks passed")),
        "{name} {:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        how.args,
        out.status,
    );
    Some((stdout, stderr))
}

#[test]
fn bad_input_at_every_entry_point_under_valgrind() {
    run_c_test(
        "bad_input_at_every_entry_point_under_valgrind",
        "bad_input",
        &UNDER_VALGRIND,
    );
}

#[test]
fn one_handle_shared_by_threads_under_valgrind() {
    run_c_test(
        "one_handle_shared_by_threads_under_valgrind",
        "threads",
        &UNDER_VALGRIND,
    );
}

/// The contract checks of tests/c/contract.c (service types, interfaces,
/// options, keys, the log), under valgrind.
/// The library is quiet by default: nothing of ours on stderr.
#[test]
fn contract_checks_under_valgrind() {
    let how = Run {
        env: &[("IRONICMDNS_LOG", None)],
        ..UNDER_VALGRIND
    };
    if let Some((_, stderr)) = run_c_test("contract_checks_under_valgrind", "contract", &how) {
        assert!(
            !stderr.lines().any(|l| l.starts_with("ironicmdns: ")),
            "the library wrote to stderr unasked:\n{stderr}"
        );
    }
}

/// IRONICMDNS_LOG=debug|warning sends the library's
/// messages to stderr; unset, nothing.
#[test]
fn library_logs_only_when_asked() {
    let test = "library_logs_only_when_asked";
    // (IRONICMDNS_LOG, the debug line of a registration expected)
    let rows: &[(Option<&str>, bool)] = &[
        (None, false),
        (Some("warning"), false),
        (Some("debug"), true),
    ];
    for (value, debug) in rows {
        let env = [("IRONICMDNS_LOG", *value)];
        let how = Run {
            args: &["log"],
            valgrind: None,
            env: &env,
        };
        let Some((_, stderr)) = run_c_test(test, "contract", &how) else {
            return;
        };
        assert_eq!(
            stderr.contains("ironicmdns: debug: registering"),
            *debug,
            "IRONICMDNS_LOG={value:?}:\n{stderr}"
        );
        if value.is_none() {
            assert_eq!(stderr, "", "quiet by default");
        }
    }
}

/// zc_close from another thread while 22 threads are
/// inside calls on the handle: each returns ZC_ERR_CLOSED within 100 ms
/// (natively; 4.4 ms measured on the shared 2-core build machine), and under
/// valgrind's fair scheduler nothing touches freed memory (the bound there,
/// 10 s, allows for valgrind's slowness, about 1 s measured; it is still
/// far below the calls' own end: their attempts would last a minute).
#[test]
fn close_from_any_thread_wakes_every_call() {
    let test = "close_from_any_thread_wakes_every_call";
    let native = Run {
        args: &["100", "3"],
        valgrind: None,
        env: &[],
    };
    if run_c_test(test, "close_race", &native).is_none() {
        return;
    }
    let fair = Run {
        args: &["10000", "2"],
        valgrind: Some(&["--fair-sched=yes"]),
        env: &[],
    };
    run_c_test(test, "close_race", &fair);
}

/// Cancel tokens racing every blocking call on several threads
/// (tests/c/cancel_race.c): each call returns ZC_ERR_CANCELLED within
/// 50 ms of its token's trigger natively, writes nothing, and the handle
/// stays usable; under valgrind's fair scheduler nothing touches freed
/// memory and nothing leaks (the bound there allows for valgrind's
/// slowness).
#[test]
fn cancel_tokens_race_every_call() {
    let test = "cancel_tokens_race_every_call";
    let native = Run {
        args: &["50", "3"],
        valgrind: None,
        env: &[],
    };
    let Some((stdout, _)) = run_c_test(test, "cancel_race", &native) else {
        return;
    };
    eprint!("{stdout}");
    let fair = Run {
        args: &["10000", "2"],
        valgrind: Some(&["--fair-sched=yes"]),
        env: &[],
    };
    if let Some((stdout, _)) = run_c_test(test, "cancel_race", &fair) {
        eprint!("under valgrind: {stdout}");
    }
}
