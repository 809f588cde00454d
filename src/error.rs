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

/// Maps an error to its exit code: usage errors anywhere in the chain give 2.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err
        .chain()
        .any(<dyn std::error::Error + 'static>::is::<UsageError>)
    {
        EXIT_USAGE
    } else {
        EXIT_FAILURE
    }
}
