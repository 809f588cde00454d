//! The built binary: `status` and `diagnose` with `PRE_NIXOS_STATE_DIR` pointing at a
//! temporary directory, exit codes, and the exit-code table in `--help`. These run on
//! the machine running the tests: `systemctl`, `sshd` and friends may be missing or
//! fail there, which `status` and `diagnose` must survive.

use std::path::Path;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, CmdOutput, Host};

const BIN: &str = env!("CARGO_BIN_EXE_pre-nixos");

/// Runs the binary; returns (exit code, stdout, stderr).
fn run(state_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let cmd = Cmd::new("running pre-nixos under test", [BIN])
        .args(args.iter().copied())
        .env("PRE_NIXOS_STATE_DIR", state_dir.display().to_string())
        .env("NO_COLOR", "1")
        // Keep the test's log lines out of /var/log.
        .env(
            "PRE_NIXOS_ACTIONS_LOG",
            state_dir.join("actions.log").display().to_string(),
        )
        .timeout(std::time::Duration::from_secs(300));
    let out: CmdOutput = match RealHost::new().run(&cmd) {
        Ok(o) => o,
        Err(CmdError::Failed { output, .. }) => *output,
        Err(e) => panic!("{e}"),
    };
    (out.status.expect("exited"), out.stdout, out.stderr)
}

#[test]
fn status_with_nothing_run_yet_exits_0_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["status"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("nothing has run yet"), "{stdout}");
    assert!(
        stdout.contains(&dir.path().display().to_string()),
        "{stdout}"
    );
    // systemd's and sshd's lines are there whether or not they answered here.
    for label in ["sshd:", "jobs:", "unit:     pre-nixos.service"] {
        assert!(stdout.contains(label), "{label} missing:\n{stdout}");
    }
}

#[test]
fn status_json_is_the_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storage-status"),
        "STATE=plan-only\nDETAIL=requested\nDISKS=sda\nVERSION=0.1.0\nUPDATED=2026-11-22T04:00:00Z\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(dir.path(), &["status", "--json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r: pre_nixos::debug::status::StatusReport = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        r.schema_version,
        pre_nixos::debug::status::STATUS_SCHEMA_VERSION
    );
    let s = r.storage.unwrap();
    assert_eq!(s.detail, "requested");
    assert!(!r.nothing_run_yet);
}

#[test]
fn corrupt_status_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("storage-status"),
        "STATE=exploded\nDETAIL=x\n",
    )
    .unwrap();
    // Global options work before the subcommand too.
    let sd = dir.path().display().to_string();
    let (code, stdout, stderr) = run(dir.path(), &["--state-dir", &sd, "status"]);
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let file = dir.path().join("storage-status").display().to_string();
    // the line wraps at 80 columns; compare on the words
    let stdout = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        stdout.contains(&format!(
            "PROBLEM: {file} is corrupt: STATE=exploded is not a known state"
        )),
        "{stdout}"
    );
}

#[test]
fn help_prints_the_exit_code_table() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = run(dir.path(), &["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains(pre_nixos::cli::EXIT_CODES_HELP), "{stdout}");
}

#[test]
fn diagnose_writes_a_directory_and_an_archive() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("storage-status"),
        "STATE=failed\nDETAIL=apply\nERROR='mkfs.ext4 exited 1'\nVERSION=0.1.0\nUPDATED=x\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(&state, &["diagnose", "--out", &out.display().to_string()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("storage: failed/apply (mkfs.ext4 exited 1)"),
        "{stdout}"
    );
    let bundle = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a bundle directory");
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("pre-nixos-diagnose-"), "{name}");
    let archive = out.join(format!("{name}.tar.gz"));
    assert!(archive.is_file(), "{stdout}");
    assert!(
        stdout.contains(&format!("bundle: {}", archive.display())),
        "{stdout}"
    );
    // The archive holds the directory, index included.
    let list = RealHost::new()
        .run(&Cmd::new(
            "listing the bundle archive",
            ["tar", "-tzf", &archive.display().to_string()],
        ))
        .unwrap()
        .stdout;
    for f in [
        "index.json",
        "INDEX.txt",
        "state/storage-status",
        "version.txt",
    ] {
        assert!(list.contains(&format!("{name}/{f}")), "{f} not in:\n{list}");
    }
    let index: pre_nixos::debug::diagnose::Index =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("index.json")).unwrap()).unwrap();
    // Every item has an entry, whatever happened to it on this machine.
    for item in [
        "version",
        "cmdline",
        "boot-options",
        "inventory",
        "detect-storage",
        "plan",
        "disko-config",
        "storage-status",
        "network-status",
        "actions-log",
        "list-jobs",
        "unit-pre-nixos",
        "unit-sshd",
        "unit-networkd",
        "journal",
        "lsblk",
        "mdstat",
        "mdadm-scan",
        "lvm-pvs",
        "lvm-vgs",
        "lvm-lvs",
        "ip-addr",
        "ip-link",
        "networkctl",
        "sshd-T",
        "kernel-journal",
        "dmesg",
    ] {
        assert!(
            index.entries.iter().any(|e| e.item == item),
            "no index entry for {item}"
        );
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&archive).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
