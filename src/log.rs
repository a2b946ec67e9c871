//! The library's log: a bottom-floor facility every module may call.
//!
//! Quiet by default, as a library should be: a message goes to the hook
//! set with [`set_log_hook`] (the C ABI's `zc_set_log_callback`, the CLI),
//! or to stderr when the environment variable `IRONICMDNS_LOG` asks for it.

use std::sync::RwLock;

/// Severity of a log message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Warning,
    Error,
}

/// Receiver of the library's log messages (called on the caller's thread).
pub type LogHook = fn(LogLevel, &str);

static LOG_HOOK: RwLock<Option<LogHook>> = RwLock::new(None);

/// Send log messages to `hook` instead of the default. The default is
/// quiet, as a library should be: nothing is written unless the
/// environment variable `IRONICMDNS_LOG` asks for it (see
/// [`stderr_log_level`]).
pub fn set_log_hook(hook: Option<LogHook>) {
    *LOG_HOOK.write().unwrap_or_else(|e| e.into_inner()) = hook;
}

/// The lowest level written to stderr when no hook is set, from the
/// value of `IRONICMDNS_LOG`: `debug` (everything), `warning` (warnings
/// and errors), `error`; unset or anything else: nothing.
pub fn log_level_from(value: Option<&str>) -> Option<LogLevel> {
    match value?.trim().to_ascii_lowercase().as_str() {
        "debug" => Some(LogLevel::Debug),
        "warning" | "warn" => Some(LogLevel::Warning),
        "error" => Some(LogLevel::Error),
        _ => None,
    }
}

/// [`log_level_from`] of this process's `IRONICMDNS_LOG`.
pub fn stderr_log_level() -> Option<LogLevel> {
    log_level_from(std::env::var("IRONICMDNS_LOG").ok().as_deref())
}

/// One log line as written to stderr.
pub fn log_line(level: LogLevel, msg: &str) -> String {
    let tag = match level {
        LogLevel::Debug => "debug",
        LogLevel::Warning => "warning",
        LogLevel::Error => "error",
    };
    format!("ironicmdns: {tag}: {msg}")
}

/// Send one message to the hook, or to stderr when `IRONICMDNS_LOG` asks.
pub(crate) fn log(level: LogLevel, msg: &str) {
    let hook = *LOG_HOOK.read().unwrap_or_else(|e| e.into_inner());
    match hook {
        Some(h) => h(level, msg),
        None if stderr_log_level().is_some_and(|min| level >= min) => {
            eprintln!("{}", log_line(level, msg));
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn log_goes_to_the_hook() {
        static SEEN: Mutex<Vec<(LogLevel, String)>> = Mutex::new(Vec::new());
        fn hook(level: LogLevel, msg: &str) {
            SEEN.lock().unwrap().push((level, msg.to_owned()));
        }
        set_log_hook(Some(hook));
        log(
            LogLevel::Warning,
            "none of addresses ['::2'] seem routable, using ::2",
        );
        set_log_hook(None);
        log(LogLevel::Debug, "not seen by the hook");
        let seen = SEEN.lock().unwrap();
        assert!(seen.contains(&(
            LogLevel::Warning,
            "none of addresses ['::2'] seem routable, using ::2".to_owned()
        )));
        assert!(!seen.iter().any(|(_, m)| m == "not seen by the hook"));
    }

    #[test]
    fn quiet_unless_ironicmdns_log_asks() {
        let rows: &[(Option<&str>, Option<LogLevel>)] = &[
            (None, None),
            (Some(""), None),
            (Some("1"), None),
            (Some("verbose"), None),
            (Some("debug"), Some(LogLevel::Debug)),
            (Some("DEBUG"), Some(LogLevel::Debug)),
            (Some("warning"), Some(LogLevel::Warning)),
            (Some(" warn "), Some(LogLevel::Warning)),
            (Some("error"), Some(LogLevel::Error)),
        ];
        for (value, want) in rows {
            assert_eq!(log_level_from(*value), *want, "{value:?}");
        }
        assert_eq!(log_line(LogLevel::Warning, "x"), "ironicmdns: warning: x");
    }
}
