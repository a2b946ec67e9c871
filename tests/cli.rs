//! The `ironic-mdns` command line, without network: help, version, the
//! options listing, and every kind of bad argument (usage on stderr, exit 64).
//! Nothing here opens a socket: bad arguments are refused before the library
//! starts, and `options` only prints.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ironic-mdns"))
        .args(args)
        .output()
        .expect("run ironic-mdns")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

#[test]
fn help_prints_usage_on_stdout() {
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0), "{flag}");
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("usage: ironic-mdns"), "{flag}: {stdout}");
        for word in [
            "register TYPE URL",
            "lookup TYPE",
            "browse",
            "options",
            "--interface IP",
            "--lookup-timeout",
            "--json",
        ] {
            assert!(stdout.contains(word), "{flag}: help lacks {word:?}");
        }
        assert!(out.stderr.is_empty(), "{flag}");
    }
}

#[test]
fn version_names_the_crate_version() {
    for flag in ["--version", "-V"] {
        let out = run(&[flag]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            text(&out.stdout),
            format!("ironic-mdns {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[test]
fn options_prints_the_mdns_section_with_defaults() {
    let out = run(&["options"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("[mdns]\n"), "{stdout}");
    // SPEC 2: the reference's four options, commented out with their defaults.
    for line in [
        "#registration_attempts = 5",
        "#lookup_attempts = 3",
        "#params =",
        "#interfaces =",
    ] {
        assert!(
            stdout.lines().any(|l| l.starts_with(line)),
            "missing {line:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("Number of attempts to lookup a service."),
        "help text missing:\n{stdout}"
    );
    // Option flags are accepted (and validated) with any command.
    let out = run(&[
        "options",
        "--interface",
        "198.18.0.1",
        "--lookup-attempts=2",
        "--params",
        "a:b",
    ]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
}

/// Each row: arguments, and a fragment the error message must contain.
const BAD_ARGS: &[(&[&str], &str)] = &[
    (&[], "a command is required"),
    (&["frobnicate"], "unknown command"),
    (&["lookup"], "lookup needs exactly one TYPE"),
    (&["lookup", "a", "b"], "lookup needs exactly one TYPE"),
    (&["register", "baremetal"], "register needs TYPE and URL"),
    (
        &["register", "baremetal", "http://198.18.0.2", "=x"],
        "has no key",
    ),
    (&["browse", "extra"], "takes no argument"),
    (&["options", "extra"], "takes no argument"),
    (&["--bogus", "options"], "unknown option --bogus"),
    (
        &["lookup", "baremetal", "--lookup-timeout"],
        "needs a value",
    ),
    (
        &["lookup", "baremetal", "--lookup-attempts", "0"],
        "lookup_attempts",
    ),
    (
        &["lookup", "baremetal", "--lookup-attempts=x"],
        "lookup_attempts",
    ),
    (
        &[
            "register",
            "baremetal",
            "http://198.18.0.2",
            "--registration-attempts",
            "-1",
        ],
        "registration_attempts",
    ),
    (
        &["lookup", "baremetal", "--lookup-timeout", "0"],
        "lookup_timeout",
    ),
    (
        &["lookup", "baremetal", "--interface", "eth0"],
        "interfaces",
    ),
    (
        &["lookup", "baremetal", "--interfaces", "198.18.0.1,nope"],
        "interfaces",
    ),
    (
        &[
            "register",
            "baremetal",
            "http://198.18.0.2",
            "--params",
            "novalue",
        ],
        "params",
    ),
    (&["browse", "--duration", "soon"], "--duration"),
    (&["browse", "--duration", "-1"], "--duration"),
    (&["options", "--json"], "does not apply to options"),
    (
        &["register", "baremetal", "http://198.18.0.2", "--json"],
        "does not apply to register",
    ),
    (
        &["browse", "--no-skip-loopback"],
        "does not apply to browse",
    ),
    (
        &["lookup", "baremetal", "--duration", "1"],
        "does not apply to lookup",
    ),
    (&["lookup", "baremetal", "--json=yes"], "takes no value"),
];

#[test]
fn bad_arguments_print_usage_and_exit_64() {
    for (args, fragment) in BAD_ARGS {
        let out = run(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: stderr {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: stdout {:?}",
            text(&out.stdout)
        );
        assert!(stderr.starts_with("ironic-mdns: "), "{args:?}: {stderr}");
        assert!(
            stderr.lines().next().unwrap().contains(fragment),
            "{args:?}: want {fragment:?} in {stderr}"
        );
        assert!(
            stderr.contains("usage: ironic-mdns"),
            "{args:?}: no usage in {stderr}"
        );
    }
}

#[test]
fn double_dash_ends_options() {
    // After `--`, `--help` is a positional argument (a service type here),
    // so this is `lookup` with two arguments: a usage error, not help.
    let out = run(&["lookup", "--", "--help", "x"]);
    assert_eq!(out.status.code(), Some(64));
    assert!(text(&out.stderr).contains("lookup needs exactly one TYPE"));
}
