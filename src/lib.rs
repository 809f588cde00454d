//! pre-nixos: turns a bare-metal server booted from a NixOS ISO into a machine that is
//! ready for `nixos-install`.
//!
//! The modules read as the pipeline, arrows pointing down only:
//! - [`cmd`]: one handler per verb; turns parsed arguments into plain options and calls
//!   the stages. [`boot`] is the oneshot: network, then storage.
//! - Storage: [`inventory`] → [`plan`] (pure) → [`render`] → [`storage`] (detect →
//!   policy → teardown → executor → verify → record), with [`state`] holding the status
//!   files and the lock.
//! - Network: [`network`] chooses the LAN, writes the `lan` files, starts sshd and
//!   announces on every console.
//! - [`debug`]: `status` and `diagnose`, read-only views over what the stages left.
//! - Underneath everything: [`host`] (every effect on the machine), [`context`] (the
//!   run state every stage gets), [`kcmdline`], [`units`], [`logging`], [`error`].

pub mod cli;
pub mod cmd;
pub mod context;
pub mod error;
pub mod host;
pub mod kcmdline;
pub mod logging;
pub mod text;
pub mod units;

// Storage pipeline, in order.
pub mod inventory;
pub mod plan;
pub mod render;
pub mod state;
pub mod storage;

// Network pipeline.
pub mod network;

// The collector report (a background thread fed by the boot flow).
pub mod report;

// Orchestration and the debug shell.
pub mod boot;
pub mod debug;
pub mod tui;

/// Fixture machines and plans shared by the unit and integration tests; compiled only
/// for tests (the crate's dev-dependency on itself turns the feature on), never into
/// the release binary.
#[cfg(feature = "testkit")]
pub mod testkit;
