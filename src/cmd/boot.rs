//! `pre-nixos boot`: the oneshot flow, with the options the unit passes; with
//! `--dry-run`, the same flow over the dry-run host, then what it would have done.

use std::io::Write as _;

use super::{executor_kind, net_options, plan_options};
use crate::boot::{self, BootRequest};
use crate::cli::BootArgs;
use crate::context::Ctx;
use crate::error::UsageError;
use crate::host::dryrun::DryRunHost;
use crate::storage::policy;

/// `pre-nixos boot [--plan-only] [--wipe …] [--dry-run]`: the switches mean what their
/// kernel command-line twins (`pre-nixos.plan-only=1`, `pre-nixos.wipe=`) mean, and win
/// over them.
pub fn run(ctx: &Ctx, args: &BootArgs) -> anyhow::Result<u8> {
    if args.dry_run {
        let (dry, outcome) = dry_run(ctx, args)?;
        let state = format!("{}/{}", outcome.status.state, outcome.status.detail);
        let mut out = std::io::stdout().lock();
        write_dry_run(&mut out, &dry, &state)?;
        out.flush()?;
        return Ok(outcome.exit_code());
    }
    Ok(flow(ctx, args)?.exit_code())
}

/// The boot flow over a dry-run host wrapping `ctx`'s: the host holds every change the
/// flow would have made, the outcome is the storage status it would have recorded.
pub fn dry_run<'a>(
    ctx: &Ctx<'a>,
    args: &BootArgs,
) -> anyhow::Result<(DryRunHost<'a>, crate::storage::Outcome)> {
    let dry = DryRunHost::new(ctx.host);
    let outcome = flow(&ctx.with_host(&dry), args)?;
    Ok((dry, outcome))
}

/// What `boot --dry-run` prints: every change the flow would make, in order (commands,
/// files with their contents, console lines), then the storage outcome it would record.
pub fn write_dry_run(
    out: &mut dyn std::io::Write,
    dry: &DryRunHost,
    state: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "# dry run: nothing was changed; what `pre-nixos boot` would do, in order:"
    )?;
    for a in dry.actions() {
        writeln!(out, "{}", a.to_string().trim_end())?;
    }
    writeln!(out, "storage: {state} (as the dry run would record it)")
}

/// The flow with the command line's switches over the kernel's.
fn flow(ctx: &Ctx, args: &BootArgs) -> anyhow::Result<crate::storage::Outcome> {
    let mut ctx = ctx.with_host(ctx.host);
    if args.plan_only {
        ctx.boot.plan_only = true;
    }
    if let Some(w) = &args.wipe {
        ctx.boot.wipe = Some(policy::parse_wipe_arg(w).map_err(UsageError::new)?);
    }
    let ctx = &ctx;
    Ok(boot::run_flow(
        ctx,
        &BootRequest {
            net: net_options(&args.net),
            plan: plan_options(Some(&args.shape), &ctx.boot),
            executor: args.executor.map(executor_kind),
            jobs: crate::storage::env::default_jobs(),
        },
    ))
}
