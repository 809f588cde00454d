//! `pre-nixos apply [--plan FILE] [--executor native|disko] [--wipe …] [--dry-run]`:
//! the storage flow on a plan, with the wipe switch the operator gave.

use std::io::Write as _;

use super::plan_source::load_or_make_plan;
use super::{executor_kind, plan_options};
use crate::cli::ApplyArgs;
use crate::context::Ctx;
use crate::error::UsageError;
use crate::host::dryrun::DryRunHost;
use crate::host::Host;
use crate::storage::env::Env;
use crate::storage::{policy, provision, Request};

/// `pre-nixos apply [--plan FILE] [--executor native|disko] [--wipe …] [--dry-run]`.
pub fn run(ctx: &Ctx, args: &ApplyArgs) -> anyhow::Result<u8> {
    let wipe = match args.wipe.as_deref().map(policy::parse_wipe_arg) {
        Some(Err(e)) => return Err(UsageError::new(e).into()),
        Some(Ok(w)) => Some(w),
        None => None,
    };
    let opts = plan_options(Some(&args.shape), &ctx.boot);
    let plan = load_or_make_plan(ctx, args.plan.as_deref(), &opts)?;
    super::check_swap_request(Some(&args.shape), &plan)?;
    let mut boot = ctx.boot.clone();
    // An explicit `apply` is the operator's decision; only --wipe may wipe here.
    boot.plan_only = false;
    // A dry run is the same flow over the dry-run host: nothing below knows.
    let dry_host = args.dry_run.then(|| DryRunHost::new(ctx.host));
    let host: &dyn Host = match &dry_host {
        Some(d) => d,
        None => ctx.host,
    };
    let env = Env::new(host);
    let executor = args.executor.map(executor_kind).unwrap_or_default();
    let dctx = ctx.with_host(host);
    let outcome = provision(
        &dctx,
        &env,
        &Request {
            plan: &plan,
            executor,
            wipe,
            boot,
            lan_mac: None,
            lan_mac_permanent: false,
        },
    )?;
    if let Some(style) = args.json {
        let commands: Vec<serde_json::Value> = dry_host
            .as_ref()
            .map(|d| {
                d.commands()
                    .iter()
                    .map(|c| serde_json::json!({"what": c.what, "command": c.display()}))
                    .collect()
            })
            .unwrap_or_default();
        let failures = if args.dry_run {
            crate::storage::identity_failures(host, &plan)
        } else {
            Vec::new()
        };
        let doc = serde_json::json!({
            "dry_run": args.dry_run,
            "storage": serde_json::to_value(&outcome.status)?,
            "commands": commands,
            "identity_failures": failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        super::output::write(&mut std::io::stdout().lock(), doc, style)?;
        return Ok(outcome.exit_code());
    }
    if let Some(d) = &dry_host {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# dry run: nothing was changed; the commands, in order:"
        )?;
        for c in d.commands() {
            writeln!(out, "# {}\n{}", c.what, c.display())?;
        }
        let failures = crate::storage::identity_failures(host, &plan);
        if !failures.is_empty() {
            writeln!(
                out,
                "# identity checks that fail on this machine ({} of {} disks); a real apply \
                 here stops before its first disk command:",
                failures.len(),
                plan.layout.disks.len()
            )?;
            for f in &failures {
                writeln!(out, "#   {f}")?;
            }
            writeln!(
                out,
                "storage: {}/{} (see the identity checks above)",
                outcome.status.state, outcome.status.detail
            )?;
            return Ok(outcome.exit_code());
        }
    }
    println!(
        "storage: {}/{}{}",
        outcome.status.state,
        outcome.status.detail,
        outcome
            .status
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    Ok(outcome.exit_code())
}
