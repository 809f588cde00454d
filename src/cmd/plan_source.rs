//! Where a command's plan comes from: a saved `storage-plan.json` the operator names
//! (`--plan FILE`), or this machine planned now (inventory → planner).

use std::path::Path;

use anyhow::Context;

use crate::context::Ctx;
use crate::error::UsageError;
use crate::plan::{Plan, PlanOptions};

/// Reads `--plan FILE` (a corrupt file is a usage error naming the field), or plans
/// this machine now.
pub fn load_or_make_plan(
    ctx: &Ctx,
    file: Option<&Path>,
    opts: &PlanOptions,
) -> anyhow::Result<Plan> {
    if let Some(f) = file {
        // The operator's own file, relative to their working directory.
        let text = std::fs::read_to_string(f)
            .map_err(|e| UsageError::new(format!("reading the plan file {}: {e}", f.display())))?;
        let plan = crate::render::json::plan_from_json(&text).map_err(|e| {
            // serde names missing and unknown fields itself; for a wrong value, name
            // the field whose value it is.
            let near = field_near_error(&text, &e.to_string())
                .filter(|f| {
                    let m = e.to_string();
                    !m.contains("field `") && !m.contains(&format!("`{f}`"))
                })
                .map(|f| format!(" (in field `{f}`)"))
                .unwrap_or_default();
            let problem = e.to_string();
            let problem = problem.strip_prefix("plan file: ").unwrap_or(&problem);
            UsageError::new(format!(
                "the plan file {} is not a valid plan: {problem}{near}; write a fresh one \
                 with `pre-nixos plan --output json > {}`",
                f.display(),
                f.display()
            ))
        })?;
        if plan.schema_version != crate::plan::PLAN_SCHEMA_VERSION {
            return Err(UsageError::new(format!(
                "the plan file {}: schema_version {} is not the supported {}",
                f.display(),
                plan.schema_version,
                crate::plan::PLAN_SCHEMA_VERSION
            ))
            .into());
        }
        return Ok(plan);
    }
    let inv = crate::inventory::scan(ctx.host, &ctx.boot).context("reading the inventory")?;
    let plan = crate::plan::plan(&inv, opts).context("planning storage")?;
    Ok(plan)
}

/// The JSON key whose value a serde error at `line L column C` points into.
pub fn field_near_error(text: &str, error: &str) -> Option<String> {
    let after = error.rsplit_once(" at line ")?.1;
    let (line, col) = after.split_once(" column ")?;
    let line: usize = line.trim().parse().ok()?;
    let col: usize = col
        .trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .ok()?;
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            offset += col.min(l.len());
            break;
        }
        offset += l.len();
    }
    let before = text.get(..offset.min(text.len()))?;
    // The last `"key":` before the error position.
    let colon = before.rfind("\":")?;
    let start = before[..colon].rfind('"')?;
    Some(before[start + 1..colon].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use crate::testkit::{self, Machine};

    fn load(text: &str) -> anyhow::Error {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("storage-plan.json");
        std::fs::write(&f, text).unwrap();
        let host = FakeHost::new(dir.path());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        load_or_make_plan(&ctx, Some(&f), &PlanOptions::default()).unwrap_err()
    }

    #[test]
    fn a_corrupt_plan_file_is_a_usage_error_naming_the_field() {
        let good = serde_json::to_string_pretty(&testkit::single_nvme()).unwrap();
        let bad = good.replacen(
            "\"size_bytes\": 1000204886016",
            "\"size_bytes\": \"1 TB\"",
            1,
        );
        assert_ne!(good, bad);
        let e = load(&bad);
        assert_eq!(crate::error::exit_code_for(&e), 2);
        let msg = format!("{e:#}");
        assert!(
            msg.contains("field `") && msg.contains("size_bytes`"),
            "{msg}"
        );
        let e = load(&good.replacen("\"layout\"", "\"lay_out\"", 1));
        assert_eq!(crate::error::exit_code_for(&e), 2);
        assert!(format!("{e:#}").contains("lay_out"), "{e:#}");
        let e = load("{ not json");
        assert_eq!(crate::error::exit_code_for(&e), 2);
        let e = load(&good.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1));
        let msg = format!("{e:#}");
        assert!(
            msg.contains("schema_version") && msg.contains("99"),
            "{msg}"
        );
    }

    #[test]
    fn a_corrupt_plan_file_is_a_usage_error_naming_the_file() {
        let m = Machine::for_plan(&testkit::ssd_and_hdd_pair());
        let host = FakeHost::new(m.root());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let file = m.path("/plan.json");
        std::fs::write(&file, r#"{"schema_version": "one"}"#).unwrap();
        let err = load_or_make_plan(&ctx, Some(&file), &PlanOptions::default()).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some(), "{err:#}");
        let text = format!("{err:#}");
        assert!(
            text.starts_with(&format!(
                "the plan file {} is not a valid plan: field `schema_version`: invalid type",
                file.display()
            )),
            "{text}"
        );
        assert!(text.contains("pre-nixos plan --output json"), "{text}");
        let err = load_or_make_plan(
            &ctx,
            Some(&m.path("/missing.json")),
            &PlanOptions::default(),
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("missing.json"), "{err:#}");
    }
}
