//! `pre-nixos inventory [--json]`: the disks and NICs this machine has, and every
//! excluded device with its reason.

use anyhow::Context as _;

use crate::cli::InventoryArgs;
use crate::context::Ctx;
use crate::inventory::{human, scan};

/// `pre-nixos inventory [--json]`.
pub fn run(ctx: &Ctx, args: &InventoryArgs) -> anyhow::Result<u8> {
    let inv = scan(ctx.host, &ctx.boot).map_err(crate::error::DetectionError)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(style) = args.json {
        let value = serde_json::to_value(&inv).context("rendering the inventory as JSON")?;
        super::output::write(&mut out, value, style).context("writing the inventory as JSON")?;
    } else {
        human::write_human(&inv, &mut out).context("writing the inventory")?;
    }
    Ok(0)
}
