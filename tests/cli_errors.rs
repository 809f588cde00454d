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
            "pre-nixos apply: error: reading the plan file {shown}: No such file or directory (os error 2)"
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

/// stderr is a pipe nobody reads (`pre-nixos … 2>&1 | true` after `true` is gone): the
/// error line is lost, the exit code is not, and nothing panics (exit 101).
#[test]
fn an_error_on_a_closed_stderr_still_exits_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    for (args, code) in [
        (vec!["apply", "--plan", "/nonexistent/plan.json"], 2),
        (vec!["plan", "--output", "yaml"], 2),
        (vec!["plan", "--inventory", "/nonexistent/inv.json"], 2),
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        // Host::run captures stderr; this test needs to hand the child a dead pipe.
        #[allow(clippy::disallowed_types)]
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_pre-nixos"))
            .args(&args)
            .env("PRE_NIXOS_STATE_DIR", dir.path().join("state"))
            .env("PRE_NIXOS_ACTIONS_LOG", dir.path().join("actions.log"))
            .env("PRE_NIXOS_LOG", "debug")
            .env_remove("JOURNAL_STREAM")
            .stdout(std::process::Stdio::null())
            .stderr(writer)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

/// "No usable disk" is one condition: every verb that plans exits 2 for it, with the
/// same message in the same shape.
#[test]
fn no_usable_disk_exits_2_from_every_verb_that_plans() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("sys/block")).unwrap();
    std::fs::create_dir_all(root.join("proc")).unwrap();
    std::fs::write(root.join("proc/meminfo"), "MemTotal: 1000000 kB\n").unwrap();
    std::fs::write(root.join("proc/cmdline"), "quiet\n").unwrap();
    for verb in [
        vec!["plan"],
        vec!["detect-storage"],
        vec!["apply", "--dry-run"],
    ] {
        let mut argv = vec![env!("CARGO_BIN_EXE_pre-nixos")];
        argv.extend(&verb);
        let cmd = Cmd::new("running pre-nixos", argv)
            .ok_codes(&[0, 1, 2])
            .env("PRE_NIXOS_ROOT", root.display().to_string())
            .env(
                "PRE_NIXOS_STATE_DIR",
                dir.path().join("state").display().to_string(),
            )
            .env(
                "PRE_NIXOS_ACTIONS_LOG",
                dir.path().join("actions.log").display().to_string(),
            )
            .env("PRE_NIXOS_LOG", "error");
        let out = RealHost::new().run(&cmd).expect("running the binary");
        assert_eq!(out.status, Some(2), "{verb:?}: {}", out.stderr);
        let line = format!(
            "pre-nixos {}: error: planning storage: no usable disk: the inventory lists no disk at all",
            verb[0]
        );
        assert!(out.stderr.starts_with(&line), "{verb:?}: {}", out.stderr);
    }
}
