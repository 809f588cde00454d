//! The executors: both turn the same plan into the same disks (SPEC §3.4). `native`
//! runs sgdisk, mdadm, LVM and mkfs itself, step by step; `disko` hands the rendered
//! disko configuration to disko. An executor never decides *whether* to write: the
//! policy does, and the provision flow only calls an executor for a policy that writes.

pub mod disko;
pub mod native;

use crate::plan::Plan;
use crate::storage::env::{Env, StepError};

/// An executor turns a plan into disks. Both get the same plan.
pub trait Executor {
    fn name(&self) -> &'static str;
    /// Programs the plan needs, checked before anything is touched.
    fn required_tools(&self, plan: &Plan) -> Vec<&'static str>;
    /// How many progress steps [`Executor::apply`] takes.
    fn step_count(&self, plan: &Plan) -> usize;
    /// Checks, before any disk is touched (teardown included), that this executor can
    /// run here. An error refuses the whole apply with nothing written to a disk.
    fn preflight(&self, _env: &Env, _plan: &Plan) -> anyhow::Result<()> {
        Ok(())
    }
    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError>;
    /// Runs after verify found the disks exactly as planned (one progress step): the
    /// native executor turns its in-progress markers into done ones
    /// ([`crate::storage::resume`]).
    fn finish(&self, _env: &Env, _plan: &Plan) -> Result<(), StepError> {
        Ok(())
    }
}

/// Which executor applies the plan. Native unless the operator asks for disko: native is
/// the path the VM suite proves end to end, and disko builds its scripts with Nix at run
/// time, which an offline image may not be able to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecutorKind {
    #[default]
    Native,
    Disko,
}

impl ExecutorKind {
    pub fn executor(self) -> Box<dyn Executor> {
        match self {
            ExecutorKind::Native => Box::new(native::Native),
            ExecutorKind::Disko => Box::new(disko::Disko::default()),
        }
    }
}
