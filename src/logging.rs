//! Logging: tracing with structured fields, to journald under systemd
//! (`JOURNAL_STREAM` set), to stderr otherwise; also JSON lines appended to
//! `/var/log/pre-nixos/actions.log` (`PRE_NIXOS_ACTIONS_LOG` overrides the path).
//!
//! Logging never stops the tool: a missing journal socket falls back to stderr with
//! one warning, and an actions log that cannot be opened is left out.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

/// Where the JSON actions log goes unless `PRE_NIXOS_ACTIONS_LOG` says otherwise.
pub const ACTIONS_LOG: &str = "/var/log/pre-nixos/actions.log";

/// The target of the final "pre-nixos failed" event: it goes to the journal and the
/// actions log, but not to stderr, where `main` prints the same error once for the
/// person at the terminal.
pub const OUTCOME_TARGET: &str = "pre_nixos::outcome";

/// Keeps the log writers alive until `main` returns.
pub struct LogGuard;

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Installs the global subscriber. `verbose` is the count of `-v` (info, debug,
/// trace); `PRE_NIXOS_LOG` (an `EnvFilter` directive) overrides it.
pub fn init(verbose: u8, state_dir: &Path) -> LogGuard {
    let _ = state_dir;
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("PRE_NIXOS_LOG").unwrap_or_else(|_| EnvFilter::new(level));

    let mut journal_failed = None;
    let console: BoxedLayer = if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(l) => Box::new(l.with_syslog_identifier("pre-nixos".into())),
            Err(e) => {
                journal_failed = Some(e);
                stderr_layer()
            }
        }
    } else {
        stderr_layer()
    };
    let actions_path = actions_log_path();
    let actions: Option<BoxedLayer> = open_actions_log(&actions_path).map(|f| {
        Box::new(
            fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_ansi(false)
                .with_writer(Mutex::new(f)),
        ) as BoxedLayer
    });
    let actions_missing = actions.is_none();
    let layers: Vec<BoxedLayer> = std::iter::once(console).chain(actions).collect();
    let _ = tracing_subscriber::registry()
        .with(layers)
        .with(filter)
        .try_init();
    if let Some(e) = journal_failed {
        tracing::warn!(error = %e, "JOURNAL_STREAM is set but the journal socket cannot be used; logging to stderr");
    }
    if actions_missing {
        tracing::debug!(file = %actions_path.display(), "actions log cannot be opened; continuing without it");
    }
    LogGuard
}

fn stderr_layer() -> BoxedLayer {
    use std::io::IsTerminal;
    // Colour only for a person at a terminal, not for a serial console capture.
    Box::new(
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                meta.target() != OUTCOME_TARGET
            })),
    )
}

/// `PRE_NIXOS_ACTIONS_LOG`, else [`ACTIONS_LOG`].
pub fn actions_log_path() -> PathBuf {
    std::env::var_os("PRE_NIXOS_ACTIONS_LOG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(ACTIONS_LOG))
}

/// Opens the actions log for appending, creating its directory; `None` when that
/// is impossible (read-only `/var`, no permission).
pub fn open_actions_log(path: &Path) -> Option<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    OpenOptions::new().create(true).append(true).open(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_log_that_cannot_be_opened_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        // A directory cannot be made under a regular file.
        assert!(open_actions_log(&file.join("sub/actions.log")).is_none());
        let ok = dir.path().join("new/dir/actions.log");
        assert!(open_actions_log(&ok).is_some());
        assert!(ok.exists());
    }
}
