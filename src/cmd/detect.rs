//! `pre-nixos detect-storage [--json] [--plan FILE]`: is every planned disk clean.

use std::io;

use anyhow::Context as _;

use super::plan_options;
use super::plan_source::load_or_make_plan;
use crate::cli::DetectArgs;
use crate::context::Ctx;
use crate::storage::detect::{detect, exit_code, json_report};

/// `pre-nixos detect-storage [--json] [--plan FILE]`: 0 existing storage, 1 all clean,
/// 2 detection failed.
pub fn run(ctx: &Ctx, args: &DetectArgs) -> anyhow::Result<u8> {
    run_to(ctx, args, &mut io::stdout().lock())
}

/// [`run`] writing its report into `out`.
pub fn run_to(ctx: &Ctx, args: &DetectArgs, out: &mut dyn io::Write) -> anyhow::Result<u8> {
    // Exit 1 means "all clean", so no error may leave through `?` and become 1:
    // whatever goes wrong here is a detection failure, exit 2.
    match report(ctx, args, out) {
        Ok(code) => Ok(code),
        Err(e) => {
            tracing::debug!(error = %format!("{e:#}"), "detection failed");
            crate::error::print_error(Some("detect-storage"), &format!("{e:#}"));
            if let Some(style) = args.json {
                // a script reading stdout gets a document in every case
                let code = match crate::error::error_code(&e) {
                    "failed" => "detection-failed",
                    other => other,
                };
                let doc = super::output::error_document(code, 2, &format!("{e:#}"));
                let _ = super::output::write(out, doc, style);
            }
            Ok(2)
        }
    }
}

fn report(ctx: &Ctx, args: &DetectArgs, out: &mut dyn io::Write) -> anyhow::Result<u8> {
    let plan = load_or_make_plan(ctx, args.plan.as_deref(), &plan_options(None, &ctx.boot))?;
    let detection = detect(ctx.host, &plan.layout.disks)?;
    if let Some(style) = args.json {
        super::output::write(out, json_report(&detection), style)
            .context("writing the detection report to stdout")?;
    } else {
        for d in &detection.disks {
            writeln!(out, "{}", d.describe()).context("writing the detection report to stdout")?;
        }
    }
    Ok(exit_code(&detection))
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::host::fake::FakeHost;
    use crate::testkit::{self, Machine};

    #[test]
    fn the_command_exits_0_1_2_for_existing_clean_failed() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        let file = m.path("/plan.json");
        std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
        let host = FakeHost::new(m.root());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let args = DetectArgs {
            json: Some(crate::cli::JsonStyle::Pretty),
            plan: Some(file.clone()),
        };
        assert_eq!(run(&ctx, &args).unwrap(), 1);
        m.write("/run/pre-nixos-fixture/blkid/sdc", "PTTYPE=gpt\n");
        assert_eq!(run(&ctx, &args).unwrap(), 0);
        let d = detect(&host, &plan.layout.disks).unwrap();
        let j = json_report(&d);
        assert_eq!(j["clean"], false);
        assert_eq!(j["disks"][2]["clean"], false);
        assert_eq!(j["disks"][2]["reasons"][0], "partition-table");
        assert_eq!(j["disks"][0]["clean"], true);
        m.remove(&plan.layout.disks[0].stable_path);
        assert_eq!(run(&ctx, &args).unwrap(), 2);
        // A plan file that cannot be read is a detection failure too.
        let bad = DetectArgs {
            json: None,
            plan: Some(m.path("/nope.json")),
        };
        assert_eq!(run(&ctx, &bad).unwrap(), 2);
        // So is a corrupt one, and a report that cannot be written: never 1 ("clean").
        std::fs::write(m.path("/corrupt.json"), "{").unwrap();
        let corrupt = DetectArgs {
            json: None,
            plan: Some(m.path("/corrupt.json")),
        };
        assert_eq!(run(&ctx, &corrupt).unwrap(), 2);
    }

    #[test]
    fn a_failed_probe_is_a_detection_error_naming_the_device_not_a_clean_disk() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        m.write("/run/pre-nixos-fixture/blkid/sdb.err", "EACCES\n");
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert!(d.failed());
        assert!(!d.disks[1].clean(), "{d:?}");
        let e = d.disks[1].error.as_deref().unwrap();
        assert!(
            e.starts_with("probing /dev/sdb with libblkid: Permission denied"),
            "{e}"
        );
        assert_eq!(exit_code(&d), 2);
        let file = m.path("/plan.json");
        std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let args = DetectArgs {
            json: None,
            plan: Some(file),
        };
        assert_eq!(run_to(&ctx, &args, &mut Vec::new()).unwrap(), 2);
    }

    struct BrokenPipe;

    impl io::Write for BrokenPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_report_that_cannot_be_written_exits_2_not_1() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        let file = m.path("/plan.json");
        std::fs::write(&file, serde_json::to_string(&plan).unwrap()).unwrap();
        let host = FakeHost::new(m.root());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        for json in [None, Some(crate::cli::JsonStyle::Short)] {
            let args = DetectArgs {
                json,
                plan: Some(file.clone()),
            };
            assert_eq!(run_to(&ctx, &args, &mut Vec::new()).unwrap(), 1);
            assert_eq!(run_to(&ctx, &args, &mut BrokenPipe).unwrap(), 2);
        }
    }
}
