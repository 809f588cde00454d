//! Verify: read the disks back into the plan's own types and diff (SPEC §3.5).
//!
//! [`read_back`] gathers what is there (lsblk JSON, `mdadm --detail --export`, LVM
//! JSON reports, labels as udev's blkid saw them, `/proc/self/mountinfo`) and
//! [`layout_from`] — the pure half — turns it into a [`Layout`] seen from the
//! expected one (disks are found by stable path, partitions keyed by number). [`diff`]
//! compares what matters: partitions, their types, labels and roles; arrays, levels
//! and members; VGs, PVs and LVs with their extents; filesystems and labels; mounts
//! under `/mnt`, the mode of a mounted root the plan sets (`/mnt/var/tmp` 1777), and
//! — through [`check`], which reads `/proc/swaps` too — whether swap is on. Sizes
//! that md and LVM round (array and VG sizes) are not compared; fixed partition sizes
//! are, to the MiB. The same reader decides `already-provisioned` (a diff without the
//! mount and swap lines: nothing is mounted or on at boot) and feeds `status`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::Context;

use crate::host::Host;
use crate::plan::{
    Layout, LogicalVolume, LvContent, Partition, PartitionRole, PlannedDisk, RaidArray, RaidLevel,
    VolumeGroup, EXTENT_BYTES,
};
use crate::storage::blockdev::{self, LsblkNode, LvmState, MdDetail, MountEntry};
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
    fn new(
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

/// Everything read from the machine, for [`layout_from`].
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Stable path → kernel name, for the expected disks that are present.
    pub disks: BTreeMap<String, String>,
    pub lsblk: Vec<LsblkNode>,
    pub lvm: LvmState,
    /// md kernel name (`md127`) → its detail.
    pub md: BTreeMap<String, MdDetail>,
    pub mounts: Vec<MountEntry>,
    /// Target path (`/mnt/var/tmp`) → permission bits of the mounted root, for the
    /// mount points whose mode the plan sets.
    pub modes: BTreeMap<String, u32>,
}

/// Reads the disks of `expected` back into a [`Layout`] (lsblk JSON, mdadm, LVM JSON
/// reports, blkid labels, mountinfo).
pub fn read_back(host: &dyn Host, expected: &Layout) -> anyhow::Result<Layout> {
    let mut facts = Facts::default();
    for d in &expected.disks {
        if let Some(k) = blockdev::resolve_kname(host, &d.stable_path)
            .with_context(|| format!("resolving {}", d.stable_path))?
        {
            facts.disks.insert(d.stable_path.clone(), k);
        }
    }
    facts.lsblk = blockdev::read_lsblk(host)?;
    fill_missing_fstypes(host, &mut facts.lsblk, &facts.disks);
    let mut md_names = BTreeSet::new();
    for n in &facts.lsblk {
        if facts.disks.values().any(|k| k == &n.kname) {
            for x in n.walk() {
                if x.is_md() {
                    md_names.insert(x.kname.clone());
                }
            }
        }
    }
    for md in md_names {
        let d = blockdev::read_md_detail(host, &format!("/dev/{md}"))?;
        facts.md.insert(md, d);
    }
    facts.lvm = match blockdev::read_lvm(host)? {
        Some(l) => l,
        None if expected.vgs.is_empty() => LvmState::default(),
        None => anyhow::bail!("reading LVM back: the LVM tools (pvs, vgs, lvs) are not installed"),
    };
    facts.mounts = blockdev::read_mountinfo(host)?;
    for lv in expected.vgs.iter().flat_map(|v| &v.lvs) {
        if let LvContent::Ext4 {
            mountpoint,
            mode: Some(_),
            ..
        } = &lv.content
        {
            let target = crate::plan::naming::target_path(mountpoint);
            if facts.mounts.iter().any(|m| m.mount_point == target) {
                // Unreadable: left out, so the diff says "mode unknown".
                if let Ok(mode) = host.mode(std::path::Path::new(&target)) {
                    facts.modes.insert(target, mode);
                }
            }
        }
    }
    Ok(layout_from(expected, &facts))
}

/// Everything verify compares: [`read_back`] and [`diff`], then whether each swap LV
/// is on (`/proc/swaps`). Swap is switched on by the mount step, so on a machine
/// that has just booted "swap off" is a difference like "not mounted".
pub fn check(host: &dyn Host, expected: &Layout) -> anyhow::Result<Vec<Difference>> {
    let found = read_back(host, expected)?;
    let mut out = diff(expected, &found);
    out.extend(swap_differences(host, expected)?);
    Ok(out)
}

/// A `swap /dev/disk/by-label/<label>` difference for each swap LV of `expected`
/// that is not in `/proc/swaps` (compared by kernel name, as `swapon` lists `dm-N`).
pub fn swap_differences(host: &dyn Host, expected: &Layout) -> anyhow::Result<Vec<Difference>> {
    let active = blockdev::read_swaps(host)?;
    let active: BTreeSet<&str> = active
        .iter()
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .collect();
    let mut out = Vec::new();
    for lv in expected.vgs.iter().flat_map(|v| &v.lvs) {
        let LvContent::Swap { label } = &lv.content else {
            continue;
        };
        let node = format!("/dev/disk/by-label/{label}");
        let kname = blockdev::resolve_kname(host, &node).ok().flatten();
        if !kname.as_deref().is_some_and(|k| active.contains(k)) {
            out.push(Difference::new(
                format!("swap {node}"),
                "on (listed in /proc/swaps)",
                match kname {
                    Some(k) => format!("{k} not in /proc/swaps"),
                    None => format!("no {node}"),
                },
            ));
        }
    }
    Ok(out)
}

fn find_node<'a>(nodes: &'a [LsblkNode], kname: &str) -> Option<&'a LsblkNode> {
    nodes
        .iter()
        .flat_map(|n| n.walk())
        .find(|n| n.kname == kname)
}

fn mountpoint_of(node: &LsblkNode, mounts: &[MountEntry]) -> Option<String> {
    mounts
        .iter()
        .filter(|m| m.maj_min() == node.maj_min)
        .map(|m| m.mount_point.as_str())
        .find(|mp| *mp == crate::plan::naming::TARGET || mp.starts_with("/mnt/"))
        .map(|mp| {
            let rest = &mp[crate::plan::naming::TARGET.len()..];
            if rest.is_empty() {
                "/".to_owned()
            } else {
                rest.to_owned()
            }
        })
}

fn part_number(disk: &str, part: &str) -> u32 {
    part.strip_prefix(disk)
        .map(|r| r.trim_start_matches('p'))
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Marks content the plan never makes (`?ext4`), so the diff can say what it is.
fn unknown(fstype: Option<&str>) -> String {
    format!("?{}", fstype.unwrap_or("nothing"))
}

/// The pure half of [`read_back`].
pub fn layout_from(expected: &Layout, f: &Facts) -> Layout {
    let partlabel_path = |kname: &str| -> String {
        find_node(&f.lsblk, kname)
            .and_then(|n| n.partlabel.clone())
            .map(|l| format!("/dev/disk/by-partlabel/{l}"))
            .unwrap_or_else(|| format!("/dev/{kname}"))
    };
    let pv_vg = |kname: &str| -> Option<String> {
        f.lvm
            .pvs
            .iter()
            .find(|p| p.name == format!("/dev/{kname}"))
            .and_then(|p| p.vg.clone())
    };
    let md_name = |kname: &str| -> String {
        f.md.get(kname)
            .and_then(MdDetail::short_name)
            .unwrap_or_else(|| kname.to_owned())
    };

    let mut out = Layout::default();
    let mut md_seen: BTreeMap<String, String> = BTreeMap::new(); // kname → name
    let mut pv_paths: BTreeMap<String, String> = BTreeMap::new(); // /dev/kname → plan path

    for ed in &expected.disks {
        let Some(kname) = f.disks.get(&ed.stable_path) else {
            continue;
        };
        let Some(node) = find_node(&f.lsblk, kname) else {
            continue;
        };
        let mut partitions = Vec::new();
        for c in node.children.iter().filter(|c| c.kind == "part") {
            let number = part_number(&node.kname, &c.kname);
            let partlabel = c.partlabel.clone().unwrap_or_default();
            let key = partlabel
                .strip_prefix(&format!("disk-{}-", ed.key))
                .unwrap_or(&partlabel)
                .to_owned();
            let role = match c.fstype.as_deref() {
                Some("vfat") => PartitionRole::Esp {
                    label: c.label.clone().unwrap_or_default(),
                    mountpoint: mountpoint_of(c, &f.mounts),
                    mount_options: Vec::new(),
                },
                Some("linux_raid_member") => {
                    let array = c
                        .children
                        .iter()
                        .find(|m| m.is_md())
                        .map(|m| {
                            md_seen.insert(m.kname.clone(), md_name(&m.kname));
                            md_name(&m.kname)
                        })
                        .or_else(|| {
                            c.label
                                .as_deref()
                                .map(|l| l.rsplit(':').next().unwrap_or(l).to_owned())
                        })
                        .unwrap_or_default();
                    PartitionRole::RaidMember { array }
                }
                Some("LVM2_member") => {
                    pv_paths.insert(c.dev(), partlabel_path(&c.kname));
                    PartitionRole::Pv {
                        vg: pv_vg(&c.kname).unwrap_or_default(),
                    }
                }
                other => PartitionRole::Pv { vg: unknown(other) },
            };
            partitions.push(Partition {
                number,
                key,
                partlabel,
                device: c.dev(),
                size_bytes: Some(c.size),
                type_code: c
                    .parttype
                    .as_deref()
                    .map(blockdev::type_code)
                    .unwrap_or_default(),
                role,
            });
        }
        partitions.sort_by_key(|p| p.number);
        out.disks.push(PlannedDisk {
            key: ed.key.clone(),
            name: kname.clone(),
            stable_path: ed.stable_path.clone(),
            serial: ed.serial.clone().or_else(|| node.serial.clone()),
            size_bytes: node.size,
            kind: ed.kind,
            partitions,
        });
    }

    for (kname, name) in &md_seen {
        let Some(d) = f.md.get(kname) else { continue };
        let node = find_node(&f.lsblk, kname);
        let device = format!("/dev/md/{name}");
        pv_paths.insert(format!("/dev/{kname}"), device);
        out.arrays.push(RaidArray {
            name: name.clone(),
            level: d
                .level_number()
                .and_then(RaidLevel::from_number)
                .unwrap_or(RaidLevel::Raid0),
            metadata: d.metadata.clone(),
            members: d
                .members
                .iter()
                .map(|m| partlabel_path(m.trim_start_matches("/dev/")))
                .collect(),
            size_bytes: node.map(|n| n.size).unwrap_or(0),
            vg: pv_vg(kname).unwrap_or_default(),
        });
        if d.level_number().and_then(RaidLevel::from_number).is_none() {
            tracing::warn!(array = %name, level = %d.level, "unexpected md level");
        }
    }
    out.arrays.sort_by(|a, b| a.name.cmp(&b.name));

    // VGs whose PVs sit on the planned disks.
    let mut vg_names: Vec<String> = Vec::new();
    for pv in &f.lvm.pvs {
        if let (Some(vg), true) = (&pv.vg, pv_paths.contains_key(&pv.name)) {
            if !vg_names.contains(vg) {
                vg_names.push(vg.clone());
            }
        }
    }
    for name in vg_names {
        let Some(vg) = f.lvm.vgs.iter().find(|v| v.name == name) else {
            continue;
        };
        let extent = if vg.extent_size == 0 {
            EXTENT_BYTES
        } else {
            vg.extent_size
        };
        let pvs = f
            .lvm
            .pvs
            .iter()
            .filter(|p| p.vg.as_deref() == Some(&name))
            .map(|p| {
                pv_paths
                    .get(&p.name)
                    .cloned()
                    .unwrap_or_else(|| p.name.clone())
            })
            .collect();
        let lvs = f
            .lvm
            .lvs
            .iter()
            .filter(|l| l.vg == name)
            .map(|l| {
                let dm_name = format!("{}-{}", name.replace('-', "--"), l.name.replace('-', "--"));
                let node = f
                    .lsblk
                    .iter()
                    .flat_map(|n| n.walk())
                    .find(|n| n.kind == "lvm" && n.name == dm_name);
                let fstype = node.and_then(|n| n.fstype.as_deref());
                let label = node.and_then(|n| n.label.clone()).unwrap_or_default();
                let content = match fstype {
                    Some("ext4") => {
                        let mountpoint = node
                            .and_then(|n| mountpoint_of(n, &f.mounts))
                            .unwrap_or_default();
                        let mode = (!mountpoint.is_empty())
                            .then(|| {
                                f.modes
                                    .get(&crate::plan::naming::target_path(&mountpoint))
                                    .copied()
                            })
                            .flatten();
                        LvContent::Ext4 {
                            label,
                            mountpoint,
                            mount_options: Vec::new(),
                            bytes_per_inode: None,
                            mode,
                        }
                    }
                    Some("swap") => LvContent::Swap { label },
                    other => LvContent::Swap {
                        label: unknown(other),
                    },
                };
                LogicalVolume {
                    name: l.name.clone(),
                    extents: l.size / extent,
                    size_bytes: l.size,
                    content,
                }
            })
            .collect();
        out.vgs.push(VolumeGroup {
            name: name.clone(),
            pvs,
            extent_bytes: extent,
            extents: vg.extent_count,
            lvs,
        });
    }
    // The plan's VG order (main, swap, large, …); anything unexpected after it.
    out.vgs.sort_by_key(|v| {
        (
            expected
                .vgs
                .iter()
                .position(|e| e.name == v.name)
                .unwrap_or(usize::MAX),
            v.name.clone(),
        )
    });
    out
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

/// lsblk takes `FSTYPE`/`LABEL` from udev's database, and udev rewrites a device's
/// entry while it processes the change event that a new md superblock or filesystem
/// causes: read right after a step, a member can show no type at all. A node of a
/// planned disk without a type is therefore probed directly with libblkid, which
/// reads the device itself.
fn fill_missing_fstypes(
    host: &dyn Host,
    nodes: &mut [LsblkNode],
    disks: &BTreeMap<String, String>,
) {
    fn fill(host: &dyn Host, n: &mut LsblkNode) {
        if n.fstype.is_none() && n.kind != "disk" {
            match host.blkid_probe(std::path::Path::new(&n.dev())) {
                Ok(p) => {
                    n.fstype = p.signatures.first().cloned();
                    if n.label.is_none() {
                        n.label = p.values.get("LABEL").cloned();
                    }
                }
                Err(e) => {
                    tracing::debug!(device = %n.dev(), error = %e, "probing a node lsblk gave no type");
                }
            }
        }
        for c in &mut n.children {
            fill(host, c);
        }
    }
    for n in nodes.iter_mut() {
        if disks.values().any(|k| k == &n.kname) {
            fill(host, n);
        }
    }
}

/// Every difference between the plan and what was read back; empty means success.
pub fn diff(expected: &Layout, found: &Layout) -> Vec<Difference> {
    let mut out = Vec::new();
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
            let subject = format!("{who} partition {}", ep.number);
            let Some(fp) = fd.partitions.iter().find(|p| p.number == ep.number) else {
                out.push(Difference::new(
                    subject,
                    format!("{} ({})", ep.partlabel, ep.type_code),
                    "no such partition",
                ));
                continue;
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
                (PartitionRole::Esp { label: a, .. }, PartitionRole::Esp { label: b, .. }) => {
                    a == b
                }
                (
                    PartitionRole::RaidMember { array: a },
                    PartitionRole::RaidMember { array: b },
                ) => a == b,
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
            let subject = format!("vg {} lv {}", ev.name, el.name);
            let Some(fl) = fv.lvs.iter().find(|l| l.name == el.name) else {
                out.push(Difference::new(subject, "present", "missing"));
                continue;
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
    out
}

#[cfg(test)]
mod tests;
