//! `pre-nixos status` and `pre-nixos diagnose` on fixture roots: a FakeHost over a
//! temporary directory holding the state directory, with scripted `systemctl` and
//! `sshd -T` answers. One test per situation an operator meets on the console:
//! nothing run yet, applied, plan-only with reasons, failed with an error, corrupt
//! state files; and for `diagnose` a hung command, a missing tool and the full list
//! of bundle files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pre_nixos::context::Ctx;
use pre_nixos::debug::diagnose::{self, Options, Outcome};
use pre_nixos::debug::status::{self as report, VerifyReport};
use pre_nixos::host::fake::{FakeHost, Response};
use pre_nixos::host::{CmdOutput, Host};
use pre_nixos::inventory::DiskKind;
use pre_nixos::plan::*;
use pre_nixos::state::status::{self, NetworkStatus, State, StorageStatus};
use pre_nixos::units::GIB;

const STATE_DIR: &str = "/run/pre-nixos";

const SSHD_HARDENED: &str = "port 22\npermitrootlogin without-password\n\
                             passwordauthentication no\nkbdinteractiveauthentication no\n\
                             authenticationmethods publickey\n";

/// `systemctl show -p Id,LoadState,ActiveState,SubState sshd.service ssh.service
/// sshd.socket ssh.socket` on NixOS: sshd.service is the unit, ssh.* do not exist.
const SHOW_SSHD_NIXOS: &str = "Id=sshd.service\nLoadState=loaded\nActiveState=active\n\
    SubState=running\n\nId=ssh.service\nLoadState=not-found\nActiveState=inactive\n\
    SubState=dead\n\nId=sshd.socket\nLoadState=not-found\nActiveState=inactive\n\
    SubState=dead\n\nId=ssh.socket\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n";

/// The same on Debian 12: `sshd.service` is an alias of `ssh.service`.
const SHOW_SSHD_DEBIAN: &str = "Id=ssh.service\nLoadState=loaded\nActiveState=active\n\
    SubState=running\n\nId=ssh.service\nLoadState=loaded\nActiveState=active\n\
    SubState=running\n\nId=ssh.socket\nLoadState=loaded\nActiveState=inactive\n\
    SubState=dead\n\nId=ssh.socket\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n";

fn unit_show(active: &str, sub: &str, result: &str, status: &str) -> String {
    format!(
        "LoadState=loaded\nActiveState={active}\nSubState={sub}\nResult={result}\n\
         ExecMainStatus={status}\n"
    )
}

/// A host whose systemd and sshd answer like a healthy booted ISO.
fn host(dir: &Path) -> FakeHost {
    host_with_unit(dir, &unit_show("inactive", "dead", "success", "0"))
}

/// The same, with `systemctl show … pre-nixos.service` answering `unit`.
fn host_with_unit(dir: &Path, unit: &str) -> FakeHost {
    let h = FakeHost::new(dir);
    h.on(
        &[
            "systemctl",
            "show",
            "-p",
            "Id,LoadState,ActiveState,SubState",
        ],
        Response::stdout(SHOW_SSHD_NIXOS),
    );
    h.on(
        &[
            "systemctl",
            "show",
            "-p",
            "LoadState,ActiveState,SubState,Result,ExecMainStatus",
        ],
        Response::stdout(unit),
    );
    h.on(&["systemctl", "list-jobs"], Response::stdout(""));
    h.on(&["sshd", "-T"], Response::stdout(SSHD_HARDENED));
    h
}

/// Two 480 GB SSDs mirrored into VG `main` (careful mode).
fn sample_plan() -> Plan {
    let disk = |key: &str, name: &str, serial: &str, esp: &str, mp: Option<&str>| PlannedDisk {
        key: key.into(),
        name: name.into(),
        stable_path: format!("/dev/disk/by-id/ata-SSD_{serial}"),
        serial: Some(serial.into()),
        wwn: None,
        model: None,
        size_bytes: 480_103_981_056,
        kind: DiskKind::Ssd,
        partitions: vec![
            Partition {
                number: 1,
                key: "ESP".into(),
                partlabel: format!("disk-{key}-ESP"),
                device: format!("/dev/{name}1"),
                size_bytes: Some(GIB),
                type_code: "EF00".into(),
                role: PartitionRole::Esp {
                    label: esp.into(),
                    mountpoint: mp.map(Into::into),
                    mount_options: vec!["umask=0077".into()],
                },
            },
            Partition {
                number: 2,
                key: "md".into(),
                partlabel: format!("disk-{key}-md"),
                device: format!("/dev/{name}2"),
                size_bytes: None,
                type_code: "FD00".into(),
                role: PartitionRole::RaidMember {
                    array: "main".into(),
                },
            },
        ],
    };
    let ext4 = |name: &str, gib: u64, mp: &str| LogicalVolume {
        name: name.into(),
        extents: gib * GIB / EXTENT_BYTES,
        size_bytes: gib * GIB,
        content: LvContent::Ext4 {
            label: name.into(),
            mountpoint: mp.into(),
            mount_options: vec!["relatime".into()],
            bytes_per_inode: None,
            mode: None,
        },
    };
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        inventory_digest: "sha256:0".into(),
        options: PlanOptions {
            mode: Mode::Careful,
            swap_size_bytes: None,
        },
        ram_bytes: 16 * GIB,
        decisions: vec![],
        layout: Layout {
            disks: vec![
                disk("main0", "sda", "A1", "EFI", Some("/boot")),
                disk("main1", "sdb", "B2", "EFI2", None),
            ],
            arrays: vec![RaidArray {
                name: "main".into(),
                level: RaidLevel::Raid1,
                metadata: "1.2".into(),
                members: vec![
                    "/dev/disk/by-partlabel/disk-main0-md".into(),
                    "/dev/disk/by-partlabel/disk-main1-md".into(),
                ],
                size_bytes: 446 * GIB,
                vg: "main".into(),
            }],
            vgs: vec![VolumeGroup {
                name: "main".into(),
                pvs: vec!["/dev/md/main".into()],
                extent_bytes: EXTENT_BYTES,
                extents: 446 * GIB / EXTENT_BYTES - 2,
                lvs: vec![
                    ext4("slash", 50, "/"),
                    ext4("home", 16, "/home"),
                    LogicalVolume {
                        name: "swap".into(),
                        extents: 32 * GIB / EXTENT_BYTES,
                        size_bytes: 32 * GIB,
                        content: LvContent::Swap {
                            label: "swap".into(),
                        },
                    },
                ],
            }],
        },
        excluded: vec![pre_nixos::inventory::Excluded {
            name: "sdc".into(),
            reason: "USB-attached (ID_BUS=usb)".into(),
            ..Default::default()
        }],
    }
}

fn storage(state: State, detail: &str, error: Option<&str>) -> StorageStatus {
    StorageStatus {
        state,
        detail: detail.into(),
        plan: Some(format!("{STATE_DIR}/storage-plan.json")),
        disks: vec!["sda".into(), "sdb".into()],
        error: error.map(Into::into),
        version: "0.1.0".into(),
        updated: "2026-11-22T04:00:00Z".into(),
    }
}

fn network() -> NetworkStatus {
    NetworkStatus {
        lan_iface: Some("lan".into()),
        lan_mac: Some("52:54:00:12:34:56".into()),
        lan_ipv4: Some("10.0.2.15".into()),
        ssh: "ready".into(),
        ssh_host_keys: vec![
            "256 SHA256:Xq2bWq0cGmUZDO0Pj1WyxM1Iq2Ty6W3hXJVTgs0JPD8 root@nixos (ED25519)".into(),
        ],
        updated: "2026-11-22T04:00:00Z".into(),
    }
}

/// Writes the state files boot leaves behind.
fn write_state(h: &FakeHost, s: &StorageStatus) {
    let dir = Path::new(STATE_DIR);
    status::write_network(h, dir, &network()).unwrap();
    status::write_storage(h, dir, s).unwrap();
    let plan = serde_json::to_string_pretty(&sample_plan()).unwrap();
    h.write_atomic(&dir.join(status::STORAGE_PLAN), plan.as_bytes(), 0o644)
        .unwrap();
}

/// The status screen one line per subject (what the assertions read), after checking
/// that at 80 columns, the width when the terminal's is unknown, no line is longer
/// (but for a single word that cannot be broken) and no word was lost.
fn screen(r: &report::StatusReport) -> String {
    let mut out = Vec::new();
    report::write_human(r, &mut out).unwrap();
    let narrow = String::from_utf8(out).unwrap();
    for line in narrow.lines() {
        assert!(
            line.chars().count() <= 80 || !line.trim().contains(' '),
            "{} columns: {line}\n{narrow}",
            line.chars().count()
        );
    }
    let mut out = Vec::new();
    report::write_human_width(r, usize::MAX, &mut out).unwrap();
    let whole = String::from_utf8(out).unwrap();
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words(&narrow), words(&whole));
    whole
}

fn assert_has(text: &str, needle: &str) {
    assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
}

#[test]
fn status_when_nothing_has_run_yet() {
    let dir = tempfile::tempdir().unwrap();
    let h = host_with_unit(
        dir.path(),
        &unit_show("activating", "start", "success", "0"),
    );
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    assert!(r.nothing_run_yet);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(report::exit_code(&r), 0);
    let text = screen(&r);
    assert_has(
        &text,
        "nothing has run yet: no storage-status or network-status in /run/pre-nixos",
    );
    assert_has(
        &text,
        "plan:     no plan written yet (/run/pre-nixos/storage-plan.json does not exist)",
    );
    assert_has(&text, "verify:   skipped: no plan to compare with");
    assert_has(&text, "unit:     pre-nixos.service activating (start)");
    assert_has(
        &text,
        "next:     pre-nixos.service is still starting; run `pre-nixos status` again",
    );
    // No line pretends a storage state exists.
    assert!(!text.contains("storage:  "), "{text}");
}

#[test]
fn status_when_applied() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    assert_eq!(report::exit_code(&r), 0, "{:?}", r.problems);
    assert!(!r.nothing_run_yet);
    let text = screen(&r);
    assert_has(
        &text,
        "storage:  applied/auto-applied  (updated 2026-11-22T04:00:00Z, pre-nixos 0.1.0)",
    );
    assert_has(&text, "disks: sda sdb");
    assert_has(&text, "plan:     /run/pre-nixos/storage-plan.json");
    assert_has(
        &text,
        "main      446.0 GiB on RAID1 /dev/md/main (sda2, sdb2): slash 50.0 GiB /, home 16.0 GiB /home, swap 32.0 GiB swap",
    );
    assert_has(&text, "left out: sdc (USB-attached (ID_BUS=usb))");
    assert_has(
        &text,
        "lan:      lan 52:54:00:12:34:56 10.0.2.15  (ssh: ready)",
    );
    assert_has(
        &text,
        "host key: 256 SHA256:Xq2bWq0cGmUZDO0Pj1WyxM1Iq2Ty6W3hXJVTgs0JPD8 root@nixos (ED25519)",
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(
        json["network"]["ssh_host_keys"][0],
        "256 SHA256:Xq2bWq0cGmUZDO0Pj1WyxM1Iq2Ty6W3hXJVTgs0JPD8 root@nixos (ED25519)"
    );
    assert_has(
        &text,
        "sshd:     active (running) as sshd.service, hardened",
    );
    assert_has(&text, "jobs:     none pending");
    assert_has(
        &text,
        "unit:     pre-nixos.service inactive (dead), result success",
    );
    // Verify ran against the plan's layout: whatever it says, it is on screen.
    assert!(
        !matches!(r.verify, VerifyReport::Skipped { .. }),
        "{:?}",
        r.verify
    );
    assert_has(&text, "verify:   ");
    // The commands status ran are all bounded.
    for cmd in h.commands() {
        assert!(cmd.timeout.is_some(), "{} has no timeout", cmd.display());
        // Logged at debug: the screen shows the report, not a log of its probes.
        assert!(cmd.quiet, "{} is not quiet", cmd.display());
    }
}

#[test]
fn status_when_plan_only_names_the_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let h = FakeHost::new(dir.path());
    // Debian: ssh.service, password logins still on, one job still queued.
    h.on(
        &[
            "systemctl",
            "show",
            "-p",
            "Id,LoadState,ActiveState,SubState",
        ],
        Response::stdout(SHOW_SSHD_DEBIAN),
    );
    h.on(
        &["sshd", "-T"],
        Response::stdout(
            "permitrootlogin without-password\npasswordauthentication yes\n\
             kbdinteractiveauthentication no\n",
        ),
    );
    h.on(
        &["systemctl", "list-jobs"],
        Response::stdout("500 sshd.service start waiting\n"),
    );
    write_state(
        &h,
        &storage(
            State::PlanOnly,
            "existing-storage",
            Some("sdb: partition-table; sda: signature:ext4"),
        ),
    );
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, false);
    assert_eq!(report::exit_code(&r), 0);
    let text = screen(&r);
    assert_has(&text, "storage:  plan-only/existing-storage");
    assert_has(&text, "why: sdb: partition-table; sda: signature:ext4");
    assert_has(
        &text,
        "sshd:     active (running) as ssh.service, NOT hardened: passwordauthentication is yes, expected no",
    );
    assert_has(&text, "jobs:     1 pending: 500 sshd.service start waiting");
    assert_has(
        &text,
        "next:     nothing was changed because the disks hold data; to review the plan and choose \
         disk by disk on this terminal: `pre-nixos tui`; to use them anyway, DESTROYING what is on \
         them, boot with pre-nixos.wipe=A1,B2 (or pre-nixos.wipe=all), or run \
         `pre-nixos apply --wipe A1,B2`",
    );
    let v = diagnose::verdict(&r);
    assert!(
        v.starts_with(
            "sshd: active, NOT hardened · storage: plan-only/existing-storage \
             (sdb: partition-table; sda: signature:ext4) · jobs pending: sshd.service start waiting"
        ),
        "{v}"
    );
}

#[test]
fn status_when_failed_shows_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let h = host_with_unit(dir.path(), &unit_show("failed", "failed", "exit-code", "1"));
    let err = "creating RAID1 /dev/md/main from sda2, sdb2: mdadm --create exited with status 1: \
               mdadm: cannot open /dev/sdb2: Device or resource busy";
    write_state(&h, &storage(State::Failed, "apply", Some(err)));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, false);
    assert_eq!(report::exit_code(&r), 0);
    let text = screen(&r);
    assert_has(&text, "storage:  failed/apply");
    assert_has(&text, &format!("error: {err}"));
    assert_has(
        &text,
        "unit:     pre-nixos.service failed (failed), result exit-code, exit status 1",
    );
    assert_has(
        &text,
        "next:     storage setup failed: `journalctl -b -u pre-nixos` shows each step",
    );
    // How to retry: the dry run first, then the wipe switch naming the plan's disks.
    assert_has(&text, "first `pre-nixos apply --dry-run`");
    assert_has(
        &text,
        "boot with pre-nixos.wipe=A1,B2 (or pre-nixos.wipe=all), or run `pre-nixos apply --wipe A1,B2`",
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["storage"]["state"], "failed");
    assert_eq!(json["storage"]["error"], err);
    assert_eq!(json["unit"]["result"], "exit-code");
}

#[test]
fn status_when_running_but_the_unit_is_gone_says_it_was_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Running, "apply", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    assert!(
        matches!(r.verify, VerifyReport::Skipped { .. }),
        "{:?}",
        r.verify
    );
    assert_has(
        &screen(&r),
        "note: STATE=running but pre-nixos.service is inactive: the run was interrupted",
    );
}

#[test]
fn status_while_the_started_unit_still_runs_storage_says_so() {
    // Type=exec: the unit is active (running) while storage runs, not activating.
    let dir = tempfile::tempdir().unwrap();
    let h = host_with_unit(dir.path(), &unit_show("active", "running", "success", "0"));
    write_state(&h, &storage(State::Running, "apply", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let text = screen(&report::gather(&ctx, true));
    assert_has(
        &text,
        "next:     storage is being set up; run `pre-nixos status` again",
    );
    assert!(!text.contains("interrupted"), "{text}");
    // active (exited) with STATE=running is a run that stopped.
    let h = host_with_unit(dir.path(), &unit_show("active", "exited", "success", "0"));
    write_state(&h, &storage(State::Running, "apply", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    assert_has(
        &screen(&report::gather(&ctx, true)),
        "note: STATE=running but pre-nixos.service is active: the run was interrupted",
    );
}

#[test]
fn corrupt_storage_status_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    status::write_network(&h, Path::new(STATE_DIR), &network()).unwrap();
    h.write_atomic(
        Path::new("/run/pre-nixos/storage-status"),
        b"STATE=applied\nthis is not a status line\n",
        0o644,
    )
    .unwrap();
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    assert_eq!(report::exit_code(&r), 2);
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].file, "/run/pre-nixos/storage-status");
    let text = screen(&r);
    assert_has(
        &text,
        "PROBLEM:  /run/pre-nixos/storage-status is corrupt: line 2 is not KEY=VALUE: \"this is not a status line\"",
    );
    // Said as corrupt where the storage state goes, not as "nothing written yet", and
    // the fix is not a blind restart of the boot flow.
    assert_has(
        &text,
        "storage:  unknown: storage-status is corrupt (see PROBLEM)",
    );
    assert!(!text.contains("no storage-status written yet"), "{text}");
    assert!(!text.contains("systemctl restart"), "{text}");
    assert_has(&text, "`pre-nixos apply --dry-run` what a new run would do");
    // The rest of the report is still there.
    assert_has(&text, "lan:      lan 52:54:00:12:34:56 10.0.2.15");
    assert_has(
        &text,
        "sshd:     active (running) as sshd.service, hardened",
    );
}

#[test]
fn corrupt_or_missing_plan_exits_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let plan_path = Path::new("/run/pre-nixos/storage-plan.json");
    h.write_atomic(plan_path, b"{\"schema_version\": 1", 0o644)
        .unwrap();
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    assert_eq!(report::exit_code(&r), 2);
    assert_eq!(r.problems[0].file, "/run/pre-nixos/storage-plan.json");
    assert_has(
        &screen(&r),
        "PROBLEM:  /run/pre-nixos/storage-plan.json is not a valid storage plan",
    );

    std::fs::remove_file(h.path(plan_path)).unwrap();
    let r = report::gather(&ctx, true);
    assert_eq!(report::exit_code(&r), 2);
    assert_has(
        &screen(&r),
        "PROBLEM:  /run/pre-nixos/storage-plan.json is missing, although storage-status names it in PLAN=",
    );
}

#[test]
fn status_without_systemctl_or_sshd_still_reports() {
    let dir = tempfile::tempdir().unwrap();
    // Strict: every command is "not found".
    let h = FakeHost::new(dir.path()).strict();
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, false);
    assert_eq!(report::exit_code(&r), 0);
    let text = screen(&r);
    assert_has(&text, "storage:  applied/auto-applied");
    assert_has(&text, "sshd:     unknown, hardening unknown");
    assert_has(&text, "systemctl not found (not installed, or not on PATH)");
    assert_has(&text, "sshd not found (not installed, or not on PATH)");
    assert_has(&text, "jobs:     unknown (systemctl not found");
}

// ---- diagnose -------------------------------------------------------------------

/// The files of a target system that diagnose copies.
fn system_files(dir: &Path) {
    let put = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    put(
        "proc/cmdline",
        "BOOT_IMAGE=/boot/bzImage console=ttyS0,115200n8 pre-nixos.mode=careful\n",
    );
    put(
        "proc/mdstat",
        "Personalities : [raid1]\nmd127 : active raid1 sdb2[1] sda2[0]\nunused devices: <none>\n",
    );
    put(
        "proc/self/mountinfo",
        "22 1 0:21 / / rw - ext4 /dev/vda rw\n",
    );
    put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    put("proc/sys/kernel/hostname", "nixos\n");
    put(
        "etc/systemd/network/10-lan.link",
        "[Match]\nPermanentMACAddress=52:54:00:12:34:56\n[Link]\nName=lan\n",
    );
    put(
        "etc/systemd/network/20-lan.network",
        "[Match]\nName=lan\n[Network]\nDHCP=yes\n",
    );
    put("etc/systemd/network/README", "not a networkd file\n");
    put("etc/ssh/sshd_config", "PermitRootLogin prohibit-password\n");
    let log: String = (0..6000).map(|i| format!("{{\"n\":{i}}}\n")).collect();
    put("var/log/pre-nixos/actions.log", &log);
}

fn diag_options() -> Options {
    Options {
        out: PathBuf::from(diagnose::DEFAULT_OUT),
        self_exe: "pre-nixos".into(),
        name: Some("bundle".into()),
    }
}

fn bundle_files(root: &Path) -> Vec<String> {
    let base = root.join("var/log/pre-nixos/diagnose/bundle");
    let mut out = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(&base).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// journalctl exits 0 with no entry when journald keeps nothing: no evidence, not "ok".
#[test]
fn an_empty_journal_read_is_not_ok() {
    let dir = tempfile::tempdir().unwrap();
    system_files(dir.path());
    let h = host(dir.path());
    h.on(
        &["journalctl", "-k"],
        Response::stdout("-- No entries --\n"),
    );
    h.on(&["journalctl"], Response::stdout(""));
    let ctx = Ctx::new(&h, STATE_DIR);
    let b = diagnose::collect(&ctx, &diag_options()).unwrap();
    for item in ["journal", "journal-text", "kernel-journal"] {
        let e = b.index.entries.iter().find(|e| e.item == item).unwrap();
        assert_eq!(e.outcome, Outcome::Failed, "{e:?}");
        assert!(e.error.as_deref().unwrap().contains("no entries"), "{e:?}");
    }
}

#[test]
fn diagnose_bundle_holds_every_item() {
    let dir = tempfile::tempdir().unwrap();
    system_files(dir.path());
    let h = host(dir.path());
    write_state(
        &h,
        &storage(
            State::PlanOnly,
            "existing-storage",
            Some("sdb: partition-table"),
        ),
    );
    h.on(
        &["pre-nixos", "inventory"],
        Response::stdout("{\"disks\":[]}\n"),
    );
    // 1 = all planned disks clean: an answer, not a failure.
    h.on(
        &["pre-nixos", "detect-storage"],
        Response::Ok(CmdOutput {
            status: Some(1),
            stdout: "{\"disks\":[]}\n".into(),
            ..Default::default()
        }),
    );
    h.on(
        &["pre-nixos", "plan", "--output", "json"],
        Response::stdout("{}\n"),
    );
    h.on(
        &["pre-nixos", "plan", "--output", "disko"],
        Response::stdout("{ }\n"),
    );
    h.on(&["lsblk"], Response::stdout("{\"blockdevices\":[]}\n"));
    let dmesg: String = (0..500).map(|i| format!("[{i}.0] line {i}\n")).collect();
    h.on(&["dmesg"], Response::stdout(dmesg));
    h.on(
        &["journalctl"],
        Response::stdout("{\"MESSAGE\":\"storage: applied\"}\n"),
    );

    let ctx = Ctx::new(&h, STATE_DIR);
    let b = diagnose::collect(&ctx, &diag_options()).unwrap();

    let expected = [
        "INDEX.txt",
        "actions.log",
        "boot-options.json",
        "detect-storage.json",
        "disko-config.nix",
        "dmesg.txt",
        "etc-ssh-sshd_config",
        "etc-systemd-network/10-lan.link",
        "etc-systemd-network/20-lan.network",
        "index.json",
        "inventory.json",
        "ip-addr.json",
        "ip-link.json",
        "ip-route.json",
        "journal.json",
        "journal.txt",
        "kernel-messages.txt",
        "lsblk.json",
        "lvm-lvs.json",
        "lvm-pvs.json",
        "lvm-vgs.json",
        "mdadm-detail-scan.txt",
        "networkctl-status.txt",
        "plan.json",
        "proc-cmdline.txt",
        "proc-mdstat.txt",
        "proc-self-mountinfo.txt",
        "proc-swaps.txt",
        "sshd-T.txt",
        "state/network-status",
        "state/storage-plan.json",
        "state/storage-status",
        "status.json",
        "status.txt",
        "systemctl-list-jobs.txt",
        "systemctl-status-pre-nixos.txt",
        "systemctl-status-sshd.txt",
        "systemctl-status-systemd-networkd.txt",
        "uname.txt",
        "version.txt",
    ];
    assert_eq!(bundle_files(dir.path()), expected);
    let bad: Vec<_> = b
        .index
        .entries
        .iter()
        .filter(|e| e.outcome != Outcome::Ok)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let detect = b
        .index
        .entries
        .iter()
        .find(|e| e.item == "detect-storage")
        .unwrap();
    assert_eq!(detect.exit, Some(1));

    let root = dir.path().join("var/log/pre-nixos/diagnose/bundle");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).unwrap();
    // The build's commit, as `--version` says it.
    let version = read("version.txt");
    assert!(
        version.contains(&format!("commit: {}\n", env!("PRE_NIXOS_COMMIT"))),
        "{version}"
    );
    // Parsed boot options come from the cmdline in the bundle.
    let boot: serde_json::Value = serde_json::from_str(&read("boot-options.json")).unwrap();
    assert!(boot.is_object(), "{boot}");
    // Tails: the end of actions.log and the last 200 kernel lines.
    let log = read("actions.log");
    assert_eq!(log.lines().count(), diagnose::ACTIONS_LOG_LINES);
    assert_eq!(log.lines().last(), Some("{\"n\":5999}"));
    let dmesg = read("dmesg.txt");
    assert_eq!(dmesg.lines().count(), 200);
    assert_eq!(dmesg.lines().next(), Some("[300.0] line 300"));
    // The index on disk is the one returned, and names every command.
    let index: diagnose::Index = serde_json::from_str(&read("index.json")).unwrap();
    assert_eq!(index, b.index);
    assert_has(&read("INDEX.txt"), "lvs --reportformat json --units b -a");

    let lines = h.command_lines();
    let has = |l: &str| {
        assert!(
            lines.iter().any(|x| x == l),
            "{l} not run; ran:\n{lines:#?}"
        );
    };
    has(&format!(
        "pre-nixos inventory --json --state-dir /run/pre-nixos --root {}",
        dir.path().display()
    ));
    has(&format!(
        "pre-nixos detect-storage --json --state-dir /run/pre-nixos --root {}",
        dir.path().display()
    ));
    has("journalctl -b --no-pager -o json -u pre-nixos.service -u sshd.service -u systemd-networkd.service");
    has("journalctl -k -b --no-pager -o short-precise -n 200");
    has("systemctl status --no-pager --full --lines=50 sshd.service");
    has("lsblk -J -O");
    has("mdadm --detail --scan");
    has("ip -j addr");
    has("ip -j -d link");
    has("networkctl status --no-pager --all");
    has("sshd -T");
    has(&format!(
        "tar -czf {0}/var/log/pre-nixos/diagnose/bundle.tar.gz -C {0}/var/log/pre-nixos/diagnose bundle",
        dir.path().display()
    ));
    // Every command is bounded.
    for cmd in h.commands() {
        assert!(cmd.timeout.is_some(), "{} has no timeout", cmd.display());
        // Logged at debug: the screen shows the report, not a log of its probes.
        assert!(cmd.quiet, "{} is not quiet", cmd.display());
    }
    assert!(
        b.index
            .verdict
            .starts_with("sshd: active · storage: plan-only/existing-storage (sdb: partition-table) · jobs pending: none"),
        "{}",
        b.index.verdict
    );
    let mut screen = Vec::new();
    diagnose::write_outcome(&h, &b, &mut screen).unwrap();
    let screen = String::from_utf8(screen).unwrap();
    assert_has(&screen, "bundle: ");
    assert_has(&screen, "bundle.tar.gz");
    // The verdict wraps at 80 columns between words (paths may stand alone, longer).
    for line in screen.lines() {
        assert!(
            line.chars().count() <= 80 || !line.trim().contains(' '),
            "{line}\n{screen}"
        );
    }
    assert_has(
        &screen.split_whitespace().collect::<Vec<_>>().join(" "),
        &b.index.verdict,
    );
}

#[test]
fn diagnose_survives_a_hung_command_and_a_missing_tool() {
    let dir = tempfile::tempdir().unwrap();
    system_files(dir.path());
    let h = host(dir.path());
    h.on(&["lvs"], Response::TimedOut);
    h.on(&["mdadm"], Response::NotFound);
    h.on(
        &["pre-nixos", "plan"],
        Response::fail(1, "planner: no usable disk: all 3 disks excluded"),
    );
    // detect-storage exits 1 for "all clean" too; without its JSON it is a failure.
    h.on(
        &["pre-nixos", "detect-storage"],
        Response::fail(1, "detect-storage: reading /sys/block: Permission denied"),
    );
    let ctx = Ctx::new(&h, STATE_DIR);
    let start = h.now();
    let b = diagnose::collect(&ctx, &diag_options()).unwrap();
    let elapsed = h.now().duration_since(start);

    let entry = |item: &str| {
        b.index
            .entries
            .iter()
            .find(|e| e.item == item)
            .unwrap_or_else(|| panic!("no index entry {item}"))
    };
    let lvs = entry("lvm-lvs");
    assert_eq!(lvs.outcome, Outcome::TimedOut);
    assert_eq!(lvs.duration_ms, diagnose::SYSTEM_TIMEOUT.as_millis() as u64);
    assert_eq!(lvs.file, None);
    assert!(
        lvs.error
            .as_deref()
            .unwrap()
            .contains("did not finish within 10 s"),
        "{lvs:?}"
    );
    // The hang cost its timeout and nothing more: the virtual clock moved by it alone.
    assert_eq!(elapsed, Duration::from_secs(10));

    let mdadm = entry("mdadm-scan");
    assert_eq!(mdadm.outcome, Outcome::NotFound);
    assert!(
        mdadm.error.as_deref().unwrap().contains("mdadm not found"),
        "{mdadm:?}"
    );

    let plan = entry("plan");
    assert_eq!(plan.outcome, Outcome::Failed);
    assert_eq!(plan.exit, Some(1));
    let detect = entry("detect-storage");
    assert_eq!(detect.outcome, Outcome::Failed, "{detect:?}");
    assert_eq!(
        detect.error.as_deref(),
        Some("exited 1 without printing anything (see detect-storage.json.stderr)")
    );

    // Items after the hang were still collected.
    assert_eq!(entry("ip-addr").outcome, Outcome::Ok);
    assert_eq!(entry("dmesg").outcome, Outcome::Ok);
    let files = bundle_files(dir.path());
    assert!(files.contains(&"ip-addr.json".to_owned()), "{files:?}");
    assert!(files.contains(&"plan.json.stderr".to_owned()), "{files:?}");
    assert!(!files.contains(&"lvm-lvs.json".to_owned()), "{files:?}");

    let root = dir.path().join("var/log/pre-nixos/diagnose/bundle");
    let index_txt = std::fs::read_to_string(root.join("INDEX.txt")).unwrap();
    assert_has(&index_txt, "lvm-lvs          timed-out");
    assert_has(&index_txt, "mdadm-scan       not-found");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("index.json")).unwrap()).unwrap();
    let lvs_json = index["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["item"] == "lvm-lvs")
        .unwrap();
    assert_eq!(lvs_json["outcome"], "timed-out");
    assert_eq!(lvs_json["duration_ms"], 10_000);
}

#[test]
fn diagnose_records_a_failed_archive_and_corrupt_state() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    h.on(
        &["tar"],
        Response::fail(2, "tar: write error: No space left on device"),
    );
    h.write_atomic(
        Path::new("/run/pre-nixos/storage-status"),
        b"garbage\n",
        0o644,
    )
    .unwrap();
    let ctx = Ctx::new(&h, STATE_DIR);
    let b = diagnose::collect(&ctx, &diag_options()).unwrap();
    assert!(b.archive.is_none());
    let archive = b
        .index
        .entries
        .iter()
        .find(|e| e.item == "archive")
        .unwrap();
    assert_eq!(archive.outcome, Outcome::Failed);
    assert!(
        archive.error.as_deref().unwrap().contains("No space left"),
        "{archive:?}"
    );
    // The index on disk includes the failed archive.
    let root = dir.path().join("var/log/pre-nixos/diagnose/bundle");
    assert_has(
        &std::fs::read_to_string(root.join("INDEX.txt")).unwrap(),
        "archive",
    );
    assert_has(
        &b.index.verdict,
        "PROBLEM: /run/pre-nixos/storage-status is corrupt: line 1 is not KEY=VALUE",
    );
    // Missing files are recorded, not fatal.
    let missing: Vec<_> = b
        .index
        .entries
        .iter()
        .filter(|e| e.outcome == Outcome::Missing)
        .map(|e| e.item.as_str())
        .collect();
    for item in [
        "cmdline",
        "boot-options",
        "mdstat",
        "actions-log",
        "network-files",
    ] {
        assert!(
            missing.contains(&item),
            "{item} not recorded missing: {missing:?}"
        );
    }
    let mut screen = Vec::new();
    diagnose::write_outcome(&h, &b, &mut screen).unwrap();
    assert_has(
        &String::from_utf8(screen).unwrap(),
        "bundle: no .tar.gz (packing failed, see INDEX.txt); hand over the directory",
    );
}

#[test]
fn a_second_bundle_in_the_same_second_gets_its_own_directory() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    let ctx = Ctx::new(&h, STATE_DIR);
    let a = diagnose::collect(&ctx, &diag_options()).unwrap();
    let b = diagnose::collect(&ctx, &diag_options()).unwrap();
    assert_ne!(a.dir, b.dir);
    assert_eq!(b.dir, Path::new("/var/log/pre-nixos/diagnose/bundle-2"));
}

#[test]
fn diagnose_fails_with_advice_when_the_bundle_directory_cannot_be_made() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the output directory should be.
    std::fs::write(dir.path().join("blocker"), "x").unwrap();
    let h = host(dir.path());
    let ctx = Ctx::new(&h, STATE_DIR);
    let opts = Options {
        out: PathBuf::from("/blocker/diagnose"),
        ..diag_options()
    };
    let err = diagnose::collect(&ctx, &opts).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "creating the bundle directory {}/blocker/diagnose/bundle: ",
            dir.path().display()
        )),
        "{err}"
    );
    assert!(
        err.ends_with("; run as root, or choose another place with --out DIR"),
        "{err}"
    );
    assert!(
        h.commands().is_empty(),
        "nothing runs without a bundle directory"
    );
}

#[test]
fn status_json_keeps_its_shape() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let json = serde_json::to_value(report::gather(&ctx, false)).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Scripts read these: renaming one is a schema_version bump.
    let mut expected = vec![
        "jobs",
        "network",
        "next",
        "nothing_run_yet",
        "plan",
        "problems",
        "report",
        "schema_version",
        "sshd",
        "state_dir",
        "storage",
        "unit",
        "verify",
        "version",
    ];
    expected.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, expected);
    assert_eq!(json["storage"]["state"], "applied");
    assert_eq!(json["network"]["lan_ipv4"], "10.0.2.15");
    assert_eq!(json["sshd"]["unit"], "sshd.service");
    assert_eq!(json["sshd"]["hardened"], true);
    assert_eq!(json["verify"]["outcome"], "skipped");
    assert_eq!(json["plan"]["vgs"][0]["name"], "main");
    assert_eq!(json["plan"]["vgs"][0]["lvs"][0], "slash 50.0 GiB /");
    assert_eq!(
        json["report"],
        serde_json::Value::Null,
        "no collector configured"
    );

    // A collector that never answered: visible in status, STATE untouched.
    h.write_atomic(
        &Path::new(STATE_DIR).join("report-status"),
        b"REPORT=failed\nURL=http://10.0.2.100:8080/r\nDELIVERED=\nFAILED='network-up storage-final'\n\
          EVENT=storage-final\nATTEMPTS=5\nLAST_ERROR='curl: (7) Connection refused'\nUPDATED=x\n",
        0o644,
    )
    .unwrap();
    let r = report::gather(&ctx, false);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["report"]["report"], "failed");
    assert_eq!(json["report"]["attempts"], 5);
    assert_eq!(json["storage"]["state"], "applied");
    assert_has(
        &screen(&r),
        "report:   failed to http://10.0.2.100:8080/r; gave up on network-up, storage-final; \
         storage-final: 5 attempt(s); last error: curl: (7) Connection refused",
    );
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/systemd")
            .join(name),
    )
    .unwrap()
}

#[test]
fn status_on_captured_debian_answers() {
    // What a Debian 12 guest answered before ssh.service ever ran: the unit is loaded but
    // dead, and `sshd -T` cannot even start (no /run/sshd).
    let dir = tempfile::tempdir().unwrap();
    let h = FakeHost::new(dir.path());
    h.on(
        &[
            "systemctl",
            "show",
            "-p",
            "Id,LoadState,ActiveState,SubState",
        ],
        Response::stdout(capture("debian12-show-sshd-inactive.txt")),
    );
    h.on(
        &["sshd", "-T"],
        Response::fail(255, capture("debian12-sshd-T-no-run-dir.txt")),
    );
    h.on(
        &[
            "systemctl",
            "show",
            "-p",
            "LoadState,ActiveState,SubState,Result,ExecMainStatus",
        ],
        Response::stdout(capture("debian12-show-pre-nixos-failed.txt")),
    );
    h.on(&["systemctl", "list-jobs"], Response::stdout(""));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = report::gather(&ctx, true);
    let text = screen(&r);
    assert_has(
        &text,
        "sshd:     inactive (dead) as ssh.service, hardening unknown",
    );
    assert_has(
        &text,
        "          sshd exited with status 255: Missing privilege separation directory: /run/sshd",
    );
    assert_has(
        &text,
        "unit:     pre-nixos.service failed (failed), result exit-code, exit status 1",
    );
    assert_has(
        &text,
        "next:     pre-nixos.service failed before writing any status: `journalctl -b -u pre-nixos`",
    );
    assert_eq!(report::exit_code(&r), 0);
    assert_eq!(
        diagnose::verdict(&r),
        "sshd: inactive · storage: nothing written yet · jobs pending: none · \
         pre-nixos.service: failed (failed), result exit-code, exit status 1"
    );
}

/// What the login shell runs: the state files, sshd and systemd, and no command that
/// reads a disk (a wedged disk would hold the prompt for each one's timeout). The
/// same state without `--brief` does read the disks back.
#[test]
fn status_brief_reads_no_disk() {
    use pre_nixos::cli::StatusArgs;
    const DISK_TOOLS: [&str; 9] = [
        "lsblk", "lvs", "vgs", "pvs", "mdadm", "blkid", "sgdisk", "wipefs", "udevadm",
    ];
    let reads_disks = |h: &FakeHost| {
        h.commands()
            .iter()
            .filter(|c| DISK_TOOLS.contains(&c.argv[0].as_str()))
            .map(pre_nixos::host::Cmd::display)
            .collect::<Vec<_>>()
    };

    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let brief = StatusArgs {
        brief: true,
        json: None,
    };
    let r = pre_nixos::cmd::status::report(&ctx, &brief);
    assert_eq!(reads_disks(&h), Vec::<String>::new());
    let text = screen(&r);
    assert_has(
        &text,
        "storage:  applied/auto-applied  (updated 2026-11-22T04:00:00Z, pre-nixos 0.1.0)",
    );
    assert_has(
        &text,
        "verify:   skipped: --brief (`pre-nixos status` reads the disks back)",
    );
    assert_has(
        &text,
        "sshd:     active (running) as sshd.service, hardened",
    );

    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path());
    write_state(&h, &storage(State::Applied, "auto-applied", None));
    let ctx = Ctx::new(&h, STATE_DIR);
    let r = pre_nixos::cmd::status::report(&ctx, &StatusArgs::default());
    assert!(!reads_disks(&h).is_empty(), "{:?}", h.command_lines());
    assert!(
        !matches!(r.verify, VerifyReport::Skipped { .. }),
        "{:?}",
        r.verify
    );
}
