//! `pre-nixos diagnose [--out DIR]`: the evidence bundle, and where it went.

use std::path::PathBuf;

use crate::cli::DiagnoseArgs;
use crate::context::Ctx;
use crate::debug::diagnose::{collect, write_outcome_width, Options, DEFAULT_OUT};

/// `pre-nixos diagnose [--out DIR]`.
pub fn run(ctx: &Ctx, args: &DiagnoseArgs) -> anyhow::Result<u8> {
    // A relative --out was made absolute from the operator's directory already
    // (`cmd::resolve_relative_paths`).
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    let self_exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pre-nixos".to_owned());
    let bundle = collect(
        ctx,
        &Options {
            out,
            self_exe,
            name: None,
        },
    )?;
    let mut stdout = std::io::stdout().lock();
    let width = crate::render::wrap::stdout_width();
    write_outcome_width(ctx.host, &bundle, width, &mut stdout)?;
    Ok(crate::error::EXIT_OK)
}
