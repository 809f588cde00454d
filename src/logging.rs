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

/// How much to log, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The count of `-v`.
    pub verbose: u8,
    /// `--quiet`: errors only on the console.
    pub quiet: bool,
    /// A command a person runs at a terminal (everything but `boot`): the console gets
    /// warnings and errors only, unless `-v`; its answer is on stdout, not in the log.
    pub interactive: bool,
    /// Colour on the console.
    pub color: Color,
    /// Append to the actions log. Commands that change nothing (plan, inventory,
    /// detect-storage, status, diagnose, the dry runs) leave it alone.
    pub actions_log: bool,
}

/// `--color`: `auto` is colour on a terminal unless `NO_COLOR` is set (no-color.org).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour a stream that `is_terminal` describes, with `no_color` the
    /// value of `NO_COLOR`.
    pub fn enabled(self, is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty),
        }
    }
}

impl Settings {
    /// The console's level, when `PRE_NIXOS_LOG` does not set one.
    pub fn console_level(&self) -> &'static str {
        if self.quiet {
            return "error";
        }
        let levels: &[&str] = if self.interactive {
            &["warn", "info", "debug", "trace"]
        } else {
            &["info", "debug", "trace"]
        };
        levels[usize::from(self.verbose).min(levels.len() - 1)]
    }

    /// The actions log's level: every command run (info) whatever the console shows.
    pub fn actions_level(&self) -> &'static str {
        ["info", "debug", "trace"][usize::from(self.verbose).min(2)]
    }
}

/// Installs the global subscriber as the boot runs it: info on the console (`-v`:
/// debug, `-vv`: trace), the actions log on. `PRE_NIXOS_LOG` (an `EnvFilter`
/// directive) overrides the levels.
pub fn init(verbose: u8, state_dir: &Path) -> LogGuard {
    let _ = state_dir;
    init_with(Settings {
        verbose,
        quiet: false,
        interactive: false,
        color: Color::Auto,
        actions_log: true,
    })
}

/// Installs the global subscriber as `settings` say.
pub fn init_with(settings: Settings) -> LogGuard {
    let filter = |level: &str| {
        EnvFilter::try_from_env("PRE_NIXOS_LOG").unwrap_or_else(|_| EnvFilter::new(level))
    };

    let mut journal_failed = None;
    let console: BoxedLayer = if std::env::var_os("JOURNAL_STREAM").is_some() {
        match tracing_journald::layer() {
            Ok(l) => Box::new(
                l.with_syslog_identifier("pre-nixos".into())
                    .with_filter(filter(settings.console_level())),
            ),
            Err(e) => {
                journal_failed = Some(e);
                stderr_layer(&settings, filter(settings.console_level()))
            }
        }
    } else {
        stderr_layer(&settings, filter(settings.console_level()))
    };
    let actions_path = actions_log_path();
    let actions: Option<BoxedLayer> = settings
        .actions_log
        .then(|| open_actions_log(&actions_path))
        .flatten()
        .map(|f| {
            Box::new(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_ansi(false)
                    .with_writer(Mutex::new(f))
                    .with_filter(filter(settings.actions_level())),
            ) as BoxedLayer
        });
    let actions_missing = settings.actions_log && actions.is_none();
    let layers: Vec<BoxedLayer> = std::iter::once(console).chain(actions).collect();
    let _ = tracing_subscriber::registry().with(layers).try_init();
    if let Some(e) = journal_failed {
        tracing::warn!(error = %e, "JOURNAL_STREAM is set but the journal socket cannot be used; logging to stderr");
    }
    if actions_missing {
        tracing::debug!(file = %actions_path.display(), "actions log cannot be opened; continuing without it");
    }
    LogGuard
}

fn stderr_layer(settings: &Settings, level: EnvFilter) -> BoxedLayer {
    use std::io::IsTerminal;
    // Colour only for a person at a terminal (not a serial console capture), and
    // never against NO_COLOR or --color=never.
    let ansi = settings.color.enabled(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    Box::new(
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(ansi)
            .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                meta.target() != OUTCOME_TARGET
            }))
            .with_filter(level),
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
    fn interactive_commands_log_warnings_unless_verbose() {
        let s = |verbose, quiet, interactive| Settings {
            verbose,
            quiet,
            interactive,
            color: Color::Auto,
            actions_log: true,
        };
        assert_eq!(s(0, false, true).console_level(), "warn");
        assert_eq!(s(1, false, true).console_level(), "info");
        assert_eq!(s(2, false, true).console_level(), "debug");
        assert_eq!(s(0, false, false).console_level(), "info");
        assert_eq!(s(0, true, true).console_level(), "error");
        assert_eq!(s(0, false, true).actions_level(), "info");
    }

    #[test]
    fn colour_follows_no_color_and_the_switch() {
        use std::ffi::OsStr;
        assert!(Color::Auto.enabled(true, None));
        assert!(!Color::Auto.enabled(false, None));
        assert!(!Color::Auto.enabled(true, Some(OsStr::new("1"))));
        assert!(Color::Auto.enabled(true, Some(OsStr::new(""))));
        assert!(Color::Always.enabled(false, Some(OsStr::new("1"))));
        assert!(!Color::Never.enabled(true, None));
    }

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
