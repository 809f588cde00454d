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
    if let Some(style) = args.json {
        let doc = serde_json::json!({
            "verdict": bundle.index.verdict,
            "directory": ctx.host.path(&bundle.dir),
            "archive": bundle.archive.as_ref().map(|a| ctx.host.path(a)),
            "index": serde_json::to_value(&bundle.index)?,
        });
        super::output::write(&mut stdout, doc, style)?;
        return Ok(crate::error::EXIT_OK);
    }
    let width = crate::render::wrap::stdout_width();
    write_outcome_width(ctx.host, &bundle, width, &mut stdout)?;
    Ok(crate::error::EXIT_OK)
}
