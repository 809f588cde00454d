//! `pre-nixos diagnose [--out DIR]`: the evidence bundle, and where it went.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::DiagnoseArgs;
use crate::context::Ctx;
use crate::debug::diagnose::{collect, write_outcome, Options, DEFAULT_OUT};

/// `pre-nixos diagnose [--out DIR]`.
pub fn run(ctx: &Ctx, args: &DiagnoseArgs) -> anyhow::Result<u8> {
    let out = match &args.out {
        // A relative --out means relative to where the operator stands, not to `/`.
        Some(p) if p.is_relative() => std::env::current_dir()
            .context("finding the current directory for a relative --out")?
            .join(p),
        Some(p) => p.clone(),
        None => PathBuf::from(DEFAULT_OUT),
    };
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
    write_outcome(ctx.host, &bundle, &mut stdout)?;
    Ok(crate::error::EXIT_OK)
}
