//! `pre-nixos plan` / `--plan-only`: plan this machine (or a saved inventory) and print
//! one rendering of the plan. Never writes to a disk, never touches the network.

use std::io::Write;

use anyhow::Context;

use super::plan_options;
use crate::cli::{JsonStyle, PlanArgs, PlanOutput};
use crate::context::Ctx;
use crate::kcmdline::BootOptions;
use crate::render::{disko, json, read_inventory_file, summary};

/// `pre-nixos plan` / `--plan-only`: plan this machine (or a saved inventory) and print
/// it. Never writes to a disk, never touches the network.
///
/// With `--inventory`, the plan is for another machine, so this machine's kernel
/// command line is not consulted: only `--mode` and `--swap-size` shape it.
pub fn run(ctx: &Ctx, args: &PlanArgs) -> anyhow::Result<u8> {
    let no_switches = BootOptions::default();
    let (inv, boot) = match &args.inventory {
        Some(path) => (read_inventory_file(path)?, &no_switches),
        None => {
            let inv = crate::inventory::scan(ctx.host, &ctx.boot)
                .map_err(crate::error::DetectionError)
                .context("scanning the disks of this machine")?;
            (inv, &ctx.boot)
        }
    };
    let opts = plan_options(Some(&args.shape), boot);
    let plan = crate::plan::plan(&inv, &opts).with_context(|| match &args.inventory {
        Some(path) => format!("planning storage from the inventory {}", path.display()),
        None => "planning storage".to_owned(),
    })?;
    super::check_swap_request(Some(&args.shape), &plan)?;
    tracing::debug!(
        disks = plan.layout.disks.len(),
        vgs = plan.layout.vgs.len(),
        "planned"
    );

    let output = if args.json.is_some() {
        PlanOutput::Json
    } else {
        args.output
    };
    let text = match output {
        PlanOutput::Summary => {
            let mut buf = Vec::new();
            let layout = summary::Layout {
                width: crate::render::wrap::stdout_width(),
                wide: args.wide,
            };
            summary::write_summary_as(&plan, layout, &mut buf)?;
            buf
        }
        // `--json` is storage-plan.json byte for byte (sorted keys, the golden files);
        // `--json=short` is the same on one line, schema_version first like every
        // other document.
        PlanOutput::Json if args.json == Some(JsonStyle::Short) => {
            super::output::render(serde_json::to_value(&plan)?, JsonStyle::Short).into_bytes()
        }
        PlanOutput::Json => json::plan_to_json(&plan).into_bytes(),
        PlanOutput::Disko => disko::render_disko(&plan).into_bytes(),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(&text).and_then(|()| out.flush()) {
        // `pre-nixos plan | head` is not a failure
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.context("writing the plan to stdout")?,
    }
    Ok(crate::error::EXIT_OK)
}
