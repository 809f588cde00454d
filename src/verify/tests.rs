use super::*;
use crate::host::fake::FakeHost;
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
