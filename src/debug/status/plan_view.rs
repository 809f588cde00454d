//! The plan as `status` shows it: read from `storage-plan.json`, one line per VG, and
//! the verify diff against the disks.

use std::path::{Path, PathBuf};

use super::*;
use crate::host::Host;
use crate::plan::{Layout, Plan, VolumeGroup};
use crate::units::human_binary;

/// Finds and reads `storage-plan.json`: the file `PLAN=` names, else the one in the
/// state directory. A `PLAN=` that points nowhere is a problem; no plan at all is not
/// (boot may not have got that far, or failed before planning).
pub(super) fn read_plan(
    host: &dyn Host,
    state_dir: &Path,
    storage: Option<&StorageStatus>,
    problems: &mut Vec<FileProblem>,
) -> (Option<Plan>, PlanReport) {
    let named = storage.and_then(|s| s.plan.clone()).map(PathBuf::from);
    let path = named
        .clone()
        .unwrap_or_else(|| state_dir.join(status::STORAGE_PLAN));
    let shown = path.display().to_string();
    let mut report = PlanReport {
        path: None,
        vgs: Vec::new(),
        excluded: Vec::new(),
        missing: None,
    };
    let text = match host.read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if named.is_some() {
                problems.push(FileProblem {
                    file: shown.clone(),
                    problem: "is missing, although storage-status names it in PLAN=".into(),
                    hint: "the state directory was changed after boot; \
                           `pre-nixos plan` prints the plan for this machine again"
                        .into(),
                });
                report.missing = Some(format!("{shown} is missing"));
            } else {
                report.missing = Some(format!("no plan written yet ({shown} does not exist)"));
            }
            return (None, report);
        }
        Err(e) => {
            problems.push(FileProblem {
                file: shown.clone(),
                problem: format!("cannot be read: {e}"),
                hint: "check its permissions (status needs to read it; run as root)".into(),
            });
            report.missing = Some(format!("{shown} cannot be read"));
            return (None, report);
        }
    };
    match crate::render::json::plan_from_json(&text) {
        Ok(plan) => {
            report.path = Some(shown);
            report.vgs = plan
                .layout
                .vgs
                .iter()
                .map(|vg| vg_line(&plan, vg))
                .collect();
            report.excluded = plan
                .excluded
                .iter()
                .map(|e| format!("{}: {}", e.name, e.reason))
                .collect();
            (Some(plan), report)
        }
        Err(e) => {
            problems.push(FileProblem {
                file: shown.clone(),
                problem: format!("is not a valid storage plan: {e}"),
                hint: "pre-nixos writes it atomically, so something else changed it; \
                       `pre-nixos plan --output json` prints a fresh one"
                    .into(),
            });
            report.missing = Some(format!("{shown} is not a valid plan"));
            (None, report)
        }
    }
}

/// Describes one VG of a plan for one line: size, what backs it, its LVs.
pub fn vg_line(plan: &Plan, vg: &VolumeGroup) -> VgLine {
    let backing = vg
        .pvs
        .iter()
        .map(|pv| pv_description(&plan.layout, pv))
        .collect::<Vec<_>>()
        .join(" + ");
    let lvs = vg
        .lvs
        .iter()
        .map(|lv| {
            let size = human_binary(lv.size_bytes);
            match &lv.content {
                crate::plan::LvContent::Ext4 { mountpoint, .. } => {
                    format!("{} {size} {mountpoint}", lv.name)
                }
                crate::plan::LvContent::Swap { .. } => format!("{} {size} swap", lv.name),
            }
        })
        .collect();
    VgLine {
        name: vg.name.clone(),
        size_bytes: vg.extents.saturating_mul(vg.extent_bytes),
        backing,
        lvs,
    }
}

/// `RAID1 /dev/md/swap (sdb, sdc)` for an array, `sda2` for a partition.
fn pv_description(layout: &Layout, pv: &str) -> String {
    if let Some(array) = layout.arrays.iter().find(|a| a.device() == pv) {
        let disks: Vec<String> = array
            .members
            .iter()
            .map(|m| partition_name(layout, m))
            .collect();
        return format!(
            "{} {} ({})",
            array.level.name(),
            array.device(),
            disks.join(", ")
        );
    }
    partition_name(layout, pv)
}

/// The kernel name of a partition given as its by-partlabel path, for people.
fn partition_name(layout: &Layout, path: &str) -> String {
    for disk in &layout.disks {
        for part in &disk.partitions {
            if part.by_partlabel() == path {
                return part
                    .device
                    .strip_prefix("/dev/")
                    .unwrap_or(&part.device)
                    .to_owned();
            }
        }
    }
    path.to_owned()
}

pub(super) fn verify_report(
    host: &dyn Host,
    storage: Option<&StorageStatus>,
    plan: Option<&Plan>,
    read_back: super::ReadBack,
) -> VerifyReport {
    let Some(plan) = plan else {
        return VerifyReport::Skipped {
            reason: "no plan to compare with".into(),
        };
    };
    if let super::ReadBack::Skip(reason) = read_back {
        return VerifyReport::Skipped {
            reason: reason.into(),
        };
    }
    if storage.map(|s| s.state) == Some(State::Running) {
        return VerifyReport::Skipped {
            reason: "storage is still being set up (STATE=running)".into(),
        };
    }
    match crate::storage::verify::check(host, &plan.layout) {
        Ok(differences) => {
            if differences.is_empty() {
                VerifyReport::Matches
            } else {
                VerifyReport::Differs { differences }
            }
        }
        Err(e) => VerifyReport::Error {
            message: format!("{e:#}"),
        },
    }
}
