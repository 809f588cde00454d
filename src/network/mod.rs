//! Network: choose the LAN, make it `lan`, DHCP with networkd (SPEC §4.1–4.2).

use crate::cli::NetworkArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &NetworkArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("network: not built yet")
}
