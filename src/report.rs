//! `pre-nixos status`: one screen (or JSON) on what happened and why — storage state,
//! plan, verify diff, LAN, sshd, pending systemd jobs.

use crate::cli::StatusArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("status: not built yet")
}
