//! How a failing command reports on the built binary: the error once on stderr for the
//! person at the terminal, and the structured `pre-nixos failed` event in the actions
//! log (and the journal) for later.

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};

#[test]
fn an_error_is_printed_once_and_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("actions.log");
    let missing = dir.path().join("missing-plan.json");
    // stderr, not the journal, is what this test reads.
    std::env::remove_var("JOURNAL_STREAM");
    let cmd = Cmd::new(
        "running pre-nixos",
        [
            env!("CARGO_BIN_EXE_pre-nixos"),
            "apply",
            "--plan",
            &missing.display().to_string(),
        ],
    )
    .ok_codes(&[2])
    .env(
        "PRE_NIXOS_STATE_DIR",
        dir.path().join("state").display().to_string(),
    )
    .env("PRE_NIXOS_ACTIONS_LOG", log.display().to_string())
    .env("PRE_NIXOS_LOG", "info");
    let out = RealHost::new().run(&cmd).expect("running the binary");
    let shown = missing.display().to_string();
    let lines: Vec<&str> = out.stderr.lines().filter(|l| l.contains(&shown)).collect();
    assert_eq!(
        lines,
        [format!(
            "pre-nixos: error: reading the plan file {shown}: No such file or directory (os error 2)"
        )],
        "{}",
        out.stderr
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| e["message"] == "pre-nixos failed")
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(events[0]["level"], "ERROR");
    assert!(
        events[0]["error"].as_str().unwrap().contains(&shown),
        "{text}"
    );
}
