//! `JOURNAL_STREAM` set: journald when its socket is there, else stderr with one
//! warning (recorded in the actions log too). One test per binary: the subscriber is
//! process-global.

#[test]
fn journal_stream_without_a_journal_falls_back_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("actions.log");
    std::env::set_var("PRE_NIXOS_ACTIONS_LOG", &log);
    std::env::set_var("JOURNAL_STREAM", "8:12345");
    std::env::remove_var("PRE_NIXOS_LOG");
    let _guard = pre_nixos::logging::init(1, std::path::Path::new("/run/pre-nixos"));
    tracing::info!("after init");
    tracing::debug!(device = "sda", "shown with -v");
    tracing::trace!("needs -vv");

    let text = std::fs::read_to_string(&log).unwrap();
    let warnings: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("journal socket"))
        .collect();
    let journald_present = std::path::Path::new("/run/systemd/journal/socket").exists();
    if journald_present {
        assert!(warnings.is_empty(), "{text}");
    } else {
        assert_eq!(warnings.len(), 1, "{text}");
        let w: serde_json::Value = serde_json::from_str(warnings[0]).unwrap();
        assert_eq!(w["level"], "WARN");
    }
    assert!(text.contains("\"message\":\"after init\""), "{text}");
    // -v (verbose = 1) lets debug through, not trace.
    assert!(text.contains("\"message\":\"shown with -v\""), "{text}");
    assert!(!text.contains("needs -vv"), "{text}");
}
