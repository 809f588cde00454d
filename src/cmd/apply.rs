//! `pre-nixos apply [--plan FILE] [--executor native|disko] [--wipe …] [--dry-run]`:
//! the storage flow on a plan, with the wipe switch the operator gave.

use std::io::Write as _;

use super::plan_source::load_or_make_plan;
use super::{executor_kind, plan_options};
use crate::cli::ApplyArgs;
use crate::context::Ctx;
use crate::error::UsageError;
use crate::host::dryrun::DryRunHost;
use crate::host::Host;
use crate::storage::env::Env;
use crate::storage::targets::refuse_never_targets;
use crate::storage::teardown::WipeMethods;
use crate::storage::{policy, provision, Request};

/// `pre-nixos apply [--plan FILE] [--executor native|disko] [--wipe …] [--dry-run]`.
pub fn run(ctx: &Ctx, args: &ApplyArgs) -> anyhow::Result<u8> {
    let wipe = match args.wipe.as_deref().map(policy::parse_wipe_arg) {
        Some(Err(e)) => return Err(UsageError::new(e).into()),
        Some(Ok(w)) => Some(w),
        None => None,
    };
    let opts = plan_options(Some(&args.shape), &ctx.boot);
    let plan = load_or_make_plan(ctx, args.plan.as_deref(), &opts)?;
    if args.plan.is_some() {
        refuse_never_targets(ctx, &plan, &opts)?;
    }
    super::check_swap_request(Some(&args.shape), &plan)?;
    // A dry run is the same flow over the dry-run host: nothing below knows.
    let dry_host = args.dry_run.then(|| DryRunHost::new(ctx.host));
    let host: &dyn Host = match &dry_host {
        Some(d) => d,
        None => ctx.host,
    };
    let env = Env::new(host).with_jobs(crate::storage::env::default_jobs());
    let executor = args.executor.map(executor_kind).unwrap_or_default();
    let dctx = ctx.with_host(host);
    // The kernel's pre-nixos.wipe-method= belongs with its pre-nixos.wipe=, which an
    // explicit apply does not take either.
    let request = Request::explicit(
        &plan,
        executor,
        wipe,
        WipeMethods::all(args.wipe_method.unwrap_or_default()),
        &ctx.boot,
    );
    let outcome = provision(&dctx, &env, &request)?;
    if let Some(style) = args.json {
        let commands: Vec<serde_json::Value> = dry_host
            .as_ref()
            .map(|d| {
                d.commands()
                    .iter()
                    .map(|c| serde_json::json!({"what": c.what, "command": c.display()}))
                    .collect()
            })
            .unwrap_or_default();
        let failures = if args.dry_run {
            crate::storage::identity_failures(host, &plan)
        } else {
            Vec::new()
        };
        let doc = serde_json::json!({
            "dry_run": args.dry_run,
            "storage": serde_json::to_value(&outcome.status)?,
            "commands": commands,
            "identity_failures": failures.iter().map(ToString::to_string).collect::<Vec<_>>(),
        });
        super::output::write(&mut std::io::stdout().lock(), doc, style)?;
        return Ok(outcome.exit_code());
    }
    if let Some(d) = &dry_host {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# dry run: nothing was changed; the commands, in order:"
        )?;
        for c in d.commands() {
            writeln!(out, "# {}\n{}", c.what, c.display())?;
        }
        let failures = crate::storage::identity_failures(host, &plan);
        if !failures.is_empty() {
            writeln!(
                out,
                "# identity checks that fail on this machine ({} of {} disks); a real apply \
                 here stops before its first disk command:",
                failures.len(),
                plan.layout.disks.len()
            )?;
            for f in &failures {
                writeln!(out, "#   {f}")?;
            }
            // The dry run went on past those checks with the plan's own names, so the
            // commands above are the plan's whole list; the state is that run's.
            writeln!(
                out,
                "storage: {}/{} in this dry run, which went on past the identity checks \
                 above (a real apply here stops at them)",
                outcome.status.state, outcome.status.detail
            )?;
            return Ok(outcome.exit_code());
        }
    }
    println!(
        "storage: {}/{}{}",
        outcome.status.state,
        outcome.status.detail,
        outcome
            .status
            .error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    Ok(outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use crate::inventory::fixture::{BlockDev, FixtureTree};
    use crate::plan::PlanOptions;

    /// An SSD, a USB stick and the disk the running system is on.
    fn machine() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let t = FixtureTree::new(dir.path());
        t.meminfo_kib(8 * 1024 * 1024).unwrap();
        t.mounts(&[("8:33", "/", "ext4", "/dev/sdc1")]).unwrap();
        t.file("/proc/cmdline", "console=ttyS0\n").unwrap();
        for (name, id, disk) in [
            (
                "sda",
                "ata-SSD_S1",
                BlockDev::new("sda", "8:0").prop("ID_BUS", "ata"),
            ),
            (
                "sdb",
                "usb-Stick_U1",
                BlockDev::new("sdb", "8:16")
                    .removable()
                    .prop("ID_BUS", "usb"),
            ),
            (
                "sdc",
                "ata-SYS_R1",
                BlockDev::new("sdc", "8:32")
                    .prop("ID_BUS", "ata")
                    .partition("sdc1", "8:33", &[]),
            ),
        ] {
            let link = format!("/dev/disk/by-id/{id}");
            t.add(
                &disk
                    .gib(64)
                    .rotational(Some(false))
                    .prop("ID_SERIAL_SHORT", id.rsplit('_').next().unwrap())
                    .prop("DEVLINKS", &link),
            )
            .unwrap();
            t.symlink(&link, &format!("../../{name}")).unwrap();
            t.file(&format!("/dev/{name}"), "").unwrap();
        }
        dir
    }

    #[test]
    fn a_plan_file_naming_a_stick_or_the_system_disk_is_refused_before_anything() {
        let dir = machine();
        let host = FakeHost::new(dir.path());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let opts = PlanOptions::default();
        let inv = crate::inventory::scan(&host, &ctx.boot).unwrap();
        let plan = crate::plan::plan(&inv, &opts).unwrap();
        assert_eq!(plan.layout.disks.len(), 1, "{:?}", plan.excluded);
        // The plan made here passes.
        refuse_never_targets(&ctx, &plan, &opts).unwrap();
        for (path, name, why) in [
            ("/dev/disk/by-id/usb-Stick_U1", "sdb", "USB-attached"),
            ("/dev/disk/by-id/ata-SYS_R1", "sdc", "running system"),
        ] {
            let mut foreign = plan.clone();
            foreign.layout.disks[0].stable_path = path.into();
            foreign.layout.disks[0].name = name.into();
            let e = refuse_never_targets(&ctx, &foreign, &opts).unwrap_err();
            let msg = format!("{e:#}");
            assert!(msg.contains(&format!("{path} (/dev/{name}): ")), "{msg}");
            assert!(msg.contains(why), "{msg}");
            assert!(msg.contains("nothing was touched"), "{msg}");
            assert!(e.downcast_ref::<UsageError>().is_some());
        }
        assert_eq!(host.command_lines(), Vec::<String>::new());
    }
}
