//! `pre-nixos status [--brief] [--json]`.

use std::io::Write;

use crate::cli::StatusArgs;
use crate::context::Ctx;
use crate::debug::status::{
    exit_code, gather_with, write_human_width, ReadBack, StatusReport, BRIEF_REASON,
};

/// `pre-nixos status [--brief] [--json]`.
pub fn run(ctx: &Ctx, args: &StatusArgs) -> anyhow::Result<u8> {
    let report = report(ctx, args);
    let mut out = std::io::stdout().lock();
    if let Some(style) = args.json {
        super::output::write(&mut out, serde_json::to_value(&report)?, style)?;
    } else {
        write_human_width(&report, crate::render::wrap::stdout_width(), &mut out)?;
    }
    out.flush()?;
    Ok(exit_code(&report))
}

/// The report `status` prints: `--brief` reads no disk (the login shell's case).
pub fn report(ctx: &Ctx, args: &StatusArgs) -> StatusReport {
    let read_back = if args.brief {
        ReadBack::Skip(BRIEF_REASON)
    } else {
        ReadBack::Disks
    };
    gather_with(ctx, read_back)
}
