//! The never-a-target rules, applied to a plan made elsewhere (`apply --plan`, a plan
//! loaded in `pre-nixos tui`): both callers share this one check, so a plan file can
//! never reach a disk the planner itself would refuse on this machine.

use anyhow::Context as _;

use crate::context::Ctx;
use crate::error::UsageError;
use crate::plan::{Plan, PlanOptions};
use crate::storage::blockdev::resolve_kname;

/// A plan from a file was made elsewhere, or here before something changed: every disk
/// it names must be one the planner would take on this machine now. The never-a-target
/// rules (boot medium, running system, removable and USB media, read-only, too small…)
/// are the inventory's and the planner's, so they run again here, before anything —
/// a dry run included — and a disk they exclude refuses the whole plan.
pub fn refuse_never_targets(ctx: &Ctx, plan: &Plan, opts: &PlanOptions) -> anyhow::Result<()> {
    let inv = crate::inventory::scan(ctx.host, &ctx.boot).context("reading the inventory")?;
    let here = crate::plan::plan(&inv, opts).ok();
    let excluded = here.as_ref().map_or(&inv.excluded, |p| &p.excluded);
    let mut refused = Vec::new();
    for d in &plan.layout.disks {
        // A disk that is gone is the identity guard's to report, with its own words.
        let Some(k) = resolve_kname(ctx.host, &d.stable_path)? else {
            continue;
        };
        let usable = here.as_ref().is_some_and(|p| {
            p.layout
                .disks
                .iter()
                .any(|u| u.name == k || u.stable_path == d.stable_path)
        });
        if usable {
            continue;
        }
        let why = excluded
            .iter()
            .find(|x| x.name == k)
            .map_or("not a disk the planner would use here", |x| {
                x.reason.as_str()
            });
        refused.push(format!("{} (/dev/{k}): {why}", d.stable_path));
    }
    if refused.is_empty() {
        return Ok(());
    }
    Err(UsageError::new(format!(
        "the plan names disks that are never a target on this machine: {}; nothing was \
         touched. Plan this machine as it is now (`pre-nixos plan --output json`)",
        refused.join("; ")
    ))
    .into())
}
