//! The one command type. Every external program `pre-nixos` runs is a [`Cmd`]:
//! a description of what it is for, the argv, optional stdin, a timeout and the exit
//! codes that count as success. [`super::Host::run`] executes it; the real host logs
//! argv before, exit status and `duration_ms` after, and on failure returns a
//! [`CmdError`] that reads `<what>: <argv> exited <status>: <stderr tail>`.

use std::fmt;

pub use crate::text::shell_quote;
use std::time::Duration;

/// How many bytes of stderr an error message carries.
pub const STDERR_TAIL: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    /// Lowercase gerund naming the object: "creating RAID1 /dev/md/swap".
    pub what: String,
    pub argv: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    /// Its process group is killed when still running after this long (the real host
    /// applies `interrupt::DEFAULT_TIMEOUT` when this is `None`).
    pub timeout: Option<Duration>,
    /// Exit codes that count as success (default: 0 only).
    pub ok_codes: Vec<i32>,
    /// Log each output line as it arrives (long-running tools such as disko).
    pub stream: bool,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// A read-only probe (`status`, `diagnose`): its completion is logged at debug,
    /// not info, so the operator's screen shows the report rather than a log of it.
    pub quiet: bool,
}

impl Cmd {
    pub fn new<I, S>(what: impl Into<String>, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Cmd {
            what: what.into(),
            argv: argv.into_iter().map(Into::into).collect(),
            stdin: None,
            timeout: None,
            ok_codes: vec![0],
            stream: false,
            env: Vec::new(),
            quiet: false,
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.argv.push(a.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.argv.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn stdin(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(data.into());
        self
    }

    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Also accept these exit codes (e.g. `partprobe` returning 1 routinely).
    pub fn ok_codes(mut self, codes: &[i32]) -> Self {
        self.ok_codes = codes.to_vec();
        self
    }

    pub fn stream(mut self) -> Self {
        self.stream = true;
        self
    }

    /// Logs completion at debug level (see the `quiet` field).
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }

    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn program(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }

    /// The argv as one shell-readable line (for logs, dry runs and errors).
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Time `udevadm settle` is given beyond its own `--timeout` to exit by itself.
const SETTLE_GRACE: Duration = Duration::from_secs(10);

impl Cmd {
    /// `udevadm settle --timeout=<secs>`: waits until udev has processed every queued
    /// event. The command's own bound is a little longer, so udev's timeout (a clear
    /// "timed out" exit) fires before ours.
    pub fn udev_settle(what: impl Into<String>, timeout: Duration) -> Cmd {
        Cmd::new(
            what,
            [
                "udevadm".to_owned(),
                "settle".to_owned(),
                format!("--timeout={}", timeout.as_secs()),
            ],
        )
        .timeout(timeout + SETTLE_GRACE)
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CmdOutput {
    /// Exit code; `None` when killed by a signal.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub duration: Duration,
}

impl CmdOutput {
    pub fn ok(stdout: impl Into<String>) -> Self {
        CmdOutput {
            status: Some(0),
            stdout: stdout.into(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CmdError {
    /// The program is not installed (not on `PATH`).
    #[error("{what}: {program} not found: install it or put it on PATH")]
    NotFound { what: String, program: String },
    /// It ran and exited with a code not in `ok_codes`, or was killed.
    #[error("{what}: {argv} exited {status}: {}", stderr_or_none(.stderr_tail))]
    Failed {
        what: String,
        argv: String,
        status: String,
        stderr_tail: String,
        output: Box<CmdOutput>,
    },
    #[error(
        "{what}: {argv} did not finish within {} and was killed: the device or tool may be hung; see `pre-nixos diagnose`",
        seconds(*.timeout)
    )]
    TimedOut {
        what: String,
        argv: String,
        timeout: Duration,
    },
    /// pre-nixos was told to stop (SIGTERM/SIGINT): the command's process group was
    /// killed (`started`), or the command was refused before it started.
    #[error(
        "{what}: {argv} {}",
        if *.started { format!("was killed with its process group: pre-nixos received {signal}") }
        else { format!("was not started: pre-nixos received {signal} and is stopping") }
    )]
    Interrupted {
        what: String,
        argv: String,
        signal: String,
        started: bool,
    },
    #[error("{what}: starting {argv}: {error}")]
    Spawn {
        what: String,
        argv: String,
        error: String,
    },
}

/// An empty stderr tail said out loud, so a message never ends in a bare colon.
fn stderr_or_none(tail: &str) -> &str {
    if tail.trim().is_empty() {
        "(nothing on stderr)"
    } else {
        tail
    }
}

/// A duration in seconds as an operator reads it: "30 s", "0.5 s", "1.25 s" (never
/// "0 s" for a sub-second timeout).
pub fn seconds(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        let text = format!("{}.{:03}", ms / 1000, ms % 1000);
        format!("{} s", text.trim_end_matches('0'))
    }
}

impl CmdError {
    /// One line for `ERROR=` in the status file.
    pub fn one_line(&self) -> String {
        crate::text::one_line(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_with_empty_stderr_says_so() {
        let e = CmdError::Failed {
            what: "creating RAID1 /dev/md/swap".into(),
            argv: "mdadm --create /dev/md/swap".into(),
            status: "with status 1".into(),
            stderr_tail: String::new(),
            output: Box::default(),
        };
        assert_eq!(
            e.to_string(),
            "creating RAID1 /dev/md/swap: mdadm --create /dev/md/swap exited with status 1: (nothing on stderr)"
        );
    }

    #[test]
    fn sub_second_timeout_reads_as_its_real_duration() {
        let e = CmdError::TimedOut {
            what: "reading LVM volumes".into(),
            argv: "lvs --reportformat json".into(),
            timeout: Duration::from_millis(500),
        };
        assert_eq!(
            e.to_string(),
            "reading LVM volumes: lvs --reportformat json did not finish within 0.5 s and was killed: \
             the device or tool may be hung; see `pre-nixos diagnose`"
        );
        assert_eq!(seconds(Duration::from_secs(30)), "30 s");
        assert_eq!(seconds(Duration::from_millis(1250)), "1.25 s");
    }
}
