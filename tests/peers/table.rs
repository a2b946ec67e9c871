//! The endpoint table of the interop matrix: what is registered, what the
//! reference puts on the wire (SPEC 3) and what a lookup returns (SPEC 4).
//! tests/peers.rs checks the reference itself against this table first.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::common::lab::Lab;
use crate::support::{Found, PVal};

/// The private DNS name of the host-name row (resolved through a hosts file
/// bind-mounted for the publisher only).
pub const HOSTNAME: &str = "ironic.test";

/// The address family of a run: the endpoints' addresses, and the one
/// family Avahi uses. The link itself stays dual-stack, as real hosts are:
/// on a link with IPv6 disabled (or IPv4 removed), python-zeroconf 0.154
/// lookups miss answers (measured: 0 of 8 found with disable_ipv6=1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fam {
    V4,
    V6,
}

impl Fam {
    pub fn name(self) -> &'static str {
        match self {
            Fam::V4 => "v4",
            Fam::V6 => "v6",
        }
    }
    pub fn addr(self, lab: &Lab, h: usize) -> IpAddr {
        match self {
            Fam::V4 => lab.v4(h),
            Fam::V6 => lab.v6(h),
        }
    }
    /// The host part of a URL for host h's address.
    pub fn url_host(self, lab: &Lab, h: usize) -> String {
        match self.addr(lab, h) {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        }
    }
    /// The hosts file for the host-name row: HOSTNAME is host h.
    pub fn hosts_file(self, lab: &Lab, h: usize) -> String {
        format!(
            "127.0.0.1 localhost\n::1 localhost\n{} {HOSTNAME}\n",
            self.addr(lab, h)
        )
    }
}

/// One endpoint of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// OpenStack service type (the instance name's first label).
    pub ty: &'static str,
    /// register_service(ty, url, params)
    pub url: String,
    pub params: Vec<(String, PVal)>,
    /// SRV port and TXT strings the reference publishes (wire order).
    pub port: u16,
    pub txt: Vec<Vec<u8>>,
    /// SRV target: None = the instance name; Some = this host name.
    pub target: Option<String>,
    /// What get_endpoint returns.
    pub want: Found,
}

fn text(k: &str, v: &str) -> (String, PVal) {
    (k.to_string(), PVal::Text(v.to_string()))
}

/// The table, for a publisher on host `h` of `lab`.
pub fn rows(fam: Fam, lab: &Lab, h: usize) -> Vec<Row> {
    let host = fam.url_host(lab, h);
    let row = |ty,
               url: String,
               params: Vec<(String, PVal)>,
               port,
               txt: &[&[u8]],
               target: Option<&str>,
               want: String| Row {
        ty,
        url,
        want: Found {
            url: want,
            params: params.iter().cloned().collect::<BTreeMap<_, _>>(),
        },
        params,
        port,
        txt: txt.iter().map(|t| t.to_vec()).collect(),
        target: target.map(str::to_string),
    };
    vec![
        // custom port, path, protocol derived, one param
        row(
            "baremetal",
            format!("http://{host}:6385/baremetal"),
            vec![text("ipa_debug", "1")],
            6385,
            &[b"ipa_debug=1", b"path=/baremetal", b"protocol=http"],
            None,
            format!("http://{host}:6385/baremetal"),
        ),
        // default http port: no TXT at all
        row(
            "r-http-default",
            format!("http://{host}"),
            vec![],
            80,
            &[],
            None,
            format!("http://{host}:80"),
        ),
        // default https port with a path
        row(
            "r-https-path",
            format!("https://{host}/v1/"),
            vec![],
            443,
            &[b"path=/v1/"],
            None,
            format!("https://{host}:443/v1/"),
        ),
        // https on another port keeps protocol=https
        row(
            "r-https-8443",
            format!("https://{host}:8443"),
            vec![],
            8443,
            &[b"protocol=https"],
            None,
            format!("https://{host}:8443"),
        ),
        // http on 443: protocol=http must win over the port rule
        row(
            "r-http-443",
            format!("http://{host}:443"),
            vec![],
            443,
            &[b"protocol=http"],
            None,
            format!("http://{host}:443"),
        ),
        // commas, empty value, key without value
        row(
            "r-params",
            format!("http://{host}:6385"),
            vec![
                text("c", "a,b"),
                text("e", ""),
                ("n".to_string(), PVal::NoValue),
            ],
            6385,
            &[b"c=a,b", b"e=", b"n", b"protocol=http"],
            None,
            format!("http://{host}:6385"),
        ),
        // a value that is not UTF-8 stays bytes; UTF-8 text stays text; "/"
        // is no path
        row(
            "r-bytes",
            format!("http://{host}/"),
            vec![
                ("bin".to_string(), PVal::Bytes(vec![0xe2, 0x28, 0xa1])),
                text("utf", "\u{e9}t\u{e9}"),
            ],
            80,
            &[b"bin=\xe2\x28\xa1", "utf=\u{e9}t\u{e9}".as_bytes()],
            None,
            format!("http://{host}:80"),
        ),
        // a DNS host name: SRV target is that name, the URL keeps it
        row(
            "r-hostname",
            format!("https://{HOSTNAME}:6385/baremetal"),
            vec![],
            6385,
            &[b"path=/baremetal", b"protocol=https"],
            Some("ironic.test."),
            format!("https://{HOSTNAME}:6385/baremetal"),
        ),
    ]
}

/// The instance name of a service type.
pub fn instance(ty: &str) -> String {
    format!("{ty}._openstack._tcp.local.")
}
