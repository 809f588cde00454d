use super::*;
use crate::host::fake::{FakeHost, Response};
use crate::testkit::{self, capture, Machine};

fn graph(state: &str) -> Graph {
    Graph {
        lsblk: blockdev::parse_lsblk(&capture(state, "lsblk-O-b.json")).unwrap(),
        lvm: LvmState {
            pvs: blockdev::parse_pvs(&capture(state, "lvm/pvs-all.json")).unwrap(),
            vgs: blockdev::parse_vgs(&capture(state, "lvm/vgs-all.json")).unwrap(),
            lvs: blockdev::parse_lvs(&capture(state, "lvm/lvs-all.json")).unwrap(),
        },
        mdstat: blockdev::parse_mdstat(&capture(state, "mdstat.txt")),
        swaps: blockdev::parse_swaps(&capture(state, "swaps.txt")),
    }
}

fn lines(cmds: &[Cmd]) -> Vec<String> {
    cmds.iter().map(Cmd::display).collect()
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(std::string::ToString::to_string).collect()
}

#[test]
fn md_on_partitions_lvm_on_md_mounted_lvs_and_swap_go_leaves_first() {
    let g = graph("disko-applied");
    let cmds = plan_teardown(&g, &names(&["sda", "sdb", "sdc"])).unwrap();
    pretty_assertions::assert_eq!(
        lines(&cmds),
        [
            "umount /mnt/var/log",
            "umount /mnt/home",
            "umount /mnt/boot",
            "umount /mnt",
            "swapoff /dev/dm-2",
            "vgchange -an main",
            "lvremove -ff -y main",
            "vgremove -ff -y main",
            "vgchange -an swap",
            "lvremove -ff -y swap",
            "vgremove -ff -y swap",
            "pvremove -ff -y /dev/md127",
            "pvremove -ff -y /dev/sda2",
            "wipefs -a /dev/md127",
            "mdadm --stop /dev/md127",
            "mdadm --zero-superblock /dev/sdb1",
            "mdadm --zero-superblock /dev/sdc1",
            "wipefs -a /dev/sda1",
            "wipefs -a /dev/sda2",
            "wipefs -a /dev/sda",
            "sgdisk --zap-all /dev/sda",
            "dd if=/dev/zero of=/dev/sda bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sda bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sda",
            "wipefs -a /dev/sdb1",
            "wipefs -a /dev/sdb",
            "sgdisk --zap-all /dev/sdb",
            "dd if=/dev/zero of=/dev/sdb bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sdb bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sdb",
            "wipefs -a /dev/sdc1",
            "wipefs -a /dev/sdc",
            "sgdisk --zap-all /dev/sdc",
            "dd if=/dev/zero of=/dev/sdc bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sdc bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sdc",
            "udevadm trigger --action=change /dev/sda /dev/sdb /dev/sdc",
            "udevadm settle --timeout=120",
        ]
    );
    // sgdisk --zap-all exits 2 after doing its job on odd tables.
    let zap = cmds.iter().find(|c| c.program() == "sgdisk").unwrap();
    assert_eq!(zap.ok_codes, [0, 2]);
}

#[test]
fn only_named_disks_are_touched() {
    let g = graph("disko-applied");
    let cmds = plan_teardown(&g, &names(&["sdb", "sdc"])).unwrap();
    let text = lines(&cmds).join("\n");
    assert!(!text.contains("sda"), "{text}");
    assert!(!text.contains("main"), "{text}");
    assert!(text.contains("mdadm --stop /dev/md127"));
    assert!(text.contains("umount /mnt/var/log"));
    assert!(!text.contains("umount /mnt/home"));
}

#[test]
fn a_stack_reaching_an_unnamed_disk_is_refused() {
    let g = graph("disko-applied");
    let e = plan_teardown(&g, &names(&["sdb"])).unwrap_err();
    assert!(e.contains("md127 (also on sdc)"), "{e}");
    assert!(e.contains("pre-nixos.wipe=all"), "{e}");
}

#[test]
fn a_used_machine_tears_down_whole_disk_pv_degraded_array_and_filesystems() {
    let g = graph("existing-rebooted");
    let cmds = plan_teardown(&g, &names(&["sda", "sdb", "sdc", "nvme0n1"])).unwrap();
    pretty_assertions::assert_eq!(
        lines(&cmds),
        [
            "vgchange -an oldvg",
            "lvremove -ff -y oldvg",
            "vgremove -ff -y oldvg",
            "pvremove -ff -y /dev/nvme0n1",
            "wipefs -a /dev/md127",
            "mdadm --stop /dev/md127",
            "mdadm --zero-superblock /dev/sdc1",
            "wipefs -a /dev/sda",
            "sgdisk --zap-all /dev/sda",
            "dd if=/dev/zero of=/dev/sda bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sda bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sda",
            "wipefs -a /dev/sdb",
            "sgdisk --zap-all /dev/sdb",
            "dd if=/dev/zero of=/dev/sdb bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sdb bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sdb",
            "wipefs -a /dev/sdc1",
            "wipefs -a /dev/sdc",
            "sgdisk --zap-all /dev/sdc",
            "dd if=/dev/zero of=/dev/sdc bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/sdc bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/sdc",
            "wipefs -a /dev/nvme0n1",
            "sgdisk --zap-all /dev/nvme0n1",
            "dd if=/dev/zero of=/dev/nvme0n1 bs=512 count=4096 conv=fsync,notrunc status=none",
            "dd if=/dev/zero of=/dev/nvme0n1 bs=512 seek=8386560 count=2048 conv=fsync,notrunc status=none",
            "blockdev --rereadpt /dev/nvme0n1",
            "udevadm trigger --action=change /dev/sda /dev/sdb /dev/sdc /dev/nvme0n1",
            "udevadm settle --timeout=120",
        ]
    );
}

fn machine_for_capture() -> (Machine, Vec<PlannedDisk>) {
    let plan = testkit::disko_applied_plan();
    let m = Machine::for_plan(&plan);
    m.write("/proc/mdstat", &capture("disko-applied", "mdstat.txt"));
    m.write("/proc/swaps", &capture("disko-applied", "swaps.txt"));
    (m, plan.layout.disks)
}

const CLEAN_LSBLK: &str = r#"{"blockdevices":[
 {"name":"sda","kname":"sda","maj:min":"8:0","type":"disk","size":4294967296},
 {"name":"sdb","kname":"sdb","maj:min":"8:16","type":"disk","size":4294967296},
 {"name":"sdc","kname":"sdc","maj:min":"8:32","type":"disk","size":4294967296}]}"#;
const NO_PVS: &str = r#"{"report":[{"pv":[]}]}"#;

#[test]
fn teardown_re_checks_and_succeeds_when_nothing_is_left() {
    let (m, disks) = machine_for_capture();
    let host = FakeHost::new(m.root());
    // First read: the capture. After the pass: clean disks, no md.
    host.on_times(
        &["lsblk"],
        1,
        Response::stdout(capture("disko-applied", "lsblk-O-b.json")),
    );
    host.on_times(
        &["pvs"],
        1,
        Response::stdout(capture("disko-applied", "lvm/pvs-all.json")),
    );
    host.on(&["lsblk"], Response::stdout(CLEAN_LSBLK));
    host.on(&["pvs"], Response::stdout(NO_PVS));
    let root = m.root().to_owned();
    host.on_with_effect(&["mdadm", "--stop"], Response::stdout(""), move |_| {
        std::fs::write(
            root.join("proc/mdstat"),
            "Personalities : [raid1]\nunused devices: <none>\n",
        )
        .unwrap();
    });
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    teardown(&env, &disks, &WipeMethods::default()).unwrap();
    let l = host.command_lines();
    assert_eq!(
        l.iter().filter(|c| c.starts_with("mdadm --stop")).count(),
        1
    );
    assert!(l.contains(&"sgdisk --zap-all /dev/sdc".to_owned()));
}

#[test]
fn teardown_repeats_once_then_names_what_survived() {
    let (m, disks) = machine_for_capture();
    let host = FakeHost::new(m.root());
    // udev keeps reassembling: every read shows the array again.
    host.on(
        &["lsblk"],
        Response::stdout(capture("disko-applied", "lsblk-O-b.json")),
    );
    host.on(&["pvs"], Response::stdout(NO_PVS));
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = format!(
        "{:#}",
        teardown(&env, &disks, &WipeMethods::default()).unwrap_err()
    );
    assert!(e.contains("still present after two passes"), "{e}");
    assert!(e.contains("md127"), "{e}");
    let l = host.command_lines();
    assert_eq!(
        l.iter().filter(|c| c.starts_with("mdadm --stop")).count(),
        2
    );
}

#[test]
fn a_missing_mdadm_is_named_before_any_command() {
    let (m, disks) = machine_for_capture();
    m.remove("/usr/sbin/mdadm");
    let host = FakeHost::new(m.root());
    testkit::script_capture(&host, "disko-applied");
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = format!(
        "{:#}",
        teardown(&env, &disks, &WipeMethods::default()).unwrap_err()
    );
    assert!(e.contains("mdadm not found"), "{e}");
    assert!(host
        .command_lines()
        .iter()
        .all(|c| ["lsblk", "pvs", "vgs", "lvs"]
            .iter()
            .any(|q| c.starts_with(q))));
}

#[test]
fn disks_are_locked_against_udev_during_a_pass_and_released_after() {
    let (m, _disks) = machine_for_capture();
    let host = FakeHost::new(m.root());
    let names = names(&["sda", "sdb"]);
    let locks = DiskLocks::take(&host, &names);
    // What udev does: a non-blocking shared lock on the whole disk.
    let probe = |k: &str| {
        let f = std::fs::File::open(m.path(&format!("/dev/{k}"))).unwrap();
        nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockSharedNonblock).is_ok()
    };
    assert!(!probe("sda") && !probe("sdb"), "udev could take the disks");
    assert!(probe("sdc"), "an unnamed disk is not locked");
    locks.close().unwrap();
    assert!(probe("sda") && probe("sdb"));
}

/// The capture's machine with its first pass succeeding, as above.
fn host_where_teardown_succeeds(m: &Machine) -> FakeHost {
    let host = FakeHost::new(m.root());
    host.on_times(
        &["lsblk"],
        1,
        Response::stdout(capture("disko-applied", "lsblk-O-b.json")),
    );
    host.on_times(
        &["pvs"],
        1,
        Response::stdout(capture("disko-applied", "lvm/pvs-all.json")),
    );
    host.on(&["lsblk"], Response::stdout(CLEAN_LSBLK));
    host.on(&["pvs"], Response::stdout(NO_PVS));
    let root = m.root().to_owned();
    host.on_with_effect(&["mdadm", "--stop"], Response::stdout(""), move |_| {
        std::fs::write(
            root.join("proc/mdstat"),
            "Personalities : [raid1]\nunused devices: <none>\n",
        )
        .unwrap();
    });
    host
}

#[test]
fn each_disk_is_cleaned_by_its_own_method_after_the_teardown() {
    let (m, disks) = machine_for_capture();
    let knames: Vec<String> = disks.iter().map(|d| d.name.clone()).collect();
    m.write(
        &format!("/sys/block/{}/queue/discard_max_bytes", knames[0]),
        "2147450880\n",
    );
    let host = host_where_teardown_succeeds(&m);
    let methods = WipeMethods {
        default: WipeMethod::Signatures,
        per_disk: [
            (disks[0].stable_path.clone(), WipeMethod::Discard),
            (disks[1].stable_path.clone(), WipeMethod::Overwrite),
        ]
        .into(),
    };
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    teardown(&env, &disks, &methods).unwrap();
    let l = host.command_lines();
    let zap = l
        .iter()
        .rposition(|c| c.starts_with("sgdisk --zap-all"))
        .unwrap();
    let tail: Vec<&str> = l[zap..]
        .iter()
        .filter(|c| c.starts_with("blkdiscard") || c.starts_with("shred"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            format!("blkdiscard -f /dev/{}", knames[0]),
            format!("shred -v -n 1 /dev/{}", knames[1]),
        ]
    );
    // Nothing for the disk left at signatures, and nothing before the stacks are gone.
    assert!(!l[..zap]
        .iter()
        .any(|c| c.starts_with("blkdiscard") || c.starts_with("shred")));
    let shred = host
        .commands()
        .into_iter()
        .find(|c| c.program() == "shred")
        .unwrap();
    assert_eq!(shred.timeout, Some(overwrite_timeout(disks[1].size_bytes)));
    assert!(shred.stream, "shred's progress must reach the operator");
}

#[test]
fn discard_on_a_device_without_it_is_refused_before_any_command() {
    let (m, disks) = machine_for_capture();
    let kname = disks[1].name.clone();
    m.write(
        &format!("/sys/block/{kname}/queue/discard_max_bytes"),
        "0\n",
    );
    let host = host_where_teardown_succeeds(&m);
    let methods = WipeMethods {
        default: WipeMethod::Signatures,
        per_disk: [(disks[1].stable_path.clone(), WipeMethod::Discard)].into(),
    };
    let env = Env::new(&host).with_path(testkit::TEST_PATH);
    let e = format!("{:#}", teardown(&env, &disks, &methods).unwrap_err());
    assert!(
        e.contains(&format!(
            "discarding /dev/{kname} ({})",
            disks[1].stable_path
        )),
        "{e}"
    );
    assert!(e.contains("does not support discard"), "{e}");
    assert!(e.contains("discard_max_bytes is 0"), "{e}");
    assert_eq!(host.command_lines(), Vec::<String>::new());
}

#[test]
fn an_overwrite_is_given_time_for_the_whole_disk_at_a_slow_rate() {
    assert_eq!(overwrite_timeout(0).as_secs(), 60);
    // 8 TB at 20 MB/s: 400 000 s, a little over four and a half days.
    assert_eq!(overwrite_timeout(8_000_000_000_000).as_secs(), 400_060);
    let c = method_command(WipeMethod::Overwrite, "/dev/sdb", 4_000_000_000).unwrap();
    assert_eq!(c.display(), "shred -v -n 1 /dev/sdb");
    assert!(
        c.what
            .contains("(4.0 GB: about 1 min at 150 MB/s, at most 5 min)"),
        "{}",
        c.what
    );
    let c = method_command(WipeMethod::Overwrite, "/dev/sdb", 8_000_000_000_000).unwrap();
    assert!(
        c.what
            .contains("(8.0 TB: about 889 min at 150 MB/s, at most 6668 min)"),
        "{}",
        c.what
    );
    assert!(method_command(WipeMethod::Signatures, "/dev/sdb", 1).is_none());
}
