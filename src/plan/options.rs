//! What an operator may choose about a plan: the mode and the swap size. Plain values
//! that import nothing, so the kernel command line and the CLI can name them without
//! reaching into the planner.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Capacity and speed first (SSD buckets striped).
    #[default]
    Fast,
    /// Redundancy first (SSD buckets mirrored).
    Careful,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fast => "fast",
            Mode::Careful => "careful",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fast" => Ok(Mode::Fast),
            "careful" => Ok(Mode::Careful),
            other => Err(format!("mode {other:?}: expected fast or careful")),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    pub mode: Mode,
    /// Swap size requested by the operator; `None` = 2 × RAM, capped.
    #[serde(default)]
    pub swap_size_bytes: Option<u64>,
}
