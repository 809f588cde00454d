//! `storage-plan.json`: the plan as stable JSON (sorted keys, schema version), and
//! strict JSON readers for plans and inventories whose errors name the field.

use serde::de::DeserializeOwned;

use crate::error::UsageError;
use crate::plan::{Plan, PLAN_SCHEMA_VERSION};

/// Renders the plan as pretty JSON with sorted keys and a trailing newline.
pub fn plan_to_json(plan: &Plan) -> String {
    to_sorted_json(plan)
}

/// Any serializable value as pretty JSON with sorted keys and a trailing newline.
/// Going through `serde_json::Value` sorts the keys (its map is a BTreeMap).
pub fn to_sorted_json<T: serde::Serialize>(v: &T) -> String {
    let value = serde_json::to_value(v).expect("plan types always serialize");
    let mut s = serde_json::to_string_pretty(&value).expect("a Value always serializes");
    s.push('\n');
    s
}

/// Parses JSON into `T`; the error is one line naming the file and the field
/// (`disks[2].size_bytes: invalid type: string "x", expected u64 at line 9 column 21`).
pub fn from_json_named<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, UsageError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string().replace('\n', " ");
        if path.is_empty() || path == "." || path == "?" {
            UsageError::new(format!("{what}: {msg}"))
        } else {
            UsageError::new(format!("{what}: field `{path}`: {msg}"))
        }
    })?;
    // Two files pasted into one would otherwise plan the first and drop the second.
    de.end().map_err(|e| {
        UsageError::new(format!(
            "{what}: more data after the JSON value ({e}); a file holds exactly one, cut \
             the rest"
        ))
    })?;
    Ok(value)
}

/// Parses a `storage-plan.json`; errors name the field.
pub fn plan_from_json(text: &str) -> Result<Plan, UsageError> {
    let plan: Plan = from_json_named("plan file", text)?;
    if plan.schema_version != PLAN_SCHEMA_VERSION {
        return Err(UsageError::new(format!(
            "plan file: field `schema_version`: {} is not supported (this pre-nixos reads {})",
            plan.schema_version, PLAN_SCHEMA_VERSION
        )));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_plans_name_the_field() {
        let err = plan_from_json(r#"{"schema_version": "one"}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plan file: field `schema_version`: invalid type: string \"one\", expected u32 at line 1 column 24"
        );
        let err = plan_from_json("{").unwrap_err().to_string();
        assert!(err.starts_with("plan file: EOF while parsing"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn data_after_the_json_value_is_an_error() {
        #[derive(Debug, serde::Deserialize)]
        struct T {
            #[allow(dead_code)]
            a: u8,
        }
        let e = from_json_named::<T>("inventory x", "{\"a\": 1}\n{\"a\": 2}\n").unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with(
                "inventory x: more data after the JSON value (trailing characters at line 2"
            ),
            "{e}"
        );
        assert!(from_json_named::<T>("x", "{\"a\": 1}\n\n  ").is_ok());
    }

    #[test]
    fn keys_are_sorted_and_text_ends_with_newline() {
        #[derive(serde::Serialize)]
        struct T {
            zeta: u8,
            alpha: u8,
        }
        assert_eq!(
            to_sorted_json(&T { zeta: 1, alpha: 2 }),
            "{\n  \"alpha\": 2,\n  \"zeta\": 1\n}\n"
        );
    }
}
