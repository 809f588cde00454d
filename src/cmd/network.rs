//! `pre-nixos network [--dry-run]`: the network stage on its own, or what it would do.

use std::io::Write;

use super::net_options;
use crate::cli::NetworkArgs;
use crate::context::Ctx;
use crate::host::dryrun::DryRunHost;
use crate::network::{announce_line, boot_stage, run_stage, write_preview, NetworkReport};

/// `pre-nixos network [--dry-run]`.
pub fn run(ctx: &Ctx, args: &NetworkArgs) -> anyhow::Result<u8> {
    let boot = &ctx.boot;
    let opts = net_options(&args.net);
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        let dry = DryRunHost::new(ctx.host);
        let (report, trace) = run_stage(&dry, ctx.state_dir(), &opts, boot);
        if let Some(style) = args.json {
            let mut doc = report_json(&report);
            doc["dry_run"] = true.into();
            doc["choice"] = trace.choice.clone().into();
            doc["would_run"] = dry
                .commands()
                .iter()
                .map(|c| serde_json::json!({"what": c.what, "command": c.display()}))
                .collect::<Vec<_>>()
                .into();
            super::output::write(&mut out, doc, style)?;
        } else {
            write_preview(&mut out, &report, &trace, &dry.actions())?;
        }
        return Ok(0);
    }
    let report = boot_stage(ctx, &opts, boot);
    let code = if report.lan_ipv4.is_some() && report.ssh == "ready" {
        0
    } else {
        1
    };
    if let Some(style) = args.json {
        let mut doc = report_json(&report);
        doc["dry_run"] = false.into();
        super::output::write(&mut out, doc, style)?;
        return Ok(code);
    }
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

/// The network report as JSON (the fields of `network-status`, and the warnings).
fn report_json(r: &NetworkReport) -> serde_json::Value {
    serde_json::json!({
        "lan_iface": r.lan_iface,
        "lan_mac": r.lan_mac,
        "lan_ipv4": r.lan_ipv4,
        "ssh": r.ssh,
        "warnings": r.warnings,
    })
}
