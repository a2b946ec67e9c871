//! The module-level lookups (SPEC 6): a `Zeroconf` for one call.

use super::{Found, Zeroconf};
use crate::cancel::Cancel;
use crate::config::Config;
use crate::error::Result;
use crate::props::Properties;
use crate::service::ServiceType;

/// One-shot module-level lookup with default options (SPEC 6).
pub fn get_endpoint(service_type: &str) -> Result<(String, Properties)> {
    lookup_once(Config::default(), service_type, true, false)
}

/// One-shot lookup with `config`: `Zeroconf::new(config)`,
/// `get_endpoint`, `close`, but the mDNS part runs on the caller's thread
/// with no background thread and only the sockets the lookup uses (an
/// ephemeral one per address family; 5353 only when the first query goes
/// unanswered).
pub fn lookup_once(
    config: Config,
    service_type: &str,
    skip_loopback: bool,
    skip_link_local: bool,
) -> Result<(String, Properties)> {
    lookup_once_with(config, service_type, skip_loopback, skip_link_local, None)
        .map(|f| (f.url, f.params))
}

/// `lookup_once`, cancellable by `cancel` (Error::Cancelled within
/// milliseconds of the trigger), telling whether the answer validated.
pub fn lookup_once_with(
    config: Config,
    service_type: &str,
    skip_loopback: bool,
    skip_link_local: bool,
    cancel: Option<&Cancel>,
) -> Result<Found> {
    // A refused service type costs no engine start.
    let st = ServiceType::new(service_type)?;
    if cancel.is_some_and(Cancel::is_triggered) {
        return Err(crate::cancel::cancelled());
    }
    let zc = Zeroconf::start(config, true)?;
    let result = zc.cancellable(cancel, || zc.lookup(&st, skip_loopback, skip_link_local));
    let closed = zc.close();
    let result = result?;
    closed?;
    Ok(result)
}
