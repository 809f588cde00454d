//! `pre-nixos status [--json]`.

use std::io::Write;

use crate::cli::StatusArgs;
use crate::context::Ctx;
use crate::debug::status::{exit_code, gather, write_human_width};

/// `pre-nixos status [--json]`.
pub fn run(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<u8> {
    let report = gather(ctx, true);
    let mut out = std::io::stdout().lock();
    if let Some(style) = args.json {
        super::output::write(&mut out, serde_json::to_value(&report)?, style)?;
    } else {
        write_human_width(&report, crate::render::wrap::stdout_width(), &mut out)?;
    }
    out.flush()?;
    Ok(exit_code(&report))
}
