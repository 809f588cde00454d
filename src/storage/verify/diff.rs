//! The comparing half of verify: every way a layout read back differs from the plan.

use std::collections::BTreeSet;
use std::fmt;

use crate::plan::{
    Layout, LogicalVolume, LvContent, Partition, PartitionRole, PlannedDisk, VolumeGroup,
};
use crate::units::MIB;

/// One way the disks differ from the plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Difference {
    /// What differs: `disk sdb partition 2`, `vg main lv home`, `mount /mnt/home`.
    pub subject: String,
    pub expected: String,
    pub found: String,
}

impl Difference {
    pub(super) fn new(
        subject: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Difference {
            subject: subject.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// A mount or swap difference (nothing is mounted, no swap is on, on a freshly
    /// booted, provisioned machine).
    pub fn is_mount(&self) -> bool {
        self.subject.starts_with("mount ") || self.subject.starts_with("swap ")
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.subject, self.expected, self.found
        )
    }
}

/// Every difference between the plan and what was read back; empty means success.
pub fn diff(expected: &Layout, found: &Layout) -> Vec<Difference> {
    let mut out = Vec::new();
    diff_disks(expected, found, &mut out);
    diff_arrays(expected, found, &mut out);
    diff_vgs(expected, found, &mut out);
    out
}

/// Disks and their partitions, by stable path and partition number.
fn diff_disks(expected: &Layout, found: &Layout, out: &mut Vec<Difference>) {
    for ed in &expected.disks {
        let Some(fd) = found.disks.iter().find(|d| d.stable_path == ed.stable_path) else {
            out.push(Difference::new(
                format!("disk {}", ed.stable_path),
                "present",
                "missing",
            ));
            continue;
        };
        let who = format!("disk {}", fd.name);
        for ep in &ed.partitions {
            diff_partition(&who, ep, fd, out);
        }
        for fp in &fd.partitions {
            if !ed.partitions.iter().any(|p| p.number == fp.number) {
                out.push(Difference::new(
                    format!("{who} partition {}", fp.number),
                    "no such partition",
                    format!("{} ({})", fp.device, role_text(&fp.role)),
                ));
            }
        }
    }
}

/// One planned partition against the disk read back: label, type, size, content, and
/// the ESP's mount.
fn diff_partition(who: &str, ep: &Partition, fd: &PlannedDisk, out: &mut Vec<Difference>) {
    let subject = format!("{who} partition {}", ep.number);
    let Some(fp) = fd.partitions.iter().find(|p| p.number == ep.number) else {
        out.push(Difference::new(
            subject,
            format!("{} ({})", ep.partlabel, ep.type_code),
            "no such partition",
        ));
        return;
    };
    if fp.partlabel != ep.partlabel {
        out.push(Difference::new(
            format!("{subject} label"),
            &ep.partlabel,
            if fp.partlabel.is_empty() {
                "none"
            } else {
                &fp.partlabel
            },
        ));
    }
    if !fp.type_code.eq_ignore_ascii_case(&ep.type_code) {
        out.push(Difference::new(
            format!("{subject} type"),
            &ep.type_code,
            &fp.type_code,
        ));
    }
    if let (Some(e), Some(f)) = (ep.size_bytes, fp.size_bytes) {
        if e.abs_diff(f) >= MIB {
            out.push(Difference::new(
                format!("{subject} size"),
                format!("{e} bytes"),
                format!("{f} bytes"),
            ));
        }
    }
    let same_role = match (&ep.role, &fp.role) {
        (PartitionRole::Esp { label: a, .. }, PartitionRole::Esp { label: b, .. }) => a == b,
        (PartitionRole::RaidMember { array: a }, PartitionRole::RaidMember { array: b }) => a == b,
        (PartitionRole::Pv { vg: a }, PartitionRole::Pv { vg: b }) => a == b,
        _ => false,
    };
    if !same_role {
        out.push(Difference::new(
            format!("{subject} content"),
            role_text(&ep.role),
            role_text(&fp.role),
        ));
    }
    if let PartitionRole::Esp { mountpoint, .. } = &ep.role {
        let fm = match &fp.role {
            PartitionRole::Esp { mountpoint, .. } => mountpoint.clone(),
            _ => None,
        };
        if let Some(mp) = mountpoint {
            if fm.as_deref() != Some(mp.as_str()) {
                out.push(Difference::new(
                    format!("mount {}", crate::plan::naming::target_path(mp)),
                    format!("{} mounted", fp.device),
                    fm.map(|m| format!("mounted at {m}"))
                        .unwrap_or_else(|| "not mounted".into()),
                ));
            }
        }
    }
}

/// md arrays by name: level, metadata, members.
fn diff_arrays(expected: &Layout, found: &Layout, out: &mut Vec<Difference>) {
    for ea in &expected.arrays {
        let subject = format!("md array {}", ea.name);
        let Some(fa) = found.arrays.iter().find(|a| a.name == ea.name) else {
            out.push(Difference::new(subject, ea.level.name(), "missing"));
            continue;
        };
        if fa.level != ea.level {
            out.push(Difference::new(
                format!("{subject} level"),
                ea.level.name(),
                fa.level.name(),
            ));
        }
        if fa.metadata != ea.metadata {
            out.push(Difference::new(
                format!("{subject} metadata"),
                &ea.metadata,
                &fa.metadata,
            ));
        }
        if set(&fa.members) != set(&ea.members) {
            out.push(Difference::new(
                format!("{subject} members"),
                list(&set(&ea.members)),
                list(&set(&fa.members)),
            ));
        }
    }
    for fa in &found.arrays {
        if !expected.arrays.iter().any(|a| a.name == fa.name) {
            out.push(Difference::new(
                format!("md array {}", fa.name),
                "no such array",
                format!("{} of {}", fa.level.name(), fa.members.join(", ")),
            ));
        }
    }
}

/// VGs by name: PVs, extent size, and each LV.
fn diff_vgs(expected: &Layout, found: &Layout, out: &mut Vec<Difference>) {
    for ev in &expected.vgs {
        let subject = format!("vg {}", ev.name);
        let Some(fv) = found.vgs.iter().find(|v| v.name == ev.name) else {
            out.push(Difference::new(subject, "present", "missing"));
            continue;
        };
        if set(&fv.pvs) != set(&ev.pvs) {
            out.push(Difference::new(
                format!("{subject} PVs"),
                list(&set(&ev.pvs)),
                list(&set(&fv.pvs)),
            ));
        }
        if fv.extent_bytes != ev.extent_bytes {
            out.push(Difference::new(
                format!("{subject} extent size"),
                format!("{} bytes", ev.extent_bytes),
                format!("{} bytes", fv.extent_bytes),
            ));
        }
        for el in &ev.lvs {
            diff_lv(ev, el, fv, out);
        }
        for fl in &fv.lvs {
            if !ev.lvs.iter().any(|l| l.name == fl.name) {
                out.push(Difference::new(
                    format!("vg {} lv {}", ev.name, fl.name),
                    "no such LV",
                    content_text(&fl.content),
                ));
            }
        }
    }
    for fv in &found.vgs {
        if !expected.vgs.iter().any(|v| v.name == fv.name) {
            out.push(Difference::new(
                format!("vg {}", fv.name),
                "no such VG",
                format!("on {}", fv.pvs.join(", ")),
            ));
        }
    }
}

/// One planned LV against its VG read back: size in extents, content, mount and mode.
fn diff_lv(ev: &VolumeGroup, el: &LogicalVolume, fv: &VolumeGroup, out: &mut Vec<Difference>) {
    let subject = format!("vg {} lv {}", ev.name, el.name);
    let Some(fl) = fv.lvs.iter().find(|l| l.name == el.name) else {
        out.push(Difference::new(subject, "present", "missing"));
        return;
    };
    if fl.extents != el.extents {
        out.push(Difference::new(
            format!("{subject} size"),
            format!("{} extents", el.extents),
            format!("{} extents", fl.extents),
        ));
    }
    let same = match (&el.content, &fl.content) {
        (LvContent::Ext4 { label: a, .. }, LvContent::Ext4 { label: b, .. }) => a == b,
        (LvContent::Swap { label: a }, LvContent::Swap { label: b }) => a == b,
        _ => false,
    };
    if !same {
        out.push(Difference::new(
            format!("{subject} content"),
            content_text(&el.content),
            content_text(&fl.content),
        ));
    }
    if let LvContent::Ext4 { mountpoint, .. } = &el.content {
        let fm = match &fl.content {
            LvContent::Ext4 { mountpoint, .. } if !mountpoint.is_empty() => {
                Some(mountpoint.as_str())
            }
            _ => None,
        };
        if fm != Some(mountpoint.as_str()) {
            out.push(Difference::new(
                format!("mount {}", crate::plan::naming::target_path(mountpoint)),
                format!("{} mounted", el.device(&ev.name)),
                fm.map(|m| format!("mounted at {}", crate::plan::naming::target_path(m)))
                    .unwrap_or_else(|| "not mounted".into()),
            ));
        } else if let (
            LvContent::Ext4 {
                mode: Some(want), ..
            },
            LvContent::Ext4 { mode: got, .. },
        ) = (&el.content, &fl.content)
        {
            if *got != Some(*want) {
                out.push(Difference::new(
                    format!(
                        "mount {} mode",
                        crate::plan::naming::target_path(mountpoint)
                    ),
                    format!("mode {want:o}"),
                    got.map(|m| format!("mode {m:o}"))
                        .unwrap_or_else(|| "mode unknown".into()),
                ));
            }
        }
    }
}

fn role_text(r: &PartitionRole) -> String {
    match r {
        PartitionRole::Esp { label, .. } => format!("ESP (vfat {label})"),
        PartitionRole::RaidMember { array } => format!("member of md array {array}"),
        PartitionRole::Pv { vg } if vg.starts_with('?') => {
            format!("unrecognised content ({})", &vg[1..])
        }
        PartitionRole::Pv { vg } if vg.is_empty() => "an LVM PV of no VG".into(),
        PartitionRole::Pv { vg } => format!("LVM PV of VG {vg}"),
    }
}

fn content_text(c: &LvContent) -> String {
    match c {
        LvContent::Ext4 { label, .. } => format!("ext4 labelled {label}"),
        LvContent::Swap { label } if label.starts_with('?') => {
            format!("unrecognised content ({})", &label[1..])
        }
        LvContent::Swap { label } => format!("swap labelled {label}"),
    }
}

fn set(v: &[String]) -> BTreeSet<&str> {
    v.iter().map(String::as_str).collect()
}

fn list(v: &BTreeSet<&str>) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.iter().copied().collect::<Vec<_>>().join(", ")
    }
}
