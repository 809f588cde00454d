//! The bundle's index: one entry per item (what, from where, how it went), as
//! `index.json` for machines and `INDEX.txt` for people, and the one-line verdict.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::debug::status as report;
use crate::host::{CmdError, Host};

/// Bumped whenever the JSON shape of `index.json` changes incompatibly.
pub const INDEX_SCHEMA_VERSION: u32 = 1;

/// How collecting one item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    /// Ran and exited with a status that is not success for it.
    Failed,
    TimedOut,
    /// The program is not installed.
    NotFound,
    /// The file does not exist.
    Missing,
    /// Anything else (unreadable file, spawn error, write error).
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed-out",
            Outcome::NotFound => "not-found",
            Outcome::Missing => "missing",
            Outcome::Error => "error",
        }
    }
}

/// One line of the bundle's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Stable name of the item (`lsblk`, `journal`, `network-file`).
    pub item: String,
    /// File in the bundle, relative to its directory; `None` when nothing was written.
    pub file: Option<String>,
    /// The command line, or the path read.
    pub source: String,
    pub outcome: Outcome,
    /// Exit status of a command that ran to the end.
    pub exit: Option<i32>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub schema_version: u32,
    pub version: String,
    /// UTC, RFC 3339.
    pub created: String,
    pub verdict: String,
    pub entries: Vec<IndexEntry>,
}

pub(super) fn entry_for_error(
    item: &str,
    file: Option<String>,
    source: String,
    e: &CmdError,
    duration_ms: u64,
) -> IndexEntry {
    let (outcome, exit) = match e {
        CmdError::NotFound { .. } => (Outcome::NotFound, None),
        CmdError::TimedOut { .. } => (Outcome::TimedOut, None),
        CmdError::Failed { output, .. } => (Outcome::Failed, output.status),
        CmdError::Spawn { .. } | CmdError::Interrupted { .. } => (Outcome::Error, None),
    };
    IndexEntry {
        item: item.to_owned(),
        file,
        source,
        outcome,
        exit,
        duration_ms,
        error: Some(e.one_line()),
    }
}

/// `sshd: active · storage: plan-only/existing-storage (sdb: partition-table) ·
/// jobs pending: none · pre-nixos.service: inactive (dead)`.
pub fn verdict(r: &report::StatusReport) -> String {
    let sshd = if r.sshd.unit.is_none() {
        match r.sshd.errors.first() {
            Some(e) => format!("unknown ({})", shorten(e, 70)),
            None => "unknown".into(),
        }
    } else {
        let mut s = r.sshd.active_state.clone().unwrap_or_else(|| "?".into());
        if r.sshd.hardened == Some(false) {
            s.push_str(", NOT hardened");
        }
        s
    };
    let storage = match &r.storage {
        Some(st) => {
            let mut s = format!("{}/{}", st.state, st.detail);
            if let Some(e) = &st.error {
                s.push_str(&format!(" ({})", shorten(e, 100)));
            }
            s
        }
        None if r.problems.is_empty() => "nothing written yet".into(),
        None => "storage-status unreadable".into(),
    };
    let jobs = if let Some(e) = &r.jobs.error {
        format!("unknown ({})", shorten(e, 70))
    } else if r.jobs.jobs.is_empty() {
        "none".into()
    } else {
        r.jobs
            .jobs
            .iter()
            .map(|j| format!("{} {} {}", j.unit, j.job_type, j.state))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut v = format!(
        "sshd: {sshd} · storage: {storage} · jobs pending: {jobs} · {}: {}",
        report::UNIT,
        shorten(&report::unit_summary(&r.unit), 80)
    );
    for p in &r.problems {
        v.push_str(&format!(" · PROBLEM: {} {}", p.file, p.problem));
    }
    v
}

/// `s` cut to at most `max` characters at a word boundary, with `…` where it was cut
/// (a word longer than `max` is cut inside it, there being no other choice).
pub(super) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > 0 => cut[..i].trim_end_matches([',', ';', ':']),
        _ => cut.as_str(),
    };
    format!("{at_word} …")
}

pub(super) fn write_index(host: &dyn Host, dir: &Path, index: &Index) {
    let mut json = serde_json::to_string_pretty(index).unwrap_or_default();
    json.push('\n');
    if let Err(e) = host.write_atomic(&dir.join("index.json"), json.as_bytes(), 0o600) {
        tracing::warn!(file = "index.json", error = %e, "writing the bundle index failed");
    }
    if let Err(e) = host.write_atomic(&dir.join("INDEX.txt"), index_text(index).as_bytes(), 0o600) {
        tracing::warn!(file = "INDEX.txt", error = %e, "writing the bundle index failed");
    }
}

/// `INDEX.txt`: the index as a table for people.
pub fn index_text(index: &Index) -> String {
    let mut s = format!(
        "pre-nixos {} diagnose bundle, created {}\n{}\n\n",
        index.version, index.created, index.verdict
    );
    s.push_str(&format!(
        "{:<16} {:<10} {:>5} {:>8}  {:<40} {}\n",
        "ITEM", "OUTCOME", "EXIT", "MS", "FILE", "SOURCE"
    ));
    for e in &index.entries {
        s.push_str(&format!(
            "{:<16} {:<10} {:>5} {:>8}  {:<40} {}\n",
            e.item,
            e.outcome.as_str(),
            e.exit.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            e.duration_ms,
            e.file.as_deref().unwrap_or("-"),
            e.source
        ));
        if let Some(err) = &e.error {
            s.push_str(&format!("{:<16} error: {}\n", "", err));
        }
    }
    s
}
