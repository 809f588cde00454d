//! The debug shell: `status` (what the stages left, probed live) and `diagnose` (every
//! piece of evidence in one bundle). Read-only views; they never change the machine
//! beyond writing the bundle.

pub mod diagnose;
pub mod status;
