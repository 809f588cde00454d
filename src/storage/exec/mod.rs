//! The executors: both turn the same plan into the same disks (SPEC §3.4). `native`
//! runs sgdisk, mdadm, LVM and mkfs itself, step by step; `disko` hands the rendered
//! disko configuration to disko. An executor never decides *whether* to write: the
//! policy does, and the provision flow only calls an executor for a policy that writes.

pub mod disko;
pub mod native;

use crate::host::Host;
use crate::plan::Plan;
use crate::storage::env::{find_tool, Env, StepError};

/// An executor turns a plan into disks. Both get the same plan.
pub trait Executor {
    fn name(&self) -> &'static str;
    /// Programs the plan needs, checked before anything is touched.
    fn required_tools(&self, plan: &Plan) -> Vec<&'static str>;
    /// How many progress steps [`Executor::apply`] takes.
    fn step_count(&self, plan: &Plan) -> usize;
    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorKind {
    Native,
    Disko,
}

impl ExecutorKind {
    /// The operator's choice when given, else disko when it is on PATH, else native.
    pub fn choose(choice: Option<ExecutorKind>, host: &dyn Host, path_var: &str) -> Self {
        match choice {
            Some(k) => k,
            None if find_tool(host, path_var, "disko").is_some() => ExecutorKind::Disko,
            None => ExecutorKind::Native,
        }
    }

    pub fn executor(self) -> Box<dyn Executor> {
        match self {
            ExecutorKind::Native => Box::new(native::Native),
            ExecutorKind::Disko => Box::new(disko::Disko::default()),
        }
    }
}
