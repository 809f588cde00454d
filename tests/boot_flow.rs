//! `pre-nixos boot` end to end on fixture machines, through the real inventory,
//! planner, detection and policy: the outcomes that change nothing must change
//! nothing, and every outcome is recorded in storage-status.

use std::path::Path;

use pre_nixos::boot;
use pre_nixos::boot::BootRequest;
use pre_nixos::context::Ctx;
use pre_nixos::host::fake::FakeHost;
use pre_nixos::inventory::fixture::{BlockDev, FixtureTree};
use pre_nixos::state::status::{self, State};

const STATE: &str = "/run/pre-nixos";

/// One NVMe (system) and one 4 TB HDD; `hdd_blkid` is what libblkid finds on the HDD.
fn machine(cmdline: &str, hdd_blkid: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.file("/proc/cmdline", &format!("{cmdline}\n")).unwrap();
    t.meminfo_kib(16 * 1024 * 1024).unwrap();
    t.mounts(&[("0:30", "/", "tmpfs", "tmpfs")]).unwrap();
    t.file("/proc/swaps", "Filename Type Size Used Priority\n")
        .unwrap();
    t.add(
        &BlockDev::new("nvme0n1", "259:0")
            .gib(1000)
            .rotational(Some(false))
            .prop("ID_SERIAL_SHORT", "S1NV")
            .prop("ID_SERIAL", "Samsung_SSD_980_1TB_S1NV_1")
            .prop("ID_WWN", "eui.002538b911b2c3d4")
            .prop("DEVLINKS", "/dev/disk/by-id/nvme-eui.002538b911b2c3d4"),
    )
    .unwrap();
    let mut hdd = BlockDev::new("sda", "8:0")
        .gib(4000)
        .rotational(Some(true))
        .prop("ID_BUS", "ata")
        .prop("ID_SERIAL_SHORT", "ZC1ABCDE")
        .prop("ID_SERIAL", "ST4000NM0035_ZC1ABCDE")
        .prop("DEVLINKS", "/dev/disk/by-id/ata-ST4000NM0035_ZC1ABCDE");
    if let Some(b) = hdd_blkid {
        hdd = hdd.blkid(b);
    }
    t.add(&hdd).unwrap();
    t.symlink("/dev/disk/by-id/nvme-eui.002538b911b2c3d4", "../../nvme0n1")
        .unwrap();
    t.symlink("/dev/disk/by-id/ata-ST4000NM0035_ZC1ABCDE", "../../sda")
        .unwrap();
    dir
}

/// Commands that write to a disk (as opposed to reading the layout, or the
/// network stage's own commands).
fn disk_writes(host: &FakeHost) -> Vec<String> {
    const WRITERS: &[&str] = &[
        "sgdisk", "mdadm", "pvcreate", "vgcreate", "lvcreate", "mkfs", "mkswap", "wipefs",
        "vgchange", "lvremove", "vgremove", "pvremove", "mount", "swapon", "disko",
    ];
    host.command_lines()
        .into_iter()
        .filter(|c| WRITERS.iter().any(|w| c.starts_with(w)))
        .collect()
}

fn run(dir: &tempfile::TempDir) -> (u8, status::StorageStatus, FakeHost) {
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, STATE);
    let code = boot::run(&ctx, &BootRequest::default()).unwrap();
    let st = status::read_storage(&host, Path::new(STATE))
        .unwrap()
        .expect("storage-status written");
    (code, st, host)
}

#[test]
fn existing_storage_is_left_alone_and_the_message_names_the_switch() {
    let dir = machine("console=ttyS0", Some("TYPE=ext4\nLABEL=backup\n"));
    let (code, st, host) = run(&dir);
    assert_eq!(code, 0);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::PlanOnly, "existing-storage"),
        "{st:?}"
    );
    let err = st.error.unwrap();
    assert!(err.contains("signature:ext4"), "{err}");
    assert!(err.contains("pre-nixos.wipe=ZC1ABCDE"), "{err}");
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
    assert!(dir.path().join("run/pre-nixos/storage-plan.json").is_file());
}

#[test]
fn plan_only_on_the_kernel_command_line_changes_nothing() {
    let dir = machine("console=ttyS0 pre-nixos.plan-only=1", None);
    let (code, st, host) = run(&dir);
    assert_eq!(code, 0);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::PlanOnly, "requested"),
        "{st:?}"
    );
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
}

#[test]
fn a_wipe_switch_naming_an_absent_serial_fails_before_anything() {
    let dir = machine("pre-nixos.wipe=NOPE123", Some("TYPE=ext4\n"));
    let (code, st, host) = run(&dir);
    assert_eq!(code, 1);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::Failed, "wipe-switch"),
        "{st:?}"
    );
    assert!(st.error.unwrap().contains("NOPE123"));
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
}

#[test]
fn missing_tools_fail_before_any_disk_is_touched() {
    let dir = machine("console=ttyS0", None);
    let (code, st, host) = run(&dir);
    assert_eq!(code, 1);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::Failed, "tools"),
        "{st:?}"
    );
    let err = st.error.unwrap();
    assert!(
        err.contains("sgdisk") && err.contains("no disk was touched"),
        "{err}"
    );
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
}

#[test]
fn clean_disks_are_applied_in_order_starting_with_the_identity_checked_disks() {
    let dir = machine("console=ttyS0", None);
    // The tools, wherever this test's PATH looks for them.
    for d in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| d.starts_with('/'))
    {
        for t in pre_nixos::testkit::ALL_TOOLS {
            let p = dir.path().join(d.trim_start_matches('/')).join(t);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
    }
    let (code, st, host) = run(&dir);
    // The fake disks never grow the nodes udev would make, so the first wait fails —
    // after STATE=running was recorded and only the first disk was partitioned.
    assert_eq!(code, 1);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::Failed, "partition"),
        "{st:?}"
    );
    assert!(
        st.error
            .as_deref()
            .unwrap()
            .contains("waiting for /dev/disk/by-partlabel/"),
        "{st:?}"
    );
    let writes = disk_writes(&host);
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(writes[0].starts_with("sgdisk --clear"), "{writes:?}");
    assert!(
        writes[0].ends_with("/dev/disk/by-id/ata-ST4000NM0035_ZC1ABCDE"),
        "{writes:?}"
    );
    assert_eq!(writes[1], "wipefs -a /dev/sda1");
    // Neither the boot before the inventory nor a storage step waits for the whole
    // system's udev queue: each waits for its own devices or node.
    let settles: Vec<String> = host
        .command_lines()
        .into_iter()
        .filter(|c| c.starts_with("udevadm settle"))
        .collect();
    assert!(settles.is_empty(), "{settles:?}");
}

/// `pre-nixos boot --plan-only` / `--wipe` mean what `pre-nixos.plan-only=1` and
/// `pre-nixos.wipe=` mean, and win over the kernel command line.
fn run_cli(dir: &tempfile::TempDir, argv: &[&str]) -> (u8, status::StorageStatus, FakeHost) {
    use clap::Parser;
    let cli = pre_nixos::cli::Cli::try_parse_from(argv).unwrap();
    let Some(pre_nixos::cli::Command::Boot(args)) = cli.command else {
        panic!("{argv:?} is not boot");
    };
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, STATE);
    let code = pre_nixos::cmd::boot::run(&ctx, &args).unwrap();
    let st = status::read_storage(&host, Path::new(STATE))
        .unwrap()
        .expect("storage-status written");
    (code, st, host)
}

#[test]
fn boot_plan_only_on_the_command_line_is_the_kernel_switch() {
    let dir = machine("console=ttyS0", None);
    let (code, st, host) = run_cli(&dir, &["pre-nixos", "boot", "--plan-only"]);
    assert_eq!(code, 0);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::PlanOnly, "requested"),
        "{st:?}"
    );
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
}

#[test]
fn boot_wipe_on_the_command_line_is_the_kernel_switch() {
    let dir = machine("console=ttyS0", Some("TYPE=ext4\n"));
    let (code, st, host) = run_cli(&dir, &["pre-nixos", "boot", "--wipe", "NOPE123"]);
    assert_eq!(code, 1);
    assert_eq!(
        (st.state, st.detail.as_str()),
        (State::Failed, "wipe-switch"),
        "{st:?}"
    );
    assert!(st.error.unwrap().contains("NOPE123"));
    assert!(disk_writes(&host).is_empty(), "{:?}", disk_writes(&host));
}

/// `boot --dry-run`: the whole flow over the dry-run host. The machine sees only the
/// commands that look (the fake host records every command, and nothing lands in its
/// root); the dry-run host holds the network files, the disk commands and the status
/// files the real boot would write, and the printout lists them.
#[test]
fn boot_dry_run_changes_nothing_and_shows_the_whole_flow() {
    use clap::Parser;
    let dir = machine("console=ttyS0", None);
    for d in std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .filter(|d| d.starts_with('/'))
    {
        for t in pre_nixos::testkit::ALL_TOOLS {
            let p = dir.path().join(d.trim_start_matches('/')).join(t);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "").unwrap();
        }
    }
    let before = tree(dir.path());
    let cli = pre_nixos::cli::Cli::try_parse_from(["pre-nixos", "boot", "--dry-run"]).unwrap();
    let Some(pre_nixos::cli::Command::Boot(args)) = cli.command else {
        panic!("not boot");
    };
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, STATE);
    let (dry, outcome) = pre_nixos::cmd::boot::dry_run(&ctx, &args).unwrap();

    // Nothing real: every command the machine ran only looked, and no file changed.
    for c in host.commands() {
        assert!(
            pre_nixos::host::dryrun::is_read_only(&c),
            "a dry run ran {}",
            c.display()
        );
    }
    assert_eq!(tree(dir.path()), before, "a dry run changed the root");
    assert!(!pre_nixos::host::Host::exists(
        &host,
        &Path::new(STATE).join(status::STORAGE_STATUS)
    ));

    // The whole flow is in the recording: storage as far as the real run goes.
    let cmds: Vec<String> = dry
        .commands()
        .iter()
        .map(pre_nixos::host::Cmd::display)
        .collect();
    assert!(
        cmds.iter().any(|c| c.starts_with("sgdisk --clear")
            && c.ends_with("/dev/disk/by-id/ata-ST4000NM0035_ZC1ABCDE")),
        "{cmds:#?}"
    );
    assert!(cmds.iter().any(|c| c.starts_with("mkfs")), "{cmds:#?}");
    assert!(
        cmds.iter()
            .any(|c| c == &format!("write {STATE}/{}", status::STORAGE_STATUS)),
        "{cmds:#?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c == &format!("write {STATE}/{}", status::NETWORK_STATUS)),
        "{cmds:#?}"
    );
    let mut out = Vec::new();
    let state = format!("{}/{}", outcome.status.state, outcome.status.detail);
    pre_nixos::cmd::boot::write_dry_run(&mut out, &dry, &state).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("# dry run: nothing was changed"), "{text}");
    assert!(text.contains("run    sgdisk --clear"), "{text}");
    assert!(
        text.contains(&format!("write  {STATE}/{}", status::STORAGE_STATUS)),
        "{text}"
    );
    assert!(text.ends_with(&format!(
        "storage: {state} (as the dry run would record it)\n"
    )));
}

/// Every file under `root` with its contents (a symlink as its target).
fn tree(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let shown = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                out.push((shown, std::fs::read_link(&p).unwrap().display().to_string()));
            } else if meta.is_dir() {
                out.push((shown, "dir".into()));
                stack.push(p);
            } else {
                out.push((
                    shown,
                    String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into(),
                ));
            }
        }
    }
    out.sort();
    out
}
