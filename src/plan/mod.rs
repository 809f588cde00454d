//! The planner: a pure function from an [`Inventory`] and [`PlanOptions`] to a
//! [`Plan`] (SPEC §2). No I/O, no clock, no randomness: the same inventory in any
//! order gives the same plan, byte for byte once rendered.

pub mod types;

pub use types::*;

use crate::inventory::Inventory;

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no usable disk: {0}")]
    NoUsableDisk(String),
    #[error("{0}")]
    Invalid(String),
}

/// Plans the storage of one machine.
pub fn plan(inv: &Inventory, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let _ = (inv, opts);
    Err(PlanError::Invalid("planner: not built yet".into()))
}
