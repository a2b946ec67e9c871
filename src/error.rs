//! The crate's error type. Each kind maps to one C status code (capi).

/// What went wrong, with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A caller gave something unusable (bad URL, bad name, bad option).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The service could not be registered (resolver failure, no address,
    /// engine error).
    #[error("registration failed: {0}")]
    Registration(String),
    /// Another host owns the name (after every attempt).
    #[error("registration failed: name conflict: {0}")]
    Conflict(String),
    /// The service was not found.
    #[error("lookup failed: {0}")]
    NotFound(String),
    /// Found, but none of the addresses is usable.
    #[error("lookup failed: {0}")]
    NoValidAddress(String),
    /// A property key is not UTF-8 (SPEC 4.3).
    #[error("lookup failed: {0}")]
    Decode(String),
    /// No usable interface or socket.
    #[error("I/O error: {0}")]
    Io(String),
    /// The handle is closed.
    #[error("closed: {0}")]
    Closed(String),
    /// The mDNS engine failed (a panic inside it, or its driver could not
    /// go on): this handle refuses every further call; close it.
    #[error("engine failed: {0}")]
    Poisoned(String),
    /// A unicast DNS answer was refused as unauthenticated: unsigned or
    /// wrongly signed while a TSIG key is set, outside the fudge window,
    /// not matching our request (ID, question); or the server refused our
    /// TSIG key (BADKEY, BADSIG, BADTIME).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
    /// The caller's cancel token was triggered ([`crate::cancel::Cancel`]);
    /// the handle stays usable.
    #[error("cancelled: {0}")]
    Cancelled(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a value given to the library is refused: an option's text, a
/// property, a TSIG key, a DNS name. The text is for people;
/// `Config::set` puts it after the option's name and value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl From<String> for Refused {
    fn from(why: String) -> Refused {
        Refused(why)
    }
}

/// The text, as `str` (tests and callers read it: `why.contains(..)`).
impl std::ops::Deref for Refused {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Refused {
    fn from(why: &str) -> Refused {
        Refused(why.to_owned())
    }
}

/// The text of a caught panic's payload (`panic!` with a literal or a
/// formatted message), for error details.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
