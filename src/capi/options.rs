//! `zc_options`: the `[mdns]` options (SPEC 2) set by name with config-file
//! text, their listing, and the sample config.

use std::ffi::{c_char, CString};
use std::sync::{Mutex, OnceLock};

use super::boundary::{required_out, run, run_value, Detail, Failure, Sink};
use super::status::zc_status;
use super::strings::{in_str, out_string};
use crate::config::{sample_config, Config};

/// Options for `zc_new` and `zc_lookup_with_options`. Create with
/// `zc_options_new` (all defaults), change with `zc_options_set`, free with
/// `zc_options_free` (after the calls that use it returned: `zc_new` copies
/// what it needs). Synchronised: any thread may use it at any time.
pub struct zc_options {
    pub(crate) config: Mutex<Config>,
    /// Detail of the last failure of a call given these options.
    pub(crate) detail: Detail,
}

impl zc_options {
    /// A copy of the configuration.
    pub(crate) fn config(&self) -> Config {
        self.config
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub(crate) fn sink(&self) -> Sink<'_> {
        Sink {
            detail: Some(&self.detail),
            poison: None,
        }
    }
}

/// The default configuration (SPEC 2).
pub(crate) fn default_config() -> Config {
    Config::default()
}

/// Create an options object with every option at its default, in `*out`
/// (written only on `ZC_OK`). Free it with `zc_options_free`.
#[no_mangle]
pub extern "C" fn zc_options_new(out: *mut *mut zc_options) -> zc_status {
    run("zc_options_new", Sink::none(), || {
        let out = required_out(out, "out")?;
        let opts = Box::new(zc_options {
            config: Mutex::new(default_config()),
            detail: Detail::default(),
        });
        // SAFETY: out was checked non-NULL.
        unsafe { *out = Box::into_raw(opts) };
        Ok(())
    })
}

/// Set option `name` from its config-file text, as in an `[mdns]` section:
/// `registration_attempts` / `lookup_attempts` ("5"; from 1 to 10, so
/// that the doubling waits between attempts add up to at most 51.1 s),
/// `params` ("key1:value1,key2:value2"; a value may be quoted to hold a
/// comma; keys printable US-ASCII without '=', unique without regard to
/// case, and each `key=value` at most 255 bytes, RFC 6763 s6.1/s6.4),
/// `interfaces` ("198.18.0.1,fd00:99::1"; not the unspecified, a
/// multicast or the broadcast address), `lookup_timeout` (seconds per
/// lookup attempt, "0.2"; from 0.001 to 60). Unicast DNS-SD (docs/DNS.md):
/// `domain` ("mystack.example.com"; empty, the default, keeps mDNS only),
/// `dns_servers` ("198.18.0.1,[fd00:99::1]:5353"; default: the
/// nameservers of /etc/resolv.conf), `tsig_key_file` (a BIND key file as
/// `tsig-keygen` prints; read here, a warning is logged when others may
/// read it), `tsig_key` ("hmac-sha256:name:base64secret"; never echoed in
/// an error text), `discovery` ("auto", "mdns", "dns" or "both"; auto: dns
/// when a domain is set). With a key, every DNS query and update is
/// signed and every answer must be signed by it, else `ZC_ERR_AUTH`.
/// DNSSEC (docs/TRUST.md): `trust_anchor` (a DNSKEY or DS record in
/// zone-file text, a DS as "KEYTAG:ALG:DIGESTTYPE:HEXDIGEST", or
/// "@/path/file" holding such lines; each call adds anchors; empty is
/// refused: leave it unset for no validation): every answer used, over
/// mDNS or unicast DNS, must then carry valid signatures by an anchored
/// key, else `ZC_ERR_AUTH`; `trust_clock_skew` (seconds a signature's
/// validity window is widened by on both sides, "3600"; 0 to 2592000);
/// `signing_key_file` (the `K<name>+<alg>+<tag>.private` file of
/// `dnssec-keygen`, with its `.key` beside it; read and checked here): the
/// mDNS responder signs what it publishes.
/// The value is checked fully
/// here: one that is accepted never fails a later call for its form
/// (`zc_new` still checks that each `interfaces` address is on an
/// interface now). An unknown name or a bad value is
/// `ZC_ERR_INVALID_ARGUMENT` (detail: `zc_options_last_error`), and then
/// the options are unchanged.
#[no_mangle]
pub extern "C" fn zc_options_set(
    opts: *mut zc_options,
    name: *const c_char,
    value: *const c_char,
) -> zc_status {
    // SAFETY: NULL or a live options object.
    let Some(o) = (unsafe { opts.cast_const().as_ref() }) else {
        return run("zc_options_set", Sink::none(), || {
            Err(Failure::invalid("opts is NULL"))
        });
    };
    run("zc_options_set", o.sink(), || {
        let name = in_str(name, "name")?;
        let value = in_str(value, "value")?;
        let mut g = o.config.lock().unwrap_or_else(|e| e.into_inner());
        // Set on a copy so that a failure leaves the options unchanged.
        let mut next = g.clone();
        next.set(name, value)?;
        *g = next;
        Ok(())
    })
}

/// Read the `[mdns]` section of an OpenStack config file (`ironic.conf`,
/// `ironic-python-agent.conf`) at `path` into `opts`, as oslo.config reads
/// it: `key = value` lines, `#`/`;` comments, indented continuation lines,
/// other sections ignored, a key given again replacing the earlier value.
/// Values have the syntax of `zc_options_set`. When `path` is a directory,
/// its `*.conf` files are read in name order, later ones winning
/// (`--config-dir`). Call it once per file, in order, for several files.
/// An `[mdns]` key this library does not know is a warning (sent to the
/// log: `zc_set_log_callback`, or `IRONICMDNS_LOG=warning`), not an
/// error. A syntax error or a bad value is `ZC_ERR_INVALID_ARGUMENT`, a file that cannot be read
/// `ZC_ERR_IO`; the detail (`zc_options_last_error`) names the file, the
/// line and the option, and the options are then unchanged.
#[no_mangle]
pub extern "C" fn zc_options_load_file(opts: *mut zc_options, path: *const c_char) -> zc_status {
    // SAFETY: NULL or a live options object.
    let Some(o) = (unsafe { opts.cast_const().as_ref() }) else {
        return run("zc_options_load_file", Sink::none(), || {
            Err(Failure::invalid("opts is NULL"))
        });
    };
    run("zc_options_load_file", o.sink(), || {
        let path = in_str(path, "path")?;
        if path.is_empty() {
            return Err(Failure::invalid("path is empty"));
        }
        let mut g = o.config.lock().unwrap_or_else(|e| e.into_inner());
        // load() changes the config only when everything succeeded.
        crate::config_file::load_path(&mut g, std::path::Path::new(path))?;
        Ok(())
    })
}

/// Copy the detail text of the last failure of a call that was given these
/// options (`zc_options_set`, `zc_new`, `zc_lookup_with_options`) into
/// `buf` of `len` bytes, snprintf-style: at most `len - 1` bytes and a NUL;
/// returns the full length (without NUL), so a result `>= len` means it was
/// cut. `buf` may be NULL when `len` is 0. Returns 0 (and writes "") when
/// nothing failed yet, or when `opts` is NULL. The text of calls made by
/// several threads with one options object is the last one recorded.
#[no_mangle]
pub extern "C" fn zc_options_last_error(
    opts: *const zc_options,
    buf: *mut c_char,
    len: usize,
) -> usize {
    run_value("zc_options_last_error", 0, || {
        // SAFETY: NULL or a live options object.
        match unsafe { opts.as_ref() } {
            Some(o) => o.detail.copy_to(buf, len),
            None => super::strings::copy_to_buffer("", buf, len),
        }
    })
}

/// Free an options object. NULL is accepted and does nothing.
#[no_mangle]
pub extern "C" fn zc_options_free(opts: *mut zc_options) {
    if opts.is_null() {
        return;
    }
    run("zc_options_free", Sink::none(), || {
        // SAFETY: opts came from Box::into_raw and is freed once (contract).
        drop(unsafe { Box::from_raw(opts) });
        Ok(())
    });
}

/// The options listing as static C strings, built once.
fn listing() -> &'static [[CString; 5]] {
    static LISTING: OnceLock<Vec<[CString; 5]>> = OnceLock::new();
    LISTING.get_or_init(|| {
        let c = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
        Config::options()
            .iter()
            .map(|o| {
                [
                    c(o.group),
                    c(o.name),
                    c(o.type_name),
                    c(o.default),
                    c(o.help),
                ]
            })
            .collect()
    })
}

/// The number of entries in the options listing (the C counterpart of the
/// reference's `list_opts()`); 0 only if the listing cannot be built.
#[no_mangle]
pub extern "C" fn zc_option_count() -> usize {
    run_value("zc_option_count", 0, || listing().len())
}

/// Describe option `index` (0 .. count-1): its `group` ("mdns"), `name`,
/// `type` (oslo.config type name: "integer", "dict", "list", "floating
/// point"), `default_value` as a config file would hold it ("" for none)
/// and `help` text. Static strings: never free them. Each output is
/// optional (NULL: not wanted) and written only on `ZC_OK`; an index out
/// of range is `ZC_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn zc_option_info(
    index: usize,
    group: *mut *const c_char,
    name: *mut *const c_char,
    type_: *mut *const c_char,
    default_value: *mut *const c_char,
    help: *mut *const c_char,
) -> zc_status {
    run("zc_option_info", Sink::none(), || {
        let all = listing();
        let entry = all.get(index).ok_or_else(|| {
            Failure::invalid(format!(
                "index {index} is out of range ({} options)",
                all.len()
            ))
        })?;
        for (out, s) in [group, name, type_, default_value, help]
            .into_iter()
            .zip(entry)
        {
            if !out.is_null() {
                // SAFETY: a non-NULL out-parameter points to writable storage.
                unsafe { *out = s.as_ptr() };
            }
        }
        Ok(())
    })
}

/// A sample `[mdns]` config section with help text and defaults, as
/// oslo-config-generator prints it, in `*out` (written only on `ZC_OK`;
/// free it with `zc_string_free`).
#[no_mangle]
pub extern "C" fn zc_sample_config(out: *mut *mut c_char) -> zc_status {
    run("zc_sample_config", Sink::none(), || {
        let out = required_out(out, "out")?;
        let text = out_string(&sample_config(), "the sample config")?;
        // SAFETY: out was checked non-NULL.
        unsafe { *out = text };
        Ok(())
    })
}

/// Borrow the options given to a call: NULL means defaults.
pub(crate) fn config_of(opts: *const zc_options) -> Config {
    // SAFETY: NULL or a live options object.
    match unsafe { opts.as_ref() } {
        Some(o) => o.config(),
        None => default_config(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::status::{ZC_ERR_INVALID_ARGUMENT, ZC_OK};
    use crate::capi::strings::read;
    use std::ffi::CStr;
    use std::time::Duration;

    fn detail(o: *const zc_options) -> String {
        let mut buf = [0 as c_char; 512];
        zc_options_last_error(o, buf.as_mut_ptr(), buf.len());
        read(buf.as_ptr())
    }

    #[test]
    fn set_table_and_unchanged_on_failure() {
        let mut o = std::ptr::null_mut();
        assert_eq!(zc_options_new(&mut o), ZC_OK);
        // (name, value, status)
        let rows: &[(&CStr, &CStr, zc_status)] = &[
            (c"lookup_attempts", c"1", ZC_OK),
            (c"registration_attempts", c"2", ZC_OK),
            (c"lookup_timeout", c"0.2", ZC_OK),
            (c"params", c"answer:none,foo:bar", ZC_OK),
            (c"interfaces", c"198.18.0.1,fd00:99::1", ZC_OK),
            (c"lookup_attempts", c"0", ZC_ERR_INVALID_ARGUMENT),
            (c"lookup_attempts", c"many", ZC_ERR_INVALID_ARGUMENT),
            (c"interfaces", c"eth0", ZC_ERR_INVALID_ARGUMENT),
            (c"no_such_option", c"1", ZC_ERR_INVALID_ARGUMENT),
        ];
        for (name, value, want) in rows {
            assert_eq!(
                zc_options_set(o, name.as_ptr(), value.as_ptr()),
                *want,
                "{name:?}={value:?}"
            );
        }
        assert!(
            detail(o).starts_with("zc_options_set: invalid argument: unknown option"),
            "{}",
            detail(o)
        );
        let c = unsafe { &*o }.config();
        assert_eq!((c.lookup_attempts, c.registration_attempts), (1, 2));
        assert_eq!(c.lookup_timeout, Duration::from_millis(200));
        assert_eq!(c.params.get("foo"), Some(&Some(b"bar".to_vec())));
        assert_eq!(c.interfaces.as_ref().map(Vec::len), Some(2));
        zc_options_free(o);
    }

    #[test]
    fn load_file_reads_mdns_and_names_the_bad_line() {
        use crate::capi::status::ZC_ERR_IO;
        let dir = std::env::temp_dir().join(format!("ironicmdns-lf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.conf");
        let bad = dir.join("bad.conf");
        std::fs::write(
            &good,
            "[DEFAULT]\ndebug = true\n[mdns]\nlookup_attempts = 2\n",
        )
        .unwrap();
        std::fs::write(
            &bad,
            "[mdns]\nregistration_attempts = 4\nlookup_attempts = 0\n",
        )
        .unwrap();
        let c = |p: &std::path::Path| std::ffi::CString::new(p.to_str().unwrap()).unwrap();
        let mut o = std::ptr::null_mut();
        assert_eq!(zc_options_new(&mut o), ZC_OK);
        assert_eq!(zc_options_load_file(o, c(&good).as_ptr()), ZC_OK);
        assert_eq!(unsafe { &*o }.config().lookup_attempts, 2);
        assert_eq!(
            zc_options_load_file(o, c(&bad).as_ptr()),
            ZC_ERR_INVALID_ARGUMENT
        );
        let d = detail(o);
        assert!(
            d.contains("bad.conf, line 3:") && d.contains("[mdns] lookup_attempts"),
            "{d}"
        );
        // unchanged: registration_attempts = 4 on line 2 was not applied
        let cfg = unsafe { &*o }.config();
        assert_eq!((cfg.lookup_attempts, cfg.registration_attempts), (2, 5));
        let missing = dir.join("missing.conf");
        assert_eq!(zc_options_load_file(o, c(&missing).as_ptr()), ZC_ERR_IO);
        assert!(detail(o).contains("missing.conf"), "{}", detail(o));
        assert_eq!(
            zc_options_load_file(o, std::ptr::null()),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zc_options_load_file(o, c"".as_ptr()),
            ZC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            zc_options_load_file(std::ptr::null_mut(), c(&good).as_ptr()),
            ZC_ERR_INVALID_ARGUMENT
        );
        zc_options_free(o);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn listing_is_the_config_listing() {
        let all = Config::options();
        assert_eq!(zc_option_count(), all.len());
        for (i, info) in all.iter().enumerate() {
            let mut out = [std::ptr::null::<c_char>(); 5];
            let [g, n, t, d, h] = out.each_mut().map(|p| p as *mut *const c_char);
            assert_eq!(zc_option_info(i, g, n, t, d, h), ZC_OK);
            let got: Vec<String> = out.iter().map(|p| read(*p)).collect();
            assert_eq!(
                got,
                [
                    info.group,
                    info.name,
                    info.type_name,
                    info.default,
                    info.help
                ]
            );
        }
        let mut text = std::ptr::null_mut();
        assert_eq!(zc_sample_config(&mut text), ZC_OK);
        assert_eq!(read(text), sample_config());
        crate::capi::strings::zc_string_free(text);
    }
}
