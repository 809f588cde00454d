//! The built binary run from a temporary working directory: relative `--state-dir`,
//! `PRE_NIXOS_STATE_DIR`, `--authorized-keys`, `--plan` and `--inventory` name files
//! there, not under `/` (the host joins every path under its root, so argument
//! handling makes them absolute first).

use std::path::Path;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, CmdOutput, Host};

const BIN: &str = env!("CARGO_BIN_EXE_pre-nixos");

/// A valid OpenSSH key (the one the ssh unit tests use).
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC op@a";

/// Runs the binary with `cwd` as its working directory (`env -C`: `host::Cmd` has no
/// working-directory option, and the test must go through the real process start).
/// Returns (exit code, stdout, stderr).
fn run_in(cwd: &Path, envs: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = Cmd::new(
        "running pre-nixos under test",
        ["env", "-C", &cwd.display().to_string(), BIN],
    )
    .args(args.iter().copied())
    .env("NO_COLOR", "1")
    // Keep the test's log lines out of /var/log.
    .env(
        "PRE_NIXOS_ACTIONS_LOG",
        cwd.join("actions.log").display().to_string(),
    )
    .timeout(std::time::Duration::from_secs(300));
    for (k, v) in envs {
        cmd = cmd.env(*k, *v);
    }
    let out: CmdOutput = match RealHost::new().run(&cmd) {
        Ok(o) => o,
        Err(CmdError::Failed { output, .. }) => *output,
        Err(e) => panic!("{e}"),
    };
    (out.status.expect("exited"), out.stdout, out.stderr)
}

/// A temporary working directory holding `<name>/storage-status` with STATE=applied.
fn cwd_with_state(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(name)).unwrap();
    std::fs::write(
        dir.path().join(name).join("storage-status"),
        "STATE=applied\nDETAIL=verified\nDISKS=sda\nVERSION=0.1.0\nUPDATED=2026-11-22T04:00:00Z\n",
    )
    .unwrap();
    dir
}

#[test]
fn a_relative_state_dir_is_read_from_the_working_directory() {
    let dir = cwd_with_state("st1");
    let (code, stdout, stderr) =
        run_in(dir.path(), &[], &["status", "--json", "--state-dir", "st1"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["storage"]["state"], "applied", "{stdout}");
    let (code, stdout, stderr) = run_in(dir.path(), &[], &["status", "--state-dir", "st1"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&dir.path().join("st1").display().to_string()),
        "the report names the directory it read:\n{stdout}"
    );
    assert!(!stdout.contains("nothing has run yet"), "{stdout}");
}

#[test]
fn a_relative_state_dir_from_the_environment_is_read_from_the_working_directory() {
    let dir = cwd_with_state("relst");
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[("PRE_NIXOS_STATE_DIR", "relst")],
        &["status", "--json"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["storage"]["state"], "applied", "{stdout}");
}

#[test]
fn a_relative_authorized_keys_file_is_read_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("op.pub"), format!("{KEY}\n")).unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[],
        &[
            "network",
            "--dry-run",
            "-v", // the info lines this test reads
            "--carrier-timeout",
            "0",
            "--state-dir",
            "st",
            "--authorized-keys",
            "op.pub",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stdout.contains("no authorized key"), "{stdout}");
    // A dry run speaks in the conditional and probes no sshd it did not start
    // (issue 14, item 6): the log says "would", no `systemctl is-active` ran.
    assert!(stderr.contains("would merge authorized keys"), "{stderr}");
    assert!(!stderr.contains("authorized keys merged"), "{stderr}");
    assert!(!stderr.contains("is-active"), "{stderr}");
    assert!(!stdout.contains("storage running"), "{stdout}");
    // The key was read, so the dry run would install it; and the state directory is
    // the relative one.
    assert!(
        stdout.contains("write  /root/.ssh/authorized_keys"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "write  {}",
            dir.path().join("st/network-status").display()
        )),
        "{stdout}"
    );

    // A missing relative file is named by its full path, in the working directory.
    let (_, stdout, _) = run_in(
        dir.path(),
        &[],
        &[
            "network",
            "--dry-run",
            "--carrier-timeout",
            "0",
            "--state-dir",
            "st",
            "--authorized-keys",
            "missing.pub",
        ],
    );
    assert!(
        stdout.contains(&format!(
            "{} unreadable",
            dir.path().join("missing.pub").display()
        )),
        "{stdout}"
    );
}

#[test]
fn relative_plan_and_inventory_files_are_read_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let inv = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("an example inventory");
    std::fs::copy(&inv, dir.path().join("inv.json")).unwrap();
    let (code, plan, stderr) = run_in(
        dir.path(),
        &[],
        &["plan", "--inventory", "inv.json", "--output", "json"],
    );
    assert_eq!(code, 0, "{plan}\n{stderr}");
    std::fs::write(dir.path().join("plan.json"), &plan).unwrap();
    let (code, stdout, stderr) = run_in(
        dir.path(),
        &[],
        &[
            "apply",
            "--dry-run",
            "--executor",
            "native",
            "--state-dir",
            "st",
            "--plan",
            "plan.json",
        ],
    );
    assert!(
        !stderr.contains("reading the plan file"),
        "exit {code}\n{stdout}\n{stderr}"
    );
    // The plan's disks are not on this machine: every failing identity check is listed
    // once, apart from the commands, and the verdict is not repeated on stderr.
    let disks = serde_json::from_str::<serde_json::Value>(&plan).unwrap()["layout"]["disks"]
        .as_array()
        .unwrap()
        .len();
    for l in [
        format!("# identity checks that fail on this machine ({disks} of {disks} disks)"),
        "in this dry run, which went on past the identity checks above (a real apply here \
         stops at them)"
            .to_owned(),
    ] {
        assert!(stdout.contains(&l), "{l:?} missing:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("#   checking the identity of ").count(),
        disks,
        "{stdout}"
    );
    assert!(
        !stderr.lines().any(|l| l.starts_with("storage: ")),
        "{stderr}"
    );
    // Whatever this machine makes of the plan, the dry run would record it in the
    // relative state directory.
    assert!(
        stdout.contains(&format!(
            "write {}",
            dir.path().join("st/storage-status").display()
        )),
        "exit {code}\n{stdout}\n{stderr}"
    );
}

/// `apply --dry-run --plan FILE` of a plan made on another machine (a fixture root
/// without its disks): the plan's whole command list for its own disks, then the
/// identity checks that fail here, apart. Without `--dry-run` the same plan stops at
/// the identity guard: `failed/identity`, and no command but the ones that look.
#[test]
fn a_foreign_plans_dry_run_prints_its_commands_and_the_failing_identity_checks() {
    use pre_nixos::testkit::{self, Machine};
    let here = Machine::new();
    here.install_tools(testkit::ALL_TOOLS);
    let plan = testkit::ssd_and_hdd_pair();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("plan.json"),
        pre_nixos::render::json::plan_to_json(&plan),
    )
    .unwrap();
    let root = here.root().display().to_string();
    let path = format!("{}:{}", testkit::TEST_PATH, std::env::var("PATH").unwrap());
    let env = [("PATH", path.as_str())];
    let args = |dry: bool| {
        let mut a = vec!["--root", root.as_str(), "apply", "--plan", "plan.json"];
        a.extend(["--state-dir", "st", "--executor", "native"]);
        if dry {
            a.push("--dry-run");
        }
        a
    };
    let (code, stdout, stderr) = run_in(cwd.path(), &env, &args(true));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for d in &plan.layout.disks {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("sgdisk --clear") && l.ends_with(&d.stable_path)),
            "no sgdisk for {}:\n{stdout}",
            d.stable_path
        );
    }
    for tool in ["mdadm --create", "mkfs.ext4", "mkswap", "lvcreate"] {
        assert!(
            stdout.lines().any(|l| l.starts_with(tool)),
            "no {tool}:\n{stdout}"
        );
    }
    let n = plan.layout.disks.len();
    assert!(
        stdout.contains(&format!(
            "# identity checks that fail on this machine ({n} of {n} disks)"
        )),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("#   checking the identity of ").count(),
        n,
        "{stdout}"
    );

    // The real apply: refused at the identity guard, nothing written.
    let (code, stdout, stderr) = run_in(cwd.path(), &env, &args(false));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("storage: failed/identity"),
        "{stdout}\n{stderr}"
    );
    let actions = std::fs::read_to_string(cwd.path().join("actions.log")).unwrap_or_default();
    // The log holds the refusal (and would hold every command run: none wrote).
    assert!(
        actions.contains("storage policy: identity failed"),
        "{actions}"
    );
    for w in ["sgdisk", "mdadm --create", "mkfs", "pvcreate", "wipefs"] {
        assert!(!actions.contains(w), "a refused apply ran {w}:\n{actions}");
    }
}
