use super::*;
use crate::host::fake::{FakeHost, Response};
use crate::host::{Cmd, Host};
use crate::plan::PartitionRole;
use crate::storage::env::NODE_DEADLINE;
use crate::testkit::{self, Machine};

fn commands_for(plan: &Plan) -> Vec<String> {
    let m = Machine::for_plan(plan);
    m.add_expected_nodes(plan);
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    Native.apply(&env, plan).unwrap();
    lines(&host, plan)
}

/// The commands run in turn, markers and all.
fn commands_raw(plan: &Plan) -> Vec<String> {
    let m = Machine::for_plan(plan);
    m.add_expected_nodes(plan);
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    Native.apply(&env, plan).unwrap();
    host.command_lines()
}

/// The commands run, with this plan's markers (a digest, [`Markers`]) spelled
/// `<in-progress>` and `<done>`: the exact value is checked once, in
/// `the_markers_are_the_plans_and_only_partitioning_and_finish_write_them`.
fn lines(host: &FakeHost, plan: &Plan) -> Vec<String> {
    lines_of(host.command_lines(), plan)
}

fn lines_of(commands: Vec<String>, plan: &Plan) -> Vec<String> {
    let m = crate::storage::resume::Markers::for_layout(&plan.layout);
    commands
        .into_iter()
        .map(|l| {
            l.replace(&m.in_progress, "<in-progress>")
                .replace(&m.done, "<done>")
        })
        .collect()
}

#[test]
fn exact_commands_single_nvme() {
    let expected = [
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main0-ESP --new=2:0:0 --typecode=2:8E00 --change-name=2:disk-main0-pv /dev/disk/by-id/nvme-Vendor_NVMe_NV001",
        "wipefs -a /dev/nvme0n1p1 /dev/nvme0n1p2",
        "pvcreate --yes /dev/nvme0n1p2",
        "vgcreate -s 4M main /dev/nvme0n1p2",
        "lvcreate -l 12800 -n slash main --yes",
        "lvcreate -l 4096 -n home main --yes",
        "lvcreate -l 4096 -n swap main --yes",
        "mkfs.vfat -F 32 -n EFI /dev/nvme0n1p1",
        "mkfs.ext4 -F -L slash /dev/main/slash",
        "mkfs.ext4 -F -L home /dev/main/home",
        "mkswap -L swap /dev/main/swap",
        "mkdir -p /mnt",
        "mount -t ext4 -o relatime /dev/main/slash /mnt",
        "mkdir -p /mnt/boot",
        "mount -t vfat -o umask=0077 /dev/nvme0n1p1 /mnt/boot",
        "mkdir -p /mnt/home",
        "mount -t ext4 -o relatime /dev/main/home /mnt/home",
        "swapon /dev/main/swap",
    ];
    pretty_assertions::assert_eq!(commands_for(&testkit::single_nvme()), expected);
}

#[test]
fn exact_commands_ssd_pair_raid0() {
    let expected = [
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main0-ESP --new=2:0:0 --typecode=2:FD00 --change-name=2:disk-main0-md /dev/disk/by-id/ata-Vendor_Disk_SSDA",
        "wipefs -a /dev/sda1 /dev/sda2",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main1-ESP --new=2:0:0 --typecode=2:FD00 --change-name=2:disk-main1-md /dev/disk/by-id/ata-Vendor_Disk_SSDB",
        "wipefs -a /dev/sdb1 /dev/sdb2",
        "mdadm --create /dev/md/main --run --metadata=1.2 --level=0 --raid-devices=2 --homehost=any /dev/sda2 /dev/sdb2",
        "pvcreate --yes /dev/md/main",
        "vgcreate -s 4M main /dev/md/main",
        "lvcreate -l 12800 -n slash main --yes",
        "lvcreate -l 4096 -n home main --yes",
        "lvcreate -l 4096 -n swap main --yes",
        "mkfs.vfat -F 32 -n EFI /dev/sda1",
        "mkfs.vfat -F 32 -n EFI2 /dev/sdb1",
        "mkfs.ext4 -F -L slash /dev/main/slash",
        "mkfs.ext4 -F -L home /dev/main/home",
        "mkswap -L swap /dev/main/swap",
        "mkdir -p /mnt",
        "mount -t ext4 -o relatime /dev/main/slash /mnt",
        "mkdir -p /mnt/boot",
        "mount -t vfat -o umask=0077 /dev/sda1 /mnt/boot",
        "mkdir -p /mnt/home",
        "mount -t ext4 -o relatime /dev/main/home /mnt/home",
        "swapon /dev/main/swap",
    ];
    pretty_assertions::assert_eq!(commands_for(&testkit::ssd_pair_raid0()), expected);
}

#[test]
fn exact_commands_ssd_and_hdd_pair() {
    let expected = [
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main0-ESP --new=2:0:0 --typecode=2:8E00 --change-name=2:disk-main0-pv /dev/disk/by-id/ata-Vendor_Disk_SSDA",
        "wipefs -a /dev/sda1 /dev/sda2",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-swap0-md /dev/disk/by-id/ata-Vendor_Disk_HDDA",
        "wipefs -a /dev/sdb1",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-swap1-md /dev/disk/by-id/ata-Vendor_Disk_HDDB",
        "wipefs -a /dev/sdc1",
        "mdadm --create /dev/md/swap --run --metadata=1.2 --level=1 --raid-devices=2 --homehost=any --bitmap=internal /dev/sdb1 /dev/sdc1",
        "pvcreate --yes /dev/sda2",
        "vgcreate -s 4M main /dev/sda2",
        "pvcreate --yes /dev/md/swap",
        "vgcreate -s 4M swap /dev/md/swap",
        "lvcreate -l 12800 -n slash main --yes",
        "lvcreate -l 4096 -n home main --yes",
        "lvcreate -l 4096 -n swap swap --yes",
        "lvcreate -l 4096 -n var_tmp swap --yes",
        "lvcreate -l 1024 -n var_log swap --yes",
        "mkfs.vfat -F 32 -n EFI /dev/sda1",
        "mkfs.ext4 -F -L slash /dev/main/slash",
        "mkfs.ext4 -F -L home /dev/main/home",
        "mkswap -L swap /dev/swap/swap",
        "mkfs.ext4 -F -L var_tmp /dev/swap/var_tmp",
        "mkfs.ext4 -F -L var_log /dev/swap/var_log",
        "mkdir -p /mnt",
        "mount -t ext4 -o relatime /dev/main/slash /mnt",
        "mkdir -p /mnt/boot",
        "mount -t vfat -o umask=0077 /dev/sda1 /mnt/boot",
        "mkdir -p /mnt/home",
        "mount -t ext4 -o relatime /dev/main/home /mnt/home",
        "mkdir -p /mnt/var/log",
        "mount -t ext4 -o relatime /dev/swap/var_log /mnt/var/log",
        "mkdir -p /mnt/var/tmp",
        "mount -t ext4 -o relatime /dev/swap/var_tmp /mnt/var/tmp",
        "chmod 1777 /mnt/var/tmp",
        "swapon /dev/swap/swap",
    ];
    pretty_assertions::assert_eq!(commands_for(&testkit::ssd_and_hdd_pair()), expected);
}

#[test]
fn exact_commands_ssd_and_four_hdd_raid5() {
    let expected = [
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main0-ESP --new=2:0:0 --typecode=2:8E00 --change-name=2:disk-main0-pv /dev/disk/by-id/ata-Vendor_Disk_SSDA",
        "wipefs -a /dev/sda1 /dev/sda2",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-large0-md /dev/disk/by-id/ata-Vendor_Disk_HDD0",
        "wipefs -a /dev/sdb1",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-large1-md /dev/disk/by-id/ata-Vendor_Disk_HDD1",
        "wipefs -a /dev/sdc1",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-large2-md /dev/disk/by-id/ata-Vendor_Disk_HDD2",
        "wipefs -a /dev/sdd1",
        "sgdisk --clear --disk-guid=<in-progress> --new=1:0:0 --typecode=1:FD00 --change-name=1:disk-large3-md /dev/disk/by-id/ata-Vendor_Disk_HDD3",
        "wipefs -a /dev/sde1",
        "mdadm --create /dev/md/large --run --metadata=1.2 --level=5 --raid-devices=4 --homehost=any --bitmap=internal /dev/sdb1 /dev/sdc1 /dev/sdd1 /dev/sde1",
        "pvcreate --yes /dev/sda2",
        "vgcreate -s 4M main /dev/sda2",
        "pvcreate --yes /dev/md/large",
        "vgcreate -s 4M large /dev/md/large",
        "lvcreate -l 12800 -n slash main --yes",
        "lvcreate -l 4096 -n home main --yes",
        "lvcreate -l 4096 -n swap large --yes",
        "lvcreate -l 25600 -n data large --yes",
        "mkfs.vfat -F 32 -n EFI /dev/sda1",
        "mkfs.ext4 -F -L slash /dev/main/slash",
        "mkfs.ext4 -F -L home /dev/main/home",
        "mkswap -L swap /dev/large/swap",
        "mkfs.ext4 -F -L data -i 2048 /dev/large/data",
        "mkdir -p /mnt",
        "mount -t ext4 -o relatime /dev/main/slash /mnt",
        "mkdir -p /mnt/boot",
        "mount -t vfat -o umask=0077 /dev/sda1 /mnt/boot",
        "mkdir -p /mnt/data",
        "mount -t ext4 -o relatime /dev/large/data /mnt/data",
        "mkdir -p /mnt/home",
        "mount -t ext4 -o relatime /dev/main/home /mnt/home",
        "swapon /dev/large/swap",
    ];
    pretty_assertions::assert_eq!(commands_for(&testkit::ssd_and_four_hdd_raid5()), expected);
}

#[test]
fn a_node_that_never_appears_fails_after_its_deadline_naming_it() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let start = host.now();
    let e = Native.apply(&env, &plan).unwrap_err();
    assert_eq!(e.step, "partition");
    let msg = format!("{:#}", e.error);
    assert!(
        msg.contains(
            "waiting for /dev/disk/by-partlabel/disk-main0-ESP to lead to /dev/nvme0n1p1: \
             after 60 s udev did not create it"
        ),
        "{msg}"
    );
    // Bounded poll on the virtual clock: the deadline passed, no more.
    let waited = host.now() - start;
    assert!(waited >= NODE_DEADLINE && waited < NODE_DEADLINE + std::time::Duration::from_secs(1));
    // Nothing after the partitioning of the first disk ran.
    assert_eq!(
        lines(&host, &plan),
        [
            "sgdisk --clear --disk-guid=<in-progress> --new=1:0:+1024M --typecode=1:EF00 --change-name=1:disk-main0-ESP --new=2:0:0 --typecode=2:8E00 --change-name=2:disk-main0-pv /dev/disk/by-id/nvme-Vendor_NVMe_NV001",
            "wipefs -a /dev/nvme0n1p1 /dev/nvme0n1p2",
        ]
    );
}

/// A partition name shared with a device outside the plan (a stick provisioned by
/// pre-nixos before, plugged in after the collision check): nothing is written
/// through the link, and the wait for our partition's link names where it leads.
#[test]
fn a_link_that_leads_outside_the_plan_is_never_written_through() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    m.symlink("/dev/disk/by-partlabel/disk-main0-ESP", "../../sdz1");
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = Native.apply(&env, &plan).unwrap_err();
    assert_eq!(e.step, "partition");
    let msg = format!("{:#}", e.error);
    assert!(
        msg.contains(
            "waiting for /dev/disk/by-partlabel/disk-main0-ESP to lead to /dev/nvme0n1p1: \
             after 60 s it leads to /dev/sdz1, not /dev/nvme0n1p1: a device outside the plan"
        ),
        "{msg}"
    );
    let ran = host.command_lines();
    assert!(ran.iter().all(|l| !l.contains("sdz")), "{ran:#?}");
    assert_eq!(
        ran.len(),
        2,
        "only the planned disk's sgdisk and wipefs: {ran:#?}"
    );
}

/// The commands follow the disks' kernel names at the time of the apply, not the
/// names the plan was made with (`apply --plan` of a plan from an earlier boot).
#[test]
fn partitions_are_named_by_the_disks_current_kernel_names() {
    let plan = testkit::ssd_and_hdd_pair();
    let now = Knames::new(vec!["sdc".into(), "sda".into(), "sdb".into()]);
    let argv: Vec<String> = steps(&plan, &now)
        .iter()
        .flat_map(|s| &s.actions)
        .filter_map(|a| match a {
            Action::Run(c) => Some(c.display()),
            _ => None,
        })
        .collect();
    let has = |want: &str| argv.iter().any(|l| l == want);
    assert!(has("wipefs -a /dev/sdc1 /dev/sdc2"), "{argv:#?}");
    assert!(has("mdadm --create /dev/md/swap --run --metadata=1.2 --level=1 --raid-devices=2 --homehost=any --bitmap=internal /dev/sda1 /dev/sdb1"), "{argv:#?}");
    assert!(has("pvcreate --yes /dev/sdc2"), "{argv:#?}");
    assert!(has("mkfs.vfat -F 32 -n EFI /dev/sdc1"), "{argv:#?}");
    assert!(
        has("mount -t vfat -o umask=0077 /dev/sdc1 /mnt/boot"),
        "{argv:#?}"
    );
}

/// A disk whose stable path leads to another kernel name than the one the step's
/// commands were made for (a disk added or removed since the apply began): refused
/// before its sgdisk.
#[test]
fn a_disk_renamed_since_the_apply_began_is_not_written() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let step = partition_step(&plan.layout.disks[0], "nvme1n1", "marker");
    let e = run_step(&env, &step).unwrap_err();
    let msg = format!("{:#}", e.error);
    assert!(
        msg.contains("now leads to /dev/nvme0n1, not /dev/nvme1n1 as when the apply began"),
        "{msg}"
    );
    assert!(
        host.command_lines().is_empty(),
        "{:?}",
        host.command_lines()
    );
}

#[test]
fn a_swapped_disk_stops_before_its_first_write() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    // Same stable path, another serial: someone swapped the second disk.
    m.write(
        "/run/pre-nixos-fixture/udev/block/sdb",
        "DEVNAME=/dev/sdb\nID_SERIAL_SHORT=OTHER\n",
    );
    let host = FakeHost::new(m.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = Native.apply(&env, &plan).unwrap_err();
    assert_eq!(e.step, "partition");
    let msg = format!("{:#}", e.error);
    assert!(
        msg.contains("serial OTHER where the plan has HDDA"),
        "{msg}"
    );
    // The first disk was partitioned; the swapped one never saw a command.
    assert!(host.command_lines().iter().all(|l| !l.contains("HDDA")));
}

#[test]
fn a_failing_command_stops_the_run_and_names_the_step() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    host.on(
        &["mdadm", "--create"],
        Response::fail(
            1,
            "mdadm: cannot open /dev/disk/by-partlabel/disk-swap0-md: Device or resource busy",
        ),
    );
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = Native.apply(&env, &plan).unwrap_err();
    assert_eq!(e.step, "raid");
    let msg = format!("{:#}", e.error);
    assert!(
        msg.contains("creating RAID1 /dev/md/swap from sdb1 sdc1"),
        "{msg}"
    );
    assert!(msg.contains("Device or resource busy"), "{msg}");
    assert!(host
        .command_lines()
        .last()
        .unwrap()
        .starts_with("mdadm --create"));
}

#[test]
fn tools_are_those_the_plan_needs() {
    assert!(!Native
        .required_tools(&testkit::single_nvme())
        .contains(&"mdadm"));
    let t = Native.required_tools(&testkit::ssd_and_hdd_pair());
    for tool in [
        "sgdisk",
        "mdadm",
        "pvcreate",
        "vgcreate",
        "lvcreate",
        "mkfs.ext4",
        "mkfs.vfat",
        "mkswap",
        "mount",
        "swapon",
        "udevadm",
        "chmod",
    ] {
        assert!(t.contains(&tool), "{tool} missing from {t:?}");
    }
}

/// Every plan the planner renders in its golden tests goes through the native
/// executor: one sgdisk per disk, one mdadm per array, every VG (LV-less ones too),
/// every LV, a filesystem per ESP and LV, and nothing else.
#[test]
fn every_golden_plan_runs_through_the_native_executor() {
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut seen = 0;
    for entry in std::fs::read_dir(&golden).unwrap() {
        let file = entry.unwrap().path().join("storage-plan.json");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let plan = crate::render::json::plan_from_json(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let lines = commands_for(&plan);
        let count = |p: &str| lines.iter().filter(|l| l.starts_with(p)).count();
        let l = &plan.layout;
        let lvs: usize = l.vgs.iter().map(|v| v.lvs.len()).sum();
        let esps = l
            .disks
            .iter()
            .flat_map(|d| &d.partitions)
            .filter(|p| matches!(p.role, PartitionRole::Esp { .. }))
            .count();
        let what = file.display();
        assert_eq!(count("sgdisk --clear"), l.disks.len(), "{what}");
        assert_eq!(count("mdadm --create"), l.arrays.len(), "{what}");
        assert_eq!(count("vgcreate -s 4M"), l.vgs.len(), "{what}");
        assert_eq!(count("lvcreate"), lvs, "{what}");
        assert_eq!(count("mkfs.vfat"), esps, "{what}");
        assert_eq!(count("mkfs.ext4") + count("mkswap"), lvs, "{what}");
        assert_eq!(count("mount -t ext4"), count("mkfs.ext4"), "{what}");
        // Written and mounted through kernel nodes only: a by-partlabel or by-label
        // name may lead to a disk outside the plan.
        assert!(
            lines
                .iter()
                .all(|l| !l.contains("/dev/disk/by-partlabel") && !l.contains("/dev/disk/by-label")),
            "{what}: {lines:#?}"
        );
        // `/` is mounted before anything under it.
        let root = lines
            .iter()
            .position(|c| c.starts_with("mount -t ext4") && c.ends_with(" /mnt"))
            .unwrap_or_else(|| panic!("{what}: / not mounted"));
        let first_other = lines
            .iter()
            .position(|c| c.starts_with("mount ") && !c.ends_with(" /mnt"))
            .unwrap();
        assert!(root < first_other, "{what}");
        seen += 1;
    }
    assert!(seen >= 6, "only {seen} golden plans found");
}

#[test]
fn the_disk_is_locked_against_udev_while_its_new_partitions_are_wiped() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    for prefix in ["sgdisk", "wipefs"] {
        let (seen, dev) = (seen.clone(), m.path("/dev/nvme0n1"));
        host.on_with_effect(&[prefix], Response::stdout(""), move |_| {
            // What udev does before handling an event: a shared, non-blocking lock.
            let f = std::fs::File::open(&dev).unwrap();
            let free = nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock).is_ok();
            seen.lock().unwrap().push((prefix, free));
        });
    }
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let step = partition_step(&plan.layout.disks[0], "nvme0n1", "marker");
    run_step(&env, &step).unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        [("sgdisk", false), ("wipefs", false)]
    );
    let f = std::fs::File::open(m.path("/dev/nvme0n1")).unwrap();
    assert!(
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock).is_ok(),
        "the lock is gone after the step"
    );
    // udev handles the new partitions only once the lock is gone: the waits for their
    // links come after the unlock, or they would wait for a deadline.
    let unlock = step
        .actions
        .iter()
        .position(|a| *a == Action::UnlockDisk)
        .unwrap();
    let first_wait = step
        .actions
        .iter()
        .position(|a| matches!(a, Action::WaitForLink { .. }))
        .unwrap();
    assert!(unlock < first_wait, "{:?}", step.actions);
}

#[test]
fn the_markers_are_the_plans_and_only_partitioning_and_finish_write_them() {
    let plan = testkit::single_nvme();
    let m = crate::storage::resume::Markers::for_layout(&plan.layout);
    // Fixed by the plan alone: a change here means a cut apply made by the previous
    // version is no longer resumed by this one (refused instead), which must be a
    // deliberate change of `DIGEST_VERSION` or of the plan's shape.
    assert_eq!(m.in_progress, "706e7869-9fb0-8b59-8794-fef33d3e9ba0");
    let machine = Machine::for_plan(&plan);
    machine.add_expected_nodes(&plan);
    let host = FakeHost::new(machine.root());
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    Native.apply(&env, &plan).unwrap();
    let applied = host.command_lines();
    // The marker is set in the very sgdisk call that writes the table, after --clear.
    let marked: Vec<&String> = applied
        .iter()
        .filter(|l| l.contains("--disk-guid"))
        .collect();
    assert_eq!(marked.len(), 1, "{applied:#?}");
    assert!(
        marked[0].starts_with(&format!(
            "sgdisk --clear --disk-guid={} --new=1:",
            m.in_progress
        )),
        "{}",
        marked[0]
    );
    assert!(!applied.iter().any(|l| l.contains(&m.done)));
    // After verify, the finish step: one sgdisk per planned disk setting `done`, by
    // stable path, then a settle; nothing else.
    Native.finish(&env, &plan).unwrap();
    let finished = &lines(&host, &plan)[applied.len()..];
    assert_eq!(
        finished,
        [
            "sgdisk --disk-guid=<done> /dev/disk/by-id/nvme-Vendor_NVMe_NV001",
            "udevadm settle --timeout=120",
        ]
    );
    assert_eq!(
        Native.step_count(&plan),
        steps(&plan, &Knames::of_plan(&plan)).len() + 1
    );
}

#[test]
fn partition_nodes_follow_the_kernel_rule() {
    assert_eq!(partition_dev("sda", 2), "/dev/sda2");
    assert_eq!(partition_dev("nvme0n1", 1), "/dev/nvme0n1p1");
    assert_eq!(partition_dev("mmcblk0", 3), "/dev/mmcblk0p3");
}

/// Side by side: the same commands as one at a time, the partitioning of every disk and
/// every mkfs overlapping, and nothing of a later group starting before the group
/// before it has ended.
#[test]
fn independent_steps_run_side_by_side_and_the_order_between_groups_holds() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let plan = testkit::ssd_and_four_hdd_raid5();
    let in_turn = commands_for(&plan);

    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    let running = Arc::new(AtomicUsize::new(0));
    let most: Arc<std::sync::Mutex<std::collections::BTreeMap<&str, usize>>> = Arc::default();
    for prefix in ["sgdisk", "mkfs.ext4", "mkfs.vfat", "mkswap"] {
        let (running, most) = (running.clone(), most.clone());
        host.on_with_effect(&[prefix], Response::stdout(""), move |_| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            // Long enough for another worker to start its own command meanwhile.
            std::thread::sleep(std::time::Duration::from_millis(40));
            let key = if prefix == "sgdisk" {
                "partition"
            } else {
                "mkfs"
            };
            let mut m = most.lock().unwrap();
            let e = m.entry(key).or_default();
            *e = (*e).max(now);
            running.fetch_sub(1, Ordering::SeqCst);
        });
    }
    let env = Env::new(&host).with_path(testkit::TEST_PATH).with_jobs(4);
    Native.apply(&env, &plan).unwrap();
    let side_by_side = lines(&host, &plan);

    let mut a = in_turn.clone();
    let mut b = side_by_side.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same commands, whatever the schedule");
    let most = most.lock().unwrap();
    assert!(most["partition"] >= 2, "{most:?}");
    assert!(most["mkfs"] >= 2, "{most:?}");
    // Between groups the order is the plan's.
    let pos = |p: &str| -> Vec<usize> {
        side_by_side
            .iter()
            .enumerate()
            .filter(|(_, c)| c.starts_with(p))
            .map(|(i, _)| i)
            .collect()
    };
    let last = |p: &str| *pos(p).iter().max().unwrap();
    let first = |p: &str| *pos(p).iter().min().unwrap();
    assert!(
        last("wipefs") < first("mdadm --create"),
        "{side_by_side:#?}"
    );
    assert!(last("lvcreate") < first("mkfs"), "{side_by_side:#?}");
    assert!(last("mkfs") < first("mkdir"), "{side_by_side:#?}");
    assert!(last("mkswap") < first("mount"), "{side_by_side:#?}");
    // Each disk's own order: its sgdisk, then the wipefs of its new partitions.
    for d in &plan.layout.disks {
        let sg = side_by_side
            .iter()
            .position(|c| c.starts_with("sgdisk") && c.ends_with(&d.stable_path))
            .unwrap();
        let first_part = format!("{} ", d.partitions[0].device);
        let wipe = side_by_side
            .iter()
            .position(|c| c.starts_with("wipefs") && (c.to_owned() + " ").contains(&first_part))
            .unwrap();
        assert!(sg < wipe, "{}: {side_by_side:#?}", d.stable_path);
    }
}

/// A dry run keeps the plan's order and shows where the real run goes side by side.
#[test]
fn a_dry_run_lists_the_side_by_side_groups_in_the_plan_order() {
    let plan = testkit::ssd_and_four_hdd_raid5();
    let in_turn = commands_for(&plan);
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let real = FakeHost::new(m.root());
    let dry = crate::host::dryrun::DryRunHost::new(&real);
    let env = Env::new(&dry).with_path(testkit::TEST_PATH).with_jobs(4);
    Native.apply(&env, &plan).unwrap();
    let cmds: Vec<String> = dry.commands().iter().map(Cmd::display).collect();
    assert_eq!(cmds, commands_raw(&plan));
    assert_eq!(lines_of(cmds, &plan), in_turn);
    let notes: Vec<String> = dry
        .actions()
        .iter()
        .filter(|a| matches!(a, crate::host::dryrun::Action::Note(_)))
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        notes,
        [
            "# side by side: the next 5 steps (partition), one per core at most",
            "# side by side: the next 5 steps (mkfs), one per core at most",
        ]
    );
}
