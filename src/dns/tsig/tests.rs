//! TSIG: key formats, signing against a vector made by dnspython, and the
//! RFC 8945 s5.3 checks of a response, one row each.

use super::*;
use crate::dns::message;

/// What `tsig-keygen -a hmac-sha256 upd.example.test` prints.
const BIND_KEY: &str = "key \"upd.example.test\" {\n\talgorithm hmac-sha256;\n\
                        \tsecret \"JBxtZjUj9elM77XPItQmCv/XMXwLT6a45tRAkXj8noc=\";\n};\n";
const SECRET_B64: &str = "JBxtZjUj9elM77XPItQmCv/XMXwLT6a45tRAkXj8noc=";

fn key() -> Key {
    Key::from_bind_file(BIND_KEY).unwrap()
}

#[test]
fn bind_key_file_forms() {
    let k = key();
    assert_eq!(k.name(), "upd.example.test.");
    assert_eq!(k.algorithm(), Algorithm::HmacSha256);
    assert_eq!(
        k.secret,
        base64::engine::general_purpose::STANDARD
            .decode(SECRET_B64)
            .unwrap()
    );
    // comments, other clauses, several keys (the first one counts), a
    // trailing-dot algorithm name
    let text = format!(
        "# made by hand\n// another comment\n/* block\n comment */\n\
         options {{ directory \"/x\"; }};\n\
         key upd.example.test. {{ algorithm HMAC-SHA512.; secret \"{SECRET_B64}\"; }};\n\
         key other {{ algorithm hmac-sha256; secret \"{SECRET_B64}\"; }};\n"
    );
    let k2 = Key::from_bind_file(&text).unwrap();
    assert_eq!(
        (k2.name(), k2.algorithm()),
        ("upd.example.test.", Algorithm::HmacSha512)
    );
    // (file text, error contains)
    let rows: &[(&str, &str)] = &[
        ("", "no `key"),
        ("key k { algorithm hmac-sha256; };", "no secret"),
        ("key k { secret \"c2VjcmV0\"; };", "no algorithm"),
        (
            "key k { algorithm hmac-md5; secret \"c2VjcmV0\"; };",
            "unsupported TSIG algorithm",
        ),
        (
            "key k { algorithm hmac-sha256; secret \"%%%%\"; };",
            "not valid base64",
        ),
        (
            "key k { algorithm hmac-sha256; secret \"c2VjcmV0\";",
            "missing '}'",
        ),
        ("key k algorithm", "expected '{'"),
        ("key \"k { algorithm", "unterminated string"),
        ("/* key k {", "unterminated /* comment"),
        (
            "key \"a..b\" { algorithm hmac-sha256; secret \"c2VjcmV0\"; };",
            "not a valid key name",
        ),
    ];
    for (text, want) in rows {
        let e = Key::from_bind_file(text).unwrap_err();
        assert!(e.contains(want), "{text:?}: {e}");
        assert!(
            !e.contains("%%%%") && !e.contains("c2VjcmV0"),
            "secret in {e}"
        );
    }
}

#[test]
fn one_line_key_forms() {
    let k = Key::from_line(&format!("hmac-sha256:upd.example.test:{SECRET_B64}")).unwrap();
    assert_eq!(k, key());
    // knsupdate's default algorithm when only name:secret is given
    let k = Key::from_line(&format!("upd.example.test:{SECRET_B64}")).unwrap();
    assert_eq!(k, key());
    let k = Key::from_line(&format!("hmac-sha384:x:{SECRET_B64}")).unwrap();
    assert_eq!(k.algorithm(), Algorithm::HmacSha384);
    for (line, want) in [
        ("justone", "expected algorithm:name:base64secret"),
        ("hmac-md5:k:c2VjcmV0", "unsupported TSIG algorithm"),
        ("hmac-sha256:k:not*base64", "not valid base64"),
        ("hmac-sha256::c2VjcmV0", "not a valid key name"),
        ("hmac-sha256:k:", "the secret is empty"),
    ] {
        let e = Key::from_line(line).unwrap_err();
        assert!(e.contains(want), "{line}: {e}");
        assert!(!e.contains("c2VjcmV0") && !e.contains("not*base64"), "{e}");
    }
}

/// No part of a one-line key that could be the secret appears in an error:
/// with the parts swapped (`secret:name`), a long secret given as the name,
/// a secret in the algorithm's place. A name that looks like a base64
/// secret is refused, so it never reaches a log or `Debug` as a name.
#[test]
fn a_misplaced_secret_is_never_echoed() {
    let long = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MEFCQ0RFRg==";
    let plain = "c2VjcmV0c2VjcmV0c2VjcmV0";
    // (line, the secret it holds, error contains)
    let rows = [
        (
            format!("{SECRET_B64}:upd.example.test"),
            SECRET_B64,
            "not a valid key name",
        ),
        (format!("{plain}:upd"), plain, "looks like a base64 secret"),
        (
            format!("hmac-sha256:{long}:{long}"),
            long,
            "not a valid key name",
        ),
        (
            format!("{plain}:upd:{SECRET_B64}"),
            plain,
            "unsupported TSIG algorithm",
        ),
        (format!("upd:{plain}x"), plain, "not valid base64"),
        (
            format!("hmac-sha256:{plain}:%%"),
            plain,
            "looks like a base64 secret",
        ),
    ];
    for (line, secret, want) in &rows {
        let e = Key::from_line(line).unwrap_err().to_string();
        assert!(e.contains(want), "{line}: {e}");
        assert!(!e.contains(secret) && !e.contains(&secret[..8]), "{e}");
    }
    // the same in a key file
    let text = format!("key \"{plain}\" {{ algorithm hmac-sha256; secret \"{SECRET_B64}\"; }};");
    let e = Key::from_bind_file(&text).unwrap_err().to_string();
    assert!(
        !e.contains(&plain[..8]) && !e.contains(&SECRET_B64[..8]),
        "{e}"
    );
    let text = format!("key k {{ algorithm {plain}; secret \"{SECRET_B64}\"; }};");
    let e = Key::from_bind_file(&text).unwrap_err().to_string();
    assert!(e.contains("unsupported") && !e.contains(&plain[..8]), "{e}");
    // a registered algorithm name is named
    let e = Key::from_line(&format!("hmac-sha1:k:{SECRET_B64}")).unwrap_err();
    assert!(e.contains("hmac-sha1"), "{e}");
    // ordinary names still pass, in any case
    for name in [
        "upd",
        "UPD.Example.Test.",
        "ddns-key_1",
        "conductor0update1key",
    ] {
        Key::from_line(&format!("{name}:{SECRET_B64}")).unwrap();
    }
}

#[test]
fn debug_never_shows_the_secret() {
    let shown = format!("{:?}", key());
    assert!(shown.contains("upd.example.test."), "{shown}");
    assert!(
        !shown.contains(SECRET_B64) && !shown.contains("36, 28"),
        "{shown}"
    );
}

/// A query signed by dnspython 2.9.2 (an independent implementation):
/// `dns.message.make_query("baremetal._openstack._tcp.example.test", "SRV",
/// id=0x4242, use_edns=False)`, `use_tsig(key, fudge=300)` with the key
/// above, at time 1764460800; and its `make_response` with one SRV answer,
/// signed at 1764460801 (tests/dns/README.md has the script).
const DNSPYTHON_QUERY: &str = include_str!("dnspython_query.hex");
const DNSPYTHON_RESPONSE: &str = include_str!("dnspython_response.hex");

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The message before its TSIG record, ARCOUNT lowered; and the MAC.
fn split_signed(signed: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (start, t, end) = *record_offsets(signed).unwrap().last().unwrap();
    assert_eq!(t, T_TSIG);
    let mut unsigned = signed[..start].to_vec();
    let ar = u16::from_be_bytes([signed[10], signed[11]]) - 1;
    unsigned[10..12].copy_from_slice(&ar.to_be_bytes());
    // the MAC: 32 bytes before original ID (2), error (2), other len (2)
    (unsigned, signed[end - 6 - 32..end - 6].to_vec())
}

#[test]
fn signing_matches_dnspython() {
    let (unsigned, their_mac) = split_signed(&unhex(DNSPYTHON_QUERY));
    let ours = sign(&unsigned, &key(), 1_764_460_800).unwrap();
    assert_eq!(ours.mac, their_mac);
    // The same record but for the owner name, which dnspython compresses
    // (the MAC covers the canonical, uncompressed form: RFC 8945 s4.3.3).
    assert_eq!(
        &ours.bytes[..unsigned.len()],
        &unsigned[..10]
            .iter()
            .chain(&ours.bytes[10..12])
            .chain(&unsigned[12..])
            .copied()
            .collect::<Vec<u8>>()[..]
    );
}

#[test]
fn dnspython_response_verifies_and_any_change_is_refused() {
    let (_, request_mac) = split_signed(&unhex(DNSPYTHON_QUERY));
    let resp = unhex(DNSPYTHON_RESPONSE);
    let plain = verify(&resp, &key(), &request_mac, 1_764_460_801).unwrap();
    let parsed = message::parse_response(&plain).unwrap();
    assert_eq!(parsed.id, 0x4242);
    assert_eq!(parsed.answers.len(), 1);
    // beyond the fudge
    assert!(matches!(
        verify(&resp, &key(), &request_mac, 1_764_460_801 + 301),
        Err(VerifyError::Stale { .. })
    ));
    // another request's MAC
    assert_eq!(
        verify(&resp, &key(), &[7u8; 32], 1_764_460_801),
        Err(VerifyError::BadMac)
    );
}

fn response_to(req: &[u8]) -> Vec<u8> {
    let mut r = req.to_vec();
    r[2] |= 0x80; // QR
    r
}

const NOW: u64 = 1_764_460_800;

#[test]
fn every_algorithm_round_trips() {
    for alg in ["hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"] {
        let k = Key::from_line(&format!("{alg}:k.example:{SECRET_B64}")).unwrap();
        let q = message::query(7, "x.example.test", 33).unwrap();
        let req = sign(&q, &k, NOW).unwrap();
        let resp = sign_with(&response_to(&q), &k, NOW + 1, Some(&req.mac), 0).unwrap();
        let plain = verify(&resp.bytes, &k, &req.mac, NOW).unwrap();
        assert_eq!(plain, response_to(&q), "{alg}");
    }
}

#[test]
fn response_checks_of_rfc8945_s5_3() {
    let k = key();
    let other = Key::from_line(&format!("hmac-sha256:other.key:{SECRET_B64}")).unwrap();
    let wrong_secret = Key::from_line("hmac-sha256:upd.example.test:c2VjcmV0c2VjcmV0").unwrap();
    let q = message::query(0x1111, "baremetal._openstack._tcp.example.test", 33).unwrap();
    let req = sign(&q, &k, NOW).unwrap();
    let resp = response_to(&q);
    let good = sign_with(&resp, &k, NOW, Some(&req.mac), 0).unwrap().bytes;
    let mut flipped = good.clone();
    flipped[13] ^= 0x20; // a byte of the question
    let mut mac_flipped = good.clone();
    let n = mac_flipped.len();
    mac_flipped[n - 8] ^= 1; // the MAC's last byte (before ID, error, other len)
    let mut two = sign_with(&resp, &k, NOW, Some(&req.mac), 0).unwrap().bytes;
    two = sign_with(&two, &k, NOW, Some(&req.mac), 0).unwrap().bytes;
    // (what, bytes, expected)
    let rows: Vec<(&str, Vec<u8>, Result<(), VerifyError>)> = vec![
        ("good", good.clone(), Ok(())),
        ("unsigned", resp.clone(), Err(VerifyError::Unsigned)),
        ("message changed", flipped, Err(VerifyError::BadMac)),
        ("MAC changed", mac_flipped, Err(VerifyError::BadMac)),
        (
            "signed by another key name",
            sign_with(&resp, &other, NOW, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::WrongKey("other.key. hmac-sha256.".into())),
        ),
        (
            "signed with another secret",
            sign_with(&resp, &wrong_secret, NOW, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::BadMac),
        ),
        (
            "not chained to our request's MAC",
            sign_with(&resp, &k, NOW, Some(&[0u8; 32]), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::BadMac),
        ),
        (
            "signed as a request (no request MAC)",
            sign_with(&resp, &k, NOW, None, 0).unwrap().bytes,
            Err(VerifyError::BadMac),
        ),
        (
            "301 s late",
            sign_with(&resp, &k, NOW - 301, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::Stale {
                signed: NOW - 301,
                now: NOW,
                fudge: FUDGE,
            }),
        ),
        (
            "300 s early is within the fudge",
            sign_with(&resp, &k, NOW + 300, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Ok(()),
        ),
        (
            "two TSIG records",
            two,
            Err(VerifyError::Malformed(
                "TSIG is not the one last additional record",
            )),
        ),
        (
            "cut short",
            good[..good.len() - 3].to_vec(),
            Err(VerifyError::Malformed("the message does not parse")),
        ),
        (
            "server's BADTIME, signed",
            sign_with(&resp, &k, NOW, Some(&req.mac), BADTIME)
                .unwrap()
                .bytes,
            Err(VerifyError::ServerRefused(BADTIME)),
        ),
    ];
    for (what, bytes, want) in rows {
        let got = verify(&bytes, &k, &req.mac, NOW).map(|plain| {
            assert_eq!(plain, resp, "{what}: the stripped message");
        });
        assert_eq!(got, want, "{what}");
    }
}

#[test]
fn server_refusal_without_mac_is_reported() {
    // RFC 8945 s5.2.2: a BADKEY/BADSIG answer carries an empty MAC.
    let k = key();
    let q = message::query(0x2222, "x.example.test", 33).unwrap();
    let req = sign(&q, &k, NOW).unwrap();
    let mut resp = response_to(&q);
    resp[3] = (resp[3] & 0xF0) | 9; // NOTAUTH
    let mut signed = sign_with(&resp, &k, NOW, Some(&req.mac), BADSIG)
        .unwrap()
        .bytes;
    // rebuild the TSIG with MAC size 0
    let (start, _, _) = *record_offsets(&signed).unwrap().last().unwrap();
    signed.truncate(start);
    signed.extend_from_slice(&name_wire(k.name()));
    signed.extend_from_slice(&T_TSIG.to_be_bytes());
    signed.extend_from_slice(&255u16.to_be_bytes());
    signed.extend_from_slice(&0u32.to_be_bytes());
    let mut rd = name_wire(k.algorithm().name());
    rd.extend_from_slice(&NOW.to_be_bytes()[2..]);
    rd.extend_from_slice(&FUDGE.to_be_bytes());
    rd.extend_from_slice(&0u16.to_be_bytes());
    rd.extend_from_slice(&q[0..2]);
    rd.extend_from_slice(&BADSIG.to_be_bytes());
    rd.extend_from_slice(&0u16.to_be_bytes());
    signed.extend_from_slice(&(rd.len() as u16).to_be_bytes());
    signed.extend_from_slice(&rd);
    assert_eq!(
        verify(&signed, &k, &req.mac, NOW),
        Err(VerifyError::ServerRefused(BADSIG))
    );
    assert!(VerifyError::ServerRefused(BADSIG)
        .to_string()
        .contains("BADSIG"));
}

#[test]
fn garbage_never_panics() {
    let k = key();
    let q = message::query(1, "x.example.test", 33).unwrap();
    let req = sign(&q, &k, NOW).unwrap();
    let good = sign_with(&response_to(&q), &k, NOW, Some(&req.mac), 0)
        .unwrap()
        .bytes;
    // every prefix, and every single-byte change
    for n in 0..good.len() {
        let _ = verify(&good[..n], &k, &req.mac, NOW);
    }
    for i in 0..good.len() {
        for v in [0u8, 0x3F, 0xC0, 0xFF] {
            if good[i] == v {
                continue;
            }
            let mut b = good.clone();
            b[i] = v;
            if let Ok(plain) = verify(&b, &k, &req.mac, NOW) {
                // only a change the MAC does not cover may pass: the ID
                assert!(i < 2, "byte {i} = {v:#x} passed: {plain:?}");
            }
        }
    }
}

/// `signed` with its TSIG record rebuilt: another algorithm name and/or
/// another MAC (the MAC size field follows), everything else kept.
fn rebuilt(signed: &[u8], alg: Option<&str>, mac: &[u8]) -> Vec<u8> {
    let (start, _, end) = *record_offsets(signed).unwrap().last().unwrap();
    let (_, after) = read_name(signed, start).unwrap();
    let rd = after + 10;
    let (old_alg, p) = read_name(signed, rd).unwrap();
    let mac_len = u16::from_be_bytes([signed[p + 8], signed[p + 9]]) as usize;
    let tail = &signed[p + 10 + mac_len..end];
    let mut rdata = name_wire(alg.unwrap_or(&old_alg));
    rdata.extend_from_slice(&signed[p..p + 8]); // time signed, fudge
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(tail);
    let mut out = signed[..after + 8].to_vec();
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(&rdata);
    out
}

/// RFC 8945 properties a response must have, beyond the rows above: a
/// time in the future beyond the fudge, a truncated or oversized MAC
/// (RFC 8945 s5.2.2.1: we accept the full MAC only), a MAC size running
/// past the record, and HMAC-SHA1 (deprecated: refused as a key and as a
/// response's algorithm).
#[test]
fn times_mac_sizes_and_sha1_are_refused() {
    let k = key();
    let q = message::query(0x3333, "baremetal._openstack._tcp.example.test", 33).unwrap();
    let req = sign(&q, &k, NOW).unwrap();
    let resp = response_to(&q);
    let good = sign_with(&resp, &k, NOW, Some(&req.mac), 0).unwrap();
    let full_mac = {
        let b = &good.bytes;
        let (_, _, end) = *record_offsets(b).unwrap().last().unwrap();
        b[end - 6 - 32..end - 6].to_vec()
    };
    assert_eq!(
        verify(&rebuilt(&good.bytes, None, &full_mac), &k, &req.mac, NOW),
        Ok(resp.clone()),
        "the rebuilding itself changes nothing"
    );
    let mut oversized = full_mac.clone();
    oversized.extend_from_slice(&[0u8; 32]);
    let mut too_long = rebuilt(&good.bytes, None, &full_mac);
    let n = too_long.len();
    // the MAC size field claims 200 bytes: past the end of the record
    let (start, _, _) = *record_offsets(&too_long).unwrap().last().unwrap();
    let (_, after) = read_name(&too_long, start).unwrap();
    let (_, p) = read_name(&too_long, after + 10).unwrap();
    too_long[p + 8..p + 10].copy_from_slice(&200u16.to_be_bytes());
    assert_eq!(too_long.len(), n);
    let sha1 = rebuilt(&good.bytes, Some("hmac-sha1."), &full_mac[..20]);
    type Row<'a> = (&'a str, Vec<u8>, Result<Vec<u8>, VerifyError>);
    // (what, bytes, expected)
    let rows: Vec<Row> = vec![
        (
            "301 s in the future",
            sign_with(&resp, &k, NOW + 301, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::Stale {
                signed: NOW + 301,
                now: NOW,
                fudge: FUDGE,
            }),
        ),
        (
            "a day in the future",
            sign_with(&resp, &k, NOW + 86_400, Some(&req.mac), 0)
                .unwrap()
                .bytes,
            Err(VerifyError::Stale {
                signed: NOW + 86_400,
                now: NOW,
                fudge: FUDGE,
            }),
        ),
        (
            "MAC truncated to 16 bytes (a valid prefix)",
            rebuilt(&good.bytes, None, &full_mac[..16]),
            Err(VerifyError::BadMac),
        ),
        (
            "MAC truncated to 1 byte",
            rebuilt(&good.bytes, None, &full_mac[..1]),
            Err(VerifyError::BadMac),
        ),
        (
            "MAC of 64 bytes, the right one first",
            rebuilt(&good.bytes, None, &oversized),
            Err(VerifyError::BadMac),
        ),
        (
            "MAC size past the record",
            too_long,
            Err(VerifyError::Malformed("MAC")),
        ),
        (
            "answered with hmac-sha1",
            sha1,
            Err(VerifyError::WrongKey("upd.example.test. hmac-sha1.".into())),
        ),
    ];
    for (what, bytes, want) in rows {
        assert_eq!(verify(&bytes, &k, &req.mac, NOW), want, "{what}");
    }
    // hmac-sha1 is no key of ours either
    assert_eq!(Algorithm::from_name("hmac-sha1"), None);
    let e = Key::from_line(&format!("hmac-sha1:upd:{SECRET_B64}")).unwrap_err();
    assert!(e.contains("unsupported TSIG algorithm hmac-sha1"), "{e}");
    let e = Key::from_bind_file(&format!(
        "key upd {{ algorithm hmac-sha1; secret \"{SECRET_B64}\"; }};"
    ))
    .unwrap_err();
    assert!(e.contains("hmac-sha1"), "{e}");
}

/// Over TCP the answer must be signed as over UDP: a signed TC answer
/// moves the exchange to TCP, where the signed answer is authenticated
/// and an unsigned one is not accepted. An unsigned TC answer to a signed
/// query moves nothing to TCP and is no result.
#[test]
fn signed_answers_over_tcp_and_unsigned_truncation() {
    use crate::dns::exchange::{Exchange, Transport};
    use std::time::{Duration, Instant};
    let k = key();
    let server: std::net::SocketAddr = "198.18.0.1:53".parse().unwrap();
    let q = message::query(0x4444, "baremetal._openstack._tcp.example.test", 33).unwrap();
    let t0 = Instant::now();
    let per = Duration::from_millis(500);
    let start = || Exchange::new(q.clone(), &[server], 2, per, Some(&k), t0, NOW);
    let tc = |signed_req: &[u8], sign_it: bool| {
        let (plain, mac) = split_signed(signed_req);
        let mut r = response_to(&plain);
        r[2] |= 0x02; // TC
        match sign_it {
            true => sign_with(&r, &k, NOW, Some(&mac), 0).unwrap().bytes,
            false => r,
        }
    };
    // signed TC over UDP, then the signed answer over TCP
    for tcp_signed in [true, false] {
        let mut x = start();
        let tx = x.poll_transmit().unwrap();
        assert_eq!(tx.transport, Transport::Udp);
        x.handle_response(t0, NOW, server, Transport::Udp, &tc(&tx.bytes, true));
        let again = x.poll_transmit().expect("TCP after a signed TC");
        assert_eq!(again.transport, Transport::Tcp);
        assert_eq!(again.bytes, tx.bytes, "the same signed request");
        let (plain, mac) = split_signed(&again.bytes);
        let answer = response_to(&plain);
        let bytes = match tcp_signed {
            true => sign_with(&answer, &k, NOW, Some(&mac), 0).unwrap().bytes,
            false => answer,
        };
        x.handle_response(t0, NOW, server, Transport::Tcp, &bytes);
        match (tcp_signed, x.take_result()) {
            (true, Some(Ok(r))) => assert!(r.authenticated && !r.truncated),
            (false, Some(Ok(r))) => panic!("unsigned TCP answer accepted: {r:?}"),
            (true, other) => panic!("signed TCP answer not accepted: {other:?}"),
            (false, _) => {}
        }
    }
    // an unsigned TC answer: no move to TCP, no result from it
    let mut x = start();
    let tx = x.poll_transmit().unwrap();
    x.handle_response(t0, NOW, server, Transport::Udp, &tc(&tx.bytes, false));
    if let Some(t) = x.poll_transmit() {
        assert_eq!(
            t.transport,
            Transport::Udp,
            "an unsigned TC moved us to TCP"
        );
    }
    assert!(
        !matches!(x.take_result(), Some(Ok(_))),
        "an unsigned TC answer is no result"
    );
}
