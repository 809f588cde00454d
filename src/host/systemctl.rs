//! Parsers of `systemctl` output, shared by the boot stages (LVM's activation units)
//! and the debug reports (`status`, `diagnose`). Pure: the commands run elsewhere,
//! through [`super::Host::run`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One line of `systemctl list-jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub id: u64,
    pub unit: String,
    pub job_type: String,
    pub state: String,
}

/// Parses `systemctl list-jobs --no-legend`: `JOB UNIT TYPE STATE` per line.
pub fn parse_list_jobs(text: &str) -> Vec<Job> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 {
                return None;
            }
            Some(Job {
                id: f[0].parse().ok()?,
                unit: f[1].to_owned(),
                job_type: f[2].to_owned(),
                state: f[3].to_owned(),
            })
        })
        .collect()
}

/// Parses `systemctl show` output: one `KEY=VALUE` block per unit, blocks separated
/// by blank lines.
pub fn parse_show_blocks(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut blocks = Vec::new();
    let mut cur = BTreeMap::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                blocks.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            cur.insert(k.to_owned(), v.to_owned());
        }
    }
    if !cur.is_empty() {
        blocks.push(cur);
    }
    blocks
}

/// The unit names of `systemctl list-units --plain --no-legend` (the first field of
/// each line; `--plain` drops the bullet a failed unit would carry before it).
pub fn parse_unit_names(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
