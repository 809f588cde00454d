//! Resuming an apply that was cut short (power loss, `kill -9`), without a wipe switch.
//!
//! An apply leaves a trace on each planned disk that says "pre-nixos is writing this
//! plan here": the disk GUID of the GPT. The native executor's `sgdisk` sets it to
//! [`Markers::in_progress`] in the same call that writes the partition table, so no
//! partition of ours ever exists without it; after verify has read the whole layout
//! back, it becomes [`Markers::done`], so a finished machine (one that may hold an
//! installed system by now) is never taken for a cut one.
//!
//! Both values are derived from a digest of the plan's layout without the kernel names
//! (`sda`, `/dev/sda1`), which move between boots: stable paths, serials, sizes,
//! partitions, arrays, VGs, LVs, labels. A disk carrying the in-progress marker of
//! *another* plan, or moved into another machine, does not match.
//!
//! The marker alone is not enough: a cut run may have left anything the plan makes,
//! and nothing else may be there. [`check`] (pure, used by the policy) also requires
//! every name detection found on such a disk — partlabels, md array names, device-mapper
//! names, filesystem types and labels, mount points — to be one this plan creates.
//! Resuming is then the wipe switch's teardown of those disks followed by the normal
//! apply: a redo, with no second code path. Only the native executor writes the
//! marker; a disko run that was cut is refused as before.
//!
//! Limits: a cut inside the teardown of a resume, after the table is gone but before
//! the new one is written, leaves a disk without a marker, which is refused as any
//! other (the wipe switch finishes it). A cut after verify and before the done marker
//! leaves a finished layout saying "in progress": the next boot reads it back as this
//! plan's (already provisioned), redoes nothing, and after its own verify writes the done
//! marker on those disks (the policy's `AlreadyProvisioned { unfinished }`).

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::plan::naming::target_path;
use crate::plan::{Layout, LvContent, PartitionRole};

/// First four bytes of an in-progress marker (`pnxi`): lets detection tell "a cut
/// pre-nixos apply, of some plan" from any other disk GUID without knowing the plan, so
/// it reads the names of such disks only.
const TAG_IN_PROGRESS: [u8; 4] = *b"pnxi";
/// First four bytes of a done marker (`pnxd`).
const TAG_DONE: [u8; 4] = *b"pnxd";
/// Bumped when what the digest covers changes: an old marker then matches no plan,
/// which refuses (the safe side).
const DIGEST_VERSION: &str = "pre-nixos resume marker v1";

/// The two disk GUIDs of one plan, as `sgdisk --disk-guid` takes them and libblkid's
/// `PTUUID` reports them (lowercase).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markers {
    pub in_progress: String,
    pub done: String,
}

impl Markers {
    pub fn for_layout(layout: &Layout) -> Self {
        let digest = layout_digest(layout);
        Markers {
            in_progress: guid(TAG_IN_PROGRESS, &digest),
            done: guid(TAG_DONE, &digest),
        }
    }
}

/// The layout's JSON without the kernel names, hashed. JSON (serde_json sorts object
/// keys) rather than a hand-picked field list: a field added to the plan later is
/// covered without anyone remembering to add it here.
fn layout_digest(layout: &Layout) -> [u8; 32] {
    let mut v = serde_json::to_value(layout).unwrap_or_default();
    if let Some(disks) = v.get_mut("disks").and_then(|d| d.as_array_mut()) {
        for d in disks {
            if let Some(o) = d.as_object_mut() {
                // The kernel name at planning time: `sdb` today may be `sdc` next boot.
                o.remove("name");
            }
            if let Some(parts) = d.get_mut("partitions").and_then(|p| p.as_array_mut()) {
                for p in parts.iter_mut().filter_map(|p| p.as_object_mut()) {
                    p.remove("device");
                }
            }
        }
    }
    let mut h = Sha256::new();
    h.update(DIGEST_VERSION.as_bytes());
    h.update([0]);
    h.update(v.to_string().as_bytes());
    h.finalize().into()
}

/// A GUID of the tag and 12 digest bytes, with the RFC 9562 version 8 (custom) and
/// variant bits, so tools that look at them see a well-formed GUID.
fn guid(tag: [u8; 4], digest: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&tag);
    b[4..].copy_from_slice(&digest[..12]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Whether a disk GUID (`PTUUID`) is the in-progress marker of some pre-nixos plan.
/// Detection reads the names on such a disk only.
pub fn is_in_progress_marker(ptuuid: &str) -> bool {
    let tag: String = TAG_IN_PROGRESS.iter().map(|x| format!("{x:02x}")).collect();
    ptuuid.to_ascii_lowercase().starts_with(&tag)
}

/// Names detection reports (`DiskReport::names`), one spelling for both sides.
pub fn partlabel_name(label: &str) -> String {
    format!("partlabel:{label}")
}
/// An md member's array name as its superblock holds it (`any:main`).
pub fn md_name(label: &str) -> String {
    format!("md:{label}")
}
pub fn dm_name(name: &str) -> String {
    format!("dm:{name}")
}
/// A filesystem or swap signature with its label (`fs:ext4:slash`).
pub fn fs_name(kind: &str, label: &str) -> String {
    format!("fs:{kind}:{label}")
}
/// An LVM PV: libblkid does not say which VG it belongs to; the VG shows in the
/// device-mapper names of its LVs when they are active.
pub const LVM_PV: &str = "lvm-pv";
/// A device whose names could not be read: never one of ours.
pub fn unreadable_name(dev: &str) -> String {
    format!("unreadable:{dev}")
}

/// What a disk of this plan may carry after a cut apply, and its markers.
#[derive(Debug, Clone)]
pub struct Expected {
    pub markers: Markers,
    pub names: BTreeSet<String>,
    /// `mounted:<path>` reasons that are this plan's mounts under `/mnt`.
    pub mounts: BTreeSet<String>,
    pub has_swap: bool,
}

impl Expected {
    pub fn for_layout(layout: &Layout) -> Self {
        let mut names = BTreeSet::from([LVM_PV.to_owned()]);
        let mut mounts = BTreeSet::new();
        let mut has_swap = false;
        for d in &layout.disks {
            for p in &d.partitions {
                names.insert(partlabel_name(&p.partlabel));
                if let PartitionRole::Esp {
                    label, mountpoint, ..
                } = &p.role
                {
                    names.insert(fs_name("vfat", label));
                    if let Some(mp) = mountpoint {
                        mounts.insert(format!("mounted:{}", target_path(mp)));
                    }
                }
            }
        }
        for a in &layout.arrays {
            // `--homehost=any` stores the name as `any:<name>`.
            names.insert(md_name(&format!("any:{}", a.name)));
        }
        for vg in &layout.vgs {
            for lv in &vg.lvs {
                names.insert(dm_name(&format!(
                    "{}-{}",
                    vg.name.replace('-', "--"),
                    lv.name.replace('-', "--")
                )));
                match &lv.content {
                    LvContent::Ext4 {
                        label, mountpoint, ..
                    } => {
                        names.insert(fs_name("ext4", label));
                        mounts.insert(format!("mounted:{}", target_path(mountpoint)));
                    }
                    LvContent::Swap { label } => {
                        names.insert(fs_name("swap", label));
                        has_swap = true;
                    }
                }
            }
        }
        Expected {
            markers: Markers::for_layout(layout),
            names,
            mounts,
            has_swap,
        }
    }

    /// Why `reason` (a detection reason) is not something a cut apply of this plan
    /// leaves, or `None` when it is.
    fn foreign_reason(&self, reason: &str) -> Option<String> {
        let ours = reason == "partition-table"
            || reason.starts_with("partition:")
            || reason.starts_with("holder:")
            || (reason == "swap" && self.has_swap)
            || self.mounts.contains(reason);
        (!ours).then(|| reason.to_owned())
    }
}

/// What detection found on one disk, as the resume decision reads it (detection's
/// report lends it: `DiskReport::found`).
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    /// The kernel name, or the stable path, for the log.
    pub who: &'a str,
    pub stable_path: &'a str,
    pub ptuuid: Option<&'a str>,
    pub reasons: &'a [String],
    pub names: &'a [String],
}

/// The resume decision for the disks detection found not clean: `Ok` with their
/// stable paths when every one carries this plan's in-progress marker and nothing but
/// this plan's names; otherwise why not (one line per disk, for the log).
pub fn check(expected: &Expected, dirty: &[Found]) -> Result<Vec<String>, String> {
    if dirty.is_empty() {
        return Err("no disk holds anything".into());
    }
    let mut why = Vec::new();
    for d in dirty {
        let who = d.who;
        match d.ptuuid {
            Some(g) if g.eq_ignore_ascii_case(&expected.markers.in_progress) => {}
            Some(g) if g.eq_ignore_ascii_case(&expected.markers.done) => {
                why.push(format!(
                    "{who}: a finished apply of this plan (done marker)"
                ));
                continue;
            }
            Some(g) if is_in_progress_marker(g) => {
                why.push(format!("{who}: the in-progress marker of another plan"));
                continue;
            }
            _ => {
                why.push(format!("{who}: no in-progress marker of this plan"));
                continue;
            }
        }
        let foreign: Vec<String> = d
            .reasons
            .iter()
            .filter_map(|r| expected.foreign_reason(r))
            .chain(
                d.names
                    .iter()
                    .filter(|n| !expected.names.contains(*n))
                    .cloned(),
            )
            .collect();
        if !foreign.is_empty() {
            why.push(format!(
                "{who}: holds what this plan does not make: {}",
                foreign.join(", ")
            ));
        }
    }
    if why.is_empty() {
        Ok(dirty.iter().map(|d| d.stable_path.to_owned()).collect())
    } else {
        Err(why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn markers_are_well_formed_distinct_and_tagged() {
        let plan = testkit::ssd_and_hdd_pair();
        let m = Markers::for_layout(&plan.layout);
        assert_ne!(m.in_progress, m.done);
        for g in [&m.in_progress, &m.done] {
            assert_eq!(g.len(), 36, "{g}");
            assert_eq!(g.matches('-').count(), 4, "{g}");
            assert_eq!(&g[14..15], "8", "version nibble: {g}");
            assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"), "variant: {g}");
        }
        assert!(is_in_progress_marker(&m.in_progress));
        assert!(is_in_progress_marker(&m.in_progress.to_uppercase()));
        assert!(!is_in_progress_marker(&m.done));
        assert!(!is_in_progress_marker(
            "9c882443-6f2b-497e-8f1a-ef375c4241db"
        ));
    }

    #[test]
    fn the_digest_ignores_kernel_names_and_nothing_else() {
        let plan = testkit::ssd_and_hdd_pair();
        let base = Markers::for_layout(&plan.layout);
        // Letters move between boots: the same disks under other kernel names.
        let mut renamed = plan.layout.clone();
        for d in &mut renamed.disks {
            d.name = format!("x{}", d.name);
            for p in &mut d.partitions {
                p.device = format!("/dev/x{}", p.device.trim_start_matches("/dev/"));
            }
        }
        assert_eq!(Markers::for_layout(&renamed), base);
        // Anything else about the layout makes another plan.
        let mut serial = plan.layout.clone();
        serial.disks[1].serial = Some("OTHER".into());
        let mut size = plan.layout.clone();
        size.disks[0].size_bytes += 1 << 20;
        let mut label = plan.layout.clone();
        label.disks[0].partitions[0].partlabel.push('x');
        let mut lv = plan.layout.clone();
        lv.vgs[0].lvs[0].extents += 1;
        for other in [serial, size, label, lv] {
            assert_ne!(Markers::for_layout(&other), base);
        }
    }

    #[test]
    fn expected_names_cover_every_name_the_plan_makes() {
        let plan = testkit::ssd_and_hdd_pair();
        let e = Expected::for_layout(&plan.layout);
        for d in &plan.layout.disks {
            for p in &d.partitions {
                assert!(e.names.contains(&partlabel_name(&p.partlabel)), "{p:?}");
            }
        }
        for a in &plan.layout.arrays {
            assert!(e.names.contains(&md_name(&format!("any:{}", a.name))));
        }
        assert!(e.names.contains(&fs_name("ext4", "slash")), "{:?}", e.names);
        assert!(e.names.contains(&dm_name("main-slash")), "{:?}", e.names);
        assert!(e.mounts.contains("mounted:/mnt"), "{:?}", e.mounts);
        assert!(!e.names.contains(&fs_name("ext4", "data")));
    }
}
