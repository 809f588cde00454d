//! The one-screen human summary of a plan: disks → arrays → VGs → LVs with sizes,
//! then the decisions and everything left out, each with its reason. Rendered from
//! the plan alone into any `Write`, at a given width (80 columns unless the terminal
//! says otherwise): long lines wrap at words with a hanging indent, and the disks'
//! by-id paths (60-odd columns each) are shown only by `--wide`, which prints every
//! line whole.
//!
//! One screen means about 40 rows at 80 columns for the machines this tool meets, so
//! the default folds each array into the line of the VG it carries (the disks already
//! name their array) and keeps the decisions an operator asks about first — which
//! disks got which RAID level and VG, and warnings — leaving the logical volumes'
//! sizing arithmetic to `--wide` and `storage-plan.json`, where every decision stays.

use std::io::Write;

use super::wrap::{write_wrapped, DEFAULT_WIDTH};

use crate::plan::{LvContent, PartitionRole, Plan};
use crate::units::{human_binary, human_bytes};

/// How the summary is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Columns to wrap at.
    pub width: usize,
    /// Every line whole (no wrapping), with each disk's stable path.
    pub wide: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            width: DEFAULT_WIDTH,
            wide: false,
        }
    }
}

/// The one-screen summary of a plan at 80 columns.
pub fn write_summary(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    write_summary_as(plan, Layout::default(), out)
}

/// The summary of a plan laid out as `layout` says.
///
/// Long on purpose: one block per section of the screen (disks, arrays, VGs and LVs,
/// decisions, excluded), in screen order.
pub fn write_summary_as(plan: &Plan, layout: Layout, out: &mut dyn Write) -> std::io::Result<()> {
    let width = if layout.wide {
        usize::MAX
    } else {
        layout.width
    };
    let put = |out: &mut dyn Write, line: String| write_wrapped(out, width, 2, &line);
    let l = &plan.layout;
    writeln!(
        out,
        "Storage plan ({} mode, {} RAM; inventory {})",
        plan.options.mode.as_str(),
        human_binary(plan.ram_bytes),
        &plan.inventory_digest[..plan.inventory_digest.len().min(12)]
    )?;
    if let Some((asked, got, why)) = crate::plan::volumes::swap_shortfall(plan) {
        let got = if got == 0 {
            "no swap".to_owned()
        } else {
            human_binary(got)
        };
        put(
            out,
            format!(
                "WARNING: swap {} was asked for; this plan has {got}: {why}",
                human_binary(asked)
            ),
        )?;
    }

    writeln!(out, "\nDisks")?;
    // in VG order (main first), then by key; the plan itself keeps stable-path order
    let vg_rank = |d: &&crate::plan::PlannedDisk| {
        let vg = d.partitions.iter().find_map(|p| match &p.role {
            PartitionRole::RaidMember { array } => Some(array.as_str()),
            PartitionRole::Pv { vg } => Some(vg.as_str()),
            PartitionRole::Esp { .. } => None,
        });
        let rank = l.vgs.iter().position(|v| Some(v.name.as_str()) == vg);
        (rank.unwrap_or(usize::MAX), d.key.len(), d.key.clone())
    };
    let mut disks: Vec<&crate::plan::PlannedDisk> = l.disks.iter().collect();
    disks.sort_by_key(vg_rank);
    for d in disks {
        let parts: Vec<String> = d
            .partitions
            .iter()
            .map(|p| {
                let what = match &p.role {
                    PartitionRole::Esp {
                        label, mountpoint, ..
                    } => match mountpoint {
                        Some(m) => format!("ESP {label} {m}"),
                        None => format!("ESP {label}"),
                    },
                    PartitionRole::RaidMember { array } => format!("md/{array}"),
                    PartitionRole::Pv { vg } => format!("PV of {vg}"),
                };
                what
            })
            .collect();
        let row = format!(
            "  {:<9} {:<8} {:>8} {:<4}  {:<24}",
            d.key,
            d.name,
            human_bytes(d.size_bytes),
            kind_label(d.kind),
            parts.join(" + "),
        );
        if layout.wide {
            writeln!(out, "{row} {}", d.stable_path)?;
        } else {
            put(out, row.trim_end().to_owned())?;
        }
    }

    if layout.wide && !l.arrays.is_empty() {
        writeln!(out, "\nArrays")?;
        // in VG order, like the disks
        let mut arrays: Vec<_> = l.arrays.iter().collect();
        arrays.sort_by_key(|a| l.vgs.iter().position(|v| v.name == a.vg));
        for a in arrays {
            put(
                out,
                format!(
                    "  /dev/md/{:<8} {:<6} {:>10}  {} members → VG {}",
                    a.name,
                    a.level.name(),
                    human_binary(a.size_bytes),
                    a.members.len(),
                    a.vg
                ),
            )?;
        }
    }

    writeln!(out, "\nVolume groups and logical volumes")?;
    for vg in &l.vgs {
        // without `--wide` the Arrays section is folded in here
        let array = l
            .arrays
            .iter()
            .find(|a| a.vg == vg.name)
            .filter(|_| !layout.wide)
            .map(|a| format!(" ({}, {} members)", a.level.name(), a.members.len()))
            .unwrap_or_default();
        put(
            out,
            format!(
                "  {:<8} {:>10}  on {}{array}",
                vg.name,
                human_binary(vg.extents.saturating_mul(vg.extent_bytes)),
                vg.pvs.join(", ")
            ),
        )?;
        if vg.lvs.is_empty() {
            writeln!(out, "    (no logical volume: left for the operator)")?;
        }
        for lv in &vg.lvs {
            let what = match &lv.content {
                LvContent::Ext4 { mountpoint, .. } => format!("ext4  {mountpoint}"),
                LvContent::Swap { .. } => "swap".to_string(),
            };
            put(
                out,
                format!(
                    "    {:<8} {:>10}  {what}",
                    lv.name,
                    human_binary(lv.size_bytes)
                ),
            )?;
        }
    }

    writeln!(out, "\nDecisions")?;
    let mut lv_decisions = 0;
    for d in &plan.decisions {
        if !layout.wide && d.subject.starts_with("lv ") {
            lv_decisions += 1;
            continue;
        }
        put(out, format!("  {}: {}", d.subject, d.reason))?;
    }
    if lv_decisions > 0 {
        put(
            out,
            "  lv sizes: `pre-nixos plan --wide` shows why each has its size".to_owned(),
        )?;
    }
    if !plan.excluded.is_empty() {
        writeln!(out, "\nLeft out")?;
        for e in &plan.excluded {
            put(out, format!("  {}: {}", e.name, e.reason))?;
        }
    }
    Ok(())
}

/// `NVMe`, `SSD`, `HDD`.
fn kind_label(k: crate::inventory::DiskKind) -> &'static str {
    match k {
        crate::inventory::DiskKind::Nvme => "NVMe",
        crate::inventory::DiskKind::Ssd => "SSD",
        crate::inventory::DiskKind::Hdd => "HDD",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanOptions;
    use crate::units::{GIB, TIB};

    fn example_plan(swap: Option<u64>) -> Plan {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/workstation-nvme.json"
        );
        let inv = crate::render::read_inventory_file(std::path::Path::new(path)).unwrap();
        let opts = PlanOptions {
            swap_size_bytes: swap,
            ..PlanOptions::default()
        };
        crate::plan::plan(&inv, &opts).unwrap()
    }

    fn summary(plan: &Plan) -> String {
        let mut out = Vec::new();
        write_summary(plan, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// `pre-nixos.swap=` the plan cannot honour does not stop a boot, but it is the
    /// second line of the summary, not one decision among many.
    #[test]
    fn a_swap_request_that_does_not_fit_is_a_warning_on_top() {
        let text = summary(&example_plan(Some(100 * TIB)));
        let second = text.lines().nth(1).unwrap();
        assert!(
            second.starts_with("WARNING: swap 100.0 TiB was asked for; this plan has no swap: "),
            "{text}"
        );
        let text = summary(&example_plan(Some(512 << 20)));
        // the warning wraps at 80 columns; rejoin its lines
        let top = text.split("\n\nDisks").next().unwrap().replace("\n   ", "");
        assert!(
            top.lines()
                .nth(1)
                .unwrap()
                .starts_with("WARNING: swap 512.0 MiB was asked for")
                && top.contains("below the 1.0 GiB minimum"),
            "{text}"
        );
        let text = summary(&example_plan(Some(8 * GIB)));
        assert!(!text.contains("WARNING"), "{text}");
    }
}
