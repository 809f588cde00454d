//! `pre-nixos boot`: the oneshot flow, with the options the unit passes.

use super::{executor_kind, net_options, plan_options};
use crate::boot::{self, BootRequest};
use crate::cli::BootArgs;
use crate::context::Ctx;
use crate::error::UsageError;
use crate::storage::policy;

/// `pre-nixos boot [--plan-only] [--wipe …]`: the switches mean what their kernel
/// command-line twins (`pre-nixos.plan-only=1`, `pre-nixos.wipe=`) mean, and win over them.
pub fn run(ctx: &Ctx, args: &BootArgs) -> anyhow::Result<u8> {
    let mut ctx = ctx.with_host(ctx.host);
    if args.plan_only {
        ctx.boot.plan_only = true;
    }
    if let Some(w) = &args.wipe {
        ctx.boot.wipe = Some(policy::parse_wipe_arg(w).map_err(UsageError::new)?);
    }
    let ctx = &ctx;
    boot::run(
        ctx,
        &BootRequest {
            net: net_options(&args.net),
            plan: plan_options(Some(&args.shape), &ctx.boot),
            executor: args.executor.map(executor_kind),
        },
    )
}
