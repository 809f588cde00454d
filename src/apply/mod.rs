//! Apply: the executor trait and its two executors, native and disko (SPEC §3.4).

use crate::cli::ApplyArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &ApplyArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("apply: not built yet")
}
