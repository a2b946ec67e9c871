//! The three commands of the README's "Trusted discovery", run as an
//! operator would, between two private hosts: `dnssec-keygen`, `ironic-mdns
//! register --signing-key-file` on host A, `ironic-mdns lookup
//! --trust-anchor` (the DS of `dnssec-dsfromkey`, and its compact form) on
//! host B. A lookup pinned to another key is refused, never answered.
//!
//! Needs BIND's key tools (bind9-utils): without them the test says so and
//! passes, or fails with IRONICMDNS_REQUIRE_PEERS=1.

#[macro_use]
mod common;

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::lab::Lab;
use common::support::register_cli;
use ironicmdns::capi::status::ZC_ENDPOINT_VALIDATED;

const BIN: &str = env!("CARGO_BIN_EXE_ironic-mdns");

/// `dnssec-keygen -a ED25519 -n ZONE local.` in `dir`: the key files' stem.
fn keygen(dir: &Path) -> Option<String> {
    let out = Command::new("dnssec-keygen")
        .args(["-q", "-K"])
        .arg(dir)
        .args(["-a", "ED25519", "-n", "ZONE", "local."])
        .output();
    match out {
        Ok(o) if o.status.success() => Some(String::from_utf8(o.stdout).unwrap().trim().into()),
        _ => {
            let what = "dnssec-keygen missing (apt-get install bind9-utils)";
            assert!(
                std::env::var("IRONICMDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
                "{what} and IRONICMDNS_REQUIRE_PEERS=1"
            );
            eprintln!("trust_cli: {what}: skipped");
            None
        }
    }
}

/// `dnssec-dsfromkey -2` of the key: `local. IN DS TAG 15 2 HEX`.
fn ds_of(dir: &Path, stem: &str) -> String {
    let out = Command::new("dnssec-dsfromkey")
        .arg("-2")
        .arg(dir.join(format!("{stem}.key")))
        .output()
        .expect("dnssec-dsfromkey");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `local. IN DS 123 15 2 ABCD` -> `123:15:2:abcd`.
fn compact(ds: &str) -> String {
    let f: Vec<&str> = ds.split_whitespace().collect();
    let at = f.iter().position(|w| *w == "DS").expect("a DS record");
    format!(
        "{}:{}:{}:{}",
        f[at + 1],
        f[at + 2],
        f[at + 3],
        f[at + 4..].concat().to_lowercase()
    )
}

fn lookup(lab: &Lab, anchor: &str) -> std::process::Output {
    lab.command(1, BIN)
        .args(["lookup", "baremetal", "--json", "--lookup-attempts", "2"])
        .args(["--lookup-timeout", "1", "--trust-anchor", anchor])
        .output()
        .unwrap()
}

/// `zc_lookup_ex` of `baremetal` with `trust_anchor` set: (status, URL,
/// flags).
fn c_lookup_ex(anchor: &std::ffi::CStr) -> (i32, Option<String>, u32) {
    use ironicmdns::capi::cancellable::zc_lookup_ex;
    use ironicmdns::capi::options::{zc_options, zc_options_free, zc_options_new, zc_options_set};
    use ironicmdns::capi::strings::zc_string_free;
    use std::ffi::{c_char, CStr};
    let mut opts: *mut zc_options = std::ptr::null_mut();
    assert_eq!(zc_options_new(&mut opts), 0);
    assert_eq!(
        zc_options_set(opts, c"trust_anchor".as_ptr(), anchor.as_ptr()),
        0
    );
    assert_eq!(
        zc_options_set(opts, c"lookup_timeout".as_ptr(), c"1".as_ptr()),
        0
    );
    let mut url: *mut c_char = std::ptr::null_mut();
    let mut flags: u32 = 0xdead;
    let st = zc_lookup_ex(
        opts,
        c"baremetal".as_ptr(),
        1,
        0,
        std::ptr::null(),
        &mut url,
        std::ptr::null_mut(),
        &mut flags,
    );
    // SAFETY: NULL or a string the library wrote and nobody freed.
    let text = (!url.is_null()).then(|| {
        unsafe { CStr::from_ptr(url) }
            .to_string_lossy()
            .into_owned()
    });
    zc_string_free(url);
    zc_options_free(opts);
    (st, text, flags)
}

#[test]
fn readme_commands_sign_pin_and_refuse_another_key() {
    let Some(lab) = lab!(2) else { return };
    let dir = std::env::temp_dir().join(format!("ironicmdns-trust-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (Some(ours), Some(other)) = (keygen(&dir), keygen(&dir)) else {
        return;
    };
    let private = dir.join(format!("{ours}.private"));
    let url = format!("http://{}:6385/baremetal", lab.v4(0));
    let mut reg = register_cli(
        &lab,
        0,
        &url,
        [OsStr::new("--signing-key-file"), private.as_os_str()],
    );

    let ds = ds_of(&dir, &ours);
    for anchor in [ds.clone(), compact(&ds)] {
        let out = lookup(&lab, &anchor);
        assert!(out.status.success(), "{anchor}: {out:?}");
        let json = String::from_utf8_lossy(&out.stdout);
        assert!(
            json.contains(&format!("\"url\": \"{url}\"")) && json.contains("\"validated\": true"),
            "{anchor}: {json}"
        );
    }
    // Pinned to another key: the signed answer is not the pinned key's.
    let out = lookup(&lab, &ds_of(&dir, &other));
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "nothing printed: {out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    eprintln!("refused: {err}");
    assert!(err.contains("not in the trust anchor"), "{err}");

    // Through the C ABI: zc_lookup_ex with the anchor set on its options
    // says ZC_ENDPOINT_VALIDATED.
    let anchor = std::ffi::CString::new(compact(&ds)).unwrap();
    let (st, url_got, flags) = lab.run_on(1, move || c_lookup_ex(&anchor));
    assert_eq!(
        (st, url_got.as_deref(), flags),
        (0, Some(url.as_str()), ZC_ENDPOINT_VALIDATED)
    );

    let status = reg.stop(Duration::from_secs(10)).unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
