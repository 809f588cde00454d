//! The reading half of verify: what is on the disks, gathered from the machine
//! ([`read_back`]) and turned into the plan's own [`Layout`] ([`layout_from`], pure).

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;

use crate::host::Host;
use crate::plan::{
    Layout, LogicalVolume, LvContent, Partition, PartitionRole, PlannedDisk, RaidArray, RaidLevel,
    VolumeGroup, EXTENT_BYTES,
};
use crate::storage::blockdev::{self, LsblkNode, LvmState, MdDetail, MountEntry};

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

/// The pure half of [`read_back`]: disks first (they name the arrays and PVs they
/// hold), then those arrays, then the VGs on either.
pub fn layout_from(expected: &Layout, f: &Facts) -> Layout {
    let mut r = Reader {
        f,
        md_seen: BTreeMap::new(),
        pv_paths: BTreeMap::new(),
    };
    let mut out = Layout {
        disks: r.disks(expected),
        ..Layout::default()
    };
    out.arrays = r.arrays();
    out.vgs = r.vgs();
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

/// What [`layout_from`] has learnt so far: arrays seen on member partitions, and each
/// PV's kernel path with the plan's path for it.
struct Reader<'a> {
    f: &'a Facts,
    /// md kernel name → array name.
    md_seen: BTreeMap<String, String>,
    /// `/dev/<kname>` → the plan's path of that PV (by-partlabel, `/dev/md/<name>`).
    pv_paths: BTreeMap<String, String>,
}

impl Reader<'_> {
    fn partlabel_path(&self, kname: &str) -> String {
        find_node(&self.f.lsblk, kname)
            .and_then(|n| n.partlabel.clone())
            .map(|l| format!("/dev/disk/by-partlabel/{l}"))
            .unwrap_or_else(|| format!("/dev/{kname}"))
    }

    fn pv_vg(&self, kname: &str) -> Option<String> {
        self.f
            .lvm
            .pvs
            .iter()
            .find(|p| p.name == format!("/dev/{kname}"))
            .and_then(|p| p.vg.clone())
    }

    fn md_name(&self, kname: &str) -> String {
        self.f
            .md
            .get(kname)
            .and_then(MdDetail::short_name)
            .unwrap_or_else(|| kname.to_owned())
    }

    /// The planned disks found, with their partitions keyed by number.
    fn disks(&mut self, expected: &Layout) -> Vec<PlannedDisk> {
        let mut out = Vec::new();
        for ed in &expected.disks {
            let Some(kname) = self.f.disks.get(&ed.stable_path) else {
                continue;
            };
            let Some(node) = find_node(&self.f.lsblk, kname) else {
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
                        mountpoint: mountpoint_of(c, &self.f.mounts),
                        mount_options: Vec::new(),
                    },
                    Some("linux_raid_member") => {
                        let array = c
                            .children
                            .iter()
                            .find(|m| m.is_md())
                            .map(|m| {
                                self.md_seen.insert(m.kname.clone(), self.md_name(&m.kname));
                                self.md_name(&m.kname)
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
                        self.pv_paths.insert(c.dev(), self.partlabel_path(&c.kname));
                        PartitionRole::Pv {
                            vg: self.pv_vg(&c.kname).unwrap_or_default(),
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
            out.push(PlannedDisk {
                key: ed.key.clone(),
                name: kname.clone(),
                stable_path: ed.stable_path.clone(),
                serial: ed.serial.clone().or_else(|| node.serial.clone()),
                wwn: ed.wwn.clone(),
                model: ed.model.clone(),
                size_bytes: node.size,
                kind: ed.kind,
                partitions,
            });
        }
        out
    }

    /// The md arrays seen on the planned disks' partitions.
    fn arrays(&mut self) -> Vec<RaidArray> {
        let mut out = Vec::new();
        let seen = self.md_seen.clone();
        for (kname, name) in &seen {
            let Some(d) = self.f.md.get(kname) else {
                continue;
            };
            let node = find_node(&self.f.lsblk, kname);
            let device = format!("/dev/md/{name}");
            self.pv_paths.insert(format!("/dev/{kname}"), device);
            out.push(RaidArray {
                name: name.clone(),
                level: d
                    .level_number()
                    .and_then(RaidLevel::from_number)
                    .unwrap_or(RaidLevel::Raid0),
                metadata: d.metadata.clone(),
                members: d
                    .members
                    .iter()
                    .map(|m| self.partlabel_path(m.trim_start_matches("/dev/")))
                    .collect(),
                size_bytes: node.map(|n| n.size).unwrap_or(0),
                vg: self.pv_vg(kname).unwrap_or_default(),
            });
            if d.level_number().and_then(RaidLevel::from_number).is_none() {
                tracing::warn!(array = %name, level = %d.level, "unexpected md level");
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// VGs whose PVs sit on the planned disks or their arrays.
    fn vgs(&self) -> Vec<VolumeGroup> {
        let mut out = Vec::new();
        let mut vg_names: Vec<String> = Vec::new();
        for pv in &self.f.lvm.pvs {
            if let (Some(vg), true) = (&pv.vg, self.pv_paths.contains_key(&pv.name)) {
                if !vg_names.contains(vg) {
                    vg_names.push(vg.clone());
                }
            }
        }
        for name in vg_names {
            let Some(vg) = self.f.lvm.vgs.iter().find(|v| v.name == name) else {
                continue;
            };
            let extent = if vg.extent_size == 0 {
                EXTENT_BYTES
            } else {
                vg.extent_size
            };
            let pvs = self
                .f
                .lvm
                .pvs
                .iter()
                .filter(|p| p.vg.as_deref() == Some(&name))
                .map(|p| {
                    self.pv_paths
                        .get(&p.name)
                        .cloned()
                        .unwrap_or_else(|| p.name.clone())
                })
                .collect();
            let lvs = self
                .f
                .lvm
                .lvs
                .iter()
                .filter(|l| l.vg == name)
                .map(|l| {
                    let dm_name =
                        format!("{}-{}", name.replace('-', "--"), l.name.replace('-', "--"));
                    let node = self
                        .f
                        .lsblk
                        .iter()
                        .flat_map(|n| n.walk())
                        .find(|n| n.kind == "lvm" && n.name == dm_name);
                    let fstype = node.and_then(|n| n.fstype.as_deref());
                    let label = node.and_then(|n| n.label.clone()).unwrap_or_default();
                    let content = match fstype {
                        Some("ext4") => {
                            let mountpoint = node
                                .and_then(|n| mountpoint_of(n, &self.f.mounts))
                                .unwrap_or_default();
                            let mode = (!mountpoint.is_empty())
                                .then(|| {
                                    self.f
                                        .modes
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
            out.push(VolumeGroup {
                name: name.clone(),
                pvs,
                extent_bytes: extent,
                extents: vg.extent_count,
                lvs,
            });
        }
        out
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
