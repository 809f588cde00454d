//! The boot flow, read top to bottom: SSH and network first, then storage.
//!
//! `network::boot_stage` runs first (sshd before anything else in it) and can never
//! stop storage (it returns a report, and a panic inside it is caught and logged).
//! Storage is: udev wait for the disks → inventory → plan →
//! detect → policy → (teardown) → apply → verify → status, each stage a module of
//! the same name; a failure in any of them becomes `STATE=failed` with the stage as
//! `DETAIL`, never an early exit without a status. Then one more line on every
//! console with the storage result. Nothing here waits on a systemd job.
//!
//! SIGTERM and a panic in storage are failures too (`host::interrupt`): the commands'
//! process groups are killed, `STATE=failed` names the step, and the console line follows.
//!
//! Exit status: 0 for applied and for every plan-only outcome, 1 for failed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::context::Ctx;
use crate::network::{self, NetworkReport};
use crate::plan::PlanOptions;
use crate::report;
use crate::state::lock::ApplyLock;
use crate::state::status::{self, State, StorageStatus};
use crate::storage::env::Env;
use crate::storage::exec::ExecutorKind;
use crate::storage::policy::Policy;
use crate::storage::{self, Outcome, Request};

/// What the unit (or an operator) asks of the boot flow; the kernel command line is
/// in the context.
#[derive(Debug, Clone, Default)]
pub struct BootRequest {
    pub net: network::Options,
    /// Plan options, the command line's over the kernel command line's.
    pub plan: PlanOptions,
    /// The executor the operator chose, if any.
    pub executor: Option<ExecutorKind>,
    /// How many independent storage steps may run side by side (0 or 1: in turn).
    pub jobs: usize,
}

pub fn run(ctx: &Ctx, req: &BootRequest) -> anyhow::Result<u8> {
    Ok(run_flow(ctx, req).exit_code())
}

/// The flow itself, returning the storage outcome (what `boot --dry-run` reports).
pub fn run_flow(ctx: &Ctx, req: &BootRequest) -> Outcome {
    let config = report_config(ctx);
    std::thread::scope(|s| {
        // The collector report runs beside the flow and never holds it up; the queue
        // closes when `reporter` is dropped at the end of this scope.
        let reporter = config.as_ref().map(|cfg| {
            let (tx, rx) = std::sync::mpsc::channel();
            let seed = report::jitter_seed(ctx.host);
            s.spawn(move || {
                // A panic in the reporter is logged; it never fails the boot.
                if catch_unwind(AssertUnwindSafe(|| {
                    report::run(ctx.host, ctx.state_dir(), cfg, rx, seed);
                }))
                .is_err()
                {
                    tracing::error!("the collector reporter panicked; no further reports");
                }
            });
            report::Reporter::new(ctx.host, ctx.state_dir(), tx)
        });
        notify(ctx, "network: starting sshd, choosing the LAN");
        let mut net = network_stage(ctx, req);
        if let Some(r) = &reporter {
            r.send(report::Event::NetworkUp, &net);
        }
        notify(ctx, "storage: planning");
        let env = Env::new(ctx.host).with_jobs(req.jobs);
        let lan = net.lan_mac.clone().map(|m| (m, net.lan_mac_permanent));
        let outcome = guarded_storage(ctx, || storage_stage(ctx, &env, req, lan));
        if let Some(r) = &reporter {
            r.send(report::Event::StorageFinal, &net);
        }
        // sshd not seen listening within the network stage's bound may be up by now.
        network::recheck_ssh(ctx.host, ctx.state_dir(), &mut net);
        let line = announce_line(&net, &outcome.status);
        notify(
            ctx,
            &format!(
                "done: storage {}/{}",
                outcome.status.state, outcome.status.detail
            ),
        );
        let consoles =
            network::announce::announce(ctx.host, &network::with_host_key_lines(&line, &net));
        tracing::info!(consoles = consoles.len(), "{line}");
        // Leaving the scope waits for the reporter: each report is bounded by its
        // timeout (src/report), far below the unit's RuntimeMaxSec=.
        if config.is_some() {
            tracing::info!("waiting for the collector report to be delivered or to time out");
        }
        outcome
    })
}

/// The step for `systemctl status`; a dry run (the dry-run host) tells systemd nothing,
/// since a `boot --dry-run` typed inside the unit's environment is not the unit's step.
fn notify(ctx: &Ctx, text: &str) {
    if ctx.host.changes_are_real() {
        crate::host::notify::status(text);
    }
}

/// The collector configuration; a broken one is logged and the boot goes on without.
fn report_config(ctx: &Ctx) -> Option<report::Config> {
    match report::Config::resolve(ctx.host, &ctx.boot.report) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "collector report disabled");
            None
        }
    }
}

/// How long the boot waits for udev to finish with the network devices.
const NIC_UDEV_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the boot waits for udev to finish with the block devices.
const DISK_UDEV_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the boot waits for LVM to activate the volume groups udev has seen.
const LVM_ACTIVATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The unit starts after systemd-udev-trigger, which only *queues* the coldplug
/// events: udev may still be loading NIC drivers, renaming `eth0` to `enp0s4`, and
/// adding the disks' serials and by-id links. A NIC list or an inventory taken before
/// that sees a name that is about to vanish, or disks without serials and stable
/// paths (seen in the VM suite under load). Each stage waits for its own devices only
/// (`inventory::ready`), never for the whole system's queue; a timeout is logged and
/// the boot goes on. On disks that already carry LVM, the storage decision also waits
/// for LVM's own activation of their volume groups, and then for udev's work on the
/// LVs it made.
fn wait_for_disks(ctx: &Ctx) {
    let log = |what: &str, ready: &crate::inventory::ready::Ready| {
        let waited_ms = ready.waited.as_millis() as u64;
        if let Some(e) = &ready.error {
            tracing::warn!(waited_ms, error = %e, "could not tell whether {what} is done; going on");
        } else if ready.pending.is_empty() {
            tracing::info!(waited_ms, "{what} is done");
        } else {
            tracing::warn!(
                waited_ms,
                pending = %ready.pending.join(" "),
                "{what} is not done; going on with what is there"
            );
        }
    };
    let ready = crate::inventory::ready::wait_for_disks(ctx.host, DISK_UDEV_TIMEOUT);
    log("udev's work on the block devices", &ready);
    if let Some(lvm) =
        crate::inventory::ready::wait_for_lvm_activation(ctx.host, LVM_ACTIVATION_TIMEOUT)
    {
        log("LVM's activation of the volume groups", &lvm);
        let ready = crate::inventory::ready::wait_for_disks(ctx.host, DISK_UDEV_TIMEOUT);
        log("udev's work on the activated volumes", &ready);
    }
}

/// Network and SSH; whatever happens in there, storage runs next.
fn network_stage(ctx: &Ctx, req: &BootRequest) -> NetworkReport {
    let opts = network::Options {
        nic_udev_timeout: Some(NIC_UDEV_TIMEOUT),
        ..req.net.clone()
    };
    guarded(|| network::boot_stage(ctx, &opts, &ctx.boot))
}

/// Runs the network stage so that even a panic in it leaves storage to run.
fn guarded(stage: impl FnOnce() -> NetworkReport) -> NetworkReport {
    match catch_unwind(AssertUnwindSafe(stage)) {
        Ok(r) => r,
        Err(_) => {
            tracing::error!("the network stage panicked; continuing with storage");
            NetworkReport {
                ssh: "network stage crashed (see the journal)".into(),
                ..Default::default()
            }
        }
    }
}

/// The storage half of the boot. Always ends with a status written (if the state
/// directory allows it) and an outcome.
/// `lan` is the LAN's MAC and whether it is the permanent one (for the installed
/// system's `network-lan.nix`).
pub fn storage_stage(
    ctx: &Ctx,
    env: &Env,
    req: &BootRequest,
    lan: Option<(String, bool)>,
) -> Outcome {
    let failed = |step: &str, e: anyhow::Error| -> Outcome {
        let error = crate::host::interrupt::error_text(&e, format!("{e:#}"));
        record_failure(ctx, step, error)
    };

    wait_for_disks(ctx);
    let inventory = match crate::inventory::scan(ctx.host, &ctx.boot) {
        Ok(i) => i,
        Err(e) => return failed("inventory", e),
    };
    let plan = match crate::plan::plan(&inventory, &req.plan) {
        Ok(p) => p,
        Err(e) => return failed("plan", e.into()),
    };
    let executor = req.executor.unwrap_or_default();
    // pre-nixos-force-cleanup=1 arrives here as wipe=all (kcmdline maps it).
    let request = Request {
        plan: &plan,
        executor,
        wipe: ctx.boot.wipe.clone(),
        wipe_methods: crate::storage::teardown::WipeMethods::all(
            ctx.boot.wipe_method.unwrap_or_default(),
        ),
        boot: ctx.boot.clone(),
        lan_mac_permanent: lan.as_ref().is_some_and(|l| l.1),
        lan_mac: lan.map(|l| l.0),
    };
    match storage::provision(ctx, env, &request) {
        Ok(o) => o,
        Err(e) => failed("status", e),
    }
}

/// Runs the storage stage so that a panic in it is a failure like any other:
/// `STATE=failed` naming the step it was in, then the final console line.
fn guarded_storage(ctx: &Ctx, stage: impl FnOnce() -> Outcome) -> Outcome {
    match catch_unwind(AssertUnwindSafe(stage)) {
        Ok(o) => o,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let step = crate::host::interrupt::last_step().unwrap_or_else(|| "storage".into());
            record_failure(ctx, &step, format!("pre-nixos panicked: {msg}"))
        }
    }
}

/// Writes `STATE=failed`, `DETAIL=step`, `ERROR=error` and returns that outcome.
fn record_failure(ctx: &Ctx, step: &str, error: String) -> Outcome {
    tracing::error!(step, error = %error, "storage failed");
    let status = StorageStatus {
        state: State::Failed,
        detail: step.to_owned(),
        plan: None,
        disks: Vec::new(),
        error: Some(error.clone()),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        updated: status::now_rfc3339(ctx.host),
    };
    // Under the apply lock like every other writer. When another run holds it, the
    // status is that run's: this failure is in the journal and the exit code only.
    match ApplyLock::acquire(ctx.host, ctx.state_dir()) {
        Ok(lock) => {
            if let Err(w) = status::write_storage(ctx.host, ctx.state_dir(), &status) {
                tracing::error!(error = %w, "writing storage-status");
            }
            let _ = lock.close();
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "storage-status left to the run that holds the lock");
        }
    }
    Outcome {
        policy: Policy::Failed {
            step: step.to_owned(),
            error,
        },
        status,
    }
}

/// `pre-nixos <version>: lan <ip> — ssh root@<ip> — storage <STATE>/<DETAIL>`.
pub fn announce_line(net: &NetworkReport, s: &StorageStatus) -> String {
    network::announce_line_with_storage(net, &format!("{}/{}", s.state, s.detail))
}

#[cfg(test)]
mod tests;
