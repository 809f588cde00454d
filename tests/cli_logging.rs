//! What the log shows a person at a terminal: warnings and errors only unless `-v`,
//! nothing but errors with `--quiet`; and commands that change nothing leave the
//! actions log alone.

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdOutput, Host};

fn run(dir: &std::path::Path, args: &[&str]) -> CmdOutput {
    let inv = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ssd-3.json");
    let mut argv = vec![env!("CARGO_BIN_EXE_pre-nixos"), "plan", "--inventory", inv];
    argv.extend_from_slice(args);
    let cmd = Cmd::new("running pre-nixos", argv)
        .ok_codes(&[0, 1, 2])
        .env(
            "PRE_NIXOS_STATE_DIR",
            dir.join("state").display().to_string(),
        )
        .env(
            "PRE_NIXOS_ACTIONS_LOG",
            dir.join("actions.log").display().to_string(),
        );
    // stderr, not the journal, and the levels of the switches, not of the environment
    std::env::remove_var("JOURNAL_STREAM");
    std::env::remove_var("PRE_NIXOS_LOG");
    RealHost::new().run(&cmd).expect("running the binary")
}

#[test]
fn a_read_command_logs_warnings_only_and_writes_no_actions_log() {
    let dir = tempfile::tempdir().unwrap();
    // `-vv` shows the planner's debug line: there is something to hide by default.
    let loud = run(dir.path(), &["-vv"]);
    assert_eq!(loud.status, Some(0), "{}", loud.stderr);
    assert!(loud.stderr.contains("DEBUG"), "{}", loud.stderr);
    let quiet = run(dir.path(), &[]);
    assert_eq!(quiet.status, Some(0), "{}", quiet.stderr);
    assert!(
        !quiet.stderr.contains("INFO") && !quiet.stderr.contains("DEBUG"),
        "{}",
        quiet.stderr
    );
    assert_eq!(quiet.stdout, loud.stdout);
    let q = run(dir.path(), &["--quiet"]);
    assert_eq!(q.status, Some(0));
    assert_eq!(q.stderr, "");
    assert!(
        !dir.path().join("actions.log").exists(),
        "plan changes nothing and must not write the actions log"
    );
}
