//! `storage-status` and `network-status`: atomic KEY=VALUE files (SPEC §3.6), and
//! `pre-nixos status`.

use crate::cli::StatusArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("status: not built yet")
}
