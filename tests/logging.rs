//! The actions log: JSON lines with timestamp, level, target, message and every
//! field, at the path `PRE_NIXOS_ACTIONS_LOG` names (never /var/log in tests).
//! One test per binary: the subscriber is process-global.

#[test]
fn events_are_appended_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("logs/actions.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    std::fs::write(&log, "{\"earlier\":\"run\"}\n").unwrap();
    std::env::set_var("PRE_NIXOS_ACTIONS_LOG", &log);
    std::env::remove_var("JOURNAL_STREAM");
    std::env::remove_var("PRE_NIXOS_LOG");
    let _guard = pre_nixos::logging::init(0, std::path::Path::new("/run/pre-nixos"));

    tracing::info!(
        command = "mdadm --create /dev/md/swap",
        exit = 0,
        duration_ms = 12u64,
        "command finished"
    );
    tracing::warn!(device = "sdb", "disk has a signature");
    tracing::debug!(device = "sdc", "not shown without -v");

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0]["earlier"], "run", "appends, never truncates");
    let first = &lines[1];
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["target"], "logging");
    assert_eq!(first["message"], "command finished");
    assert_eq!(first["command"], "mdadm --create /dev/md/swap");
    assert_eq!(first["exit"], 0);
    assert_eq!(first["duration_ms"], 12);
    let ts = first["timestamp"].as_str().unwrap();
    assert!(ts.starts_with("20") && ts.contains('T'), "{ts}");
    assert_eq!(lines[2]["level"], "WARN");
    assert_eq!(lines[2]["device"], "sdb");
}
