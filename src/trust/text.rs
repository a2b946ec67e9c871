//! Zone-file text as `dnssec-keygen`, `dnssec-dsfromkey` and `keymgr`
//! write it (RFC 1035 s5.1: `;` comments, parentheses joining lines),
//! bounded file reads, base64 and hex, and DNSSEC times.

use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine as _;

use super::TrustError;

/// The largest key or anchor file read (64 KiB): a key file is well under
/// 4 KiB; anything larger (or `/dev/zero`) is refused without reading on.
pub const MAX_FILE: u64 = 64 * 1024;

/// Reads a UTF-8 text file of at most [`MAX_FILE`] octets; never blocks
/// on a FIFO or a device that has nothing to say.
pub(crate) fn read_bounded(path: &Path) -> Result<String, TrustError> {
    let file_err = |why: String| TrustError::File {
        path: path.to_path_buf(),
        why,
    };
    // O_NONBLOCK: opening a FIFO with no writer must not hang (a read of
    // it then ends at once); regular files read as usual.
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| file_err(e.to_string()))?;
    // Room for any key or anchor file in the first read (read_to_end
    // would start small and grow, a read per doubling).
    let mut buf = Vec::with_capacity(4096);
    f.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| file_err(e.to_string()))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(file_err(format!("larger than {MAX_FILE} octets")));
    }
    String::from_utf8(buf).map_err(|_| file_err("not UTF-8 text".into()))
}

/// One logical entry of zone-file text: its tokens, and the line it
/// starts on (1-based), for messages.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub line: usize,
    pub tokens: Vec<String>,
}

/// Splits zone-file text into entries: whitespace separates tokens, `;`
/// starts a comment, `(` ... `)` continue an entry over lines, `"..."` is
/// one token. Blank and comment-only lines give nothing.
pub(crate) fn entries(text: &str) -> Result<Vec<Entry>, TrustError> {
    let mut out = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if depth == 0 {
            start = lineno;
        }
        let mut chars = line.chars().peekable();
        let mut cur = String::new();
        let flush = |cur: &mut String, tokens: &mut Vec<String>| {
            if !cur.is_empty() {
                tokens.push(std::mem::take(cur));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                ';' => break,
                '(' => {
                    flush(&mut cur, &mut tokens);
                    depth += 1;
                }
                ')' => {
                    flush(&mut cur, &mut tokens);
                    depth = depth.checked_sub(1).ok_or_else(|| TrustError::Syntax {
                        line: lineno,
                        why: "')' without '('".into(),
                    })?;
                }
                '"' => {
                    flush(&mut cur, &mut tokens);
                    let mut q = String::new();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                q.push('\\');
                                if let Some(n) = chars.next() {
                                    q.push(n);
                                }
                            }
                            '"' => {
                                closed = true;
                                break;
                            }
                            _ => q.push(c),
                        }
                    }
                    if !closed {
                        return Err(TrustError::Syntax {
                            line: lineno,
                            why: "unterminated quoted string".into(),
                        });
                    }
                    tokens.push(q);
                }
                c if c.is_whitespace() => flush(&mut cur, &mut tokens),
                c => cur.push(c),
            }
        }
        flush(&mut cur, &mut tokens);
        if depth == 0 && !tokens.is_empty() {
            out.push(Entry {
                line: start,
                tokens: std::mem::take(&mut tokens),
            });
        }
    }
    if depth != 0 {
        return Err(TrustError::Syntax {
            line: start,
            why: "'(' without ')'".into(),
        });
    }
    Ok(out)
}

/// Decodes base64 (RFC 4648 with padding). The message never quotes the
/// input: it may be a private key.
pub(crate) fn base64(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| "not valid base64".to_string())
}

/// Decodes hexadecimal digits (either case).
pub(crate) fn hex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not an even number of hex digits"));
    }
    Ok((0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("checked hex"))
        .collect())
}

/// A base64 test vector as RFCs print it (split over lines), decoded.
#[cfg(test)]
pub(super) fn vector_b64(text: &str) -> Vec<u8> {
    base64(&text.split_whitespace().collect::<String>()).unwrap()
}

/// A hex test vector as RFCs print it (split over lines), decoded.
#[cfg(test)]
pub(super) fn vector_hex(text: &str) -> Vec<u8> {
    hex(&text.split_whitespace().collect::<String>()).unwrap()
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Formats seconds since the epoch as `YYYYMMDDHHmmSS` (UTC), the RRSIG
/// presentation form (RFC 4034 s3.2).
pub fn format_time(secs: u64) -> String {
    let (days, rem) = ((secs / 86400) as i64, secs % 86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Parses an RRSIG time as presented (RFC 4034 s3.2): `YYYYMMDDHHmmSS`
/// (UTC), or a plain number of seconds since the epoch. The result is the
/// 32-bit field's value.
pub fn parse_time(text: &str) -> Result<u32, TrustError> {
    let bad = || TrustError::Time(format!("{text:?} is not YYYYMMDDHHmmSS or seconds"));
    if !text.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
        return Err(bad());
    }
    if text.len() != 14 {
        return text.parse::<u32>().map_err(|_| bad());
    }
    let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().expect("digits");
    let (y, mo, d, h, mi, s) = (n(0..4), n(4..6), n(6..8), n(8..10), n(10..12), n(12..14));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    if secs < 0 {
        return Err(bad());
    }
    Ok(secs as u64 as u32)
}

/// A duration in seconds as `2h13m`, `45s`, `3d4h` (the two largest
/// units), for messages.
pub fn format_duration(secs: u64) -> String {
    let units = [(86400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let mut out = String::new();
    let mut rest = secs;
    let mut shown = 0;
    for (size, unit) in units {
        if rest >= size && shown < 2 {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
            shown += 1;
        } else if shown > 0 {
            shown = 2;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_join_parentheses_and_drop_comments() {
        let text = "; a comment\nlocal. 3600 IN DNSKEY 257 3 15 (\n  abc= ; part\n  def= )\n\nx. IN DS 1 2 3 \"q s\"\n";
        let e = entries(text).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, 2);
        assert_eq!(
            e[0].tokens,
            ["local.", "3600", "IN", "DNSKEY", "257", "3", "15", "abc=", "def="]
        );
        assert_eq!(e[1].tokens.last().unwrap(), "q s");
        assert!(entries("a ( b").is_err());
        assert!(entries("a ) b").is_err());
        assert!(entries("a \"b").is_err());
    }

    #[test]
    fn times_round_trip() {
        // RFC 6605 s6.1's RRSIG times
        assert_eq!(parse_time("20100909100439").unwrap(), 1284026679);
        assert_eq!(parse_time("20100812100439").unwrap(), 1281607479);
        assert_eq!(format_time(1284026679), "20100909100439");
        assert_eq!(parse_time("1440021600").unwrap(), 1440021600);
        assert_eq!(format_time(0), "19700101000000");
        for bad in ["", "2010090910043x", "20101309100439", "99999999999"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(2 * 3600 + 13 * 60 + 5), "2h13m");
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(86400 + 5), "1d");
        assert_eq!(format_duration(0), "0s");
    }

    #[test]
    fn bounded_reads_refuse_big_and_endless_files() {
        let err = read_bounded(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        assert!(read_bounded(Path::new("/nonexistent/k.key")).is_err());
        // a FIFO nobody writes to: an empty read, not a hang
        let fifo = std::env::temp_dir().join(format!("ironicmdns-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&fifo);
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert_eq!(read_bounded(&fifo).unwrap(), "");
        std::fs::remove_file(&fifo).unwrap();
        assert!(hex("0g").is_err() && hex("abc").is_err());
        assert_eq!(hex("0aFF").unwrap(), [10, 255]);
        assert!(base64("@@@@").is_err());
    }
}
