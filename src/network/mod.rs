//! Network: choose the LAN, make it `lan`, DHCP with networkd (SPEC §4.1–4.2).

use crate::cli::NetworkArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &NetworkArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("network: not built yet")
}

/// What the network half of `boot` achieved, for the status file and the announce line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkReport {
    pub lan_iface: Option<String>,
    pub lan_mac: Option<String>,
    pub lan_ipv4: Option<String>,
    /// `ready`, or why sshd is not up.
    pub ssh: String,
    pub warnings: Vec<String>,
}

/// The network half of `pre-nixos boot`: choose the LAN, `lan` files, DHCP, sshd,
/// `network-status`, first announce. Never fails the boot: problems land in the report.
pub fn boot_stage(
    ctx: &Ctx,
    opts: &crate::cli::NetOptions,
    boot: &crate::kcmdline::BootOptions,
) -> NetworkReport {
    let _ = (ctx, opts, boot);
    NetworkReport {
        ssh: "network stage not built yet".into(),
        ..Default::default()
    }
}
