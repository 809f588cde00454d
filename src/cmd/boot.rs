//! `pre-nixos boot`: the oneshot flow, with the options the unit passes.

use super::{executor_kind, net_options, plan_options};
use crate::boot::{self, BootRequest};
use crate::cli::BootArgs;
use crate::context::Ctx;

pub fn run(ctx: &Ctx, args: &BootArgs) -> anyhow::Result<u8> {
    boot::run(
        ctx,
        &BootRequest {
            net: net_options(&args.net),
            plan: plan_options(Some(&args.shape), &ctx.boot),
            executor: args.executor.map(executor_kind),
        },
    )
}
