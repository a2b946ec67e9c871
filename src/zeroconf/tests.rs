//! The object's own checks; the retry policy and the URL have theirs.

use super::*;

#[test]
fn resolver_keeps_literals() {
    let ep = endpoint::parse_endpoint("http://[fd00:99::1]:8080").unwrap();
    assert_eq!(
        resolve_host(&ServiceType::new("baremetal").unwrap(), &ep).unwrap(),
        vec!["fd00:99::1".parse::<IpAddr>().unwrap()]
    );
    // (A failing name is not tried here: glibc would ask a DNS server.)
}

#[test]
fn zeroconf_is_shareable_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Zeroconf>();
}

#[test]
fn config_checked_before_start() {
    let c = Config {
        registration_attempts: 0,
        ..Config::default()
    };
    assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
    let c = Config {
        lookup_attempts: 0,
        ..Config::default()
    };
    assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
    let c = Config {
        lookup_timeout: Duration::ZERO,
        ..Config::default()
    };
    assert!(matches!(check_config(&c), Err(Error::InvalidArgument(_))));
    assert_eq!(check_config(&Config::default()), Ok(()));
}
