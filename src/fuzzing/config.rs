//! The `config` target: the option value parser.

use crate::config::Config;

use super::Input;

/// The config value parser (`Config::set`): a failure changes nothing, a
/// success leaves a usable configuration.
pub fn config(data: &[u8]) {
    const NAMES: &[&str] = &[
        "registration_attempts",
        "lookup_attempts",
        "params",
        "interfaces",
        "lookup_timeout",
    ];
    let mut inp = Input::new(data);
    let mut cfg = Config::default();
    while !inp.is_empty() {
        let sel = inp.u8();
        let raw = inp.chunk();
        let Ok(value) = std::str::from_utf8(raw) else {
            continue;
        };
        let unknown;
        let name = match NAMES.get(sel as usize % 6) {
            Some(n) => *n,
            None => {
                unknown = String::from_utf8_lossy(inp.chunk()).into_owned();
                &unknown
            }
        };
        let before = cfg.clone();
        match cfg.set(name, value) {
            Ok(()) => {
                assert!(cfg.registration_attempts >= 1 && cfg.lookup_attempts >= 1);
                assert!(!cfg.lookup_timeout.is_zero(), "zero timeout from {value:?}");
                if let Some(list) = &cfg.interfaces {
                    assert!(!list.is_empty(), "empty interface list from {value:?}");
                }
            }
            Err(e) => {
                assert_eq!(cfg, before, "failed set changed the config");
                assert!(!e.to_string().is_empty());
            }
        }
    }
}
