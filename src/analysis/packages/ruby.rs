//! Ruby gems: the `specifications/*.gemspec` files RubyGems writes for installed gems.

use super::Record;

/// The first quoted string (`"x"`, `'x'`, `%q<x>`, `%q{x}`) of `s`.
fn quoted(s: &str) -> Option<&str> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix("%q") {
        let mut chars = rest.chars();
        let open = chars.next()?;
        let close = match open {
            '<' => '>',
            '{' => '}',
            '(' => ')',
            '[' => ']',
            c => c,
        };
        let body = &rest[open.len_utf8()..];
        return body.find(close).map(|end| &body[..end]);
    }
    let q = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &s[1..];
    body.find(q).map(|end| &body[..end])
}

/// Every quoted string of `s`, in order.
fn all_quoted(mut s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    while let Some(start) = s.find(['"', '\'']) {
        let Some(v) = quoted(&s[start..]) else { break };
        out.push(v);
        s = &s[start + v.len() + 2..];
    }
    out
}

/// Parses a RubyGems specification: `s.name`, `s.version`, `s.licenses`/`s.license` and the
/// runtime dependencies.
pub fn parse_gemspec(text: &str) -> Option<Record> {
    let mut r = Record::default();
    let mut licenses: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(args) = t
            .strip_prefix("s.add_runtime_dependency")
            .or_else(|| t.strip_prefix("s.add_dependency"))
        {
            let args = args.trim_start_matches([' ', '(']);
            if let Some(d) = quoted(args) {
                r.depends.push(d.to_owned());
            }
            continue;
        }
        let Some((lhs, rhs)) = t.split_once('=') else {
            continue;
        };
        let field = lhs.trim().rsplit('.').next().unwrap_or("");
        let rhs = rhs.trim_start_matches('=').trim();
        match field {
            "name" if r.name.is_empty() => r.name = quoted(rhs).unwrap_or("").to_owned(),
            "version" if r.version.is_empty() => {
                let v = rhs.strip_prefix("Gem::Version.new(").unwrap_or(rhs);
                r.version = quoted(v).unwrap_or("").to_owned();
            }
            "licenses" | "license" => {
                licenses.extend(all_quoted(rhs).into_iter().map(str::to_owned))
            }
            _ => {}
        }
    }
    if r.name.is_empty() {
        return None;
    }
    if !licenses.is_empty() {
        r.license = Some(licenses.join(" OR "));
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemspec() {
        let text = r#"# -*- encoding: utf-8 -*-
# stub: rake 13.0.6 ruby lib

Gem::Specification.new do |s|
  s.name = "rake".freeze
  s.version = "13.0.6"
  s.required_rubygems_version = Gem::Requirement.new(">= 1.3.2".freeze) if s.respond_to? :required_rubygems_version=
  s.licenses = ["MIT".freeze, 'Ruby']
  s.add_runtime_dependency(%q<json>.freeze, [">= 2"])
  s.add_dependency "minitest"
end
"#;
        let r = parse_gemspec(text).expect("record");
        assert_eq!((r.name.as_str(), r.version.as_str()), ("rake", "13.0.6"));
        assert_eq!(r.license.as_deref(), Some("MIT OR Ruby"));
        assert_eq!(r.depends, ["json", "minitest"]);
        assert_eq!(parse_gemspec("s.version = \"1\""), None);
    }
}
