//! Errors a caller branches on, and exit codes.

/// Exit codes documented in `--help` (`EXIT_CODES_HELP` in `cli.rs`).
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

/// Malformed input from the operator (an option, an inventory or plan file):
/// exits 2 with a one-line message naming the field.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into())
    }
}

/// The disks of this machine could not be read (the inventory scan failed): the
/// "storage detection error" of the exit-code table, exit 2 from every verb, as
/// `detect-storage` always had it.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct DetectionError(pub anyhow::Error);

/// Maps an error to its exit code: usage errors, planner refusals (no usable disk, an
/// inventory the planner cannot take) and detection errors anywhere in the chain give
/// 2, from every verb (`plan`, `apply`, `detect-storage`, `inventory`); the rest 1.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| {
        e.is::<UsageError>() || e.is::<crate::plan::PlanError>() || e.is::<DetectionError>()
    }) {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}

/// A stable name for the kind of error, for `--json` error documents (scripts branch on
/// it; the message may change).
pub fn error_code(err: &anyhow::Error) -> &'static str {
    for e in err.chain() {
        if let Some(p) = e.downcast_ref::<crate::plan::PlanError>() {
            return match p {
                crate::plan::PlanError::NoUsableDisk(_) => "no-usable-disk",
                crate::plan::PlanError::Invalid(_) => "invalid-inventory",
            };
        }
        if e.is::<UsageError>() {
            return "usage";
        }
        if e.is::<DetectionError>() {
            return "detection-failed";
        }
    }
    "failed"
}

/// The one shape of an error line on stderr: `pre-nixos <verb>: error: <message>`
/// (`pre-nixos: error: …` before a verb is known).
pub fn error_line(verb: Option<&str>, msg: &str) -> String {
    match verb {
        Some(v) => format!("pre-nixos {v}: error: {msg}"),
        None => format!("pre-nixos: error: {msg}"),
    }
}

/// Writes [`error_line`] to stderr. A stderr that cannot be written (closed, a pipe
/// whose reader is gone) loses the line but never panics: the exit code still says it.
pub fn print_error(verb: Option<&str>, msg: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", error_line(verb, msg));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planner_refusals_exit_2_like_other_input_errors() {
        let e = anyhow::Error::new(crate::plan::PlanError::NoUsableDisk("x".into()))
            .context("planning storage");
        assert_eq!(exit_code_for(&e), EXIT_USAGE);
        let e = anyhow::Error::new(UsageError::new("bad")).context("reading");
        assert_eq!(exit_code_for(&e), EXIT_USAGE);
        assert_eq!(
            exit_code_for(&anyhow::anyhow!("mdadm failed")),
            EXIT_FAILURE
        );
    }

    #[test]
    fn a_disk_scan_that_fails_is_a_detection_error_everywhere() {
        // the disks could not be read: 2, like detect-storage's detection failure
        let e = anyhow::Error::new(DetectionError(anyhow::anyhow!("reading /sys/block")))
            .context("scanning the disks of this machine");
        assert_eq!(exit_code_for(&e), EXIT_USAGE);
        assert_eq!(error_code(&e), "detection-failed");
    }

    #[test]
    fn error_codes_are_stable_names() {
        let e = anyhow::Error::new(crate::plan::PlanError::NoUsableDisk("x".into()))
            .context("planning storage");
        assert_eq!(error_code(&e), "no-usable-disk");
        let e = anyhow::Error::new(UsageError::new("bad"));
        assert_eq!(error_code(&e), "usage");
        assert_eq!(error_code(&anyhow::anyhow!("mdadm")), "failed");
    }

    #[test]
    fn one_prefix_for_every_error() {
        assert_eq!(error_line(Some("plan"), "m"), "pre-nixos plan: error: m");
        assert_eq!(error_line(None, "m"), "pre-nixos: error: m");
    }
}
