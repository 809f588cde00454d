//! The provisioning pipeline on the fake host: outcomes, status file, faults.

use std::path::Path;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use super::*;
use crate::host::fake::{FakeHost, Response};
use crate::host::{dryrun, Cmd};
use crate::plan::PartitionRole;
use crate::storage::exec::Executor;
use crate::testkit::{self, swapon_completes_the_capture, wipefs_clears, Machine};

const STATE: &str = "/run/pre-nixos";

fn env(host: &dyn Host) -> Env<'_> {
    Env::new(host).with_path(testkit::TEST_PATH)
}

fn request(plan: &Plan) -> Request<'_> {
    Request {
        plan,
        executor: ExecutorKind::Native,
        wipe: None,
        wipe_methods: Default::default(),
        boot: BootOptions::default(),
        lan_mac: None,
        lan_mac_permanent: false,
    }
}

fn status_file(m: &Machine) -> String {
    std::fs::read_to_string(m.path("/run/pre-nixos/storage-status")).unwrap_or_default()
}

#[test]
fn clean_disks_are_applied_verified_and_recorded() {
    let (m, host, plan) = testkit::applying_machine();
    // STATE=running must be on disk before the first write.
    let seen = Arc::new(Mutex::new(String::new()));
    let (seen2, root) = (seen.clone(), m.root().to_owned());
    host.on_with_effect(&["sgdisk"], Response::stdout(""), move |_| {
        let mut s = seen2.lock().unwrap();
        if s.is_empty() {
            *s = std::fs::read_to_string(root.join("run/pre-nixos/storage-status")).unwrap();
        }
    });
    let ctx = Ctx::new(&host, STATE);
    let out = provision(
        &ctx,
        &env(&host),
        &Request {
            lan_mac: Some("52:54:00:12:34:51".into()),
            lan_mac_permanent: true,
            ..request(&plan)
        },
    )
    .unwrap();
    assert_eq!(out.policy, Policy::AutoApply, "{:?}", out.status);
    assert_eq!(out.exit_code(), 0);
    assert!(
        seen.lock().unwrap().starts_with("STATE=running\n"),
        "{}",
        seen.lock().unwrap()
    );
    let st = status_file(&m);
    assert!(st.starts_with("STATE=applied\nDETAIL=auto-applied\nPLAN=/run/pre-nixos/storage-plan.json\nDISKS='sda sdb sdc'\n"), "{st}");
    assert!(m.path("/run/pre-nixos/storage-plan.json").is_file());
    assert!(m
        .path("/mnt/etc/nixos/pre-generated/hardware-disk.nix")
        .is_file());
    assert!(m
        .path("/mnt/etc/nixos/pre-generated/network-lan.nix")
        .is_file());
}

#[test]
fn existing_storage_is_a_plan_only_outcome_naming_the_switch() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.write(
        "/run/pre-nixos-fixture/blkid/sdb",
        "TYPE=ext4\nLABEL=olddata\n",
    );
    m.write("/run/pre-nixos-fixture/blkid/sdc", "PTTYPE=gpt\n");
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 0);
    let st = status_file(&m);
    assert!(
        st.starts_with("STATE=plan-only\nDETAIL=existing-storage\n"),
        "{st}"
    );
    // ERROR= (what `status` and `diagnose` show) carries every disk's reasons and
    // the switch naming exactly those disks.
    let error = st
        .lines()
        .find_map(|l| l.strip_prefix("ERROR="))
        .unwrap_or_default();
    assert!(
        error.contains("sdb (HDDA): signature:ext4; sdc (HDDB): partition-table"),
        "{st}"
    );
    assert!(error.contains("pre-nixos.wipe=HDDA,HDDB"), "{st}");
    // Nothing ran but the read-only look at the layout.
    assert!(
        host.command_lines().iter().all(|c| c.starts_with("lsblk")),
        "{:?}",
        host.command_lines()
    );
    assert!(m.path("/run/pre-nixos/storage-plan.json").is_file());
}

#[test]
fn missing_mdadm_fails_before_any_disk_is_touched() {
    let plan = testkit::ssd_pair_raid0();
    let m = Machine::for_plan(&plan);
    m.remove("/usr/sbin/mdadm");
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 1);
    assert_eq!(out.status.detail, "tools");
    assert!(
        out.status
            .error
            .as_deref()
            .unwrap()
            .contains("mdadm not found"),
        "{:?}",
        out.status
    );
    assert!(host.commands().is_empty(), "{:?}", host.command_lines());
    assert!(status_file(&m).starts_with("STATE=failed\nDETAIL=tools\n"));
}

#[test]
fn a_command_failing_mid_apply_records_failed_and_stops() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    host.on(
        &["mkfs.ext4", "-F", "-L", "home"],
        Response::fail(1, "mke2fs 1.47.0 (5-Feb-2023)\n/dev/main/home is apparently in use by the system; will not make a filesystem here!"),
    );
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 1);
    let st = status_file(&m);
    assert!(st.starts_with("STATE=failed\nDETAIL=mkfs\n"), "{st}");
    assert!(st.contains("ERROR='making ext4 home on /dev/main/home: mkfs.ext4 -F -L home /dev/main/home exited with status 1:"), "{st}");
    assert!(st.contains("will not make a filesystem here!"), "{st}");
    assert_eq!(
        host.command_lines().last().unwrap(),
        "mkfs.ext4 -F -L home /dev/main/home"
    );
}

#[test]
fn an_interrupted_command_mid_apply_records_failed_interrupted_and_stops() {
    // SIGTERM while mkfs runs (the unit's bound, a shutdown): the normal failure path,
    // with ERROR= saying it was an interruption, and nothing runs after it.
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = FakeHost::new(m.root());
    host.on(&["mkfs.ext4", "-F", "-L", "home"], Response::Interrupted);
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 1);
    let st = status_file(&m);
    assert!(st.starts_with("STATE=failed\nDETAIL=mkfs\n"), "{st}");
    assert!(
        st.contains("ERROR='interrupted by SIGTERM: making ext4 home on /dev/main/home: mkfs.ext4 -F -L home /dev/main/home was killed with its process group"),
        "{st}"
    );
    assert_eq!(
        host.command_lines().last().unwrap(),
        "mkfs.ext4 -F -L home /dev/main/home"
    );
}

#[test]
fn a_plan_from_another_machine_is_refused() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    for (d, serial) in plan.layout.disks.iter().zip(["X1", "X2", "X3"]) {
        m.write(
            &format!("/run/pre-nixos-fixture/udev/block/{}", d.name),
            &format!("ID_SERIAL_SHORT={serial}\n"),
        );
    }
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 1);
    assert_eq!(out.status.detail, "identity");
    assert!(out
        .status
        .error
        .as_deref()
        .unwrap()
        .contains("serial X1 where the plan has SSDA"));
    assert!(host.commands().is_empty());
}

#[test]
fn a_disk_vanished_since_planning_is_refused() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.remove(&plan.layout.disks[2].stable_path);
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.exit_code(), 1);
    assert_eq!(out.status.detail, "identity");
    assert!(
        out.status.error.as_deref().unwrap().contains("not present"),
        "{:?}",
        out.status
    );
    assert!(host.commands().is_empty());
}

/// A host whose state directory is read-only.
struct ReadOnlyState<'a>(&'a FakeHost);

impl Host for ReadOnlyState<'_> {
    fn root(&self) -> &Path {
        self.0.root()
    }
    fn run(&self, cmd: &Cmd) -> Result<crate::host::CmdOutput, crate::host::CmdError> {
        self.0.run(cmd)
    }
    fn udev_devices(&self, s: &str) -> std::io::Result<Vec<crate::host::UdevDevice>> {
        self.0.udev_devices(s)
    }
    fn blkid_probe(&self, dev: &Path) -> std::io::Result<crate::host::BlkidProbe> {
        self.0.blkid_probe(dev)
    }
    fn now(&self) -> std::time::Instant {
        self.0.now()
    }
    fn sleep(&self, d: Duration) {
        self.0.sleep(d);
    }
    fn write_atomic(&self, p: &Path, c: &[u8], mode: u32) -> std::io::Result<()> {
        if p.starts_with(STATE) {
            return Err(std::io::Error::from_raw_os_error(libc::EROFS));
        }
        self.0.write_atomic(p, c, mode)
    }
}

#[test]
fn a_read_only_state_dir_is_a_clear_error_and_no_disk_is_touched() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    let fake = FakeHost::new(m.root());
    let host = ReadOnlyState(&fake);
    let ctx = Ctx::new(&host, STATE);
    let e = format!(
        "{:#}",
        provision(&ctx, &env(&host), &request(&plan)).unwrap_err()
    );
    assert!(e.contains("no disk was touched"), "{e}");
    assert!(e.contains("Read-only file system"), "{e}");
    assert!(e.contains("/run/pre-nixos"), "{e}");
    assert!(fake.commands().is_empty(), "{:?}", fake.command_lines());
}

#[test]
fn a_second_run_while_one_applies_is_refused() {
    let plan = testkit::single_nvme();
    let m = Machine::for_plan(&plan);
    let host = FakeHost::new(m.root());
    let _held = crate::state::lock::ApplyLock::acquire(&host, Path::new(STATE)).unwrap();
    let ctx = Ctx::new(&host, STATE);
    let e = format!(
        "{:#}",
        provision(&ctx, &env(&host), &request(&plan)).unwrap_err()
    );
    assert!(e.contains("another pre-nixos"), "{e}");
    assert!(host.commands().is_empty());
}

#[test]
fn the_recording_host_prints_the_same_commands_and_touches_nothing() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    let fake = FakeHost::new(m.root());
    let dry = dryrun::DryRunHost::new(&fake);
    let e = env(&dry);
    let ctx = Ctx::new(&dry, STATE);
    let out = provision(&ctx, &e, &request(&plan)).unwrap();
    assert_eq!(out.status.state, State::Applied);
    assert!(fake.commands().is_empty(), "{:?}", fake.command_lines());
    assert!(!m.path("/run/pre-nixos/storage-status").exists());
    let recorded: Vec<String> = dry.commands().iter().map(Cmd::display).collect();
    // The executor's own command list, then the stubs it would write.
    let m2 = Machine::for_plan(&plan);
    m2.add_expected_nodes(&plan);
    let fake2 = FakeHost::new(m2.root());
    native::Native.apply(&env(&fake2), &plan).unwrap();
    // Verify reads nothing in a dry run; then the done markers.
    native::Native.finish(&env(&fake2), &plan).unwrap();
    // The plan and `STATE=running` before the first write, the final status after.
    let mut expected = vec![
        "write /run/pre-nixos/storage-plan.json".to_owned(),
        "write /run/pre-nixos/storage-status".to_owned(),
    ];
    expected.extend(fake2.command_lines());
    expected.push("write /mnt/etc/nixos/pre-generated/hardware-disk.nix".into());
    expected.push("write /run/pre-nixos/storage-status".into());
    pretty_assertions::assert_eq!(recorded, expected);
}

const CLEAN_LSBLK: &str = r#"{"blockdevices":[
 {"name":"sda","kname":"sda","maj:min":"8:0","type":"disk","size":4294967296},
 {"name":"sdb","kname":"sdb","maj:min":"8:16","type":"disk","size":4294967296},
 {"name":"sdc","kname":"sdc","maj:min":"8:32","type":"disk","size":4294967296}]}"#;

/// The disko-applied machine with someone else's storage (the existing-rebooted
/// capture) on its planned disks, scripted so a teardown clears it and the apply
/// then succeeds.
fn existing_storage_run() -> (Machine, FakeHost, Plan) {
    use testkit::capture;
    let plan = testkit::disko_applied_plan();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    // Someone else's storage (the existing-rebooted capture) on the planned disks.
    m.write(
        "/run/pre-nixos-fixture/blkid/sdb",
        "TYPE=ext4\nLABEL=olddata\n",
    );
    m.write("/proc/mdstat", &capture("existing-rebooted", "mdstat.txt"));
    m.write("/run/pre-nixos-fixture/blkid/sdc", "PTTYPE=gpt\n");
    m.write("/sys/block/sdc/sdc1/partition", "1\n");
    m.write("/sys/block/sdc/sdc1/holders/md127", "");
    let host = FakeHost::new(m.root());
    let old = |f: &str| Response::stdout(capture("existing-rebooted", f));
    let new = |f: &str| Response::stdout(capture("disko-applied", f));
    // Reads: layout check, teardown pass, re-check (clean), then verify (our layout).
    host.on_times(&["lsblk"], 2, old("lsblk-O-b.json"));
    host.on_times(&["lsblk"], 1, Response::stdout(CLEAN_LSBLK));
    host.on(&["lsblk"], new("lsblk-O-b.json"));
    host.on_times(&["pvs"], 2, old("lvm/pvs-all.json"));
    host.on_times(&["pvs"], 1, Response::stdout(r#"{"report":[{"pv":[]}]}"#));
    host.on(&["pvs"], new("lvm/pvs-all.json"));
    host.on(&["vgs"], new("lvm/vgs-all.json"));
    host.on(&["lvs"], new("lvm/lvs-all.json"));
    host.on(&["mdadm", "--detail"], new("mdadm/detail-md127.txt"));
    let root = m.root().to_owned();
    host.on_with_effect(&["mdadm", "--stop"], Response::stdout(""), move |_| {
        std::fs::write(root.join("proc/mdstat"), "Personalities : [raid1]\n").unwrap();
    });
    wipefs_clears(&host, &m, "sdb");
    wipefs_clears(&host, &m, "sdc");
    swapon_completes_the_capture(&host, &m);
    (m, host, plan)
}

#[test]
fn a_wipe_switch_tears_down_then_applies() {
    let (m, host, plan) = existing_storage_run();
    let ctx = Ctx::new(&host, STATE);
    let req = Request {
        wipe: Some(WipeSpec::Serials(vec![
            "SSD0001".into(),
            "HDD0001".into(),
            "HDD0002".into(),
        ])),
        ..request(&plan)
    };
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(out.status.detail, "wiped-and-applied", "{:?}", out.status);
    assert_eq!(out.exit_code(), 0);
    let l = host.command_lines();
    let pos = |prefix: &str| {
        l.iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} not run: {l:#?}"))
    };
    // Teardown of the old stack first, then the new layout.
    assert!(pos("wipefs -a /dev/md127") < pos("mdadm --stop /dev/md127"));
    assert!(pos("mdadm --zero-superblock /dev/sdc1") < pos("sgdisk --zap-all /dev/sda"));
    assert!(pos("udevadm settle") < pos("sgdisk --clear"));
    assert!(pos("sgdisk --clear") < pos("mdadm --create /dev/md/swap"));
    // The NVMe (with VG oldvg) in the capture is not a planned disk: never touched.
    assert!(
        l.iter()
            .all(|c| !c.contains("nvme0n1") && !c.contains("oldvg")),
        "{l:#?}"
    );
    assert!(status_file(&m).starts_with("STATE=applied\nDETAIL=wiped-and-applied\n"));
}

/// The planned disks as a cut apply of `plan` leaves them: each disk's GPT with the
/// plan's in-progress marker and partlabels, arrays created and their PV made, no
/// filesystem yet.
fn cut_apply_fixture(m: &Machine, plan: &Plan) {
    let markers = resume::Markers::for_layout(&plan.layout);
    for d in &plan.layout.disks {
        m.write(
            &format!("/run/pre-nixos-fixture/blkid/{}", d.name),
            &format!("PTTYPE=gpt\nPTUUID={}\n", markers.in_progress),
        );
        for p in &d.partitions {
            let pdev = p.device.trim_start_matches("/dev/");
            let dir = format!("/sys/block/{}/{pdev}", d.name);
            m.write(&format!("{dir}/partition"), &format!("{}\n", p.number));
            m.write(
                &format!("{dir}/uevent"),
                &format!(
                    "DEVTYPE=partition\nPARTN={}\nPARTNAME={}\n",
                    p.number, p.partlabel
                ),
            );
            let content = match &p.role {
                PartitionRole::RaidMember { array } => {
                    m.write(&format!("{dir}/holders/md127"), "");
                    format!("TYPE=linux_raid_member\nLABEL=any:{array}\n")
                }
                PartitionRole::Pv { .. } => "TYPE=LVM2_member\n".to_owned(),
                PartitionRole::Esp { .. } => String::new(),
            };
            m.write(&format!("/run/pre-nixos-fixture/blkid/{pdev}"), &content);
        }
    }
    m.write("/run/pre-nixos-fixture/blkid/md127", "TYPE=LVM2_member\n");
}

#[test]
fn a_cut_apply_of_this_plan_is_redone_without_a_switch() {
    use testkit::capture;
    let plan = testkit::disko_applied_plan();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    cut_apply_fixture(&m, &plan);
    m.write("/proc/mdstat", &capture("existing-rebooted", "mdstat.txt"));
    let host = FakeHost::new(m.root());
    // Reads as in the wipe-switch case: layout check (not this plan yet), teardown
    // pass, re-check (clean), then verify (this plan's layout).
    let old = |f: &str| Response::stdout(capture("existing-rebooted", f));
    let new = |f: &str| Response::stdout(capture("disko-applied", f));
    host.on_times(&["lsblk"], 2, old("lsblk-O-b.json"));
    host.on_times(&["lsblk"], 1, Response::stdout(CLEAN_LSBLK));
    host.on(&["lsblk"], new("lsblk-O-b.json"));
    host.on_times(&["pvs"], 2, old("lvm/pvs-all.json"));
    host.on_times(&["pvs"], 1, Response::stdout(r#"{"report":[{"pv":[]}]}"#));
    host.on(&["pvs"], new("lvm/pvs-all.json"));
    host.on(&["vgs"], new("lvm/vgs-all.json"));
    host.on(&["lvs"], new("lvm/lvs-all.json"));
    host.on(&["mdadm", "--detail"], new("mdadm/detail-md127.txt"));
    let root = m.root().to_owned();
    host.on_with_effect(&["mdadm", "--stop"], Response::stdout(""), move |_| {
        std::fs::write(root.join("proc/mdstat"), "Personalities : [raid1]\n").unwrap();
    });
    for d in ["sda", "sdb", "sdc"] {
        wipefs_clears(&host, &m, d);
    }
    swapon_completes_the_capture(&host, &m);
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    let all: Vec<String> = plan
        .layout
        .disks
        .iter()
        .map(|d| d.stable_path.clone())
        .collect();
    assert_eq!(
        out.policy,
        Policy::Resume { disks: all },
        "{:?}",
        out.status
    );
    assert_eq!(out.exit_code(), 0);
    assert!(
        status_file(&m).starts_with("STATE=applied\nDETAIL=resumed\n"),
        "{}",
        status_file(&m)
    );
    let markers = resume::Markers::for_layout(&plan.layout);
    let l = host.command_lines();
    let pos = |prefix: &str| {
        l.iter()
            .position(|c| c.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} not run: {l:#?}"))
    };
    // The wipe switch's teardown, then the apply with a fresh in-progress marker, then
    // (after verify) the done marker on every planned disk, then nothing but the stubs.
    assert!(pos("mdadm --stop /dev/md127") < pos("sgdisk --zap-all /dev/sda"));
    assert!(pos("sgdisk --zap-all /dev/sdc") < pos("sgdisk --clear"));
    assert!(
        pos(&format!(
            "sgdisk --clear --disk-guid={}",
            markers.in_progress
        )) < pos("mdadm --create")
    );
    let done: Vec<usize> = l
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with(&format!("sgdisk --disk-guid={} ", markers.done)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(done.len(), 3, "{l:#?}");
    assert!(done[0] > pos("swapon"), "{l:#?}");
    // Never a non-planned disk: the capture's NVMe and its VG.
    assert!(
        l.iter()
            .all(|c| !c.contains("nvme0n1") && !c.contains("oldvg")),
        "{l:#?}"
    );
}

#[test]
fn a_cut_apply_with_a_foreign_name_or_a_done_marker_is_left_untouched() {
    let plan = testkit::disko_applied_plan();
    let markers = resume::Markers::for_layout(&plan.layout);
    for (what, file, text) in [
        (
            "a foreign label",
            "/run/pre-nixos-fixture/blkid/sda1",
            "TYPE=ext4\nLABEL=olddata\n".to_owned(),
        ),
        (
            "a done marker",
            "/run/pre-nixos-fixture/blkid/sdb",
            format!("PTTYPE=gpt\nPTUUID={}\n", markers.done),
        ),
        (
            "a partlabel of another layout",
            "/sys/block/sda/sda2/uevent",
            "PARTNAME=disk-main0-pv\n".to_owned(),
        ),
    ] {
        let m = Machine::for_plan(&plan);
        m.add_expected_nodes(&plan);
        cut_apply_fixture(&m, &plan);
        m.write(file, &text);
        let host = FakeHost::new(m.root());
        let ctx = Ctx::new(&host, STATE);
        let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
        assert_eq!(
            out.status.detail, "existing-storage",
            "{what}: {:?}",
            out.status
        );
        // Only reads (the layout check): nothing written.
        let writes: Vec<String> = host
            .command_lines()
            .into_iter()
            .filter(|c| {
                !["lsblk", "pvs", "vgs", "lvs", "mdadm --detail"]
                    .iter()
                    .any(|r| c.starts_with(r))
            })
            .collect();
        assert!(writes.is_empty(), "{what}: {writes:#?}");
    }
}

/// The TUI's request: each disk with its own method. Discard and overwrite come after
/// the teardown of the stacks and before the first partition table; the disk left at
/// signatures gets neither.
#[test]
fn each_wiped_disk_gets_its_method_between_teardown_and_partitioning() {
    let (m, host, plan) = existing_storage_run();
    m.install_tools(&["blkdiscard", "shred"]);
    m.write("/sys/block/sdb/queue/discard_max_bytes", "2147450880\n");
    let by_serial = |s: &str| {
        plan.layout
            .disks
            .iter()
            .find(|d| d.serial.as_deref() == Some(s))
            .unwrap()
            .stable_path
            .clone()
    };
    let methods = teardown::WipeMethods {
        default: crate::kcmdline::WipeMethod::Signatures,
        per_disk: [
            (by_serial("HDD0001"), crate::kcmdline::WipeMethod::Discard),
            (by_serial("HDD0002"), crate::kcmdline::WipeMethod::Overwrite),
        ]
        .into(),
    };
    let req = Request::explicit(
        &plan,
        ExecutorKind::Native,
        Some(WipeSpec::Serials(vec![
            "SSD0001".into(),
            "HDD0001".into(),
            "HDD0002".into(),
        ])),
        methods,
        &BootOptions {
            plan_only: true,
            ..BootOptions::default()
        },
    );
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(out.status.detail, "wiped-and-applied", "{:?}", out.status);
    let l = host.command_lines();
    let pos = |c: &str| {
        l.iter()
            .position(|x| x == c)
            .unwrap_or_else(|| panic!("{c} not run: {l:#?}"))
    };
    let discard = pos("blkdiscard -f /dev/sdb");
    let shred = pos("shred -v -n 1 /dev/sdc");
    let last_zap = l
        .iter()
        .rposition(|c| c.starts_with("sgdisk --zap-all"))
        .unwrap();
    let first_table = l
        .iter()
        .position(|c| c.starts_with("sgdisk --clear"))
        .unwrap();
    assert!(
        last_zap < discard && discard < shred && shred < first_table,
        "{l:#?}"
    );
    assert!(!l
        .iter()
        .any(|c| c.contains("blkdiscard -f /dev/sda") || c.contains("shred -v -n 1 /dev/sda")));
    // The request is apply's: the kernel's plan-only does not hold an explicit apply.
    assert!(!req.boot.plan_only);
}

/// The dry run lists the method's command where the real run would run it.
#[test]
fn a_dry_run_prints_the_wipe_methods_commands() {
    let (m, host, plan) = existing_storage_run();
    m.install_tools(&["blkdiscard"]);
    m.write("/sys/block/sdb/queue/discard_max_bytes", "512\n");
    let dry = dryrun::DryRunHost::new(&host);
    let req = Request {
        wipe: Some(WipeSpec::All),
        wipe_methods: teardown::WipeMethods::all(crate::kcmdline::WipeMethod::Discard),
        ..request(&plan)
    };
    m.write("/sys/block/sda/queue/discard_max_bytes", "512\n");
    m.write("/sys/block/sdc/queue/discard_max_bytes", "512\n");
    let ctx = Ctx::new(&dry, STATE);
    provision(&ctx, &env(&dry), &req).unwrap();
    let shown: Vec<String> = dry.commands().iter().map(Cmd::display).collect();
    for d in ["sda", "sdb", "sdc"] {
        assert!(
            shown.contains(&format!("blkdiscard -f /dev/{d}")),
            "{shown:#?}"
        );
    }
}

#[test]
fn a_teardown_that_does_not_stick_fails_before_partitioning() {
    let plan = testkit::disko_applied_plan();
    let m = Machine::for_plan(&plan);
    m.write("/run/pre-nixos-fixture/blkid/sdb", "TYPE=ext4\n");
    let host = FakeHost::new(m.root());
    // The old stack comes back on every read (udev reassembling it).
    testkit::script_capture(&host, "existing-rebooted");
    let ctx = Ctx::new(&host, STATE);
    let req = Request {
        wipe: Some(WipeSpec::All),
        wipe_methods: Default::default(),
        ..request(&plan)
    };
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(out.status.detail, "teardown", "{:?}", out.status);
    assert!(out
        .status
        .error
        .as_deref()
        .unwrap()
        .contains("still present after two passes"));
    assert!(host
        .command_lines()
        .iter()
        .all(|c| !c.starts_with("sgdisk --clear")));
}

/// The disko capture's machine after a reboot (its layout in place, swap off), with
/// `blkid` as what libblkid reports for sda, on a fake host that mounts and swaps on.
fn rebooted_provisioned(plan: &crate::plan::Plan, blkid: &str) -> (Machine, FakeHost) {
    let m = testkit::capture_machine(plan, "disko-rebooted");
    m.add_expected_nodes(plan);
    m.write("/run/pre-nixos-fixture/blkid/sda", blkid);
    let host = FakeHost::new(m.root());
    testkit::script_capture(&host, "disko-rebooted");
    let root = m.root().to_owned();
    host.on_with_effect(&["mount"], Response::stdout(""), move |_| {
        std::fs::write(
            root.join("proc/self/mountinfo"),
            testkit::capture("disko-applied", "mountinfo.txt"),
        )
        .unwrap();
    });
    // After a reboot swap is off (the capture's /proc/swaps is empty) until the
    // mount step's swapon: verify, which checks it is on, runs after that step.
    assert!(!std::fs::read_to_string(m.path("/proc/swaps"))
        .unwrap()
        .contains("dm-2"));
    let root = m.root().to_owned();
    host.on_with_effect(&["swapon"], Response::stdout(""), move |_| {
        std::fs::write(
            root.join("proc/swaps"),
            testkit::capture("disko-applied", "swaps.txt"),
        )
        .unwrap();
    });
    (m, host)
}

/// An apply cut after verify, before the done marker: the next boot finds the layout
/// in place and sda still saying "in progress". It changes nothing of the layout, and
/// after verify gives sda (only) the done marker; run again, there is nothing left to mark.
#[test]
fn already_provisioned_finishes_a_marker_left_in_progress() {
    let plan = testkit::disko_applied_plan();
    let markers = resume::Markers::for_layout(&plan.layout);
    let (m, host) = rebooted_provisioned(
        &plan,
        &format!("PTTYPE=gpt\nPTUUID={}\n", markers.in_progress),
    );
    let blkid = m.path("/run/pre-nixos-fixture/blkid/sda");
    let done = markers.done.clone();
    host.on_with_effect(&["sgdisk"], Response::stdout(""), move |_| {
        std::fs::write(&blkid, format!("PTTYPE=gpt\nPTUUID={done}\n")).unwrap();
    });
    let ctx = Ctx::new(&host, STATE);
    let req = request(&plan);
    let out = provision(&ctx, &env(&host), &req).unwrap();
    let sda = plan.layout.disks[0].stable_path.clone();
    assert_eq!(
        out.policy,
        Policy::AlreadyProvisioned {
            unfinished: vec![sda.clone()]
        },
        "{:?}",
        out.status
    );
    assert!(status_file(&m).starts_with("STATE=applied\nDETAIL=already-provisioned\n"));
    let lines = host.command_lines();
    let marks: Vec<(usize, &String)> = lines
        .iter()
        .enumerate()
        .filter(|(_, c)| c.starts_with("sgdisk"))
        .collect();
    assert_eq!(
        marks.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>(),
        vec![format!("sgdisk --disk-guid={} {sda}", markers.done)],
        "{lines:#?}"
    );
    let verify_read = lines.iter().rposition(|c| c.starts_with("lvs")).unwrap();
    assert!(
        marks[0].0 > verify_read,
        "marked before verify read back: {lines:#?}"
    );
    assert!(lines
        .iter()
        .all(|c| !c.starts_with("mkfs") && !c.starts_with("wipefs")));

    let before = host.commands().len();
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(
        out.policy,
        Policy::AlreadyProvisioned {
            unfinished: Vec::new()
        }
    );
    assert!(host.command_lines()[before..]
        .iter()
        .all(|c| !c.starts_with("sgdisk")));
}

#[test]
fn already_provisioned_mounts_and_changes_nothing() {
    let plan = testkit::disko_applied_plan();
    // What detection sees on a provisioned disk.
    let (m, host) = rebooted_provisioned(&plan, "PTTYPE=gpt\n");
    let ctx = Ctx::new(&host, STATE);
    let req = Request {
        wipe: Some(WipeSpec::All),
        wipe_methods: Default::default(),
        ..request(&plan)
    };
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(
        out.policy,
        Policy::AlreadyProvisioned {
            unfinished: Vec::new()
        },
        "{:?}",
        out.status
    );
    assert!(status_file(&m).starts_with("STATE=applied\nDETAIL=already-provisioned\n"));
    let writes: Vec<String> = host
        .command_lines()
        .into_iter()
        .filter(|c| {
            ![
                "lsblk",
                "pvs",
                "vgs",
                "lvs",
                "mdadm --detail",
                "udevadm settle",
            ]
            .iter()
            .any(|q| c.starts_with(q))
        })
        .collect();
    assert!(
        writes.iter().all(|c| c.starts_with("mkdir -p /mnt")
            || c.starts_with("mount ")
            || c.starts_with("swapon ")),
        "{writes:?}"
    );
    assert_eq!(writes.last().unwrap(), "swapon /dev/swap/swap");

    // Running again in the same boot changes nothing at all.
    m.write(
        "/proc/swaps",
        &testkit::capture("disko-applied", "swaps.txt"),
    );
    let before = host.commands().len();
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(
        out.policy,
        Policy::AlreadyProvisioned {
            unfinished: Vec::new()
        },
        "{:?}",
        out.status
    );
    let again: Vec<String> = host.command_lines()[before..]
        .iter()
        .filter(|c| {
            ![
                "lsblk",
                "pvs",
                "vgs",
                "lvs",
                "mdadm --detail",
                "udevadm settle",
            ]
            .iter()
            .any(|q| c.starts_with(q))
        })
        .cloned()
        .collect();
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_failed_probe_is_a_detection_error_not_a_clean_disk() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.write("/run/pre-nixos-fixture/blkid/sdc.err", "EACCES\n");
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    provision(&ctx, &env(&host), &request(&plan)).unwrap();
    let st = status_file(&m);
    assert!(
        st.starts_with("STATE=plan-only\nDETAIL=detection-error\n"),
        "{st}"
    );
    assert!(
        st.contains("probing /dev/sdc with libblkid: Permission denied"),
        "{st}"
    );
    assert!(
        host.command_lines().iter().all(|c| c.starts_with("lsblk")),
        "{:?}",
        host.command_lines()
    );
}

#[test]
fn a_wipe_switch_naming_some_dirty_disks_wipes_only_those() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.write("/run/pre-nixos-fixture/blkid/sdb", "TYPE=ext4\nLABEL=a\n");
    m.write("/run/pre-nixos-fixture/blkid/sdc", "TYPE=ext4\nLABEL=b\n");
    let host = FakeHost::new(m.root());
    host.on(&["lsblk"], Response::stdout(CLEAN_LSBLK));
    host.on(&["pvs"], Response::stdout(r#"{"report":[{"pv":[]}]}"#));
    host.on(&["vgs"], Response::stdout(r#"{"report":[{"vg":[]}]}"#));
    host.on(&["lvs"], Response::stdout(r#"{"report":[{"lv":[]}]}"#));
    let root = m.root().to_owned();
    host.on_with_effect(
        &["wipefs", "-a", "/dev/sdb"],
        Response::stdout(""),
        move |_| {
            let _ = std::fs::remove_file(root.join("run/pre-nixos-fixture/blkid/sdb"));
        },
    );
    let ctx = Ctx::new(&host, STATE);
    let req = Request {
        wipe: Some(WipeSpec::Serials(vec!["HDDA".into()])),
        wipe_methods: Default::default(),
        ..request(&plan)
    };
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(out.status.state, State::PlanOnly, "{:?}", out.status);
    assert_eq!(out.status.detail, "existing-storage");
    let error = out.status.error.clone().unwrap_or_default();
    assert!(error.contains("sdc (HDDB)"), "{error}");
    assert!(error.contains("pre-nixos.wipe=HDDB"), "{error}");
    assert!(error.contains("were wiped"), "{error}");
    let lines = host.command_lines();
    // The named disk was wiped; the other dirty disk and the clean SSD were not
    // touched, and nothing was created.
    assert!(
        lines.iter().any(|l| l == "wipefs -a /dev/sdb"),
        "{lines:#?}"
    );
    for l in &lines {
        assert!(!l.contains("/dev/sdc") && !l.contains("/dev/sda"), "{l}");
        for create in [
            "sgdisk --new",
            "mdadm --create",
            "pvcreate",
            "mkfs",
            "mount ",
        ] {
            assert!(!l.starts_with(create) && !l.contains(" --new="), "{l}");
        }
    }
    assert!(status_file(&m).starts_with("STATE=plan-only\nDETAIL=existing-storage\n"));
}

#[test]
fn a_disko_that_cannot_build_its_scripts_is_refused_before_any_disk_is_touched() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.install_tools(&["disko"]);
    // Someone's data on sdb, and a switch that allows wiping everything.
    m.write(
        "/run/pre-nixos-fixture/blkid/sdb",
        "TYPE=ext4\nLABEL=olddata\n",
    );
    let host = FakeHost::new(m.root());
    host.on(
        &["disko", "--help"],
        Response::stdout("Usage: disko --mode destroy,format,mount --yes-wipe-all-disks"),
    );
    host.on(
        &["disko", "--dry-run"],
        Response::fail(
            1,
            "error: cannot build '/nix/store/…-disko-destroy-format-mount.drv': no binary cache",
        ),
    );
    let ctx = Ctx::new(&host, STATE);
    let req = Request {
        executor: ExecutorKind::Disko,
        wipe: Some(crate::kcmdline::WipeSpec::All),
        wipe_methods: Default::default(),
        ..request(&plan)
    };
    let out = provision(&ctx, &env(&host), &req).unwrap();
    assert_eq!(out.status.state, State::Failed);
    assert_eq!(out.status.detail, "preflight");
    let st = status_file(&m);
    assert!(st.contains("disko cannot build its scripts"), "{st}");
    assert!(st.contains("No disk was touched"), "{st}");
    assert!(st.contains("--executor native"), "{st}");
    // The build was tried; nothing that writes to a disk ran.
    let lines = host.command_lines();
    assert!(
        lines
            .iter()
            .any(|c| c.starts_with("disko --dry-run --mode")),
        "{lines:?}"
    );
    for c in &lines {
        assert!(
            !["wipefs", "sgdisk", "mdadm", "pvcreate", "mkfs", "umount"]
                .iter()
                .any(|w| c.starts_with(w)),
            "a disk was touched: {c} in {lines:?}"
        );
        assert!(!c.starts_with("disko --mode"), "disko ran: {c}");
    }
}

#[test]
fn a_second_run_while_the_lock_is_held_reads_nothing_writes_nothing() {
    // Run A holds the lock and has written STATE=running. Run B — a refusal (existing
    // storage) or an apply (clean disks) — must neither detect, nor run a command,
    // nor write the plan or a status over A's.
    for dirty in [true, false] {
        let plan = testkit::ssd_and_hdd_pair();
        let m = Machine::for_plan(&plan);
        if dirty {
            m.write("/run/pre-nixos-fixture/blkid/sdb", "TYPE=ext4\n");
        }
        let host = FakeHost::new(m.root());
        let ctx = Ctx::new(&host, STATE);
        let a = crate::state::lock::ApplyLock::acquire(&host, Path::new(STATE)).unwrap();
        m.write("/run/pre-nixos/storage-status", "STATE=running\nDETAIL=\n");
        let e = provision(&ctx, &env(&host), &request(&plan)).unwrap_err();
        assert!(
            e.downcast_ref::<crate::state::lock::Busy>().is_some(),
            "{e:#}"
        );
        assert_eq!(status_file(&m), "STATE=running\nDETAIL=\n");
        assert!(!m.path("/run/pre-nixos/storage-plan.json").exists());
        assert_eq!(host.command_lines(), Vec::<String>::new());
        a.close().unwrap();
        // Once A is done, B runs as usual and records its own outcome.
        let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
        assert!(!host.command_lines().is_empty() || dirty);
        assert!(status_file(&m).contains(&format!("DETAIL={}\n", out.status.detail)));
        if dirty {
            assert_eq!(out.status.detail, "existing-storage", "{:?}", out.status);
        }
    }
}

#[test]
fn a_stick_carrying_our_label_stops_the_apply_before_any_write() {
    let plan = testkit::ssd_and_hdd_pair();
    let m = Machine::for_plan(&plan);
    m.write("/sys/block/sdd/dev", "8:48\n");
    m.write("/sys/block/sdd/sdd1/partition", "1\n");
    m.write("/sys/class/block/sdd1/dev", "8:49\n");
    m.symlink("/dev/disk/by-label/slash", "../../sdd1");
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, STATE);
    let out = provision(&ctx, &env(&host), &request(&plan)).unwrap();
    assert_eq!(out.status.state, State::Failed, "{:?}", out.status);
    assert_eq!(out.status.detail, "name-collision");
    assert!(
        out.status
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("/dev/disk/by-label/slash → /dev/sdd1"),
        "{:?}",
        out.status
    );
    for c in host.command_lines() {
        for w in ["sgdisk", "wipefs", "mkfs", "mdadm", "pvcreate", "mount"] {
            assert!(!c.starts_with(w), "{c}");
        }
    }
}

#[test]
fn a_disk_without_serial_is_known_by_its_wwn_and_model() {
    let mut plan = testkit::single_nvme();
    let d = &mut plan.layout.disks[0];
    d.serial = None;
    d.wwn = Some("eui.0001".into());
    d.model = Some("Vendor_Disk".into());
    let m = Machine::for_plan(&plan);
    let udev = format!(
        "/run/pre-nixos-fixture/udev/block/{}",
        plan.layout.disks[0].name
    );
    let host = FakeHost::new(m.root());
    // Same size and path, but no WWN: another disk in that slot.
    let e = check_identity(&host, &plan.layout.disks[0]).unwrap_err();
    assert!(
        format!("{e:#}").contains("WWN none where the plan has eui.0001"),
        "{e:#}"
    );
    let text = std::fs::read_to_string(m.path(&udev)).unwrap();
    m.write(&udev, &format!("{text}ID_WWN=eui.0001\n"));
    check_identity(&host, &plan.layout.disks[0]).unwrap();
    plan.layout.disks[0].model = Some("Other Disk".into());
    let e = check_identity(&host, &plan.layout.disks[0]).unwrap_err();
    assert!(
        format!("{e:#}").contains("model Vendor_Disk where the plan has Other Disk"),
        "{e:#}"
    );
}

/// A plan made on another machine: none of its disks is here. The dry run goes on past
/// the identity checks under the plan's own names and records every command a run on
/// the plan's machine would (the same list as a dry run there), while
/// [`identity_failures`] names every disk that fails here. A real run of the same plan
/// stops at the identity guard and runs nothing that writes.
#[test]
fn a_foreign_plans_dry_run_shows_every_command_and_a_real_run_writes_nothing() {
    let plan = testkit::ssd_and_hdd_pair();
    let here = Machine::new();
    here.install_tools(testkit::ALL_TOOLS);

    let fake = FakeHost::new(here.root());
    let dry = dryrun::DryRunHost::new(&fake);
    let ctx = Ctx::new(&dry, STATE);
    let out = provision(&ctx, &env(&dry), &request(&plan)).unwrap();
    assert_eq!(out.status.state, State::Applied, "{:?}", out.status);
    let recorded: Vec<String> = dry.commands().iter().map(Cmd::display).collect();
    for tool in ["sgdisk --clear", "mdadm --create", "mkfs.ext4", "lvcreate"] {
        assert!(
            recorded.iter().any(|c| c.starts_with(tool)),
            "no {tool} in {recorded:#?}"
        );
    }
    // The same list as a dry run on the plan's own machine.
    let there = Machine::for_plan(&plan);
    let fake_there = FakeHost::new(there.root());
    let dry_there = dryrun::DryRunHost::new(&fake_there);
    let ctx_there = Ctx::new(&dry_there, STATE);
    provision(&ctx_there, &env(&dry_there), &request(&plan)).unwrap();
    let expected: Vec<String> = dry_there.commands().iter().map(Cmd::display).collect();
    pretty_assertions::assert_eq!(recorded, expected);
    let failures = identity_failures(&dry, &plan);
    assert_eq!(failures.len(), plan.layout.disks.len(), "{failures:#?}");
    assert!(
        failures.iter().all(|f| f.contains("not present")),
        "{failures:#?}"
    );
    for c in fake.commands() {
        assert!(dryrun::is_read_only(&c), "a dry run ran {}", c.display());
    }

    // The real run of the same plan: the identity guard, and no write.
    let real = FakeHost::new(here.root());
    let ctx = Ctx::new(&real, STATE);
    let out = provision(&ctx, &env(&real), &request(&plan)).unwrap();
    assert_eq!(
        (out.status.state, out.status.detail.as_str()),
        (State::Failed, "identity"),
        "{:?}",
        out.status
    );
    for c in real.commands() {
        assert!(
            dryrun::is_read_only(&c),
            "a refused run ran {}",
            c.display()
        );
    }
}

/// One read of `path` by [`readers_see_whole_files_on_every_write_path`]: a file that is
/// there parses whole, and a file seen once (`seen`) is still there.
fn look<T>(
    kind: &str,
    path: &Path,
    seen: &mut bool,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let v = parse(&text)
                .unwrap_or_else(|e| panic!("{kind}: a torn {}: {e}\n{text:?}", path.display()));
            *seen = true;
            Some(v)
        }
        Err(e) => {
            assert!(!*seen, "{kind}: {} went away: {e}", path.display());
            None
        }
    }
}

/// A reader of `storage-status` and `storage-plan.json` (`pre-nixos status`, the TUI,
/// an operator's `cat` in a loop) never sees half a file or no file once one was
/// there, whichever way a run ends: applied, refused (existing storage), plan-only,
/// failed mid-apply, or busy (another run holds the lock and this one writes nothing).
/// Each path runs again and again under a reader that reads as fast as it can.
#[test]
fn readers_see_whole_files_on_every_write_path() {
    use std::sync::atomic::{AtomicBool, Ordering};
    const ROUNDS: usize = 15;
    let mut seen = std::collections::BTreeMap::<&str, std::collections::BTreeSet<String>>::new();
    let mut reads = 0usize;
    for kind in ["applied", "existing-storage", "plan-only", "failed", "busy"] {
        for _ in 0..ROUNDS {
            let (m, host, plan) = match kind {
                "applied" => testkit::applying_machine(),
                _ => {
                    let plan = testkit::ssd_and_hdd_pair();
                    let m = Machine::for_plan(&plan);
                    m.add_expected_nodes(&plan);
                    let host = FakeHost::new(m.root());
                    (m, host, plan)
                }
            };
            if kind == "existing-storage" {
                m.write("/run/pre-nixos-fixture/blkid/sdb", "TYPE=ext4\n");
            }
            if kind == "failed" {
                host.on(
                    &["mkfs.ext4", "-F", "-L", "home"],
                    Response::fail(1, "mke2fs: in use"),
                );
            }
            let ctx = Ctx::new(&host, STATE);
            let held = (kind == "busy").then(|| {
                let l = crate::state::lock::ApplyLock::acquire(&host, Path::new(STATE)).unwrap();
                m.write("/run/pre-nixos/storage-status", "STATE=running\nDETAIL=\n");
                l
            });
            let stop = AtomicBool::new(false);
            let (status_path, plan_path) = (
                m.path("/run/pre-nixos/storage-status"),
                m.path("/run/pre-nixos/storage-plan.json"),
            );
            let mut req = request(&plan);
            req.boot.plan_only = kind == "plan-only";
            let (states, n) = std::thread::scope(|s| {
                let reader = s.spawn(|| {
                    let mut states = std::collections::BTreeSet::new();
                    let mut n = 0usize;
                    let (mut had_status, mut had_plan) = (false, false);
                    // At least one read after the run, so the final file is read too.
                    let mut last = false;
                    while !last {
                        last = stop.load(Ordering::SeqCst);
                        let status = look(kind, &status_path, &mut had_status, |t| {
                            crate::state::status::StorageStatus::parse("storage-status", t)
                                .map_err(|e| e.to_string())
                        });
                        if let Some(st) = status {
                            states.insert(format!("{}/{}", st.state, st.detail));
                        }
                        look(kind, &plan_path, &mut had_plan, |t| {
                            serde_json::from_str::<Plan>(t).map_err(|e| e.to_string())
                        });
                        n += 1;
                    }
                    (states, n)
                });
                let out = provision(&ctx, &env(&host), &req);
                match kind {
                    "busy" => assert!(out.is_err(), "{kind}"),
                    _ => assert!(out.is_ok(), "{kind}: {:?}", out.err()),
                }
                stop.store(true, Ordering::SeqCst);
                reader.join().unwrap()
            });
            drop(held);
            reads += n;
            seen.entry(kind).or_default().extend(states);
        }
    }
    // The last read of each path saw its final state; a busy run saw only the other
    // run's status.
    let expect = |k: &str| seen[k].iter().map(String::as_str).collect::<Vec<_>>();
    assert!(
        expect("applied").contains(&"applied/auto-applied"),
        "{seen:?}"
    );
    assert!(
        expect("existing-storage").contains(&"plan-only/existing-storage"),
        "{seen:?}"
    );
    assert!(
        expect("plan-only").contains(&"plan-only/requested"),
        "{seen:?}"
    );
    assert!(expect("failed").contains(&"failed/mkfs"), "{seen:?}");
    assert_eq!(expect("busy"), ["running/"], "{seen:?}");
    assert!(reads >= 5 * ROUNDS, "{reads}");
}
