//! The one-line prompts of the status bar: the path filter, the packages filter, the extract
//! directory, the image to open and the confirmations (reveal, overwrite). Keys typed into a
//! prompt become a [`PromptOutcome`] for the app to carry out.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::fs::{EntryKind, VersionId};
use crate::ui::app::{App, Level};
use crate::ui::msg::{Command, Target};

/// A file chosen for extraction.
#[derive(Debug, Clone)]
pub struct ExtractTarget {
    /// Version to write.
    pub version: VersionId,
    /// File name (last path component, raw bytes).
    pub name: Vec<u8>,
    /// Safe display path.
    pub display: String,
    /// Layer of the version.
    pub layer: usize,
}

/// A one-line prompt in the status bar.
#[derive(Debug, Clone)]
pub enum Prompt {
    /// Typing a path filter.
    Filter {
        /// Text typed.
        text: String,
        /// Error of the current text, if it is not a valid regex.
        error: Option<String>,
    },
    /// Typing the packages pane's filter (applied as it is typed).
    PackageFilter {
        /// Text typed.
        text: String,
    },
    /// Typing the directory to extract into.
    ExtractDir {
        /// Text typed.
        text: String,
        /// The file.
        target: ExtractTarget,
    },
    /// Typing a reference to open: registry, daemon, archive or `oci:` layout.
    Open {
        /// Text typed.
        text: String,
    },
    /// Typing the image to compare the open one with.
    Compare {
        /// Text typed.
        text: String,
    },
    /// Typing what to search for in the open file (the viewer's `/`).
    Search {
        /// Text typed.
        text: String,
    },
    /// Confirming that one secret may be shown on screen.
    Reveal {
        /// Index of the finding in [`super::findings::Findings::list`].
        finding: usize,
    },
    /// Confirming that the secrets masked in the open file may be shown on screen.
    RevealFile,
    /// Confirming an overwrite.
    Overwrite {
        /// The file.
        target: ExtractTarget,
        /// Directory chosen.
        dir: PathBuf,
        /// Existing file.
        existing: PathBuf,
    },
}

/// What a key typed into a prompt asks for.
#[derive(Debug)]
pub enum PromptOutcome {
    /// Nothing (the prompt may have changed).
    Done,
    /// Tell the user something (the prompt is closed).
    Notice(&'static str),
    /// Apply this path filter; `submit` when the user pressed Enter or Esc (the prompt closes
    /// unless the expression is invalid).
    Filter {
        /// The expression (empty clears the filter).
        text: String,
        /// Enter or Esc was pressed.
        submit: bool,
    },
    /// Show only the packages containing this text (empty shows all).
    PackageFilter(String),
    /// Write a file into a directory.
    Extract {
        /// The file.
        target: ExtractTarget,
        /// The directory.
        dir: PathBuf,
        /// Replace an existing file.
        overwrite: bool,
    },
    /// Open this image (a reference as typed on the command line).
    Open(String),
    /// Read back and show the secret of this finding.
    RevealFinding(usize),
    /// Show the masked secrets of the open file.
    RevealFile,
    /// Compare the open image with this one.
    Compare(String),
    /// Search the open file for this text (empty ends the search).
    Search(String),
}

/// The active prompt and what the prompts remember.
#[derive(Debug, Default)]
pub struct PromptState {
    /// The active prompt.
    pub active: Option<Prompt>,
    /// Default directory offered for extraction.
    pub extract_dir: String,
}

impl PromptState {
    /// Handles a key typed while a prompt is active.
    pub fn key(&mut self, k: KeyEvent) -> PromptOutcome {
        let Some(prompt) = self.active.take() else {
            return PromptOutcome::Done;
        };
        match prompt {
            Prompt::Filter { mut text, error } => match k.code {
                KeyCode::Esc => PromptOutcome::Filter {
                    text: String::new(),
                    submit: true,
                },
                KeyCode::Enter => PromptOutcome::Filter { text, submit: true },
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::Filter {
                        text: text.clone(),
                        error,
                    });
                    PromptOutcome::Filter {
                        text,
                        submit: false,
                    }
                }
            },
            Prompt::PackageFilter { mut text } => match k.code {
                KeyCode::Esc => PromptOutcome::PackageFilter(String::new()),
                KeyCode::Enter => PromptOutcome::PackageFilter(text),
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::PackageFilter { text: text.clone() });
                    PromptOutcome::PackageFilter(text)
                }
            },
            Prompt::ExtractDir { mut text, target } => match k.code {
                KeyCode::Esc => PromptOutcome::Done,
                KeyCode::Enter => {
                    let dir = PathBuf::from(text.trim());
                    self.extract_dir = text.trim().to_string();
                    self.active = Some(Prompt::ExtractDir {
                        text,
                        target: target.clone(),
                    });
                    PromptOutcome::Extract {
                        target,
                        dir,
                        overwrite: false,
                    }
                }
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::ExtractDir { text, target });
                    PromptOutcome::Done
                }
            },
            Prompt::Open { mut text } => match k.code {
                KeyCode::Esc => PromptOutcome::Done,
                KeyCode::Enter if text.trim().is_empty() => {
                    PromptOutcome::Notice("nothing to open: type a reference or a path")
                }
                KeyCode::Enter => PromptOutcome::Open(text.trim().to_owned()),
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::Open { text });
                    PromptOutcome::Done
                }
            },
            Prompt::Compare { mut text } => match k.code {
                KeyCode::Esc => PromptOutcome::Done,
                KeyCode::Enter if text.trim().is_empty() => PromptOutcome::Notice("no image given"),
                KeyCode::Enter => PromptOutcome::Compare(text.trim().to_string()),
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::Compare { text });
                    PromptOutcome::Done
                }
            },
            Prompt::Search { mut text } => match k.code {
                KeyCode::Esc => PromptOutcome::Done,
                KeyCode::Enter => PromptOutcome::Search(text),
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::Search { text });
                    PromptOutcome::Done
                }
            },
            Prompt::Reveal { finding } => match k.code {
                KeyCode::Char('y' | 'Y') => PromptOutcome::RevealFinding(finding),
                _ => PromptOutcome::Notice("not revealed"),
            },
            Prompt::RevealFile => match k.code {
                KeyCode::Char('y' | 'Y') => PromptOutcome::RevealFile,
                _ => PromptOutcome::Notice("not revealed"),
            },
            Prompt::Overwrite {
                target,
                dir,
                existing,
            } => match k.code {
                KeyCode::Char('y' | 'Y') => PromptOutcome::Extract {
                    target,
                    dir,
                    overwrite: true,
                },
                KeyCode::Char('n' | 'N') | KeyCode::Esc | KeyCode::Enter => {
                    PromptOutcome::Notice("not overwritten")
                }
                _ => {
                    self.active = Some(Prompt::Overwrite {
                        target,
                        dir,
                        existing,
                    });
                    PromptOutcome::Done
                }
            },
        }
    }

    /// The target exists: ask before overwriting it.
    pub fn ask_overwrite(&mut self, existing: PathBuf) {
        if let Some(Prompt::ExtractDir { text, target }) = self.active.take() {
            self.active = Some(Prompt::Overwrite {
                target,
                dir: PathBuf::from(text.trim()),
                existing,
            });
        }
    }

    /// An extraction finished: close the prompt unless it asks about an overwrite.
    pub fn extract_done(&mut self) {
        if !matches!(self.active, Some(Prompt::Overwrite { .. })) {
            self.active = None;
        }
    }
}

/// Line editing: Backspace, Ctrl+U clears, printable characters appended (up to 4096 bytes).
fn edit(text: &mut String, k: KeyEvent) {
    match k.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        KeyCode::Char(c)
            if !k.modifiers.contains(KeyModifiers::CONTROL)
                && !c.is_control()
                && text.len() < 4096 =>
        {
            text.push(c);
        }
        _ => {}
    }
}

/// Starting prompts and carrying out what they ask.
impl App {
    // ----- prompts ------------------------------------------------------------------------

    pub(in crate::ui) fn start_extract(&mut self) {
        let target = match &self.viewer.open {
            Some(v) if v.version != u32::MAX => Some((v.path, v.version)),
            Some(_) => None,
            None => self
                .tree
                .selected_entry()
                .and_then(|(id, v, _)| v.map(|v| (id, v))),
        };
        let Some((id, vid)) = target else {
            self.notice = Some(("select a file to extract".into(), Level::Error));
            return;
        };
        let Some(tree) = self.tree.state.as_ref() else {
            return;
        };
        let v = &tree.image.fs.versions[vid as usize];
        if !matches!(v.kind, EntryKind::File | EntryKind::HardLink) {
            self.notice = Some(("only regular files can be extracted".into(), Level::Error));
            return;
        }
        let target = ExtractTarget {
            version: vid,
            name: tree.image.fs.name(id).to_vec(),
            display: crate::model::path::display(tree.image.fs.path(id)),
            layer: v.layer as usize,
        };
        self.prompt.active = Some(Prompt::ExtractDir {
            text: self.prompt.extract_dir.clone(),
            target,
        });
    }

    pub(in crate::ui) fn prompt_outcome(&mut self, outcome: PromptOutcome) -> Vec<Command> {
        match outcome {
            PromptOutcome::Done => {}
            PromptOutcome::Notice(n) => self.notice = Some((n.into(), Level::Info)),
            PromptOutcome::Filter { text, submit } => match self.tree.set_filter(text.clone()) {
                Ok(()) if submit => self.compare.set_filter(self.tree.filter_regex()),
                Ok(()) => {
                    self.compare.set_filter(self.tree.filter_regex());
                    self.set_filter_error(text, None);
                }
                Err(_) if submit => {
                    let error = crate::ui::state::tree::filter_error(&text);
                    self.set_filter_error(text, error);
                }
                Err(e) => self.set_filter_error(text, Some(e)),
            },
            PromptOutcome::PackageFilter(text) => self.packages.set_filter(text),
            PromptOutcome::Extract {
                target,
                dir,
                overwrite,
            } => {
                let Some(image) = self.tree.state.as_ref().map(|t| t.image.clone()) else {
                    return Vec::new();
                };
                self.extract_req = self.req();
                return vec![Command::Extract {
                    req: self.extract_req,
                    image,
                    version: target.version,
                    name: target.name,
                    dir,
                    overwrite,
                }];
            }
            PromptOutcome::Open(reference) => {
                // Opened from the image list: `q` goes back to it, as after Enter there.
                if self.screen == crate::ui::app::Screen::Images {
                    self.from_list = true;
                }
                return vec![self.open(crate::ui::msg::Target::Reference(reference))];
            }
            PromptOutcome::RevealFinding(finding) => {
                let Some(image) = self.tree.state.as_ref().map(|t| t.image.clone()) else {
                    return Vec::new();
                };
                let req = self.req();
                return self
                    .findings
                    .reveal_command(&image, finding, req)
                    .into_iter()
                    .collect();
            }
            PromptOutcome::RevealFile => self.viewer.reveal(),
            PromptOutcome::Search(query) => {
                self.viewer.search(query);
                return self.read_ahead().into_iter().collect();
            }
            PromptOutcome::Compare(reference) => {
                return self
                    .compare_with(Target::Reference(reference))
                    .into_iter()
                    .collect();
            }
        }
        Vec::new()
    }

    pub(in crate::ui) fn set_filter_error(&mut self, text: String, error: Option<String>) {
        self.prompt.active = Some(Prompt::Filter { text, error });
    }
}
