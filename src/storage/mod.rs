//! Storage after planning, as one flow: identity → detect → policy → (teardown) →
//! executor → verify → stubs → status. [`provision`] sequences the stages below it;
//! none of them imports this file:
//! - [`detect`]: is each planned disk clean, and if not, why;
//! - [`policy`]: the one decision whether to write (clean, wipe switch, refusal);
//! - [`teardown`]: tears down what a wipe switch named, leaves first;
//! - [`exec`]: the executors (native, disko), over the shared [`env`] machinery;
//! - [`verify`]: reads the disks back into the plan's own types and diffs;
//! - [`blockdev`]: the readers of lsblk, mdadm, LVM, mountinfo and swaps they share.
//!
//! `--dry-run` runs this very flow against [`crate::host::dryrun::DryRunHost`], which
//! answers read-only queries from the machine and records every other effect.

pub mod blockdev;
pub mod collisions;
pub mod detect;
pub mod env;
pub mod exec;
pub mod policy;
pub mod resume;
pub mod targets;
pub mod teardown;
pub mod verify;

use std::path::Path;

use anyhow::{anyhow, Context};

use crate::context::Ctx;
use crate::host::Host;
use crate::kcmdline::{BootOptions, WipeSpec};
use crate::plan::{Plan, PlannedDisk};
use crate::state::lock::ApplyLock;
use crate::state::status::{self, State, StorageStatus};

use detect::Detection;
use env::{check_identity, check_tools, Env, StepError};
use exec::{native, ExecutorKind};
use policy::Policy;

/// Directory of the generated NixOS stubs on the new root.
pub const STUB_DIR: &str = "/mnt/etc/nixos/pre-generated";

/// What [`provision`] is asked to do.
pub struct Request<'a> {
    pub plan: &'a Plan,
    pub executor: ExecutorKind,
    /// The wipe switch in force.
    pub wipe: Option<WipeSpec>,
    /// How the disks the wipe switch names are cleaned.
    pub wipe_methods: teardown::WipeMethods,
    pub boot: BootOptions,
    /// MAC of the LAN, for `network-lan.nix`.
    pub lan_mac: Option<String>,
    /// `lan_mac` is the NIC's permanent address (the stub matches it with
    /// `PermanentMACAddress`, else `MACAddress`).
    pub lan_mac_permanent: bool,
}

impl<'a> Request<'a> {
    /// What an operator's explicit apply asks for (`pre-nixos apply`, and the TUI's
    /// apply, which builds it the same way): the plan, the wipe switch and methods they
    /// gave, and the boot options with plan-only off — an explicit apply is the
    /// operator's decision, and only their wipe switch may wipe.
    pub fn explicit(
        plan: &'a Plan,
        executor: ExecutorKind,
        wipe: Option<WipeSpec>,
        wipe_methods: teardown::WipeMethods,
        boot: &BootOptions,
    ) -> Request<'a> {
        let mut boot = boot.clone();
        boot.plan_only = false;
        Request {
            plan,
            executor,
            wipe,
            wipe_methods,
            boot,
            lan_mac: None,
            lan_mac_permanent: false,
        }
    }
}

/// How it ended: the policy row (a `Failed` one when a step failed) and the status
/// written (or, in a dry run, that would have been written).
#[derive(Debug)]
pub struct Outcome {
    pub policy: Policy,
    pub status: StorageStatus,
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self.status.state {
            State::Failed => crate::error::EXIT_FAILURE,
            _ => crate::error::EXIT_OK,
        }
    }
}

/// Sizes that LVM and md round are compared loosely by verify; this decides whether
/// the disks already carry the plan (structure only: nothing is mounted at boot).
fn already_provisioned(host: &dyn Host, plan: &Plan) -> Option<bool> {
    match verify::read_back(host, &plan.layout) {
        Ok(found) => {
            let diffs: Vec<_> = verify::diff(&plan.layout, &found)
                .into_iter()
                .filter(|d| !d.is_mount())
                .collect();
            for d in &diffs {
                tracing::info!(subject = %d.subject, expected = %d.expected, found = %d.found, "not our layout");
            }
            Some(diffs.is_empty())
        }
        Err(e) => {
            tracing::info!(error = %format!("{e:#}"), "reading the layout back failed; not provisioned");
            Some(false)
        }
    }
}

/// The storage pipeline after planning, stage by stage. Never returns an error for
/// something that went wrong on the disks: that is a `failed` outcome with its step
/// and error. Errors are for "could not even record what happens" (state directory,
/// lock).
pub fn provision(ctx: &Ctx, env: &Env, req: &Request) -> anyhow::Result<Outcome> {
    // One pre-nixos at a time from the first look at the disks to the last status
    // line: a second run neither decides on disks the first one is changing nor
    // writes its refusal over the first one's status (it writes nothing at all).
    let lock = ApplyLock::acquire(env.host, ctx.state_dir())?;
    let identity = identify(env.host, req.plan);
    let mut detection =
        detect::detect(env.host, &req.plan.layout.disks).map_err(|e| format!("{e:#}"));
    if !env.host.changes_are_real() {
        if let Ok(d) = &mut detection {
            assume_planned_where_foreign(env.host, req.plan, d);
        }
    }
    let provisioned = match &detection {
        Ok(d) if !d.failed() && !d.all_clean() => already_provisioned(env.host, req.plan),
        _ => None,
    };
    // A dry run goes on past a failing identity check (its caller lists them all); a
    // real run stops here, before its first write.
    let identity_error = identity
        .as_ref()
        .err()
        .filter(|_| env.host.changes_are_real());
    let policy = decide(req, &detection, provisioned, identity_error);
    tracing::info!(state = %policy.state(), detail = %policy.detail(), "storage policy: {}", policy.message());
    // A dry run's caller lists every failing identity check itself
    // ([`identity_failures`]); the first one again here would be the same news twice,
    // and a dry run that went on past them decided on disks it took as the plan has them.
    if env.host.changes_are_real() || (identity.is_ok() && !is_identity_failure(&policy)) {
        env.say(&format!("storage: {}", policy.message()));
    }
    let status = initial_status(ctx, req.plan, identity.ok());
    let outcome = if policy.writes() || matches!(policy, Policy::AlreadyProvisioned { .. }) {
        apply_recorded(ctx, env, req, policy, status)
    } else {
        record_unchanged(ctx, env, req.plan, policy, status)
    };
    if let Err(e) = lock.close() {
        tracing::warn!(error = %e, "releasing the apply lock");
    }
    outcome
}

/// A dry run of a plan made on another machine: a planned disk whose identity check
/// fails here is not the disk the plan describes, so what detection found on (or
/// missing at) its path says nothing about the plan. The dry run takes such a disk as
/// the plan does: clean, under the plan's name. Only called for the dry-run host.
fn assume_planned_where_foreign(host: &dyn Host, plan: &Plan, detection: &mut Detection) {
    for (d, report) in plan.layout.disks.iter().zip(detection.disks.iter_mut()) {
        if check_identity(host, d).is_err() {
            report.name = Some(d.name.clone());
            report.reasons.clear();
            report.error = None;
        }
    }
}

fn is_identity_failure(policy: &Policy) -> bool {
    matches!(policy, Policy::Failed { step, .. } if step == "identity")
}

/// Every identity check of `plan` that fails on this machine, one line per disk (the
/// same check [`provision`] makes before it writes anything).
pub fn identity_failures(host: &dyn Host, plan: &Plan) -> Vec<String> {
    plan.layout
        .disks
        .iter()
        .filter_map(|d| check_identity(host, d).err())
        .map(|e| format!("{e:#}"))
        .collect()
}

/// Every planned disk found again by stable path, serial and size: the current
/// kernel names, or why this plan is not for this machine (as it is now).
fn identify(host: &dyn Host, plan: &Plan) -> anyhow::Result<Vec<String>> {
    plan.layout
        .disks
        .iter()
        .map(|d| check_identity(host, d).map(|id| id.kname))
        .collect()
}

/// The policy row, with an identity mismatch overriding everything but an explicit
/// plan-only request.
fn decide(
    req: &Request,
    detection: &Result<Detection, String>,
    provisioned: Option<bool>,
    identity_error: Option<&anyhow::Error>,
) -> Policy {
    let expected = resume::Expected::for_layout(&req.plan.layout);
    let policy = policy::decide(&policy::Inputs {
        disks: &req.plan.layout.disks,
        detection: detection.as_ref().map_err(Clone::clone),
        provisioned,
        boot: &req.boot,
        wipe: req.wipe.as_ref(),
        resume: &expected,
    });
    match identity_error {
        Some(e) if policy != Policy::PlanOnlyRequested => Policy::Failed {
            step: "identity".into(),
            error: format!("{e:#}"),
        },
        _ => policy,
    }
}

fn initial_status(ctx: &Ctx, plan: &Plan, current_names: Option<Vec<String>>) -> StorageStatus {
    StorageStatus {
        state: State::Running,
        detail: String::new(),
        plan: Some(ctx.state_file(status::STORAGE_PLAN).display().to_string()),
        disks: current_names
            .unwrap_or_else(|| plan.layout.disks.iter().map(|d| d.name.clone()).collect()),
        error: None,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        updated: status::now_rfc3339(ctx.host),
    }
}

fn finish(host: &dyn Host, status: &mut StorageStatus, policy: &Policy, error: Option<String>) {
    status.state = policy.state();
    status.detail = policy.detail();
    status.error = error;
    status.updated = status::now_rfc3339(host);
}

/// An outcome that changes nothing: the plan and the status are written, and for a
/// refusal `ERROR=` carries the reason and the switch that lifts it.
fn record_unchanged(
    ctx: &Ctx,
    env: &Env,
    plan: &Plan,
    policy: Policy,
    mut status: StorageStatus,
) -> anyhow::Result<Outcome> {
    let error = match &policy {
        Policy::ExistingStorage { .. } | Policy::DetectionError { .. } => Some(policy.message()),
        Policy::Failed { error, .. } => Some(error.clone()),
        _ => None,
    };
    finish(env.host, &mut status, &policy, error);
    write_plan_file(ctx, env.host, plan)?;
    status::write_storage(env.host, ctx.state_dir(), &status)
        .with_context(|| state_dir_error(ctx))?;
    Ok(Outcome { policy, status })
}

/// An outcome that changes things (under the caller's lock): the plan and
/// `STATE=running` on disk before the first write (or no write at all), the writes,
/// then the final status — the first error first.
fn apply_recorded(
    ctx: &Ctx,
    env: &Env,
    req: &Request,
    policy: Policy,
    mut status: StorageStatus,
) -> anyhow::Result<Outcome> {
    let host = env.host;
    write_plan_file(ctx, host, req.plan)?;
    status::write_storage(host, ctx.state_dir(), &status).with_context(|| state_dir_error(ctx))?;
    let policy = match run_writes(env, req, &policy) {
        Ok(()) => {
            // A refusal that wiped the disks the switch named still says why the
            // plan was not applied, and which switch would apply it.
            let refusal =
                matches!(policy, Policy::ExistingStorage { .. }).then(|| policy.message());
            finish(host, &mut status, &policy, refusal);
            policy
        }
        Err(e) => {
            // ERROR=interrupted … when SIGTERM stopped the step (host::interrupt).
            let error =
                crate::host::interrupt::error_text(&e.error, crate::text::error_line(&e.error));
            let failed = Policy::Failed {
                step: e.step.clone(),
                error: error.clone(),
            };
            finish(host, &mut status, &failed, Some(error));
            failed
        }
    };
    status::write_storage(host, ctx.state_dir(), &status).with_context(|| state_dir_error(ctx))?;
    Ok(Outcome { policy, status })
}

fn run_writes(env: &Env, req: &Request, policy: &Policy) -> Result<(), StepError> {
    let plan = req.plan;
    let exec = req.executor.executor();
    let (teardown_paths, applies): (&[String], bool) = match policy {
        // A resume is the wipe switch's teardown of what the cut run left, then the
        // same apply: one code path for both.
        Policy::WipeAndApply { disks } | Policy::Resume { disks } => (disks, true),
        // The switch names some disks, others hold data: wipe the named ones only.
        Policy::ExistingStorage { wiped, .. } => (wiped, false),
        _ => (&[], true),
    };
    let teardown_disks: Vec<PlannedDisk> = plan
        .layout
        .disks
        .iter()
        .filter(|d| teardown_paths.contains(&d.stable_path))
        .cloned()
        .collect();
    let mut tools = if applies {
        exec.required_tools(plan)
    } else {
        Vec::new()
    };
    if !teardown_disks.is_empty() {
        tools.extend(teardown::REQUIRED_TOOLS);
        tools.extend(req.wipe_methods.tools(&teardown_disks));
    }
    tools.sort();
    tools.dedup();
    check_tools(env, &tools).map_err(|e| StepError::new("tools", e))?;
    if applies {
        exec.preflight(env, plan)
            .map_err(|e| StepError::new("preflight", e))?;
    }

    // A USB stick or a foreign disk with our partlabels or labels: refused before
    // the first write or mount that goes through those names.
    collisions::planned_knames(env.host, plan)
        .and_then(|knames| collisions::check(env.host, plan, &knames))
        .map_err(|e| StepError::new("name-collision", e))?;

    if let Policy::AlreadyProvisioned { unfinished } = policy {
        env.begin(3 + usize::from(!unfinished.is_empty()));
        native::mount_all(env, plan)?;
        verify_step(env, plan)?;
        if !unfinished.is_empty() {
            // Only after verify read the layout back as this plan's, as in an apply.
            native::run_step(
                env,
                &native::mark_done_step(plan, |d| unfinished.contains(&d.stable_path)),
            )?;
        }
        return Ok(());
    }

    // The identity guard: right before the first write (teardown, or an executor
    // that writes every disk at once such as disko), re-read every planned disk.
    // The native executor checks each disk again right before its own sgdisk.
    for d in &plan.layout.disks {
        env::guard_identity(env.host, d).map_err(|e| StepError::new("identity", e))?;
    }
    let teardown_steps = usize::from(!teardown_disks.is_empty());
    let apply_steps = if applies {
        exec.step_count(plan) + 2
    } else {
        0
    };
    env.begin(teardown_steps + apply_steps);
    if !teardown_disks.is_empty() {
        let names: Vec<String> = teardown_disks.iter().map(|d| d.name.clone()).collect();
        env.step(
            "teardown",
            &format!("tearing down everything on {}", names.join(" ")),
            || teardown::teardown(env, &teardown_disks, &req.wipe_methods),
        )?;
    }
    if !applies {
        return Ok(());
    }
    exec.apply(env, plan)?;
    verify_step(env, plan)?;
    exec.finish(env, plan)?;
    env.step(
        "stubs",
        &format!("writing NixOS stubs to {STUB_DIR}"),
        || write_stubs(env, plan, req.lan_mac.as_deref(), req.lan_mac_permanent),
    )
}

fn verify_step(env: &Env, plan: &Plan) -> Result<(), StepError> {
    env.step(
        "verify",
        "reading the disks back and comparing with the plan",
        || {
            if !env.host.changes_are_real() {
                // A dry run recorded the writes; there is nothing new to read back.
                return Ok(());
            }
            // The steps before queued udev events (md superblocks, filesystems, swap);
            // read back only once they are processed.
            env.settle()?;
            let diffs = verify::check(env.host, &plan.layout)?;
            if diffs.is_empty() {
                return Ok(());
            }
            Err(anyhow!(
                "the disks differ from the plan in {} place(s): {}",
                diffs.len(),
                diffs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        },
    )
}

fn write_stubs(
    env: &Env,
    plan: &Plan,
    lan_mac: Option<&str>,
    permanent: bool,
) -> anyhow::Result<()> {
    let dir = Path::new(STUB_DIR);
    let hw = dir.join("hardware-disk.nix");
    env.host.write_atomic(
        &hw,
        crate::render::nixos::hardware_disk_nix(plan).as_bytes(),
        0o644,
    )?;
    if let Some(mac) = lan_mac {
        let net = dir.join("network-lan.nix");
        env.host.write_atomic(
            &net,
            crate::render::nixos::network_lan_nix(mac, permanent).as_bytes(),
            0o644,
        )?;
    }
    Ok(())
}

fn write_plan_file(ctx: &Ctx, host: &dyn Host, plan: &Plan) -> anyhow::Result<()> {
    let p = ctx.state_file(status::STORAGE_PLAN);
    host.write_atomic(
        &p,
        crate::render::json::plan_to_json(plan).as_bytes(),
        0o644,
    )
    .with_context(|| state_dir_error(ctx))
}

fn state_dir_error(ctx: &Ctx) -> String {
    format!(
        "writing the status into {} failed; no disk was touched. Make the state directory \
         writable or point --state-dir / PRE_NIXOS_STATE_DIR elsewhere",
        ctx.state_dir().display()
    )
}

#[cfg(test)]
mod tests;
