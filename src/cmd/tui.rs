//! `pre-nixos tui [--inventory FILE] [--mode fast|careful] [--swap-size SIZE]`: the
//! storage plan on a terminal, for the operator who must decide what happens to disks
//! that hold data.

use crate::cli::TuiArgs;
use crate::context::Ctx;

/// `pre-nixos tui`.
pub fn run(ctx: &Ctx, args: &TuiArgs) -> anyhow::Result<u8> {
    // A saved inventory is another machine (or this one as it was): the kernel switches
    // of this one do not shape its plan, as for `plan --inventory`.
    let no_switches = crate::kcmdline::BootOptions::default();
    let boot = if args.inventory.is_some() {
        &no_switches
    } else {
        &ctx.boot
    };
    let opts = super::plan_options(Some(&args.shape), boot);
    let inventory = match &args.inventory {
        Some(p) => Some(crate::render::read_inventory_file(p)?),
        None => None,
    };
    crate::tui::run(ctx, opts, inventory)?;
    Ok(crate::error::EXIT_OK)
}
