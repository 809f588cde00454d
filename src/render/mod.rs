//! Renderings of a plan: storage-plan.json, disko-config.nix, the human summary,
//! and the NixOS stubs for the installed system.

pub mod disko;
pub mod json;
pub mod nixos;
pub mod summary;

use crate::cli::PlanArgs;
use crate::context::Ctx;

/// `pre-nixos plan` / `--plan-only`: plan this machine (or a saved inventory) and print
/// it. Never writes to a disk, never touches the network.
pub fn plan_command(ctx: &Ctx, args: &PlanArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("plan: not built yet")
}
