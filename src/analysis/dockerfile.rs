//! The Dockerfile, reconstructed from the image history: one instruction per history entry,
//! with the layer it made and that layer's size, empty steps marked, build args and secrets
//! masked (through the [`Redactor`]), and a note wherever the history cannot say exactly what
//! was written (base image steps, `ADD file:…` placeholders, BuildKit `RUN --mount`, the
//! legacy builder's `#(nop)` forms).

use crate::analysis::base::BaseBoundary;
use crate::model::Image;
use crate::redact::{mask_value, Redactor};

/// One reconstructed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Index into the image's history.
    pub history: usize,
    /// The instruction, redacted and on one line (`RUN …`, `COPY …`, `ENV …`); empty when
    /// the history recorded no command.
    pub instruction: String,
    /// The layer the step made, `None` for an empty step.
    pub layer: Option<usize>,
    /// Bytes of the regular files in that layer.
    pub size: Option<u64>,
    /// The step belongs to the base image (its own Dockerfile, not this one).
    pub base: bool,
    /// Why the instruction is not exactly what was written, one line each.
    pub notes: Vec<String>,
}

impl Step {
    /// The instruction's keyword (`RUN`, `COPY`, …), empty when there is none.
    pub fn keyword(&self) -> &str {
        self.instruction.split(' ').next().unwrap_or("")
    }
}

/// A Dockerfile reconstructed from an image's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconstructed {
    /// The `FROM` line.
    pub from: String,
    /// Why the `FROM` line says what it says.
    pub from_note: String,
    /// Every history entry, oldest first.
    pub steps: Vec<Step>,
}

/// Why `ADD file:…`/`COPY dir:…` cannot be exact.
pub const NOTE_PLACEHOLDER: &str =
    "the builder recorded a content hash (`file:…`, `dir:…`), not the source path";
/// Why base steps are comments.
pub const NOTE_BASE: &str = "a step of the base image's own Dockerfile, not of this one";
/// Why a `#(nop)` CMD/ENTRYPOINT/SHELL/HEALTHCHECK is not as written.
pub const NOTE_NOP: &str =
    "legacy builder `#(nop)` form: rewritten from Go's print format, the original spelling is lost";
/// Why a `RUN --mount` is not reproducible from the image alone.
pub const NOTE_MOUNT: &str =
    "BuildKit `RUN --mount`: the mounted files (cache, secret, bind) are not in the image";
/// Why an entry without a command has none.
pub const NOTE_NO_COMMAND: &str =
    "no recorded command (e.g. `docker import` or a squashed/imported root filesystem)";

/// Reconstructs the Dockerfile of `image`; every string goes through `redactor`.
pub fn reconstruct(image: &Image, redactor: &Redactor) -> Reconstructed {
    let boundary = BaseBoundary::detect(image);
    let steps = image
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (instruction, mut notes) = instruction(&h.created_by, redactor);
            let base = boundary.is_base_history(i);
            if base {
                notes.insert(0, NOTE_BASE.into());
            }
            if instruction.is_empty() {
                notes.push(NOTE_NO_COMMAND.into());
            }
            let layer = if h.empty_layer { None } else { h.layer };
            Step {
                history: i,
                instruction,
                layer,
                size: layer
                    .and_then(|l| image.layers.get(l))
                    .map(|l| l.size_bytes),
                base,
                notes,
            }
        })
        .collect();
    let (from, from_note) = match (&boundary.name, boundary.history) {
        (Some(name), _) => (
            format!("FROM {}", crate::model::sanitize(name)),
            format!("the base image's name label; {}", boundary.reason),
        ),
        (None, 0) => (
            "FROM scratch".into(),
            format!(
                "no base image found ({}): the image may still have one",
                boundary.reason
            ),
        ),
        (None, n) => (
            "FROM scratch".into(),
            format!(
                "the base image is not named; its {n} step{} follow as comments ({})",
                if n == 1 { "" } else { "s" },
                boundary.reason
            ),
        ),
    };
    Reconstructed {
        from,
        from_note: redactor.text(&from_note),
        steps,
    }
}

/// Go's `fmt` of a string slice (`["a" "b"]`, as the legacy builder records CMD) as JSON.
fn go_slice_to_json(s: &str) -> String {
    let t = s.trim();
    if !(t.starts_with("[\"") && t.ends_with("\"]")) || t.contains("\", \"") {
        return s.to_owned();
    }
    t.replace("\" \"", "\", \"")
}

/// `EXPOSE map[8080/tcp:{} 22/tcp:{}]` (BuildKit) as `EXPOSE 8080/tcp 22/tcp`.
fn expose_map(rest: &str) -> String {
    match rest
        .trim()
        .strip_prefix("map[")
        .and_then(|r| r.strip_suffix(']'))
    {
        Some(inner) => inner
            .split(' ')
            .map(|p| p.trim_end_matches(":{}"))
            .collect::<Vec<_>>()
            .join(" "),
        None => rest.trim().to_owned(),
    }
}

/// `HEALTHCHECK &{["CMD-SHELL" "cmd"] "30s" …}` (legacy builder) as `HEALTHCHECK CMD cmd`.
fn healthcheck(rest: &str) -> Option<String> {
    let inner = rest.trim().strip_prefix("&{[")?;
    let (list, _) = inner.split_once(']')?;
    let words: Vec<String> = list
        .split("\" \"")
        .map(|w| w.trim_matches('"').replace("\\\"", "\""))
        .collect();
    match words.split_first() {
        Some((kind, rest)) if kind == "CMD-SHELL" => Some(format!("CMD {}", rest.join(" "))),
        Some((kind, rest)) if kind == "CMD" => Some(format!(
            "CMD [{}]",
            rest.iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some((kind, _)) if kind == "NONE" => Some("NONE".into()),
        _ => None,
    }
}

/// Masks every value of a BuildKit build-arg prefix (`|2 A=1 B=2 `) and returns it as a note
/// and the command after it.
fn build_args(s: &str) -> Option<(String, &str)> {
    let rest = s.strip_prefix('|')?;
    let (count, mut rest) = rest.split_once(' ')?;
    let n: usize = count.parse().ok()?;
    let mut args = Vec::with_capacity(n);
    for _ in 0..n {
        let (word, after) = rest.split_once(' ').unwrap_or((rest, ""));
        let (k, v) = word.split_once('=').unwrap_or((word, ""));
        args.push(if v.is_empty() {
            k.to_owned()
        } else {
            format!("{k}={}", mask_value(v))
        });
        rest = after;
    }
    Some((
        format!(
            "build args set for this step (values masked): {}",
            args.join(" ")
        ),
        rest,
    ))
}

/// One history `created_by` as an instruction, and the notes on what it cannot show.
fn instruction(created_by: &str, redactor: &Redactor) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut s = created_by.trim();
    if s.is_empty() {
        return (String::new(), notes);
    }
    let buildkit = s.ends_with("# buildkit");
    if let Some(t) = s.strip_suffix("# buildkit") {
        s = t.trim_end();
    }
    let (keyword, rest) = if let Some(nop) = s.strip_prefix("/bin/sh -c #(nop)") {
        let nop = nop.trim_start();
        if ["CMD ", "ENTRYPOINT ", "SHELL ", "HEALTHCHECK "]
            .iter()
            .any(|k| nop.starts_with(k))
        {
            notes.push(NOTE_NOP.into());
        }
        nop.split_once(' ').unwrap_or((nop, ""))
    } else if let Some(cmd) = s.strip_prefix("/bin/sh -c ") {
        ("RUN", cmd)
    } else if let Some(run) = s.strip_prefix("RUN ") {
        let mut run = run.trim_start();
        if let Some((note, after)) = build_args(run) {
            notes.push(redactor.text(&note));
            run = after;
        }
        if run.starts_with("--mount") {
            notes.push(NOTE_MOUNT.into());
        }
        let run = run.replacen("/bin/sh -c ", "", 1);
        return (redactor.command(&format!("RUN {run}")), notes);
    } else if let Some((note, after)) = build_args(s) {
        // Legacy builder with build args: `|1 A=b /bin/sh -c cmd`.
        notes.push(redactor.text(&note));
        ("RUN", after.strip_prefix("/bin/sh -c ").unwrap_or(after))
    } else {
        s.split_once(' ').unwrap_or((s, ""))
    };
    let keyword = keyword.to_ascii_uppercase();
    let body = match keyword.as_str() {
        "CMD" | "ENTRYPOINT" | "SHELL" => go_slice_to_json(rest),
        "EXPOSE" => expose_map(rest),
        "HEALTHCHECK" => healthcheck(rest).unwrap_or_else(|| rest.trim().to_owned()),
        _ => rest.trim().to_owned(),
    };
    if matches!(keyword.as_str(), "ADD" | "COPY")
        && (body.contains("file:") || body.contains("dir:") || body.contains("multi:"))
    {
        notes.push(NOTE_PLACEHOLDER.into());
    }
    if !buildkit && keyword == "RUN" && body.starts_with("--mount") {
        notes.push(NOTE_MOUNT.into());
    }
    let line = if body.is_empty() {
        keyword
    } else {
        format!("{keyword} {body}")
    };
    (redactor.instruction(&line), notes)
}

/// The reconstruction as Dockerfile text: valid syntax (every annotation on its own comment
/// line), base image steps commented out.
pub fn render(r: &Reconstructed, reference: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Reconstructed by strata from the history of {} ({} steps).\n\
         # Not the original Dockerfile: each note says where the history cannot be exact.\n",
        crate::model::sanitize(reference),
        r.steps.len()
    ));
    out.push_str(&format!("# {}\n{}\n", r.from_note, r.from));
    for s in &r.steps {
        let place = match (s.layer, s.size) {
            (Some(l), Some(b)) => format!("layer {l}, {}", crate::text::bytes(b)),
            (Some(l), None) => format!("layer {l}"),
            _ => "empty step: no layer".into(),
        };
        out.push_str(&format!("\n# step {} · {place}\n", s.history));
        for n in &s.notes {
            out.push_str(&format!("#   note: {n}\n"));
        }
        let line = crate::model::sanitize(&s.instruction);
        match (line.is_empty(), s.base) {
            (true, _) => out.push_str("# (no command)\n"),
            (false, true) => out.push_str(&format!("# {line}\n")),
            (false, false) => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> (String, Vec<String>) {
        instruction(s, &Redactor::default())
    }

    #[test]
    fn history_forms_become_instructions() {
        assert_eq!(one("/bin/sh -c apt-get update").0, "RUN apt-get update");
        let (i, n) = one("/bin/sh -c #(nop)  CMD [\"python3\" \"/app/main.py\"]");
        assert_eq!(i, "CMD [\"python3\", \"/app/main.py\"]");
        assert_eq!(n, vec![NOTE_NOP.to_owned()]);
        let (i, n) = one("/bin/sh -c #(nop) ADD file:4b1be0 in / ");
        assert_eq!(i, "ADD file:4b1be0 in /");
        assert!(n.contains(&NOTE_PLACEHOLDER.to_owned()));
        assert_eq!(
            one("RUN /bin/sh -c make install # buildkit").0,
            "RUN make install"
        );
        let (i, n) =
            one("RUN --mount=type=cache,target=/root/.cache /bin/sh -c pip install x # buildkit");
        assert_eq!(
            i,
            "RUN --mount=type=cache,target=/root/.cache pip install x"
        );
        assert_eq!(n, vec![NOTE_MOUNT.to_owned()]);
        assert_eq!(
            one("EXPOSE map[8080/tcp:{} 22/tcp:{}]").0,
            "EXPOSE 8080/tcp 22/tcp"
        );
        assert_eq!(
            one("/bin/sh -c #(nop)  HEALTHCHECK &{[\"CMD-SHELL\" \"wget -qO- http://x/ || exit 1\"] \"30s\" \"3s\" \"0s\" '\\x03'}").0,
            "HEALTHCHECK CMD wget -qO- http://x/ || exit 1"
        );
        assert_eq!(one("").0, "");
    }

    #[test]
    fn build_args_and_secrets_are_masked() {
        let (i, n) =
            one("RUN |2 TOKEN=supersecretvalue123 VERSION=1.2.3 /bin/sh -c make # buildkit");
        assert_eq!(i, "RUN make");
        assert!(!n[0].contains("supersecretvalue123"), "{n:?}");
        assert!(!n[0].contains("1.2.3"), "{n:?}");
        assert!(
            n[0].contains("TOKEN=") && n[0].contains("VERSION="),
            "{n:?}"
        );
        let (i, _) =
            one("/bin/sh -c #(nop)  ENV DB_PASSWORD=strata-fake-db-password APP_MODE=production");
        assert!(!i.contains("strata-fake-db-password"), "{i}");
        assert!(
            i.starts_with("ENV DB_PASSWORD=") && i.ends_with("APP_MODE=production"),
            "{i}"
        );
    }
}
