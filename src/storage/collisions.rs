//! Names we are about to create that a device outside the plan already carries.
//!
//! Every disk pre-nixos or disko ever provisioned carries the same partlabels and
//! labels, so a USB stick or a disk from another server plugged in beside the planned
//! disks can own a `/dev/disk/by-partlabel/…` or `/dev/disk/by-label/…` link, and udev
//! decides which device the link points at. The native executor writes through kernel
//! nodes, but waits for the partlabel links of the partitions it made, and disko, the
//! installed system's mounts and an operator all go by these names.
//! Before the first write, every partlabel and filesystem label of the plan is looked
//! up; a link that exists and leads outside the planned disks (a partition of another
//! disk, an array or LV built on one) refuses the apply, naming the device. A link
//! into a planned disk is fine: those disks are clean, or torn down next.

use std::collections::BTreeSet;
use std::path::PathBuf;

use anyhow::anyhow;

use crate::host::Host;
use crate::plan::{LvContent, PartitionRole, Plan};
use crate::storage::blockdev;

/// Every `/dev/disk/by-*` link the plan's layout will be addressed through.
pub fn planned_links(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    for d in &plan.layout.disks {
        for p in &d.partitions {
            out.push(p.by_partlabel());
            if let PartitionRole::Esp { label, .. } = &p.role {
                out.push(format!("/dev/disk/by-label/{label}"));
            }
        }
    }
    for vg in &plan.layout.vgs {
        for lv in &vg.lvs {
            let (LvContent::Ext4 { label, .. } | LvContent::Swap { label }) = &lv.content;
            out.push(format!("/dev/disk/by-label/{label}"));
        }
    }
    out
}

/// Every block device on the planned disks (current kernel names): the disks, their
/// partitions and everything stacked on those (md, dm), found through sysfs.
fn devices_on(host: &dyn Host, disk_knames: &[String]) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<(String, PathBuf)> = Vec::new();
    for k in disk_knames {
        if let Some(sys) = blockdev::sys_dir(host, k) {
            for e in host.read_dir_names(&sys).unwrap_or_default() {
                if e.starts_with(k.as_str()) && host.exists(&sys.join(&e).join("partition")) {
                    queue.push((e.clone(), sys.join(&e)));
                }
            }
            queue.push((k.clone(), sys));
        }
    }
    while let Some((name, dir)) = queue.pop() {
        if !seen.insert(name) {
            continue;
        }
        // An unreadable holders/ only means fewer devices count as ours: a colliding
        // name there is refused, never silently accepted.
        for h in host
            .read_dir_names(&dir.join("holders"))
            .unwrap_or_default()
        {
            if let Some(d) = blockdev::sys_dir(host, &h) {
                queue.push((h, d));
            }
        }
    }
    seen
}

/// Refuses when a link the plan will use already leads outside the planned disks.
/// `disk_knames` are the planned disks' current kernel names (from the identity guard).
pub fn check(host: &dyn Host, plan: &Plan, disk_knames: &[String]) -> anyhow::Result<()> {
    let ours = devices_on(host, disk_knames);
    let mut foreign = Vec::new();
    for link in planned_links(plan) {
        let Some(k) = blockdev::resolve_kname(host, &link)? else {
            continue;
        };
        // A link to a device the kernel no longer has names nothing (udev removes it
        // with the device); only a live device outside the plan is a danger.
        if blockdev::sys_dir(host, &k).is_none() {
            continue;
        }
        if !ours.contains(&k) {
            foreign.push(format!("{link} → /dev/{k}"));
        }
    }
    foreign.dedup();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "a device outside the plan already carries a name this layout uses ({}); writing now \
         could format or mount that device instead. Nothing was touched: unplug it, or \
         remove its label (`wipefs` or `e2label`/`fatlabel`/`sgdisk -c`), then run again",
        foreign.join(", ")
    ))
}

/// The current kernel names of the planned disks, resolved through their stable paths
/// (in a dry run, the plan's name for a disk this machine does not have).
pub fn planned_knames(host: &dyn Host, plan: &Plan) -> anyhow::Result<Vec<String>> {
    plan.layout
        .disks
        .iter()
        .map(|d| {
            crate::storage::env::kname_of(host, d)?
                .ok_or_else(|| anyhow!("{} vanished", d.stable_path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use crate::testkit::{self, Machine};

    #[test]
    fn the_plan_names_every_partlabel_and_label() {
        let plan = testkit::ssd_and_hdd_pair();
        let links = planned_links(&plan);
        assert!(links.contains(&"/dev/disk/by-partlabel/disk-main0-ESP".to_owned()));
        assert!(links.contains(&"/dev/disk/by-label/EFI".to_owned()));
        assert!(links.contains(&"/dev/disk/by-label/slash".to_owned()));
        assert!(links.contains(&"/dev/disk/by-label/swap".to_owned()));
    }

    /// The plan's disks, plus `sdd`: a USB stick with partition `sdd1`.
    fn machine_with_a_stick() -> (Machine, Plan, Vec<String>) {
        let plan = testkit::ssd_and_hdd_pair();
        let m = Machine::for_plan(&plan);
        m.write("/sys/block/sdd/dev", "8:48\n");
        m.write("/sys/block/sdd/sdd1/partition", "1\n");
        m.write("/sys/class/block/sdd1/dev", "8:49\n");
        let knames = planned_knames(&FakeHost::new(m.root()), &plan).unwrap();
        (m, plan, knames)
    }

    #[test]
    fn a_foreign_device_carrying_our_label_is_refused_naming_it() {
        for link in [
            "/dev/disk/by-label/slash",
            "/dev/disk/by-partlabel/disk-main0-ESP",
        ] {
            let (m, plan, knames) = machine_with_a_stick();
            m.symlink(link, "../../sdd1");
            let e = check(&FakeHost::new(m.root()), &plan, &knames).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(&format!("{link} → /dev/sdd1")), "{msg}");
            assert!(msg.contains("Nothing was touched"), "{msg}");
        }
    }

    #[test]
    fn our_own_names_on_planned_disks_and_stale_links_pass() {
        let (m, plan, knames) = machine_with_a_stick();
        // An old ESP on a planned disk's partition (torn down next), an LV of an old
        // VG on that partition, and a link left to a device that is gone.
        m.write("/sys/block/sda/sda1/partition", "1\n");
        m.write("/sys/block/sda/sda1/holders/dm-0", "");
        m.write("/sys/class/block/dm-0/dev", "254:0\n");
        m.symlink("/dev/disk/by-label/EFI", "../../sda1");
        m.symlink("/dev/disk/by-label/slash", "../../dm-0");
        m.symlink("/dev/disk/by-label/home", "../../sdz9");
        check(&FakeHost::new(m.root()), &plan, &knames).unwrap();
        // The same LV on the stick's partition is foreign.
        m.remove("/sys/block/sda/sda1/holders/dm-0");
        m.write("/sys/block/sdd/sdd1/holders/dm-0", "");
        let e = check(&FakeHost::new(m.root()), &plan, &knames).unwrap_err();
        assert!(
            format!("{e:#}").contains("by-label/slash → /dev/dm-0"),
            "{e:#}"
        );
    }
}
