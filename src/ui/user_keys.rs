//! The user's key remapping, `~/.config/strata/keys.toml` (or `$XDG_CONFIG_HOME/strata/`, or
//! the file `$STRATA_KEYS` names). Each entry gives an action its keys, replacing the default
//! ones in every pane; `scope.action` limits it to one pane:
//!
//! ```toml
//! filter = ["f2", "/"]        # every pane
//! "tree.extract" = ["x"]      # only in the file tree
//! quit = ["ctrl+q"]
//! ```
//!
//! Action and scope names are the help overlay's, in snake case (`next_left_pane`, `tree`). A
//! key a user gives to one action is taken from every other action of that pane (of every
//! pane, for an entry without a pane), so the user's choice always wins. A bad file is one error naming the file and
//! the line.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyModifiers};

use super::keymap::{Action, Binding, Key, Scope, BINDINGS};

/// Where the user's key file is looked for.
pub fn path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("STRATA_KEYS") {
        return Some(PathBuf::from(p));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("strata").join("keys.toml"))
}

/// Reads the user's key file, when there is one, into a full key table.
pub fn load() -> Result<Option<Vec<Binding>>, String> {
    let Some(p) = path() else { return Ok(None) };
    match std::fs::read_to_string(&p) {
        Ok(text) => parse(&text, &p).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", p.display())),
    }
}

/// Reads the user's key file, when there is one, and makes it the table in force.
pub fn install_from_file() -> Result<(), String> {
    if let Some(table) = load()? {
        super::keymap::install(table);
    }
    Ok(())
}

/// snake_case of a `Debug` name (`NextLeftPane` → `next_left_pane`).
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn action_named(name: &str) -> Option<Action> {
    BINDINGS
        .iter()
        .map(|b| b.action)
        .find(|a| snake(&format!("{a:?}")) == name)
}

const SCOPES: [Scope; 11] = [
    Scope::Global,
    Scope::Images,
    Scope::Layers,
    Scope::Tree,
    Scope::Viewer,
    Scope::Details,
    Scope::Findings,
    Scope::Compare,
    Scope::Packages,
    Scope::Provenance,
    Scope::Anatomy,
];

fn scope_named(name: &str) -> Option<Scope> {
    SCOPES
        .into_iter()
        .find(|s| snake(&format!("{s:?}")) == name)
}

/// Parses `ctrl+x`, `alt+x`, `x`, `X`, `enter`, `esc`, `tab`, `backtab`, `space`, arrows,
/// `pageup`, `pagedown`, `home`, `end`, `f1`…`f12`.
pub fn parse_key(text: &str) -> Option<Key> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = text;
    loop {
        let lower = rest.to_ascii_lowercase();
        if let Some(r) = lower.strip_prefix("ctrl+") {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[rest.len() - r.len()..];
        } else if let Some(r) = lower.strip_prefix("alt+") {
            mods |= KeyModifiers::ALT;
            rest = &rest[rest.len() - r.len()..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let code = match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_control() => KeyCode::Char(c),
        _ => match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift+tab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f => KeyCode::F(
                f.strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=12).contains(n))?,
            ),
        },
    };
    Some(Key { code, mods })
}

/// The 1-based line of `key`'s entry in `text` (1 when it cannot be told).
fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix('"')
                .or_else(|| l.strip_prefix('\''))
                .unwrap_or(l);
            l.starts_with(key)
        })
        .map_or(1, |i| i + 1)
}

/// Parses a key file into the full key table (defaults with the user's keys in place).
pub fn parse(text: &str, file: &Path) -> Result<Vec<Binding>, String> {
    let at = |line: usize, what: String| format!("{} line {line}: {what}", file.display());
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].lines().count().max(1)
        });
        at(line, e.message().replace('\n', " "))
    })?;
    // (scope or None for every scope, action, keys)
    let mut remaps: Vec<(Option<Scope>, Action, Vec<Key>)> = Vec::new();
    for (name, value) in &table {
        let line = line_of(text, name);
        let (scope, action_name) = match name.split_once('.') {
            Some((s, a)) => (
                Some(scope_named(s).ok_or_else(|| {
                    at(
                        line,
                        format!("unknown pane {s:?} (one of: global, images, layers, tree, viewer, details, findings, compare, packages, provenance, anatomy)"),
                    )
                })?),
                a,
            ),
            None => (None, name.as_str()),
        };
        let action = action_named(action_name).ok_or_else(|| {
            at(
                line,
                format!("unknown action {action_name:?} (the help overlay, ?, lists them)"),
            )
        })?;
        let list: Vec<&str> = match value {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| at(line, format!("{name}: keys are strings")))
                })
                .collect::<Result<_, _>>()?,
            _ => {
                return Err(at(
                    line,
                    format!("{name}: expected a key or a list of keys"),
                ))
            }
        };
        if list.is_empty() {
            return Err(at(line, format!("{name}: no key given")));
        }
        let keys = list
            .iter()
            .map(|k| parse_key(k).ok_or_else(|| at(line, format!("{name}: unknown key {k:?}"))))
            .collect::<Result<Vec<_>, _>>()?;
        if scope.is_some_and(|s| !BINDINGS.iter().any(|b| b.scope == s && b.action == action)) {
            return Err(at(line, format!("{name}: this pane has no such action")));
        }
        remaps.push((scope, action, keys));
    }
    Ok(apply(&remaps))
}

/// The default table with `remaps` applied: remapped actions get the user's keys; every other
/// binding of the same pane (or of "everywhere") loses them.
fn apply(remaps: &[(Option<Scope>, Action, Vec<Key>)]) -> Vec<Binding> {
    let remap_of = |b: &Binding| {
        remaps
            .iter()
            .rev()
            .find(|(s, a, _)| *a == b.action && s.is_none_or(|s| s == b.scope))
    };
    BINDINGS
        .iter()
        .map(|b| {
            let keys: Vec<Key> = match remap_of(b) {
                Some((_, _, keys)) => keys.clone(),
                None => b
                    .keys
                    .iter()
                    .copied()
                    .filter(|k| {
                        !remaps.iter().any(|(s, _, keys)| {
                            // A pane's own binding already wins over "everywhere" there.
                            keys.contains(k) && s.is_none_or(|s| s == b.scope)
                        })
                    })
                    .collect(),
            };
            Binding {
                keys: Box::leak(keys.into_boxed_slice()),
                ..b.clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEvent;

    fn find(table: &[Binding], scope: Scope, ev: KeyEvent) -> Option<Action> {
        super::super::keymap::lookup_in(table, scope, &ev)
    }

    #[test]
    fn keys_parse() {
        assert_eq!(
            parse_key("ctrl+q"),
            Some(Key {
                code: KeyCode::Char('q'),
                mods: KeyModifiers::CONTROL
            })
        );
        assert_eq!(parse_key("F2").map(|k| k.code), Some(KeyCode::F(2)));
        assert_eq!(parse_key("space").map(|k| k.code), Some(KeyCode::Char(' ')));
        assert_eq!(parse_key("X").map(|k| k.code), Some(KeyCode::Char('X')));
        assert_eq!(parse_key("f13"), None);
        assert_eq!(parse_key("hyper+x"), None);
    }

    #[test]
    fn a_remap_replaces_the_keys_and_wins_over_other_bindings() {
        let t = parse(
            "filter = [\"f2\"]\n\"tree.extract\" = \"x\"\n",
            Path::new("keys.toml"),
        )
        .expect("valid");
        let ev = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(
            find(&t, Scope::Tree, ev(KeyCode::F(2))),
            Some(Action::Filter)
        );
        assert_eq!(find(&t, Scope::Tree, ev(KeyCode::Char('/'))), None);
        // `x` was collapse-all in the tree; the user gave it to extract.
        assert_eq!(
            find(&t, Scope::Tree, ev(KeyCode::Char('x'))),
            Some(Action::Extract)
        );
        // Elsewhere extract keeps its default key.
        assert_eq!(
            find(&t, Scope::Viewer, ev(KeyCode::Char('e'))),
            Some(Action::Extract)
        );
    }

    #[test]
    fn bad_files_name_the_line() {
        let f = Path::new("/home/u/.config/strata/keys.toml");
        let e = parse("quit = [\"q\"]\nfiltr = \"/\"\n", f).expect_err("unknown action");
        assert!(
            e.starts_with("/home/u/.config/strata/keys.toml line 2: unknown action \"filtr\""),
            "{e}"
        );
        let e = parse("\n\nquit = [\"hyper+q\"]\n", f).expect_err("bad key");
        assert!(e.contains("line 3:") && e.contains("unknown key"), "{e}");
        let e = parse("quit = [\n", f).expect_err("bad toml");
        assert!(e.contains("keys.toml line "), "{e}");
        assert_eq!(e.lines().count(), 1);
        let e = parse("\"nowhere.quit\" = \"q\"\n", f).expect_err("bad pane");
        assert!(e.contains("line 1: unknown pane"), "{e}");
    }
}
