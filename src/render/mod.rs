//! Renderings of a plan: storage-plan.json, disko-config.nix, the human summary,
//! and the NixOS stubs for the installed system; and `pre-nixos plan`, which prints
//! one of them. Nothing here writes a file or touches the network.

pub mod disko;
pub mod json;
pub mod nixos;
pub mod summary;
pub mod template;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::cli::{PlanArgs, PlanOutput, PlanShape};
use crate::context::Ctx;
use crate::error::UsageError;
use crate::inventory::{Inventory, INVENTORY_SCHEMA_VERSION};
use crate::kcmdline::BootOptions;
use crate::plan::PlanOptions;

/// Reads a saved `pre-nixos inventory --json` file. A malformed file or an unknown
/// field is a [`UsageError`] naming the file and the field.
pub fn read_inventory_file(path: &Path) -> anyhow::Result<Inventory> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading inventory {}", path.display()))
        .map_err(|e| UsageError::new(format!("{e:#}")))?;
    let what = format!("inventory {}", path.display());
    let inv: Inventory = json::from_json_named(&what, &text)?;
    if inv.schema_version != INVENTORY_SCHEMA_VERSION {
        return Err(UsageError::new(format!(
            "{what}: field `schema_version`: {} is not supported (this pre-nixos reads {})",
            inv.schema_version, INVENTORY_SCHEMA_VERSION
        ))
        .into());
    }
    Ok(inv)
}

/// Plan options: the command line wins over the kernel command line, which wins over
/// the defaults.
pub fn plan_options(shape: &PlanShape, boot: &BootOptions) -> PlanOptions {
    PlanOptions {
        mode: shape.mode.map(Into::into).or(boot.mode).unwrap_or_default(),
        swap_size_bytes: shape.swap_size.or(boot.swap_size_bytes),
    }
}

/// `pre-nixos plan` / `--plan-only`: plan this machine (or a saved inventory) and print
/// it. Never writes to a disk, never touches the network.
///
/// With `--inventory`, the plan is for another machine, so this machine's kernel
/// command line is not consulted: only `--mode` and `--swap-size` shape it.
pub fn plan_command(ctx: &Ctx, args: &PlanArgs) -> anyhow::Result<u8> {
    let (inv, boot) = match &args.inventory {
        Some(path) => (read_inventory_file(path)?, BootOptions::default()),
        None => {
            // warnings (unknown pre-nixos.* keys) are logged by read()
            let boot = crate::kcmdline::read(ctx.host);
            let inv =
                crate::inventory::scan(ctx.host).context("scanning the disks of this machine")?;
            (inv, boot)
        }
    };
    let opts = plan_options(&args.shape, &boot);
    let plan = crate::plan::plan(&inv, &opts).context("planning storage")?;
    tracing::debug!(
        disks = plan.layout.disks.len(),
        vgs = plan.layout.vgs.len(),
        "planned"
    );

    let text = match args.output {
        PlanOutput::Summary => {
            let mut buf = Vec::new();
            summary::write_summary(&plan, &mut buf)?;
            buf
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
