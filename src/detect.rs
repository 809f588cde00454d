//! Clean-disk detection (SPEC §3.1): is every planned disk empty, and if not, why.

use crate::cli::DetectArgs;
use crate::context::Ctx;

pub fn command(ctx: &Ctx, args: &DetectArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("detect-storage: not built yet")
}
