//! The `config_file` target: an OpenStack config file through the loader.

use crate::config::Config;
use crate::config_file::{load, Source};
use crate::log::set_log_hook;

/// An OpenStack config file (oslo.config's INI dialect) through
/// `config_file::load`: a failure changes nothing and names the file; a
/// success leaves a usable configuration; loading is deterministic.
pub fn config_file(data: &[u8]) {
    set_log_hook(Some(|_, _| {}));
    let path = std::env::temp_dir().join(format!(
        "ironicmdns-fuzz-{}-{:?}.conf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, data).expect("write the config file");
    let sources = [Source::File(path.clone())];
    let mut cfg = Config::default();
    let first = load(&mut cfg, &sources);
    let mut again = Config::default();
    let second = load(&mut again, &sources);
    let _ = std::fs::remove_file(&path);
    assert_eq!(cfg, again, "two loads of one file differ");
    match first {
        Ok(warnings) => {
            assert_eq!(second.ok(), Some(warnings));
            assert!(cfg.registration_attempts >= 1 && cfg.lookup_attempts >= 1);
            assert!(!cfg.lookup_timeout.is_zero());
            if let Some(list) = &cfg.interfaces {
                assert!(!list.is_empty(), "empty interface list");
            }
        }
        Err(e) => {
            assert!(second.is_err());
            assert_eq!(cfg, Config::default(), "failed load changed the config");
            let text = e.to_string();
            assert!(
                text.contains(&*path.to_string_lossy()),
                "error without the file name: {text}"
            );
        }
    }
}
