//! `pre-nixos diagnose`: every piece of evidence in one bundle.

use crate::cli::DiagnoseArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &DiagnoseArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("diagnose: not built yet")
}
