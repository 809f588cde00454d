//! The oneshot boot flow: network → ssh → announce, then storage.

use crate::cli::BootArgs;
use crate::context::Ctx;

pub fn run(ctx: &Ctx, args: &BootArgs) -> anyhow::Result<u8> {
    let _ = (ctx, args);
    anyhow::bail!("boot: not built yet")
}
