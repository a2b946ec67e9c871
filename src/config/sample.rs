//! The sample `[mdns]` section, as oslo-config-generator prints it.

use super::{Config, GROUP};

/// Wrap help text the way oslo-config-generator does (textwrap at 70
/// columns, `# ` prefix, long words kept whole).
fn wrap_comment(text: &str, out: &mut String) {
    const WIDTH: usize = 70;
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// A sample `[mdns]` section with help text, as oslo-config-generator prints.
pub fn sample_config() -> String {
    let mut out = format!("[{GROUP}]\n\n#\n# From ironicmdns\n#\n");
    for opt in Config::options() {
        out.push('\n');
        // oslo-config-generator: "(integer value)", but "(multi valued)".
        let kind = match opt.type_name {
            "multi valued" => "multi valued".to_owned(),
            t => format!("{t} value"),
        };
        wrap_comment(&format!("{} ({kind})", opt.help), &mut out);
        if opt.type_name == "integer" {
            let minimum = if opt.name == "trust_clock_skew" { 0 } else { 1 };
            out.push_str(&format!("# Minimum value: {minimum}\n"));
        }
        // A list without default shows as <None>, an empty dict as nothing.
        let default = match (opt.default, opt.type_name) {
            ("", "list") => " <None>".to_owned(),
            ("", _) => String::new(),
            (d, _) => format!(" {d}"),
        };
        out.push_str(&format!("#{} ={default}\n", opt.name));
    }
    out
}
