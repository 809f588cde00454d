//! LVM's JSON reports: PVs, VGs and LVs.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use serde_json::Value;

use super::QUERY_TIMEOUT;
use crate::host::{Cmd, CmdError, Host};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pv {
    /// Kernel path (`/dev/md127`, `/dev/sda2`).
    pub name: String,
    pub vg: Option<String>,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vg {
    pub name: String,
    pub size: u64,
    pub extent_size: u64,
    pub extent_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lv {
    pub name: String,
    pub vg: String,
    pub size: u64,
    /// `-wi-ao----`: the 5th character `a` means active.
    pub attr: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvmState {
    pub pvs: Vec<Pv>,
    pub vgs: Vec<Vg>,
    pub lvs: Vec<Lv>,
}

/// The rows of one `--reportformat json` report (`pv`, `vg`, `lv`).
pub fn parse_lvm_rows(json: &str, kind: &str) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    let v: Value =
        serde_json::from_str(json).with_context(|| format!("parsing the LVM {kind} report"))?;
    let mut rows = Vec::new();
    let Some(Value::Array(reports)) = v.get("report") else {
        bail!("parsing the LVM {kind} report: no \"report\" array");
    };
    for r in reports {
        if let Some(Value::Array(items)) = r.get(kind) {
            for item in items {
                let Value::Object(map) = item else { continue };
                rows.push(
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                );
            }
        }
    }
    Ok(rows)
}

/// `4194304B` (from `--units b`) → 4194304.
pub fn parse_lvm_bytes(s: &str) -> u64 {
    s.trim().trim_end_matches(['B', 'b']).parse().unwrap_or(0)
}

pub fn parse_pvs(json: &str) -> anyhow::Result<Vec<Pv>> {
    Ok(parse_lvm_rows(json, "pv")?
        .into_iter()
        .map(|r| Pv {
            name: r.get("pv_name").cloned().unwrap_or_default(),
            vg: r.get("vg_name").filter(|s| !s.is_empty()).cloned(),
            size: parse_lvm_bytes(r.get("pv_size").map(String::as_str).unwrap_or("")),
        })
        .collect())
}

pub fn parse_vgs(json: &str) -> anyhow::Result<Vec<Vg>> {
    Ok(parse_lvm_rows(json, "vg")?
        .into_iter()
        .map(|r| {
            let g = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
            Vg {
                name: g("vg_name").to_owned(),
                size: parse_lvm_bytes(g("vg_size")),
                extent_size: parse_lvm_bytes(g("vg_extent_size")),
                extent_count: g("vg_extent_count").parse().unwrap_or(0),
            }
        })
        .collect())
}

pub fn parse_lvs(json: &str) -> anyhow::Result<Vec<Lv>> {
    Ok(parse_lvm_rows(json, "lv")?
        .into_iter()
        .map(|r| {
            let g = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
            Lv {
                name: g("lv_name").to_owned(),
                vg: g("vg_name").to_owned(),
                size: parse_lvm_bytes(g("lv_size")),
                attr: g("lv_attr").to_owned(),
            }
        })
        .collect())
}

fn lvm_report(host: &dyn Host, what: &str, argv: &[&str]) -> anyhow::Result<Option<String>> {
    match host.run(
        &Cmd::new(what, argv.iter().copied())
            .timeout(QUERY_TIMEOUT)
            .quiet(),
    ) {
        Ok(o) => Ok(Some(o.stdout)),
        Err(CmdError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads PVs, VGs and LVs. `Ok(None)` when LVM is not installed.
pub fn read_lvm(host: &dyn Host) -> anyhow::Result<Option<LvmState>> {
    let Some(pvs) = lvm_report(
        host,
        "listing LVM physical volumes",
        &[
            "pvs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "pv_all,vg_name",
        ],
    )?
    else {
        return Ok(None);
    };
    let vgs = lvm_report(
        host,
        "listing LVM volume groups",
        &[
            "vgs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "vg_all",
        ],
    )?
    .unwrap_or_default();
    let lvs = lvm_report(
        host,
        "listing LVM logical volumes",
        &[
            "lvs",
            "-a",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "lv_all,vg_name",
        ],
    )?
    .unwrap_or_default();
    let or_empty = |s: String| {
        if s.trim().is_empty() {
            "{\"report\":[]}".to_owned()
        } else {
            s
        }
    };
    Ok(Some(LvmState {
        pvs: parse_pvs(&or_empty(pvs))?,
        vgs: parse_vgs(&or_empty(vgs))?,
        lvs: parse_lvs(&or_empty(lvs))?,
    }))
}
