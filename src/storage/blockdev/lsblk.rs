//! `lsblk -J -b -O`: the block-device tree as the kernel sees it.

use anyhow::{bail, Context};
use serde_json::Value;

use super::QUERY_TIMEOUT;
use crate::host::{Cmd, Host};

/// One node of `lsblk -J -b -O` (disk, part, raidN, lvm, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsblkNode {
    /// Kernel name (`sda1`, `md127`, `dm-0`).
    pub kname: String,
    /// lsblk's display name (`main-slash` for an LV).
    pub name: String,
    /// `MAJ:MIN`, the key of a node (an md array appears once under each member).
    pub maj_min: String,
    /// `disk`, `part`, `raid1`, `lvm`, `loop`, `rom`, …
    pub kind: String,
    pub fstype: Option<String>,
    pub label: Option<String>,
    pub partlabel: Option<String>,
    /// GPT type GUID (lower case) or MBR type (`0xc`).
    pub parttype: Option<String>,
    pub pttype: Option<String>,
    pub size: u64,
    pub serial: Option<String>,
    pub model: Option<String>,
    /// Non-empty mount points (`/mnt`, `[SWAP]`).
    pub mountpoints: Vec<String>,
    pub children: Vec<LsblkNode>,
}

impl LsblkNode {
    pub fn dev(&self) -> String {
        format!("/dev/{}", self.kname)
    }

    pub fn is_md(&self) -> bool {
        self.kind.starts_with("raid") || self.kind == "md"
    }

    /// This node and every node below it, parents before children.
    pub fn walk(&self) -> Vec<&LsblkNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn u64_field(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim_end_matches('B').parse().unwrap_or(0),
        _ => 0,
    }
}

fn node_from(v: &Value) -> anyhow::Result<LsblkNode> {
    let kname = str_field(v, "kname")
        .or_else(|| str_field(v, "name"))
        .context("an lsblk node has no name")?;
    // With -p names are paths; keep kernel names everywhere.
    let kname = kname.trim_start_matches("/dev/").to_owned();
    let mut mountpoints: Vec<String> = match v.get("mountpoints") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if mountpoints.is_empty() {
        mountpoints.extend(str_field(v, "mountpoint"));
    }
    let mut children = Vec::new();
    if let Some(Value::Array(a)) = v.get("children") {
        for c in a {
            children.push(node_from(c)?);
        }
    }
    Ok(LsblkNode {
        name: str_field(v, "name")
            .unwrap_or_else(|| kname.clone())
            .trim_start_matches("/dev/")
            .to_owned(),
        kname,
        maj_min: str_field(v, "maj:min").unwrap_or_default(),
        kind: str_field(v, "type").unwrap_or_default(),
        fstype: str_field(v, "fstype"),
        label: str_field(v, "label"),
        partlabel: str_field(v, "partlabel"),
        parttype: str_field(v, "parttype").map(|s| s.to_ascii_lowercase()),
        pttype: str_field(v, "pttype"),
        size: u64_field(v, "size"),
        serial: str_field(v, "serial"),
        model: str_field(v, "model"),
        mountpoints,
        children,
    })
}

/// Parses `lsblk -J -b -O` (or any `lsblk -J` with `name`/`type`).
pub fn parse_lsblk(json: &str) -> anyhow::Result<Vec<LsblkNode>> {
    let v: Value = serde_json::from_str(json).context("parsing lsblk JSON")?;
    let Some(Value::Array(devs)) = v.get("blockdevices") else {
        bail!("parsing lsblk JSON: no \"blockdevices\" array");
    };
    devs.iter().map(node_from).collect()
}

pub fn read_lsblk(host: &dyn Host) -> anyhow::Result<Vec<LsblkNode>> {
    let out = host.run(
        &Cmd::new("listing block devices", ["lsblk", "-J", "-b", "-O"])
            .timeout(QUERY_TIMEOUT)
            .quiet(),
    )?;
    parse_lsblk(&out.stdout)
}
