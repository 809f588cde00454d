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
        if let Some(hint) = not_a_plan(f, &text) {
            return Err(UsageError::new(hint).into());
        }
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
                 with `pre-nixos plan --output json > {}` and pass that",
                f.display(),
                fresh_plan_name(f)
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
        let problems = crate::plan::validate::problems(&plan);
        if !problems.is_empty() {
            return Err(UsageError::new(format!(
                "the plan file {} is not a plan pre-nixos makes: {}; write a fresh one with \
                 `pre-nixos plan --output json > {}` and pass that",
                f.display(),
                problems.join("; "),
                fresh_plan_name(f)
            ))
            .into());
        }
        return Ok(plan);
    }
    let inv = crate::inventory::scan(ctx.host, &ctx.boot)
        .map_err(crate::error::DetectionError)
        .context("reading the inventory")?;
    let plan = crate::plan::plan(&inv, opts).context("planning storage")?;
    Ok(plan)
}

/// A file that is well-formed but something else than a plan, said with what to run
/// instead: today the inventory (`pre-nixos inventory --json`, or one of `examples/`),
/// the input a plan is made from and the likeliest thing to pass by mistake.
fn not_a_plan(f: &Path, text: &str) -> Option<String> {
    serde_json::from_str::<crate::inventory::Inventory>(text).ok()?;
    Some(format!(
        "{} is an inventory, not a plan; make a plan from it with `pre-nixos plan \
         --inventory {} --output json > {}` and pass that to --plan",
        f.display(),
        f.display(),
        fresh_plan_name(f)
    ))
}

/// Where a suggested `pre-nixos plan … >` should write: never the file the operator
/// named (the shell truncates it before pre-nixos reads it, so their input is lost).
fn fresh_plan_name(named: &Path) -> &'static str {
    if named.file_name().is_some_and(|n| n == "plan.json") {
        "new-plan.json"
    } else {
        "plan.json"
    }
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
    fn an_inventory_given_as_a_plan_says_what_to_run_instead() {
        let dir = tempfile::tempdir().unwrap();
        let host = FakeHost::new(dir.path());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let inv = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ssd-3.json");
        let err = load_or_make_plan(&ctx, Some(&inv), &PlanOptions::default()).unwrap_err();
        assert_eq!(crate::error::exit_code_for(&err), 2);
        let msg = format!("{err:#}");
        let f = inv.display().to_string();
        assert_eq!(
            msg,
            format!(
                "{f} is an inventory, not a plan; make a plan from it with `pre-nixos plan \
                 --inventory {f} --output json > plan.json` and pass that to --plan"
            )
        );
    }

    #[test]
    fn no_hint_overwrites_the_named_file() {
        let good = serde_json::to_string_pretty(&testkit::single_nvme()).unwrap();
        for name in ["storage-plan.json", "plan.json", "ssd-3.json"] {
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join(name);
            std::fs::write(&f, good.replacen("\"layout\"", "\"lay_out\"", 1)).unwrap();
            let host = FakeHost::new(dir.path());
            let ctx = Ctx::new(&host, "/run/pre-nixos");
            let msg = format!(
                "{:#}",
                load_or_make_plan(&ctx, Some(&f), &PlanOptions::default()).unwrap_err()
            );
            let (_, target) = msg.rsplit_once("> ").expect(&msg);
            let target = target.split('`').next().unwrap();
            assert_ne!(Path::new(target).file_name(), f.file_name(), "{msg}");
            assert!(!msg.contains(&format!("> {}", f.display())), "{msg}");
        }
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
