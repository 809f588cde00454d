use std::time::Duration;

use super::*;
use crate::host::fake::FakeHost;
use crate::plan::{PartitionRole, RaidLevel};
use crate::testkit::{self, capture_machine, script_capture};

fn read(state: &str, plan: &crate::plan::Plan) -> Layout {
    let m = capture_machine(plan, state);
    let host = FakeHost::new(m.root());
    script_capture(&host, state);
    read_back(&host, &plan.layout).unwrap()
}

#[test]
fn the_disko_applied_capture_reads_back_as_its_plan() {
    let plan = testkit::disko_applied_plan();
    let found = read("disko-applied", &plan);
    let diffs = diff(&plan.layout, &found);
    assert!(diffs.is_empty(), "{diffs:#?}");
    // What was read, in the plan's own types.
    assert_eq!(found.disks[0].name, "sda");
    assert_eq!(found.disks[0].partitions[0].partlabel, "disk-ssd-ESP");
    assert_eq!(found.disks[0].partitions[0].type_code, "EF00");
    assert_eq!(found.arrays.len(), 1);
    assert_eq!(found.arrays[0].name, "swap");
    assert_eq!(found.arrays[0].level, RaidLevel::Raid1);
    assert_eq!(
        found.arrays[0].members,
        [
            "/dev/disk/by-partlabel/disk-hdd0-md",
            "/dev/disk/by-partlabel/disk-hdd1-md"
        ]
    );
    assert_eq!(found.vgs[0].name, "main");
    assert_eq!(found.vgs[1].pvs, ["/dev/md/swap"]);
    assert_eq!(found.vgs[0].extents, 895);
    match &found.vgs[1].lvs[1].content {
        LvContent::Ext4 {
            label, mountpoint, ..
        } => assert_eq!(
            (label.as_str(), mountpoint.as_str()),
            ("var_log", "/var/log")
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_mismatching_plan_lists_every_difference() {
    let mut plan = testkit::disko_applied_plan();
    plan.layout.arrays[0].level = RaidLevel::Raid0;
    plan.layout.vgs[0].lvs[1].extents = 400;
    plan.layout.disks[0].partitions[0].size_bytes = Some(crate::units::GIB);
    plan.layout.vgs[1]
        .lvs
        .push(testkit::ext4("var_tmp", "/var/tmp", 10));
    if let PartitionRole::Esp { label, .. } = &mut plan.layout.disks[0].partitions[0].role {
        *label = "ESP".into();
    }
    let found = read("disko-applied", &plan);
    let text: Vec<String> = diff(&plan.layout, &found)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        text,
        [
            "disk sda partition 1 size: expected 1073741824 bytes, found 536870912 bytes",
            "disk sda partition 1 content: expected ESP (vfat ESP), found ESP (vfat EFI)",
            "md array swap level: expected RAID0, found RAID1",
            "vg main lv home size: expected 400 extents, found 383 extents",
            "vg swap lv var_tmp: expected present, found missing",
        ]
    );
}

#[test]
fn a_rebooted_machine_differs_only_in_mounts() {
    let plan = testkit::disko_applied_plan();
    let found = read("disko-rebooted", &plan);
    let diffs = diff(&plan.layout, &found);
    assert!(!diffs.is_empty());
    assert!(diffs.iter().all(Difference::is_mount), "{diffs:#?}");
    let subjects: Vec<&str> = diffs.iter().map(|d| d.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "mount /mnt/boot",
            "mount /mnt",
            "mount /mnt/home",
            "mount /mnt/var/log"
        ]
    );
}

#[test]
fn someone_elses_storage_is_not_our_layout() {
    // existing-rebooted: the same SSD/HDD disks carrying old, unrelated storage.
    let plan = testkit::disko_applied_plan();
    let m = capture_machine(&plan, "existing-rebooted");
    let host = FakeHost::new(m.root());
    script_capture(&host, "existing-rebooted");
    let found = read_back(&host, &plan.layout).unwrap();
    let diffs: Vec<String> = diff(&plan.layout, &found)
        .iter()
        .filter(|d| !d.is_mount())
        .map(ToString::to_string)
        .collect();
    assert!(
        diffs.contains(
            &"disk sda partition 1: expected disk-ssd-ESP (EF00), found no such partition"
                .to_owned()
        ),
        "{diffs:#?}"
    );
    assert!(
        diffs.contains(&"md array swap: expected RAID1, found missing".to_owned()),
        "{diffs:#?}"
    );
    assert!(
        diffs.contains(&"vg main: expected present, found missing".to_owned()),
        "{diffs:#?}"
    );
    assert!(
        diffs
            .iter()
            .any(|d| d
                .starts_with("disk sdc partition 1 label: expected disk-hdd1-md, found oldraid")),
        "{diffs:#?}"
    );
}

#[test]
fn every_query_of_the_reader_is_bounded_and_a_hung_one_is_named() {
    let plan = testkit::disko_applied_plan();
    let m = capture_machine(&plan, "disko-applied");
    let host = FakeHost::new(m.root());
    script_capture(&host, "disko-applied");
    read_back(&host, &plan.layout).unwrap();
    let cmds = host.commands();
    assert!(!cmds.is_empty());
    for c in &cmds {
        let t = c
            .timeout
            .unwrap_or_else(|| panic!("{} has no timeout", c.display()));
        assert!(t <= Duration::from_secs(30), "{}: {t:?}", c.display());
    }
    // A wedged `lvs` (what a login shell's `pre-nixos status` would hang on).
    // The first matching rule answers, so the hung `lvs` goes before the capture.
    let host = FakeHost::new(m.root());
    host.on(&["lvs"], crate::host::fake::Response::TimedOut);
    script_capture(&host, "disko-applied");
    let start = host.now();
    let err = format!("{:#}", read_back(&host, &plan.layout).unwrap_err());
    assert!(err.contains("lvs -a --reportformat json"), "{err}");
    assert!(err.contains("did not finish within 30 s"), "{err}");
    assert_eq!(host.now() - start, Duration::from_secs(30));
}

#[test]
fn the_mode_of_a_mounted_root_and_swap_being_on_are_checked() {
    use std::os::unix::fs::PermissionsExt as _;
    let mut plan = testkit::disko_applied_plan();
    // The capture mounts /mnt/home; ask for /var/tmp's mode on it.
    for lv in plan.layout.vgs.iter_mut().flat_map(|v| &mut v.lvs) {
        if let LvContent::Ext4 {
            mountpoint, mode, ..
        } = &mut lv.content
        {
            if mountpoint == "/home" {
                *mode = Some(0o1777);
            }
        }
    }
    let m = capture_machine(&plan, "disko-applied");
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    script_capture(&host, "disko-applied");
    let home = m.path("/mnt/home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let diffs = check(&host, &plan.layout).unwrap();
    assert_eq!(
        diffs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["mount /mnt/home mode: expected mode 1777, found mode 755"]
    );
    assert!(diffs[0].is_mount());
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(check(&host, &plan.layout).unwrap(), []);

    // Swap off: /proc/swaps without the swap LV's dm-2.
    m.write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    let diffs = check(&host, &plan.layout).unwrap();
    assert_eq!(
        diffs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["swap /dev/disk/by-label/swap: expected on (listed in /proc/swaps), found dm-2 not in /proc/swaps"]
    );
    // Like a mount, it is not part of "already provisioned" (swap is off at boot).
    assert!(diffs[0].is_mount());
}

#[test]
fn a_member_udev_has_not_described_yet_is_probed_directly() {
    // Right after `mdadm --create`, udev may still be rewriting the member's database
    // entry: lsblk then reports no FSTYPE for it. libblkid reads the device itself.
    let plan = testkit::disko_applied_plan();
    let m = capture_machine(&plan, "disko-applied");
    let host = FakeHost::new(m.root());
    let lsblk = testkit::capture("disko-applied", "lsblk-O-b.json")
        .replace("\"linux_raid_member\"", "null");
    assert!(!lsblk.contains("linux_raid_member"));
    host.on(&["lsblk"], crate::host::fake::Response::stdout(lsblk));
    script_capture(&host, "disko-applied");

    // Without libblkid's answer the members read as empty partitions…
    let found = read_back(&host, &plan.layout).unwrap();
    let diffs = diff(&plan.layout, &found);
    assert!(
        diffs.iter().any(|d| d.subject.contains("partition 1")),
        "{diffs:#?}"
    );
    // …with it, the capture is its plan again.
    for member in ["sdb1", "sdc1"] {
        m.write(
            &format!("/run/pre-nixos-fixture/blkid/{member}"),
            "TYPE=linux_raid_member\nLABEL=any:swap\n",
        );
    }
    let found = read_back(&host, &plan.layout).unwrap();
    let diffs = diff(&plan.layout, &found);
    assert!(diffs.is_empty(), "{diffs:#?}");
}
