//! The live probes of `status` and `diagnose`: sshd, pending systemd jobs and the
//! pre-nixos unit, each a bounded command, with the pure parsers of their output
//! (those of `systemctl`'s are shared with the boot: `host::systemctl`).

use std::path::Path;

use super::*;
use crate::host::{Cmd, CmdError, Host};

/// Runs one probe command with [`PROBE_TIMEOUT`]; `Err` is one line for the report.
fn probe(host: &dyn Host, what: &str, argv: &[&str]) -> Result<String, String> {
    run_probe(host, what, argv).map_err(|e| probe_error(&e))
}

/// A command's failure in a few words, led by the program: the report's own line
/// already says what was being asked, and `pre-nixos diagnose` keeps the full argv.
pub fn probe_error(e: &CmdError) -> String {
    let program = |argv: &str| argv.split_whitespace().next().unwrap_or("").to_owned();
    match e {
        CmdError::NotFound { program, .. } => {
            format!("{program} not found (not installed, or not on PATH)")
        }
        CmdError::Failed {
            argv,
            status,
            stderr_tail,
            ..
        } => {
            let stderr = crate::text::one_line(stderr_tail);
            if stderr.is_empty() {
                format!("{} exited {status} with nothing on stderr", program(argv))
            } else {
                format!("{} exited {status}: {stderr}", program(argv))
            }
        }
        CmdError::TimedOut { argv, timeout, .. } => {
            format!(
                "{} gave no answer within {}",
                program(argv),
                crate::host::cmd::seconds(*timeout)
            )
        }
        CmdError::Spawn { argv, error, .. } => {
            format!("{} could not be started: {error}", program(argv))
        }
        CmdError::Interrupted { argv, signal, .. } => {
            format!("{} interrupted by {signal}", program(argv))
        }
    }
}

fn run_probe(host: &dyn Host, what: &str, argv: &[&str]) -> Result<String, CmdError> {
    let cmd = Cmd::new(what, argv.iter().copied())
        .timeout(PROBE_TIMEOUT)
        .quiet();
    host.run(&cmd).map(|out| out.stdout)
}

/// Is sshd loaded and active (or socket-activated), and is it hardened?
pub fn sshd_probe(host: &dyn Host) -> SshdReport {
    let mut report = SshdReport::default();
    let mut argv = vec![
        "systemctl",
        "show",
        "-p",
        "Id,LoadState,ActiveState,SubState",
    ];
    argv.extend(SSHD_UNITS);
    match probe(host, "asking systemd for the sshd unit", &argv) {
        Ok(text) => {
            let blocks = parse_show_blocks(&text);
            let loaded = |suffix: &str| {
                blocks.iter().find(|b| {
                    b.get("LoadState").map(String::as_str) == Some("loaded")
                        && b.get("Id").is_some_and(|id| id.ends_with(suffix))
                })
            };
            match loaded(".service") {
                Some(b) => {
                    report.unit = b.get("Id").cloned();
                    report.active_state = b.get("ActiveState").cloned();
                    report.sub_state = b.get("SubState").cloned();
                }
                None => report
                    .errors
                    .push("no sshd.service or ssh.service unit is loaded".into()),
            }
            if let Some(b) = loaded(".socket") {
                report.socket = b.get("Id").cloned();
                report.socket_state = b.get("ActiveState").cloned();
            }
        }
        Err(e) => report.errors.push(e),
    }
    match sshd_effective_config(host) {
        Ok(text) => {
            let problems = crate::network::ssh::hardening_problems(&text);
            report.hardened = Some(problems.is_empty());
            report.hardening_problems = problems;
        }
        Err(e) => report.errors.push(e),
    }
    report
}

/// `sshd -T`: sshd's effective configuration. Tries `PATH`, then Debian's
/// `/usr/sbin/sshd` (not on a normal user's `PATH`).
fn sshd_effective_config(host: &dyn Host) -> Result<String, String> {
    let what = "reading the effective sshd configuration";
    match run_probe(host, what, &["sshd", "-T"]) {
        Err(CmdError::NotFound { .. }) if host.exists(Path::new("/usr/sbin/sshd")) => {
            probe(host, what, &["/usr/sbin/sshd", "-T"])
        }
        other => other.map_err(|e| probe_error(&e)),
    }
}

/// `systemctl list-jobs`: what systemd is still waiting for.
pub fn jobs_probe(host: &dyn Host) -> JobsReport {
    match probe(
        host,
        "listing pending systemd jobs",
        &["systemctl", "list-jobs", "--no-legend", "--no-pager"],
    ) {
        Ok(text) => JobsReport {
            jobs: parse_list_jobs(&text),
            error: None,
        },
        Err(e) => JobsReport {
            jobs: Vec::new(),
            error: Some(e),
        },
    }
}

/// The state of `pre-nixos.service`.
pub fn unit_probe(host: &dyn Host) -> UnitReport {
    let mut report = UnitReport {
        unit: UNIT.to_owned(),
        ..Default::default()
    };
    match probe(
        host,
        "asking systemd for the state of pre-nixos.service",
        &[
            "systemctl",
            "show",
            "-p",
            "LoadState,ActiveState,SubState,Result,ExecMainStatus",
            UNIT,
        ],
    ) {
        Ok(text) => {
            let b = parse_show_blocks(&text)
                .into_iter()
                .next()
                .unwrap_or_default();
            report.load_state = b.get("LoadState").cloned();
            report.active_state = b.get("ActiveState").cloned();
            report.sub_state = b.get("SubState").cloned();
            report.result = b.get("Result").cloned();
            report.exec_main_status = b.get("ExecMainStatus").cloned();
        }
        Err(e) => report.error = Some(e),
    }
    report
}
