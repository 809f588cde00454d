//! Runs the evidence table into the bundle directory: each command with a timeout,
//! each file copied, and one index entry per item however it went.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::evidence::{Demand, Evidence};
use super::index::{entry_for_error, IndexEntry, Outcome};
use super::SYSTEM_TIMEOUT;
use crate::host::{Cmd, CmdError, CmdOutput, Host};

/// Runs items and files into the bundle directory, recording each.
pub(super) struct Collector<'a> {
    pub(super) host: &'a dyn Host,
    pub(super) dir: PathBuf,
    pub(super) entries: Vec<IndexEntry>,
}

impl Collector<'_> {
    /// Collects one item of the table; nothing here stops the collection.
    pub(super) fn collect(&mut self, e: Evidence) {
        match e {
            Evidence::Text {
                item,
                file,
                source,
                text,
            } => self.text(item, file, source, text),
            Evidence::File {
                item,
                file,
                path,
                tail,
            } => {
                self.file(item, &file, &path, tail);
            }
            Evidence::Run {
                item,
                file,
                cmd,
                tail,
                demand,
                fallback,
            } => {
                self.cmd_tail(item, &file, cmd.clone(), tail);
                if let Some(alt) = fallback {
                    if self.last_outcome() == Some(Outcome::NotFound)
                        && self.host.exists(Path::new(alt))
                    {
                        self.entries.pop();
                        let mut cmd = cmd;
                        cmd.argv[0] = alt.into();
                        self.cmd_tail(item, &file, cmd, tail);
                    }
                }
                match demand {
                    Demand::Nothing => {}
                    Demand::OutputOnNonZero => self.demand_output(),
                    Demand::Entries => self.demand_entries(),
                }
            }
            Evidence::Derived {
                item,
                file,
                source,
                value,
                from,
            } => {
                let from_entry = self.entries.iter().rev().find(|e| e.item == from);
                match from_entry {
                    Some(e) if e.outcome == Outcome::Ok => self.json(item, file, source, &value),
                    other => {
                        let read = other
                            .map(|e| e.source.clone())
                            .unwrap_or_else(|| from.into());
                        self.record(IndexEntry {
                            item: item.into(),
                            file: None,
                            source: source.into(),
                            outcome: Outcome::Missing,
                            exit: None,
                            duration_ms: 0,
                            error: Some(format!("{read} could not be read")),
                        });
                    }
                }
            }
            Evidence::NetworkFiles(dir) => self.network_files(&dir),
        }
    }

    /// Turns the last entry into a failure when its command exited non-zero and
    /// printed nothing (an exit status that is an answer only with output).
    fn demand_output(&mut self) {
        let Some(e) = self.entries.last_mut() else {
            return;
        };
        if e.outcome != Outcome::Ok || e.exit == Some(0) {
            return;
        }
        let empty = match &e.file {
            Some(f) => self
                .host
                .read_to_string(&self.dir.join(f))
                .map(|t| t.trim().is_empty())
                .unwrap_or(true),
            None => true,
        };
        if empty {
            e.outcome = Outcome::Failed;
            e.error = Some(format!(
                "exited {} without printing anything (see {}.stderr)",
                e.exit.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                e.file.as_deref().unwrap_or("the index")
            ));
        }
    }

    /// Turns the last entry into a failure when it read the journal successfully but
    /// got no entry: journalctl exits 0 then, printing nothing (`-o json`) or
    /// `-- No entries --`.
    fn demand_entries(&mut self) {
        let Some(e) = self.entries.last_mut() else {
            return;
        };
        if e.outcome != Outcome::Ok {
            return;
        }
        let text = e
            .file
            .as_ref()
            .and_then(|f| self.host.read_to_string(&self.dir.join(f)).ok())
            .unwrap_or_default();
        let t = text.trim();
        if t.is_empty() || t == "-- No entries --" {
            e.outcome = Outcome::Failed;
            e.error = Some(
                "the journal has no entries for it in this boot (is systemd-journald \
                 running?)"
                    .into(),
            );
        }
    }

    fn last_outcome(&self) -> Option<Outcome> {
        self.entries.last().map(|e| e.outcome)
    }

    fn record(&mut self, e: IndexEntry) {
        tracing::debug!(
            item = %e.item,
            outcome = e.outcome.as_str(),
            exit = e.exit.unwrap_or(-1),
            duration_ms = e.duration_ms,
            "diagnose item"
        );
        self.entries.push(e);
    }

    /// Writes one bundle file; `Err` is one line for the index.
    fn write(&self, file: &str, data: &[u8]) -> Result<(), String> {
        let path = self.dir.join(file);
        self.host
            .write_atomic(&path, data, 0o600)
            .map_err(|e| e.to_string())
    }

    /// Runs `cmd` (with [`SYSTEM_TIMEOUT`] unless it has its own) and writes its
    /// stdout to `file` — also when it failed, since partial output is evidence —
    /// and its stderr, when any, to `file.stderr`.
    fn cmd_tail(&mut self, item: &str, file: &str, mut cmd: Cmd, keep_lines: Option<usize>) {
        if cmd.timeout.is_none() {
            cmd = cmd.timeout(SYSTEM_TIMEOUT);
        }
        // The index records every command; the screen is for the verdict.
        cmd = cmd.quiet();
        let start = self.host.now();
        let result = self.host.run(&cmd);
        let duration_ms = self.host.now().duration_since(start).as_millis() as u64;
        let output: Option<CmdOutput> = match &result {
            Ok(out) => Some(out.clone()),
            Err(CmdError::Failed { output, .. }) => Some((**output).clone()),
            Err(_) => None,
        };
        let mut written = None;
        let mut write_error = None;
        if let Some(out) = &output {
            if result.is_ok() || !out.stdout.is_empty() {
                let text = match keep_lines {
                    Some(n) => last_lines(&out.stdout, n),
                    None => out.stdout.clone(),
                };
                match self.write(file, text.as_bytes()) {
                    Ok(()) => written = Some(file.to_owned()),
                    Err(e) => write_error = Some(e),
                }
            }
            if !out.stderr.trim().is_empty() {
                if let Err(e) = self.write(&format!("{file}.stderr"), out.stderr.as_bytes()) {
                    write_error.get_or_insert(e);
                }
            }
        }
        let entry = match &result {
            Ok(out) => IndexEntry {
                item: item.to_owned(),
                file: written,
                source: cmd.display(),
                outcome: if write_error.is_some() {
                    Outcome::Error
                } else {
                    Outcome::Ok
                },
                exit: out.status,
                duration_ms,
                error: write_error,
            },
            Err(e) => {
                let mut entry = entry_for_error(item, written, cmd.display(), e, duration_ms);
                if let Some(w) = write_error {
                    entry.error = Some(format!("{}; {w}", entry.error.unwrap_or_default()));
                }
                entry
            }
        };
        self.record(entry);
    }

    /// Copies a file of the target system (its last `keep_lines` lines when given).
    /// Returns its text when it could be read.
    fn file(
        &mut self,
        item: &str,
        file: &str,
        path: &Path,
        keep_lines: Option<usize>,
    ) -> Option<String> {
        let source = path.display().to_string();
        let (outcome, error, text, written) = match self.host.read_to_string(path) {
            Ok(text) => {
                let kept = match keep_lines {
                    Some(n) => last_lines(&text, n),
                    None => text.clone(),
                };
                match self.write(file, kept.as_bytes()) {
                    Ok(()) => (Outcome::Ok, None, Some(text), Some(file.to_owned())),
                    Err(e) => (Outcome::Error, Some(e), Some(text), None),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                Outcome::Missing,
                Some(format!("{source} does not exist")),
                None,
                None,
            ),
            Err(e) => (
                Outcome::Error,
                Some(format!("reading {source}: {e}")),
                None,
                None,
            ),
        };
        self.record(IndexEntry {
            item: item.to_owned(),
            file: written,
            source,
            outcome,
            exit: None,
            duration_ms: 0,
            error,
        });
        text
    }

    fn text(&mut self, item: &str, file: &str, source: &str, text: String) {
        let (outcome, error, written) = match self.write(file, text.as_bytes()) {
            Ok(()) => (Outcome::Ok, None, Some(file.to_owned())),
            Err(e) => (Outcome::Error, Some(e), None),
        };
        self.record(IndexEntry {
            item: item.to_owned(),
            file: written,
            source: source.to_owned(),
            outcome,
            exit: None,
            duration_ms: 0,
            error,
        });
    }

    fn json<T: Serialize>(&mut self, item: &str, file: &str, source: &str, value: &T) {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        self.text(item, file, source, text);
    }

    /// The `.link`/`.network`/`.netdev` files networkd reads from `/etc` — where
    /// `pre-nixos network` writes `10-lan.link` and `20-lan.network`.
    fn network_files(&mut self, dir: &Path) {
        let names = match self.host.read_dir_names(dir) {
            Ok(n) => n,
            Err(e) => {
                let missing = e.kind() == std::io::ErrorKind::NotFound;
                self.record(IndexEntry {
                    item: "network-files".into(),
                    file: None,
                    source: dir.display().to_string(),
                    outcome: if missing {
                        Outcome::Missing
                    } else {
                        Outcome::Error
                    },
                    exit: None,
                    duration_ms: 0,
                    error: Some(if missing {
                        format!("{} does not exist", dir.display())
                    } else {
                        format!("listing {}: {e}", dir.display())
                    }),
                });
                return;
            }
        };
        let wanted: Vec<String> = names
            .into_iter()
            .filter(|n| n.ends_with(".link") || n.ends_with(".network") || n.ends_with(".netdev"))
            .collect();
        if wanted.is_empty() {
            self.record(IndexEntry {
                item: "network-files".into(),
                file: None,
                source: dir.display().to_string(),
                outcome: Outcome::Missing,
                exit: None,
                duration_ms: 0,
                error: Some(format!(
                    "no .link, .network or .netdev file in {}",
                    dir.display()
                )),
            });
        }
        for name in wanted {
            self.file(
                "network-file",
                &format!("etc-systemd-network/{name}"),
                &dir.join(&name),
                None,
            );
        }
    }
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut s = lines[start..].join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}
