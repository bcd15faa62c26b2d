//! The one-line prompts of the status bar: the path filter, the packages filter, the extract
//! directory (and whether to keep the path), the image to open and the confirmations (reveal,
//! create the directory, overwrite). Keys typed into a
//! prompt become a [`PromptOutcome`] for the app to carry out.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::fs::{EntryKind, PathId, VersionId};
use crate::ui::app::{App, Level};
use crate::ui::msg::{Command, Target};

/// A file or directory chosen for extraction.
#[derive(Debug, Clone)]
pub struct ExtractTarget {
    /// The selected path.
    pub root: PathId,
    /// The version shown for a file row (the one written); `None` for a directory row.
    pub version: Option<VersionId>,
    /// A directory row: its whole subtree is extracted.
    pub is_dir: bool,
    /// Safe display path (`/etc/nginx/nginx.conf`).
    pub display: String,
    /// Layer of the file's version, or the layer whose filesystem the tree shows.
    pub layer: usize,
    /// Keep the image path under the directory (`etc/nginx/nginx.conf`), else the name only;
    /// Tab in the prompt switches.
    pub keep_path: bool,
}

impl ExtractTarget {
    /// Where it lands under the directory, as the prompt says it (`etc/nginx/nginx.conf` or
    /// `nginx.conf`, with a trailing `/` for a directory).
    pub fn lands_as(&self) -> String {
        let p = self.display.trim_start_matches('/').trim_end_matches('/');
        let p = if self.keep_path {
            p
        } else {
            p.rsplit('/').next().unwrap_or(p)
        };
        if self.is_dir {
            format!("{p}/")
        } else {
            p.to_owned()
        }
    }
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
    /// Typing the directory to extract into (Tab: keep the path or the name only).
    ExtractDir {
        /// Text typed.
        text: String,
        /// The file or directory.
        target: ExtractTarget,
    },
    /// Confirming that the missing directory may be created.
    CreateDir {
        /// The file or directory.
        target: ExtractTarget,
        /// The directory.
        dir: PathBuf,
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
        /// The file or directory.
        target: ExtractTarget,
        /// Directory chosen.
        dir: PathBuf,
        /// The first existing file.
        existing: PathBuf,
        /// How many would be replaced.
        count: usize,
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
    /// Write a file or a subtree into a directory.
    Extract {
        /// The file or directory.
        target: ExtractTarget,
        /// The directory.
        dir: PathBuf,
        /// Create the directory if it is missing.
        create_dir: bool,
        /// Replace existing files.
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
    /// Where the extract prompt proposes a directory named after the image
    /// (`./strata-extract/nginx_1.27/`); empty: the prompt starts empty.
    pub extract_dir: String,
    /// The last directory typed, with the image it was typed for (proposed again for it).
    pub last_extract: Option<(String, String)>,
    /// The extraction asked of the worker, until it answers (a question may follow).
    pub pending_extract: Option<(ExtractTarget, PathBuf)>,
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
            Prompt::ExtractDir {
                mut text,
                mut target,
            } => match k.code {
                KeyCode::Esc => PromptOutcome::Done,
                KeyCode::Tab | KeyCode::BackTab => {
                    target.keep_path = !target.keep_path;
                    self.active = Some(Prompt::ExtractDir { text, target });
                    PromptOutcome::Done
                }
                KeyCode::Enter => PromptOutcome::Extract {
                    target,
                    dir: PathBuf::from(text.trim()),
                    create_dir: false,
                    overwrite: false,
                },
                _ => {
                    edit(&mut text, k);
                    self.active = Some(Prompt::ExtractDir { text, target });
                    PromptOutcome::Done
                }
            },
            Prompt::CreateDir { target, dir } => match k.code {
                KeyCode::Char('y' | 'Y') => PromptOutcome::Extract {
                    target,
                    dir,
                    create_dir: true,
                    overwrite: false,
                },
                KeyCode::Char('n' | 'N') | KeyCode::Esc | KeyCode::Enter => {
                    PromptOutcome::Notice("nothing extracted: the directory was not created")
                }
                _ => {
                    self.active = Some(Prompt::CreateDir { target, dir });
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
                count,
            } => match k.code {
                KeyCode::Char('y' | 'Y') => PromptOutcome::Extract {
                    target,
                    dir,
                    create_dir: false,
                    overwrite: true,
                },
                KeyCode::Char('n' | 'N') | KeyCode::Esc | KeyCode::Enter => {
                    PromptOutcome::Notice("not overwritten: nothing extracted")
                }
                _ => {
                    self.active = Some(Prompt::Overwrite {
                        target,
                        dir,
                        existing,
                        count,
                    });
                    PromptOutcome::Done
                }
            },
        }
    }

    /// Files to be written exist: ask before replacing them.
    pub fn ask_overwrite(&mut self, existing: PathBuf, count: usize) {
        if let Some((target, dir)) = self.pending_extract.take() {
            self.active = Some(Prompt::Overwrite {
                target,
                dir,
                existing,
                count,
            });
        }
    }

    /// The directory is missing: ask before creating it.
    pub fn ask_create(&mut self, dir: PathBuf) {
        if let Some((target, _)) = self.pending_extract.take() {
            self.active = Some(Prompt::CreateDir { target, dir });
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
        let selected = match &self.viewer.open {
            Some(v) if v.version != u32::MAX => Some((v.path, Some(v.version))),
            Some(_) => None,
            None => self.tree.selected_entry().map(|(id, v, _)| (id, v)),
        };
        let Some((id, vid)) = selected else {
            self.notice = Some((
                "select a file or a directory to extract".into(),
                Level::Error,
            ));
            return;
        };
        let Some(tree) = self.tree.state.as_ref() else {
            return;
        };
        let fs = &tree.image.fs;
        let kind = vid.map(|v| fs.versions[v as usize].kind);
        let is_dir = matches!(kind, None | Some(EntryKind::Dir));
        if !is_dir && !matches!(kind, Some(EntryKind::File | EntryKind::HardLink)) {
            self.notice = Some((
                "only regular files and directories can be extracted".into(),
                Level::Error,
            ));
            return;
        }
        if id == 0 {
            self.notice = Some((
                "select a file or a directory to extract".into(),
                Level::Error,
            ));
            return;
        }
        let layer = match vid {
            Some(v) if !is_dir => fs.versions[v as usize].layer as usize,
            _ => self.layers.selected,
        };
        let mut display = crate::model::path::display(fs.path(id));
        if is_dir && !display.ends_with('/') {
            display.push('/');
        }
        let target = ExtractTarget {
            root: id,
            version: if is_dir { None } else { vid },
            is_dir,
            display,
            layer,
            keep_path: true,
        };
        let reference = tree.image.reference.clone();
        let text = match &self.prompt.last_extract {
            Some((r, dir)) if *r == reference => dir.clone(),
            _ if self.prompt.extract_dir.is_empty() => String::new(),
            _ => format!(
                "{}/{}/",
                self.prompt.extract_dir.trim_end_matches('/'),
                crate::ui::extract::dir_name(&tree.image)
            ),
        };
        self.prompt.active = Some(Prompt::ExtractDir { text, target });
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
                create_dir,
                overwrite,
            } => {
                let Some(image) = self.tree.state.as_ref().map(|t| t.image.clone()) else {
                    return Vec::new();
                };
                self.prompt.last_extract =
                    Some((image.reference.clone(), dir.display().to_string()));
                self.extract_req = self.req();
                self.prompt.active = None;
                self.notice = Some(("extracting…".into(), Level::Info));
                let request = crate::ui::extract::Request {
                    root: target.root,
                    version: target.version,
                    layer: target.layer,
                    dir: dir.clone(),
                    keep_path: target.keep_path,
                    create_dir,
                    overwrite,
                };
                self.prompt.pending_extract = Some((target, dir));
                return vec![Command::Extract {
                    req: self.extract_req,
                    image,
                    request,
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
