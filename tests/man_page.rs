//! The man page `man/ironic-mdns.1` against `ironic-mdns --help`: the two
//! name the same commands, the same flags and the same exit statuses, so a
//! flag added to the tool without its paragraph in the page (or a page
//! entry left behind by a removed flag) fails here. Also: the page's
//! version is the crate's, and `man -l` renders it without a warning.
//! The C API page man/zc_cancel.3 against the header and the symbols list:
//! every zc_cancel_* and _ex call with its exact prototype.
//! No network: `--help` returns before the library starts.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

const PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/man/ironic-mdns.1");

fn help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ironic-mdns"))
        .arg("--help")
        .output()
        .expect("run ironic-mdns --help");
    assert_eq!(out.status.code(), Some(0), "ironic-mdns --help failed");
    String::from_utf8(out.stdout).expect("UTF-8 help")
}

/// Every flag token (`--word-word`, `-X`) in `text`: a whitespace- or
/// comma-separated token that starts with a dash, cut at `=` and at
/// trailing punctuation.
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    for token in text.split(|c: char| c.is_whitespace() || c == ',' || c == '|') {
        let token = token.trim_start_matches(['[', '(']);
        let token = token.split('=').next().unwrap_or("");
        let token = token.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        let long = token.len() > 2
            && token.starts_with("--")
            && token[2..].starts_with(|c: char| c.is_ascii_lowercase())
            && token[2..]
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        let short = token.len() == 2
            && token.starts_with('-')
            && token[1..].starts_with(|c: char| c.is_ascii_alphabetic());
        if long || short {
            set.insert(token.to_owned());
        }
    }
    set
}

/// The help's block that starts with the line `heading` and runs to the
/// first line that is not indented.
fn help_block<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    let mut lines = help.lines().skip_while(|l| !l.starts_with(heading));
    assert!(lines.next().is_some(), "--help has no {heading:?} block");
    lines.take_while(|l| l.starts_with(' ')).collect()
}

fn help_commands(help: &str) -> BTreeSet<String> {
    help_block(help, "Commands:")
        .into_iter()
        // A command starts its line after two spaces; deeper lines continue
        // the description.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

fn help_exit_statuses(help: &str) -> BTreeSet<u32> {
    let start = help
        .find("Exit status:")
        .expect("--help names its exit statuses");
    let para = help[start..].split("\n\n").next().unwrap_or("");
    para.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a small number"))
        .collect()
}

/// Roff source to plain text: `\-` is a dash, `\e` a backslash, font
/// escapes go.
fn plain(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('-') => out.push('-'),
            Some('e') => out.push('\\'),
            Some('f') => {
                chars.next(); // the font letter: B, I, R, P
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

struct Page {
    /// `.TH` arguments.
    title: Vec<String>,
    /// Section name -> the tag lines of its `.TP` items, as plain text.
    tags: Vec<(String, String)>,
    /// Every line, as plain text, with its section.
    lines: Vec<(String, String)>,
}

fn page() -> Page {
    let src = std::fs::read_to_string(PAGE).expect("man/ironic-mdns.1 is readable");
    let mut page = Page {
        title: Vec::new(),
        tags: Vec::new(),
        lines: Vec::new(),
    };
    let mut section = String::new();
    let mut after_tp = false;
    for raw in src.lines() {
        if raw.starts_with(".\\\"") {
            continue;
        }
        let line = plain(raw);
        if let Some(rest) = line.strip_prefix(".TH ") {
            page.title = split_args(rest);
        } else if let Some(rest) = line.strip_prefix(".SH ") {
            section = rest.trim_matches('"').to_owned();
        } else if after_tp {
            let tag = line
                .strip_prefix(".B ")
                .or_else(|| line.strip_prefix(".BR "))
                .unwrap_or(&line);
            page.tags.push((section.clone(), tag.to_owned()));
        }
        after_tp = line == ".TP";
        page.lines.push((section.clone(), line));
    }
    page
}

/// Roff macro arguments: blank-separated, double quotes group.
fn split_args(s: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    args.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        args.push(cur);
    }
    args
}

fn tags_in<'a>(page: &'a Page, section: &str) -> Vec<&'a str> {
    page.tags
        .iter()
        .filter(|(s, _)| s == section)
        .map(|(_, t)| t.as_str())
        .collect()
}

#[test]
fn every_command_of_help_has_its_entry_and_no_other() {
    let page = page();
    let in_page: BTreeSet<String> = tags_in(&page, "COMMANDS")
        .into_iter()
        .filter_map(|t| t.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    let in_help = help_commands(&help());
    assert!(!in_help.is_empty(), "no command found in --help");
    assert_eq!(in_page, in_help, "COMMANDS in the page vs --help");
}

#[test]
fn every_flag_of_help_has_its_entry_and_no_other() {
    let page = page();
    let mut in_page = BTreeSet::new();
    for section in ["OPTIONS", "COMMAND OPTIONS"] {
        for tag in tags_in(&page, section) {
            let flags = flags_in(tag);
            assert!(!flags.is_empty(), "{section}: item {tag:?} names no flag");
            in_page.extend(flags);
        }
    }
    let in_help = flags_in(&help());
    assert!(in_help.contains("--interface") && in_help.contains("-h"));
    let missing: Vec<_> = in_help.difference(&in_page).collect();
    let stale: Vec<_> = in_page.difference(&in_help).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "flags in --help without an entry in man/ironic-mdns.1: {missing:?}; \
         entries in the page that --help does not know: {stale:?}"
    );
}

#[test]
fn every_flag_the_page_mentions_exists() {
    // Prose, synopsis and examples too: a renamed flag must not survive in
    // an example.
    let page = page();
    let known = flags_in(&help());
    for (section, line) in &page.lines {
        if line.starts_with(".TH") {
            continue;
        }
        for flag in flags_in(line) {
            assert!(
                known.contains(&flag),
                "{section}: {flag} in {line:?} is not a flag of ironic-mdns --help"
            );
        }
    }
}

#[test]
fn exit_statuses_match_help() {
    let page = page();
    let in_page: BTreeSet<u32> = tags_in(&page, "EXIT STATUS")
        .into_iter()
        .map(|t| {
            t.trim()
                .parse()
                .unwrap_or_else(|_| panic!("EXIT STATUS item {t:?} is not a number"))
        })
        .collect();
    let in_help = help_exit_statuses(&help());
    assert!(in_help.contains(&0) && in_help.contains(&64), "{in_help:?}");
    assert_eq!(in_page, in_help, "EXIT STATUS in the page vs --help");
}

#[test]
fn page_has_the_usual_sections_and_the_crate_version() {
    let page = page();
    assert_eq!(page.title.first().map(String::as_str), Some("IRONIC-MDNS"));
    assert_eq!(page.title.get(1).map(String::as_str), Some("1"));
    assert_eq!(
        page.title.get(3).map(String::as_str),
        Some(concat!("libironicmdns ", env!("CARGO_PKG_VERSION"))),
        ".TH names another version than Cargo.toml"
    );
    let sections: BTreeSet<&str> = page.lines.iter().map(|(s, _)| s.as_str()).collect();
    for want in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "COMMANDS",
        "OPTIONS",
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(sections.contains(want), "no {want} section");
    }
}

/// `page` as `man -l` renders it at 80 columns, asserted to render
/// without a warning; None (the test skips) when man is not installed,
/// unless IRONICMDNS_REQUIRE_PEERS=1.
fn rendered(page: &str) -> Option<String> {
    let Some(man) = ["/usr/bin/man", "/bin/man"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var("IRONICMDNS_REQUIRE_PEERS").as_deref() != Ok("1"),
            "man is not installed (scripts/setup-peers.sh installs man-db)"
        );
        eprintln!("SKIP: man is not installed; the page was not rendered");
        return None;
    };
    let out = Command::new(man)
        .args(["--warnings", "-l", page])
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .expect("run man -l");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l failed: {stderr}");
    assert!(stderr.trim().is_empty(), "man -l warns: {stderr}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn man_renders_it_without_warnings() {
    let Some(text) = rendered(PAGE) else { return };
    assert!(
        text.contains("ironic-mdns - register, look up and browse"),
        "man -l output lacks the NAME line:\n{text}"
    );
}

/// The C API page of the cancel token and the `_ex` calls.
const CANCEL_PAGE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/man/zc_cancel.3");

/// Text with runs of blanks made one space, and none after `(`, `*` or
/// before `)`, `,`, `;`: prototypes compare whatever their line breaks.
fn squeeze(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    words
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" ;", ";")
        .replace("* ", "*")
}

/// The prototypes of the page's SYNOPSIS: `.BI` lines (their arguments
/// joined, as roff alternates fonts without a blank) up to each `;`.
fn synopsis_prototypes(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_synopsis = false;
    for line in page.lines() {
        if let Some(section) = line.strip_prefix(".SH ") {
            in_synopsis = section == "SYNOPSIS";
            continue;
        }
        let Some(rest) = line.strip_prefix(".BI ").filter(|_| in_synopsis) else {
            continue;
        };
        cur.push(' ');
        cur.push_str(&split_args(rest).concat());
        if cur.trim_end().ends_with(';') {
            out.push(squeeze(&std::mem::take(&mut cur)));
        }
    }
    out
}

/// The header's declaration of `name`, squeezed.
fn header_prototype(header: &str, name: &str) -> Option<String> {
    let at = header.find(&format!(" {name}("))?;
    let start = header[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = at + header[at..].find(';')? + 1;
    Some(squeeze(&header[start..end]))
}

#[test]
fn the_cancel_page_has_every_cancel_call_with_the_header_prototype() {
    let page = std::fs::read_to_string(CANCEL_PAGE).expect("man/zc_cancel.3");
    let header =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/ironicmdns.h"))
            .unwrap();
    let symbols =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ironicmdns.symbols"))
            .unwrap();
    let ours: Vec<&str> = symbols
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with("zc_cancel_") || l.ends_with("_ex"))
        .collect();
    assert!(ours.len() >= 9, "{ours:?}");
    let name_section = page
        .split(".SH ")
        .find(|s| s.starts_with("NAME"))
        .expect("a NAME section");
    let prototypes = synopsis_prototypes(&page);
    for f in &ours {
        assert!(
            name_section.contains(f),
            "{f} is not in the page's NAME section"
        );
        let want = header_prototype(&header, f).unwrap_or_else(|| panic!("{f} not in the header"));
        assert!(
            prototypes.contains(&want),
            "the page's SYNOPSIS lacks {want:?}; it has {prototypes:#?}"
        );
    }
    assert_eq!(prototypes.len(), ours.len(), "{prototypes:#?}");
    for (name, value) in [("ZC_ERR_CANCELLED", "-12"), ("ZC_ENDPOINT_VALIDATED", "1")] {
        assert!(
            header.contains(&format!("#define {name} {value}\n")),
            "{name} in the header"
        );
        assert!(
            page.contains(&format!(
                ".B #define {name} {}\n",
                value.replace('-', "\\-")
            )),
            "{name} {value} in the page"
        );
    }
}

#[test]
fn man_renders_the_cancel_page_without_warnings() {
    let Some(text) = rendered(CANCEL_PAGE) else {
        return;
    };
    assert!(text.contains("ZC_CANCEL(3)"), "{text}");
}
