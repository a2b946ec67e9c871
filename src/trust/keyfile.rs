//! Signing keys from BIND's key files: `K<zone>+<alg>+<tag>.private`
//! (Private-key-format v1.2/v1.3) and the `.key` beside it (the DNSKEY in
//! zone-file text), as `dnssec-keygen` writes them.

use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::anchor::{parse_record, Anchor};
use super::crypto::SigningKey;
use super::record::Algorithm;
use super::text::{base64, entries, read_bounded};
use super::TrustError;

/// Something about a key that works but that the operator should hear
/// of; the caller logs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyWarning {
    /// Other users may read the private key file.
    WorldReadable { path: PathBuf, mode: u32 },
}

impl fmt::Display for KeyWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyWarning::WorldReadable { path, mode } => write!(
                f,
                "private key {} is readable by every user (mode {:04o}); chmod 600 it",
                path.display(),
                mode & 0o7777
            ),
        }
    }
}

/// A signing key loaded from files, with the warnings about them.
#[derive(Debug)]
pub struct LoadedKey {
    pub key: SigningKey,
    pub warnings: Vec<KeyWarning>,
}

/// The `.key` and `.private` paths for `path`, which may name either file
/// or their common stem (`Klocal.+015+12345`).
fn key_paths(path: &Path) -> (PathBuf, PathBuf) {
    let s = path.as_os_str().to_string_lossy();
    let stem = s
        .strip_suffix(".private")
        .or_else(|| s.strip_suffix(".key"))
        .unwrap_or(&s)
        .to_string();
    (
        PathBuf::from(format!("{stem}.key")),
        PathBuf::from(format!("{stem}.private")),
    )
}

/// The algorithm and key tag a BIND key file name carries
/// (`K<zone>+<alg>+<tag>`), if it has that shape.
fn name_tag(path: &Path) -> Option<(u8, u16)> {
    let name = path.file_stem()?.to_str()?;
    let mut parts = name.rsplitn(3, '+');
    let tag = parts.next()?.parse().ok()?;
    let alg = parts.next()?.parse().ok()?;
    parts.next()?.starts_with('K').then_some((alg, tag))
}

/// Loads a signing key from BIND's `.private` file and the `.key` beside
/// it. `path` names either file or their common stem. The private key is
/// checked against the public key (derived and compared); a mismatch, an
/// algorithm other than 13 or 15, or a key tag differing from the file
/// name's is an error. A private key file others can read is a warning.
/// Messages never carry key material.
pub fn load_bind_key(path: &Path) -> Result<LoadedKey, TrustError> {
    let (key_path, private_path) = key_paths(path);
    let file_err = |p: &Path, why: String| TrustError::File {
        path: p.to_path_buf(),
        why,
    };

    // The public half: one DNSKEY record in zone-file text.
    let text = read_bounded(&key_path)?;
    let mut found = None;
    for entry in entries(&text).map_err(|e| file_err(&key_path, e.to_string()))? {
        let (owner, anchor) =
            parse_record(&entry).map_err(|e| file_err(&key_path, e.to_string()))?;
        let Anchor::Dnskey { key, .. } = anchor else {
            return Err(file_err(&key_path, "holds a DS, not a DNSKEY".into()));
        };
        if found.is_some() {
            return Err(file_err(&key_path, "holds more than one DNSKEY".into()));
        }
        found = Some((owner, key));
    }
    let (owner, dnskey) = found.ok_or_else(|| file_err(&key_path, "holds no DNSKEY".into()))?;

    // The private half.
    let mut warnings = Vec::new();
    let meta =
        std::fs::metadata(&private_path).map_err(|e| file_err(&private_path, e.to_string()))?;
    let mode = meta.permissions().mode();
    if mode & 0o004 != 0 {
        warnings.push(KeyWarning::WorldReadable {
            path: private_path.clone(),
            mode,
        });
    }
    let text = read_bounded(&private_path)?;
    let parsed = parse_private(&text, &private_path);
    // Best effort: do not leave the key's text in freed memory.
    let mut bytes = text.into_bytes();
    bytes.fill(0);
    std::hint::black_box(&bytes);
    let (algorithm, private) = parsed?;
    let tag = dnskey.key_tag();
    if algorithm != dnskey.algorithm {
        return Err(file_err(
            &private_path,
            format!(
                "algorithm {algorithm}, but {} holds an algorithm {} DNSKEY",
                key_path.display(),
                dnskey.algorithm
            ),
        ));
    }
    if !Algorithm::from_number(algorithm).is_some_and(Algorithm::can_sign) {
        return Err(file_err(
            &private_path,
            format!(
                "algorithm {algorithm} cannot sign here (13 ECDSAP256SHA256 and 15 ED25519 can)"
            ),
        ));
    }
    let private = private.ok_or_else(|| file_err(&private_path, "no PrivateKey line".into()))?;
    if let Some((name_alg, name_tag)) = name_tag(&key_path) {
        if name_alg != algorithm || name_tag != tag {
            return Err(file_err(
                &key_path,
                format!(
                    "the file name says algorithm {name_alg} key tag {name_tag}, \
                     the key is algorithm {algorithm} key tag {tag}"
                ),
            ));
        }
    }
    let key = SigningKey::from_private(owner, &private.0, dnskey)
        .map_err(|e| file_err(&private_path, e.to_string()))?;
    Ok(LoadedKey { key, warnings })
}

/// Decoded private key octets, zeroed when dropped (best effort: the
/// allocator gets them back cleared).
struct Secret(Vec<u8>);

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.fill(0);
        std::hint::black_box(&self.0);
    }
}

/// Reads a `.private` file's text: the algorithm number and the decoded
/// `PrivateKey`. Other fields (Created, Publish, Activate, ...; the RSA
/// fields) are ignored.
fn parse_private(text: &str, private_path: &Path) -> Result<(u8, Option<Secret>), TrustError> {
    let file_err = |p: &Path, why: String| TrustError::File {
        path: p.to_path_buf(),
        why,
    };
    let private_path = private_path.to_path_buf();
    let mut format = None;
    let mut algorithm = None;
    let mut private: Option<Secret> = None;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(file_err(
                &private_path,
                format!("line {}: not `Field: value`", i + 1),
            ));
        };
        let value = value.trim();
        match field.trim() {
            "Private-key-format" => format = Some(value.to_string()),
            "Algorithm" => {
                let n = value.split_whitespace().next().unwrap_or("");
                algorithm = Some(n.parse::<u8>().map_err(|_| {
                    file_err(&private_path, format!("line {}: algorithm {n:?}", i + 1))
                })?);
            }
            "PrivateKey" => {
                private = Some(Secret(base64(value).map_err(|why| {
                    file_err(
                        &private_path,
                        format!("line {}: PrivateKey is {why}", i + 1),
                    )
                })?))
            }
            // Timing metadata (Created, Publish, Activate, ...) and the RSA
            // fields (Modulus, ...; algorithm 8 is refused below).
            _ => {}
        }
    }
    match format.as_deref() {
        Some("v1.2") | Some("v1.3") => {}
        Some(v) => {
            return Err(file_err(
                &private_path,
                format!("Private-key-format {v} (v1.2 and v1.3 are read)"),
            ))
        }
        None => return Err(file_err(&private_path, "no Private-key-format line".into())),
    }
    let algorithm = algorithm.ok_or_else(|| file_err(&private_path, "no Algorithm line".into()))?;
    Ok((algorithm, private))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const ED_PRIVATE: &str = "Private-key-format: v1.2\nAlgorithm: 15 (ED25519)\nPrivateKey: ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=\nCreated: 20170101000000\nPublish: 20170101000000\nActivate: 20170101000000\n";
    const ED_KEY: &str = "; This is a key-signing key, keyid 3613, for example.com.\n; Created: 20170101000000 (Sun Jan  1 00:00:00 2017)\nexample.com. 3600 IN DNSKEY 257 3 15 (l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4= )\n";

    fn dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("ironicmdns-keyfile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(d: &Path, stem: &str, key: &str, private: &str, mode: u32) -> PathBuf {
        fs::write(d.join(format!("{stem}.key")), key).unwrap();
        let p = d.join(format!("{stem}.private"));
        fs::write(&p, private).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn rfc8080_key_loads_from_any_of_its_paths() {
        let d = dir("ok");
        let p = write(&d, "Kexample.com.+015+03613", ED_KEY, ED_PRIVATE, 0o600);
        for given in [
            p.clone(),
            p.with_extension("key"),
            d.join("Kexample.com.+015+03613"),
        ] {
            let loaded = load_bind_key(&given).unwrap_or_else(|e| panic!("{given:?}: {e}"));
            assert_eq!(loaded.key.key_tag(), 3613);
            assert_eq!(loaded.key.owner().to_string(), "example.com.");
            assert!(loaded.warnings.is_empty());
        }
        let p = write(&d, "Kexample.com.+015+03613", ED_KEY, ED_PRIVATE, 0o644);
        let loaded = load_bind_key(&p).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0]
            .to_string()
            .contains("readable by every user"));
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn bad_key_files_are_refused_without_key_bytes() {
        let d = dir("bad");
        let other_seed = "DSSF3o0s0f+ElWzj9E/Osxw8hLpk55chkmx0LYN5WiY=";
        let rows: Vec<(String, String, &str)> = vec![
            (
                ED_KEY.into(),
                ED_PRIVATE.replace("ODIyNjAzODQ2MjgwODAxMjI2NDUxOTAyMDQxNDIyNjI=", other_seed),
                "does not match",
            ),
            (
                ED_KEY.into(),
                ED_PRIVATE.replace("15 (ED25519)", "13 (ECDSAP256SHA256)"),
                "algorithm 13",
            ),
            (ED_KEY.into(), ED_PRIVATE.replace("v1.2", "v2.0"), "v2.0"),
            (
                ED_KEY.into(),
                ED_PRIVATE.replace("PrivateKey: ODIy", "PrivateKey: !DIy"),
                "not valid base64",
            ),
            (
                ED_KEY.into(),
                "Algorithm: 15\n".into(),
                "Private-key-format",
            ),
            (
                ED_KEY.into(),
                "Private-key-format: v1.3\nAlgorithm: 15\n".into(),
                "no PrivateKey",
            ),
            (
                ED_KEY.replace("257 3 15", "257 3 8"),
                ED_PRIVATE.into(),
                "RSA",
            ),
            ("; nothing\n".into(), ED_PRIVATE.into(), "no DNSKEY"),
            (
                format!("{ED_KEY}{ED_KEY}"),
                ED_PRIVATE.into(),
                "more than one",
            ),
        ];
        for (i, (key, private, want)) in rows.iter().enumerate() {
            let p = write(&d, "Kexample.com.+015+03613", key, private, 0o600);
            let err = load_bind_key(&p).expect_err(want).to_string();
            assert!(err.contains(want), "row {i}: {err:?} lacks {want:?}");
            assert!(
                !err.contains("ODIy") && !err.contains("DSSF"),
                "row {i} leaks: {err}"
            );
        }
        // a file name whose key tag disagrees with the key
        let p = write(&d, "Kexample.com.+015+00001", ED_KEY, ED_PRIVATE, 0o600);
        let err = load_bind_key(&p).unwrap_err().to_string();
        assert!(err.contains("key tag 1"), "{err}");
        // an endless .key file (a link to /dev/zero) and a missing one
        std::os::unix::fs::symlink("/dev/zero", d.join("Kzero.key")).unwrap();
        fs::write(d.join("Kzero.private"), ED_PRIVATE).unwrap();
        let err = load_bind_key(&d.join("Kzero.private"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("larger than"), "{err}");
        assert!(load_bind_key(&d.join("Kmissing")).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
