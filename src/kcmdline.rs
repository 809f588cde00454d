//! Kernel command line (`/proc/cmdline`) → boot options, parsed with nom (SPEC §7).

use crate::plan::Mode;

/// Which disks a wipe switch names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WipeSpec {
    All,
    Serials(Vec<String>),
}

/// The `pre-nixos.*` options found on the kernel command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootOptions {
    pub mode: Option<Mode>,
    pub plan_only: bool,
    pub wipe: Option<WipeSpec>,
    pub lan_mac: Option<String>,
    pub swap_size_bytes: Option<u64>,
    /// `boot=LABEL=…` / `boot=UUID=…` (the boot medium, never a target).
    pub boot_device: Option<String>,
    /// Unknown `pre-nixos.*` keys and malformed values, each a warning.
    pub warnings: Vec<String>,
}

/// Parses a whole kernel command line.
pub fn parse(cmdline: &str) -> BootOptions {
    let _ = cmdline;
    BootOptions::default()
}
