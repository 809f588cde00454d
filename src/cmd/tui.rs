//! `pre-nixos tui [--mode fast|careful] [--swap-size SIZE]`: the storage plan on a
//! terminal, for the operator who must decide what happens to disks that hold data.

use crate::cli::TuiArgs;
use crate::context::Ctx;

/// `pre-nixos tui`.
pub fn run(ctx: &Ctx, args: &TuiArgs) -> anyhow::Result<u8> {
    let opts = super::plan_options(Some(&args.shape), &ctx.boot);
    crate::tui::run(ctx, opts)?;
    Ok(crate::error::EXIT_OK)
}
