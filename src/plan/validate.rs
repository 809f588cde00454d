//! Is a plan one the planner could have made? For plans read from a file
//! (`apply --plan FILE`): the schema says which fields exist, this says whether their
//! values hang together. Every name here ends up in argv (`mkfs -L`, `vgcreate`), in
//! `/dev` paths and in the generated Nix files, so each is held to the characters the
//! planner itself uses; a duplicate disk, mount point or label would make two writes
//! land on one device or one mount hide another.

use std::collections::BTreeMap;

use super::naming::{EXT4_LABEL_MAX, VFAT_LABEL_MAX};
use super::{LvContent, PartitionRole, Plan};

/// Every problem found, each naming the field and the value; empty when the plan is
/// consistent.
pub fn problems(plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let l = &plan.layout;
    if l.disks.is_empty() {
        out.push("layout.disks is empty: a plan names at least one disk".to_owned());
    }
    let mut seen = Seen::default();
    for (i, d) in l.disks.iter().enumerate() {
        let at = format!("layout.disks[{i}]");
        name_ok(&mut out, &format!("{at}.key"), &d.key, NAME);
        if !d.stable_path.starts_with("/dev/disk/by-") && !d.stable_path.starts_with("/dev/") {
            out.push(format!(
                "{at}.stable_path {:?}: not a device path under /dev",
                d.stable_path
            ));
        }
        name_ok(&mut out, &format!("{at}.stable_path"), &d.stable_path, PATH);
        name_ok(&mut out, &format!("{at}.name"), &d.name, NAME);
        seen.add(&mut out, "disk key", &d.key, &at);
        seen.add(&mut out, "stable_path", &d.stable_path, &at);
        seen.add(&mut out, "kernel name", &d.name, &at);
        if let Some(s) = &d.serial {
            seen.add(&mut out, "serial", s, &at);
        }
        for (j, p) in d.partitions.iter().enumerate() {
            let at = format!("{at}.partitions[{j}]");
            name_ok(&mut out, &format!("{at}.partlabel"), &p.partlabel, NAME);
            seen.add(&mut out, "partlabel", &p.partlabel, &at);
            if let PartitionRole::Esp {
                label, mountpoint, ..
            } = &p.role
            {
                label_ok(&mut out, &format!("{at}.role.label"), label, VFAT_LABEL_MAX);
                seen.add(&mut out, "label", label, &at);
                if let Some(m) = mountpoint {
                    mount_ok(&mut out, &mut seen, &format!("{at}.role.mountpoint"), m);
                }
            }
        }
    }
    for (i, a) in l.arrays.iter().enumerate() {
        let at = format!("layout.arrays[{i}]");
        name_ok(&mut out, &format!("{at}.name"), &a.name, NAME);
        seen.add(&mut out, "array name", &a.name, &at);
        if a.members.is_empty() {
            out.push(format!("{at}.members is empty"));
        }
    }
    for (i, vg) in l.vgs.iter().enumerate() {
        let at = format!("layout.vgs[{i}]");
        name_ok(&mut out, &format!("{at}.name"), &vg.name, NAME);
        seen.add(&mut out, "VG name", &vg.name, &at);
        for (j, lv) in vg.lvs.iter().enumerate() {
            let at = format!("{at}.lvs[{j}]");
            name_ok(&mut out, &format!("{at}.name"), &lv.name, NAME);
            match &lv.content {
                LvContent::Ext4 {
                    label, mountpoint, ..
                } => {
                    label_ok(
                        &mut out,
                        &format!("{at}.content.label"),
                        label,
                        EXT4_LABEL_MAX,
                    );
                    seen.add(&mut out, "label", label, &at);
                    mount_ok(
                        &mut out,
                        &mut seen,
                        &format!("{at}.content.mountpoint"),
                        mountpoint,
                    );
                }
                LvContent::Swap { label } => {
                    label_ok(
                        &mut out,
                        &format!("{at}.content.label"),
                        label,
                        EXT4_LABEL_MAX,
                    );
                    seen.add(&mut out, "label", label, &at);
                }
            }
        }
    }
    out
}

/// Keys, kernel names, partlabels, array, VG and LV names: what the planner makes.
const NAME: fn(char) -> bool = |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
/// Device paths (`/dev/disk/by-id/nvme-SAMSUNG_…`, udev's own escapes included).
const PATH: fn(char) -> bool =
    |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '\\' | '+' | '@');

fn name_ok(out: &mut Vec<String>, field: &str, v: &str, allowed: fn(char) -> bool) {
    if v.is_empty() {
        out.push(format!("{field} is empty"));
    } else if v.starts_with('-') || !v.chars().all(allowed) {
        out.push(format!(
            "{field} {v:?} has characters the planner never writes (or starts with '-')"
        ));
    }
}

fn label_ok(out: &mut Vec<String>, field: &str, v: &str, max: usize) {
    name_ok(out, field, v, NAME);
    if v.len() > max {
        out.push(format!("{field} {v:?} is longer than {max} characters"));
    }
}

fn mount_ok(out: &mut Vec<String>, seen: &mut Seen, field: &str, m: &str) {
    let ok = m.starts_with('/')
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !m.split('/').any(|part| part == ".." || part == ".")
        && (m == "/" || !m.ends_with('/'))
        && !m.contains("//");
    if !ok {
        out.push(format!(
            "{field} {m:?} is not a plain absolute path (letters, digits, _ - . /; no `..`)"
        ));
    }
    seen.add(out, "mount point", m, field);
}

/// Values that must be unique, with where each was first seen.
#[derive(Default)]
struct Seen(BTreeMap<(String, String), String>);

impl Seen {
    fn add(&mut self, out: &mut Vec<String>, what: &str, v: &str, at: &str) {
        let key = (what.to_owned(), v.to_owned());
        match self.0.get(&key) {
            Some(first) => out.push(format!("{what} {v:?} appears twice: {first} and {at}")),
            None => {
                self.0.insert(key, at.to_owned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit;

    #[test]
    fn every_plan_the_planner_makes_is_consistent() {
        for plan in [
            testkit::single_nvme(),
            testkit::ssd_pair_raid0(),
            testkit::ssd_and_hdd_pair(),
            testkit::ssd_and_four_hdd_raid5(),
            testkit::disko_applied_plan(),
        ] {
            assert_eq!(problems(&plan), Vec::<String>::new());
        }
    }

    #[test]
    fn duplicates_and_hostile_strings_are_named() {
        let mut plan = testkit::ssd_and_hdd_pair();
        plan.layout.disks[1].stable_path = plan.layout.disks[0].stable_path.clone();
        plan.layout.disks[2].serial = plan.layout.disks[0].serial.clone();
        if let LvContent::Ext4 {
            label, mountpoint, ..
        } = &mut plan.layout.vgs[0].lvs[0].content
        {
            *label = "x\";rm".into();
            *mountpoint = "/../etc".into();
        }
        let p = problems(&plan).join("\n");
        assert!(p.contains("stable_path \"/dev/disk/by-id/"), "{p}");
        assert!(
            p.contains("appears twice: layout.disks[0] and layout.disks[1]"),
            "{p}"
        );
        assert!(p.contains("serial"), "{p}");
        assert!(p.contains("content.label \"x\\\";rm\""), "{p}");
        assert!(p.contains("content.mountpoint \"/../etc\""), "{p}");
    }

    #[test]
    fn two_filesystems_on_one_mount_point_are_refused() {
        let mut plan = testkit::ssd_and_hdd_pair();
        let first = match &plan.layout.vgs[0].lvs[0].content {
            LvContent::Ext4 { mountpoint, .. } => mountpoint.clone(),
            LvContent::Swap { .. } => unreachable!("the first LV of main is /"),
        };
        for lv in &mut plan.layout.vgs[0].lvs {
            if let LvContent::Ext4 { mountpoint, .. } = &mut lv.content {
                mountpoint.clone_from(&first);
            }
        }
        let p = problems(&plan).join("\n");
        assert!(
            p.contains(&format!("mount point {first:?} appears twice")),
            "{p}"
        );
    }
}
