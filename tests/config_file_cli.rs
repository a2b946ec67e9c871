//! `ironic-mdns --config-file / --config-dir`: the `[mdns]` options of an
//! operator's ironic.conf reach the lookup and the registration, between
//! two private hosts.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_ironic-mdns");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/config")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn lookup_and_register_take_mdns_options_from_config_files() {
    let Some(lab) = lab!() else { return };
    let dir = std::env::temp_dir().join(format!("ironicmdns-cfcli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf.d")).unwrap();
    let w = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    // Host B publishes on IPv6 only, with the TXT params of its file.
    let b_conf = w(
        "b.conf",
        "[DEFAULT]\ndebug = true\n\n[mdns]\ninterfaces = fd00:99::2\n\
         params = ipa_debug:1,\n  ipa_ntp_server:'198.18.0.9,198.18.0.10'\n",
    );
    let mut pub_b = lab
        .spawn(
            lab.command(1, EXE)
                .args(["register", "baremetal", "http://198.18.0.2:6385/baremetal"])
                .arg("--config-file")
                .arg(&b_conf)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit()),
        )
        .expect("start the publisher");
    let first = pub_b.first_line();
    assert!(first.starts_with("registered baremetal"), "{first:?}");

    let lookup = |args: &[&str]| -> (Output, Duration) {
        let t = Instant::now();
        let out = lab
            .command(0, EXE)
            .args(["lookup", "baremetal"])
            .args(args)
            .output()
            .unwrap();
        (out, t.elapsed())
    };

    // ironic.conf: interfaces = 198.18.0.1 (IPv4 only: B is not heard),
    // lookup_attempts = 2; a later file sets lookup_timeout = 1.0. Two
    // attempts: 1.0 + 0.1 + 1.0 s; three would be 3.3 s.
    let timeout = w("timeout.conf", "[mdns]\nlookup_timeout = 1.0\n");
    let ironic_conf = data("ironic.conf");
    let (out, took) = lookup(&[
        "--config-file",
        ironic_conf.to_str().unwrap(),
        "--config-file",
        timeout.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        took >= Duration::from_millis(2000) && took < Duration::from_millis(3200),
        "two attempts of 1 s took {took:?}"
    );

    // A --config-dir after it switches to IPv6: found, with B's params.
    w(
        "conf.d/50-v6.conf",
        "[mdns]\ninterfaces = fd00:99::1\nlookup_attempts = 3\n",
    );
    let conf_d = dir.join("conf.d");
    let (out, _) = lookup(&[
        "--config-file",
        ironic_conf.to_str().unwrap(),
        "--config-dir",
        conf_d.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "http://198.18.0.2:6385/baremetal", "{stdout}");
    assert!(lines.contains(&"ipa_debug=1"), "{stdout}");
    assert!(
        lines.contains(&"ipa_ntp_server=198.18.0.9,198.18.0.10"),
        "{stdout}"
    );

    // Flags win over every file.
    let (out, took) = lookup(&[
        "--config-dir",
        conf_d.to_str().unwrap(),
        "--interface",
        "198.18.0.1",
        "--lookup-attempts",
        "1",
        "--lookup-timeout",
        "0.3",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(took < Duration::from_millis(1500), "{took:?}");

    // A bad value: usage error naming file, line and option; nothing sent.
    let bad = w("bad.conf", "[mdns]\n# three\nlookup_attempts = 3 # three\n");
    let (out, _) = lookup(&["--config-file", bad.to_str().unwrap()]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{err}");
    assert!(
        err.contains(
            "bad.conf, line 3: invalid value \"3 # three\" for option [mdns] lookup_attempts"
        ),
        "{err}"
    );
    // An unknown [mdns] key: a warning on stderr, the lookup goes on.
    let unknown = w(
        "unknown.conf",
        "[mdns]\ninterfaces = fd00:99::1\nlookup_atempts = 1\n",
    );
    let (out, _) = lookup(&["--config-file", unknown.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unknown.conf, line 3: unknown option [mdns] lookup_atempts"),
        "{}",
        text(&out.stderr)
    );
    pub_b.stop(Duration::from_secs(5)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
