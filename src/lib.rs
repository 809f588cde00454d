//! pre-nixos: turns a bare-metal server booted from a NixOS ISO into a machine that is
//! ready for `nixos-install`.
//!
//! Storage: inventory → plan → render → detect → apply → verify → status.
//! Network: choose the LAN → `lan` link files → sshd → announce.
//! `boot` runs network first, then storage; neither can stop the other.

pub mod cli;
pub mod context;
pub mod error;
pub mod host;
pub mod kcmdline;
pub mod logging;
pub mod units;

// Storage pipeline, in order.
pub mod apply;
pub mod blockdev;
pub mod detect;
pub mod inventory;
pub mod lock;
pub mod plan;
pub mod policy;
pub mod render;
pub mod status;
pub mod teardown;
pub mod verify;

// Network pipeline, in order.
pub mod announce;
pub mod network;
pub mod ssh;

// Orchestration and the debug shell.
pub mod boot;
pub mod diagnose;
pub mod docs;
pub mod report;
pub mod testkit;
