//! `--json` on the built binary: one spelling on every read command, `--json=short` on
//! one line with `schema_version` first, and errors as a JSON document on stdout with a
//! stable `code` (the human line stays on stderr).

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdOutput, Host};

const INV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/ssd-3.json");

fn run(dir: &std::path::Path, args: &[&str]) -> CmdOutput {
    let mut argv = vec![env!("CARGO_BIN_EXE_pre-nixos")];
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
        )
        .timeout(std::time::Duration::from_secs(120));
    RealHost::new().run(&cmd).expect("running the binary")
}

fn short_doc(out: &CmdOutput) -> serde_json::Value {
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    assert!(
        out.stdout.starts_with("{\"schema_version\":"),
        "{}",
        out.stdout
    );
    serde_json::from_str(&out.stdout).unwrap()
}

#[test]
fn plan_json_is_output_json_and_short_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = run(dir.path(), &["plan", "--inventory", INV, "--json"]);
    let b = run(
        dir.path(),
        &["plan", "--inventory", INV, "--output", "json"],
    );
    assert_eq!(a.status, Some(0), "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
    let s = run(dir.path(), &["plan", "--inventory", INV, "--json=short"]);
    let doc = short_doc(&s);
    let full: serde_json::Value = serde_json::from_str(&a.stdout).unwrap();
    assert_eq!(doc, full);
}

#[test]
fn read_commands_print_short_json_with_schema_version_first() {
    let dir = tempfile::tempdir().unwrap();
    let st = run(dir.path(), &["status", "--json=short"]);
    assert!(short_doc(&st)["schema_version"].is_u64());
    let inv = run(dir.path(), &["inventory", "--json=short"]);
    assert_eq!(inv.status, Some(0), "{}", inv.stderr);
    assert!(short_doc(&inv)["disks"].is_array());
}

#[test]
fn errors_under_json_are_documents_with_a_stable_code() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.json");
    let mut inv: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(INV).unwrap()).unwrap();
    inv["disks"] = serde_json::json!([]);
    std::fs::write(&empty, inv.to_string()).unwrap();
    let empty = empty.display().to_string();
    for (args, code) in [
        (
            vec!["plan", "--inventory", "/nonexistent.json", "--json=short"],
            "usage",
        ),
        (
            vec!["plan", "--inventory", &empty, "--json=short"],
            "no-usable-disk",
        ),
        (
            vec![
                "plan",
                "--inventory",
                INV,
                "--output",
                "yaml",
                "--json=short",
            ],
            "usage",
        ),
        (
            vec![
                "detect-storage",
                "--plan",
                "/nonexistent.json",
                "--json=short",
            ],
            "usage",
        ),
        (
            vec![
                "apply",
                "--plan",
                "/nonexistent.json",
                "--dry-run",
                "--json=short",
            ],
            "usage",
        ),
    ] {
        let out = run(dir.path(), &args);
        assert_eq!(out.status, Some(2), "{args:?}: {}", out.stderr);
        let doc = short_doc(&out);
        assert_eq!(doc["error"]["code"], code, "{args:?}: {}", out.stdout);
        assert_eq!(doc["error"]["exit"], 2);
        assert!(
            out.stderr.contains(": error: "),
            "{args:?}: the human line stays on stderr: {}",
            out.stderr
        );
    }
}

#[test]
fn apply_and_network_dry_runs_have_json() {
    let dir = tempfile::tempdir().unwrap();
    let plan = run(dir.path(), &["plan", "--inventory", INV, "--json"]);
    let file = dir.path().join("plan.json");
    std::fs::write(&file, &plan.stdout).unwrap();
    let out = run(
        dir.path(),
        &[
            "apply",
            "--plan",
            &file.display().to_string(),
            "--dry-run",
            "--json=short",
        ],
    );
    let doc = short_doc(&out);
    assert_eq!(doc["dry_run"], true, "{}", out.stdout);
    assert!(doc["storage"]["state"].is_string(), "{}", out.stdout);
    assert!(doc["commands"].is_array());
    assert!(doc["identity_failures"].is_array());

    let keys = dir.path().join("k.pub");
    std::fs::write(
        &keys,
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC op@a\n",
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "network",
            "--dry-run",
            "--carrier-timeout",
            "0",
            "--authorized-keys",
            &keys.display().to_string(),
            "--json=short",
        ],
    );
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let doc = short_doc(&out);
    assert_eq!(doc["dry_run"], true);
    assert!(
        doc["ssh"].is_string() && doc["would_run"].is_array(),
        "{}",
        out.stdout
    );
}
