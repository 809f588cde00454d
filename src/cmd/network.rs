//! `pre-nixos network [--dry-run]`: the network stage on its own, or what it would do.

use std::io::Write;

use super::net_options;
use crate::cli::NetworkArgs;
use crate::context::Ctx;
use crate::host::dryrun::DryRunHost;
use crate::network::{announce_line, boot_stage, run_stage, write_preview};

/// `pre-nixos network [--dry-run]`.
pub fn run(ctx: &Ctx, args: &NetworkArgs) -> anyhow::Result<u8> {
    let boot = &ctx.boot;
    let opts = net_options(&args.net);
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let dry = DryRunHost::new(ctx.host);
        let (report, trace) = run_stage(&dry, ctx.state_dir(), &opts, boot);
        write_preview(&mut out, &report, &trace, &dry.actions())?;
        return Ok(0);
    }
    let report = boot_stage(ctx, &opts, boot);
    writeln!(out, "{}", announce_line(&report))?;
    for w in &report.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(if report.lan_ipv4.is_some() && report.ssh == "ready" {
        0
    } else {
        1
    })
}
