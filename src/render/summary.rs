//! The one-screen human summary of a plan.

use std::io::Write;

use crate::plan::Plan;

pub fn write_summary(plan: &Plan, out: &mut dyn Write) -> std::io::Result<()> {
    let _ = (plan, out);
    Ok(())
}
