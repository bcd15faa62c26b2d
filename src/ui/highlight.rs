//! Syntax highlighting with syntect: syntaxes and theme loaded once (two-face adds Dockerfile,
//! TOML, nginx and more), called only from worker threads for file contents.

use std::sync::OnceLock;

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, Theme};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use super::text::safe_content;

/// Lines longer than this are not highlighted (they stay plain).
pub const MAX_LINE: usize = 16 * 1024;

/// The loaded syntaxes and theme.
pub struct Assets {
    /// Syntaxes (newline mode: lines are fed with their `\n`).
    pub syntaxes: SyntaxSet,
    /// The colour theme.
    pub theme: Theme,
}

static ASSETS: OnceLock<Assets> = OnceLock::new();

/// Syntaxes the panes highlight on every draw ([`snippet`]), with a line that makes each compile
/// the regexes a typical line needs.
const SNIPPET_SYNTAXES: [(&str, &str); 3] = [
    (
        "Bourne Again Shell (bash)",
        "RUN set -eux; apt-get install -y \"a-b\" 'c' && x=$(echo ${Y:-1} | tr a b) # done",
    ),
    ("Dockerfile", "RUN echo \"a\" && ENV X=1"),
    ("JSON", r#"{"a": [1, "b", true, null]}"#),
];

/// The assets, loading them on first use (a few hundred ms: call from a worker first). The
/// syntaxes the panes draw with are exercised before the assets are published, so that
/// [`loaded`] never hands the render loop a syntax whose regexes still need compiling.
pub fn assets() -> &'static Assets {
    ASSETS.get_or_init(|| {
        let a = Assets {
            syntaxes: two_face::syntax::extra_newlines(),
            theme: two_face::theme::extra()
                .get(two_face::theme::EmbeddedThemeName::MonokaiExtended)
                .clone(),
        };
        for (name, line) in SNIPPET_SYNTAXES {
            if let Some(syntax) = a.syntaxes.find_syntax_by_name(name) {
                highlight_lines(&a, syntax, &[line.to_owned()], &|| false, &mut |_| {});
            }
        }
        a
    })
}

/// The assets if already loaded (never blocks).
pub fn loaded() -> Option<&'static Assets> {
    ASSETS.get()
}

/// One highlighted line: styled pieces of already-safe text.
pub type StyledLine = Vec<(Style, String)>;

/// Picks a syntax from the file name, then the first line (shebang, `<?xml`…).
pub fn detect<'a>(a: &'a Assets, name: &[u8], first_line: &str) -> Option<&'a SyntaxReference> {
    let ss = &a.syntaxes;
    let name = String::from_utf8_lossy(name);
    let lower = name.to_ascii_lowercase();
    let by_name = |n: &str| ss.find_syntax_by_name(n);
    let special = if lower == "dockerfile"
        || lower == "containerfile"
        || lower.starts_with("dockerfile.")
        || lower.ends_with(".dockerfile")
    {
        by_name("Dockerfile")
    } else if lower == "makefile" || lower == "gnumakefile" {
        by_name("Makefile")
    } else if lower == "nginx.conf" || lower.ends_with(".nginx") {
        by_name("nginx")
    } else if matches!(
        lower.as_str(),
        ".bashrc" | ".profile" | ".bash_profile" | "profile" | "bashrc" | ".zshrc"
    ) {
        by_name("Bourne Again Shell (bash)")
    } else {
        None
    };
    if special.is_some() {
        return special;
    }
    if let Some((_, ext)) = lower.rsplit_once('.') {
        if let Some(s) = ss.find_syntax_by_extension(ext) {
            return Some(s);
        }
        let alias = match ext {
            "conf" | "cfg" | "cnf" | "service" | "desktop" | "repo" | "list" => Some("INI"),
            "yml" => Some("YAML"),
            _ => None,
        };
        if let Some(s) = alias.and_then(by_name) {
            return Some(s);
        }
    }
    ss.find_syntax_by_first_line(first_line)
}

/// Converts a syntect colour with bat's alpha rule: alpha 0 holds an ANSI palette index in
/// `r`, alpha 1 means the terminal default, anything else is RGB.
fn color(c: syntect::highlighting::Color) -> Option<Color> {
    match c.a {
        0 => Some(Color::Indexed(c.r)),
        1 => None,
        _ => Some(Color::Rgb(c.r, c.g, c.b)),
    }
}

fn style(s: syntect::highlighting::Style) -> Style {
    let mut st = Style::default();
    if let Some(fg) = color(s.foreground) {
        st = st.fg(fg);
    }
    if s.font_style.contains(FontStyle::BOLD) {
        st = st.add_modifier(Modifier::BOLD);
    }
    if s.font_style.contains(FontStyle::ITALIC) {
        st = st.add_modifier(Modifier::ITALIC);
    }
    if s.font_style.contains(FontStyle::UNDERLINE) {
        st = st.add_modifier(Modifier::UNDERLINED);
    }
    st
}

/// A plain (unhighlighted) line, made safe.
pub fn plain(line: &str) -> StyledLine {
    let mut col = 0;
    vec![(Style::default(), safe_content(line, &mut col))]
}

/// Highlights consecutive lines (without their `\n`) with one parser state, calling `each`
/// per line; stops early (returning false) when `cancelled` says so. Long lines and lines
/// the parser rejects come out plain.
pub fn highlight_lines(
    a: &Assets,
    syntax: &SyntaxReference,
    lines: &[String],
    cancelled: &dyn Fn() -> bool,
    each: &mut dyn FnMut(StyledLine),
) -> bool {
    let mut h = HighlightLines::new(syntax, &a.theme);
    let mut buf = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i % 64 == 0 && cancelled() {
            return false;
        }
        if line.len() > MAX_LINE {
            each(plain(line));
            continue;
        }
        buf.clear();
        buf.push_str(line);
        buf.push('\n');
        match h.highlight_line(&buf, &a.syntaxes) {
            Ok(pieces) => {
                let mut col = 0;
                let mut out: StyledLine = Vec::with_capacity(pieces.len());
                for (st, piece) in pieces {
                    let piece = piece.strip_suffix('\n').unwrap_or(piece);
                    if piece.is_empty() {
                        continue;
                    }
                    out.push((style(st), safe_content(piece, &mut col)));
                }
                each(out);
            }
            Err(_) => each(plain(line)),
        }
    }
    true
}

/// Highlights a short snippet (a history command) in one go; plain when the assets are not
/// loaded yet, so the render path never waits for them.
pub fn snippet(syntax_name: &str, lines: &[String]) -> Vec<StyledLine> {
    let Some(a) = loaded() else {
        return lines.iter().map(|l| plain(l)).collect();
    };
    let Some(syntax) = a.syntaxes.find_syntax_by_name(syntax_name) else {
        return lines.iter().map(|l| plain(l)).collect();
    };
    let mut out = Vec::with_capacity(lines.len());
    highlight_lines(a, syntax, lines, &|| false, &mut |l| out.push(l));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_and_highlights_safely() {
        let a = assets();
        let name = |n: &str, first: &str| detect(a, n.as_bytes(), first).map(|s| s.name.clone());
        assert_eq!(name("Dockerfile", "FROM x").as_deref(), Some("Dockerfile"));
        assert_eq!(name("pyproject.toml", "").as_deref(), Some("TOML"));
        assert_eq!(name("main.py", "").as_deref(), Some("Python"));
        assert_eq!(name("config.json", "").as_deref(), Some("JSON"));
        assert_eq!(name("settings.yaml", "").as_deref(), Some("YAML"));
        assert!(name("nginx.conf", "").is_some());
        assert!(name("run", "#!/bin/sh").is_some());
        let syntax = a.syntaxes.find_syntax_by_name("Python").unwrap();
        let mut out = Vec::new();
        let lines = vec!["x = '\x1b]0;pwned\x07'\t# c".to_string()];
        assert!(highlight_lines(a, syntax, &lines, &|| false, &mut |l| out.push(l)));
        let joined: String = out[0].iter().map(|(_, t)| t.as_str()).collect();
        assert!(
            !joined.contains('\x1b') && !joined.contains('\x07'),
            "{joined}"
        );
        assert!(joined.contains("\\x1b]0;pwned\\x07"));
        assert!(out[0].len() > 1, "highlighted into several styles");
    }
}
