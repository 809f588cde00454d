//! Renderings of a plan: storage-plan.json, disko-config.nix, the human summary,
//! and the NixOS stubs for the installed system; and `pre-nixos plan`, which prints
//! one of them. Nothing here writes a file or touches the network.

pub mod disko;
pub mod json;
pub mod nixos;
pub mod summary;
pub mod template;
pub mod wrap;

use std::path::Path;

use anyhow::Context;

use crate::error::UsageError;
use crate::inventory::{Inventory, INVENTORY_SCHEMA_VERSION};

/// Reads a saved `pre-nixos inventory --json` file. A malformed file or an unknown
/// field is a [`UsageError`] naming the file and the field.
pub fn read_inventory_file(path: &Path) -> anyhow::Result<Inventory> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading inventory {}", path.display()))
        .map_err(|e| UsageError::new(format!("{e:#}")))?;
    let what = format!("inventory {}", path.display());
    let inv: Inventory = json::from_json_named(&what, &text)?;
    if inv.schema_version != INVENTORY_SCHEMA_VERSION {
        return Err(UsageError::new(format!(
            "{what}: field `schema_version`: {} is not supported (this pre-nixos reads {})",
            inv.schema_version, INVENTORY_SCHEMA_VERSION
        ))
        .into());
    }
    Ok(inv)
}
