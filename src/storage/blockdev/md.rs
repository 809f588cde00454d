//! md arrays: `mdadm --detail --export` and `/proc/mdstat`.

use std::path::Path;

use anyhow::Context;

use super::QUERY_TIMEOUT;
use crate::host::{Cmd, Host};

/// `mdadm --detail --export /dev/mdX`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdDetail {
    /// `raid1`, `raid5`, …
    pub level: String,
    pub raid_devices: u32,
    pub metadata: String,
    pub uuid: String,
    /// `MD_DEVNAME`: the name under `/dev/md/` (`swap`).
    pub devname: Option<String>,
    /// `MD_NAME`: `any:swap`.
    pub name: Option<String>,
    /// Member device paths (`/dev/sdb1`), by role.
    pub members: Vec<String>,
}

impl MdDetail {
    /// The array's short name: `MD_DEVNAME`, else the part after `:` of `MD_NAME`.
    pub fn short_name(&self) -> Option<String> {
        self.devname.clone().or_else(|| {
            self.name
                .as_ref()
                .map(|n| n.rsplit(':').next().unwrap_or(n).to_owned())
        })
    }

    pub fn level_number(&self) -> Option<u32> {
        self.level.trim_start_matches("raid").parse().ok()
    }
}

pub fn parse_mdadm_detail(text: &str) -> MdDetail {
    let kv = crate::host::parse_key_values(text);
    let get = |k: &str| kv.get(k).cloned();
    let mut members: Vec<(u32, String)> = kv
        .iter()
        .filter(|(k, _)| k.starts_with("MD_DEVICE_") && k.ends_with("_DEV"))
        .map(|(k, dev)| {
            let role_key = format!("{}_ROLE", k.trim_end_matches("_DEV"));
            let role = kv
                .get(&role_key)
                .and_then(|r| r.parse().ok())
                .unwrap_or(u32::MAX);
            (role, dev.clone())
        })
        .collect();
    members.sort();
    MdDetail {
        level: get("MD_LEVEL").unwrap_or_default(),
        raid_devices: get("MD_DEVICES").and_then(|d| d.parse().ok()).unwrap_or(0),
        metadata: get("MD_METADATA").unwrap_or_default(),
        uuid: get("MD_UUID").unwrap_or_default(),
        devname: get("MD_DEVNAME"),
        name: get("MD_NAME"),
        members: members.into_iter().map(|(_, d)| d).collect(),
    }
}

pub fn read_md_detail(host: &dyn Host, dev: &str) -> anyhow::Result<MdDetail> {
    let out = host.run(
        &Cmd::new(
            format!("reading the md array {dev}"),
            ["mdadm", "--detail", "--export", dev],
        )
        .timeout(QUERY_TIMEOUT)
        .quiet(),
    )?;
    Ok(parse_mdadm_detail(&out.stdout))
}

/// One array of `/proc/mdstat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdstatArray {
    /// `md127`.
    pub name: String,
    /// `active` or `inactive`.
    pub state: String,
    pub level: Option<String>,
    /// Member kernel names (`sdc1`).
    pub members: Vec<String>,
}

pub fn parse_mdstat(text: &str) -> Vec<MdstatArray> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(" : ") else {
            continue;
        };
        let name = name.trim();
        if !name.starts_with("md") {
            continue;
        }
        let mut words = rest.split_whitespace().peekable();
        let state = words.next().unwrap_or_default().to_owned();
        let mut level = None;
        let mut members = Vec::new();
        for w in words {
            if w.starts_with('(') {
                continue; // (auto-read-only), (read-only)
            }
            if let Some(idx) = w.find('[') {
                members.push(w[..idx].to_owned());
            } else if w.starts_with("raid") || w == "linear" {
                level = Some(w.to_owned());
            }
        }
        out.push(MdstatArray {
            name: name.to_owned(),
            state,
            level,
            members,
        });
    }
    out
}

/// `/proc/mdstat`; empty when the md module is not loaded (the file is missing).
pub fn read_mdstat(host: &dyn Host) -> anyhow::Result<Vec<MdstatArray>> {
    match host.read_to_string(Path::new("/proc/mdstat")) {
        Ok(t) => Ok(parse_mdstat(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).context("reading /proc/mdstat"),
    }
}
