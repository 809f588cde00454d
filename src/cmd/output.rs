//! Machine output of the verbs: one JSON shape for every `--json`. The document is an
//! object whose first key is `schema_version` (then the rest, keys sorted); `--json`
//! prints it indented, `--json=short` on one line. An error under `--json` is such a
//! document too, on stdout, with a stable `code` a script can branch on.

use std::io::Write;

use crate::cli::JsonStyle;

/// The version of every document printed here (not of the plan, inventory or status
/// schemas they may carry inside).
pub const OUTPUT_SCHEMA_VERSION: u32 = 1;

/// `value` (an object) as text: `schema_version` first (added when missing), then the
/// other keys sorted; a newline at the end.
pub fn render(value: serde_json::Value, style: JsonStyle) -> String {
    let mut map = match value {
        serde_json::Value::Object(m) => m,
        other => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other);
            m
        }
    };
    let version = map
        .remove("schema_version")
        .unwrap_or_else(|| OUTPUT_SCHEMA_VERSION.into());
    let head = serde_json::to_string(&version).expect("a Value always serializes");
    let rest = serde_json::Value::Object(map);
    let mut text = match style {
        JsonStyle::Short => {
            let body = serde_json::to_string(&rest).expect("a Value always serializes");
            match body.as_str() {
                "{}" => format!("{{\"schema_version\":{head}}}"),
                _ => format!("{{\"schema_version\":{head},{}", &body[1..]),
            }
        }
        JsonStyle::Pretty => {
            let body = serde_json::to_string_pretty(&rest).expect("a Value always serializes");
            match body.as_str() {
                "{}" => format!("{{\n  \"schema_version\": {head}\n}}"),
                _ => format!("{{\n  \"schema_version\": {head},\n{}", &body[2..]),
            }
        }
    };
    text.push('\n');
    text
}

/// Writes [`render`] to `out`.
pub fn write(
    out: &mut dyn Write,
    value: serde_json::Value,
    style: JsonStyle,
) -> std::io::Result<()> {
    out.write_all(render(value, style).as_bytes())
}

/// The JSON document of a failed command: `{"schema_version": 1, "error": {"code",
/// "exit", "message"}}`.
pub fn error_document(code: &str, exit: u8, message: &str) -> serde_json::Value {
    serde_json::json!({
        "error": {"code": code, "exit": exit, "message": message},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_version_comes_first_in_both_styles() {
        let v = serde_json::json!({"alpha": 1, "zeta": {"b": 2, "a": 1}});
        assert_eq!(
            render(v.clone(), JsonStyle::Short),
            "{\"schema_version\":1,\"alpha\":1,\"zeta\":{\"a\":1,\"b\":2}}\n"
        );
        let pretty = render(v, JsonStyle::Pretty);
        assert!(
            pretty.starts_with("{\n  \"schema_version\": 1,\n  \"alpha\": 1,"),
            "{pretty}"
        );
        let back: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(back["zeta"]["b"], 2);
        // a document's own version is kept
        let own = render(
            serde_json::json!({"schema_version": 3, "x": 1}),
            JsonStyle::Short,
        );
        assert_eq!(own, "{\"schema_version\":3,\"x\":1}\n");
        assert_eq!(
            render(serde_json::json!({}), JsonStyle::Short),
            "{\"schema_version\":1}\n"
        );
    }
}
