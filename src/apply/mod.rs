//! Apply: the executor trait and its two executors, native and disko (SPEC §3.4), the
//! pieces every executor shares (progress lines, named waits with deadlines, the
//! tool check, the identity guard), and [`provision`], the storage pipeline after
//! planning: identity → detect → policy → (teardown) → apply → verify → status.
//!
//! An executor never decides *whether* to write: [`crate::policy`] does, and
//! [`provision`] only calls an executor for a policy that writes. `--dry-run` runs the
//! very same code against [`crate::host::dryrun::DryRunHost`], which answers read-only queries
//! from the machine and records every other command instead of running it.

pub mod disko;
pub mod native;

use std::cell::Cell;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, Context};

use crate::blockdev::{self, Identity};
use crate::cli::{ApplyArgs, ExecutorArg, PlanShape};
use crate::context::Ctx;
use crate::detect::{self, Detection};
use crate::error::UsageError;
use crate::host::{dryrun, Cmd, Host};
use crate::kcmdline::{BootOptions, WipeSpec};
use crate::plan::{Plan, PlanOptions, PlannedDisk};
use crate::policy::{self, Policy};
use crate::status::{self, State, StorageStatus};

/// Where the live system mounts the new layout.
pub const TARGET: &str = "/mnt";
/// How long udev gets to settle after a step.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an expected device node may take to appear.
pub const NODE_DEADLINE: Duration = Duration::from_secs(60);
/// Used when `PATH` is not set (a bare systemd unit has a PATH; a chroot may not).
pub const DEFAULT_PATH: &str =
    "/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Directory of the generated NixOS stubs on the new root.
pub const STUB_DIR: &str = "/mnt/etc/nixos/pre-generated";

/// A failed step: its name (`DETAIL=`) and the error (`ERROR=`).
#[derive(Debug)]
pub struct StepError {
    pub step: String,
    pub error: anyhow::Error,
}

impl StepError {
    pub fn new(step: impl Into<String>, error: anyhow::Error) -> Self {
        StepError {
            step: step.into(),
            error,
        }
    }
}

/// Everything an executor needs besides the plan.
pub struct Env<'a> {
    pub host: &'a dyn Host,
    pub dry_run: bool,
    /// `PATH` to look tools up in (resolved under the host root).
    pub path_var: String,
    pub settle_timeout: Duration,
    pub node_deadline: Duration,
    progress: Progress,
}

impl<'a> Env<'a> {
    pub fn new(host: &'a dyn Host) -> Self {
        Env {
            host,
            dry_run: false,
            path_var: std::env::var("PATH")
                .ok()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PATH.to_owned()),
            settle_timeout: SETTLE_TIMEOUT,
            node_deadline: NODE_DEADLINE,
            progress: Progress::default(),
        }
    }

    pub fn with_path(mut self, path: &str) -> Self {
        self.path_var = path.to_owned();
        self
    }

    /// Sets how many steps the progress lines count to.
    pub fn begin(&self, total: usize) {
        self.progress.total.set(total);
        self.progress.done.set(0);
    }

    /// Runs one named step, printing `[3/11] what … done in 1.2 s` (or `failed`).
    pub fn step(
        &self,
        key: &str,
        what: &str,
        f: impl FnOnce() -> anyhow::Result<()>,
    ) -> Result<(), StepError> {
        crate::host::interrupt::note_step(key);
        let n = self.progress.done.get() + 1;
        self.progress.done.set(n);
        let total = self.progress.total.get().max(n);
        let head = format!("[{n}/{total}] {what}");
        let mut err = std::io::stderr();
        let _ = write!(err, "{head} … ");
        let _ = err.flush();
        let start = self.host.now();
        let result = f();
        let secs = self
            .host
            .now()
            .saturating_duration_since(start)
            .as_secs_f64();
        match &result {
            Ok(()) => {
                let _ = writeln!(err, "done in {secs:.1} s");
                tracing::info!(
                    step = key,
                    n,
                    total,
                    duration_ms = (secs * 1000.0) as u64,
                    "{what}: done"
                );
            }
            Err(e) => {
                let _ = writeln!(err, "failed after {secs:.1} s");
                tracing::error!(step = key, n, total, error = %format!("{e:#}"), "{what}: failed");
            }
        }
        result.map_err(|e| StepError::new(key, e))
    }

    /// Runs a command (failure names the command and its stderr tail).
    pub fn run(&self, cmd: &Cmd) -> anyhow::Result<String> {
        Ok(self.host.run(cmd)?.stdout)
    }

    /// `udevadm settle` with its own timeout, so queued events are processed.
    pub fn settle(&self) -> anyhow::Result<()> {
        let secs = self.settle_timeout.as_secs();
        self.run(
            &Cmd::new(
                "waiting for udev to settle",
                [
                    "udevadm".to_owned(),
                    "settle".to_owned(),
                    format!("--timeout={secs}"),
                ],
            )
            .timeout(self.settle_timeout + Duration::from_secs(10)),
        )
        .map(|_| ())
    }

    /// Waits for a device node udev makes, with a deadline; a bounded poll.
    pub fn wait_for(&self, node: &str) -> anyhow::Result<()> {
        wait_for_node(self.host, node, self.node_deadline)
    }
}

#[derive(Default)]
struct Progress {
    total: Cell<usize>,
    done: Cell<usize>,
}

/// Polls for `node` until `deadline`; the error names the node and the wait.
pub fn wait_for_node(host: &dyn Host, node: &str, deadline: Duration) -> anyhow::Result<()> {
    let start = host.now();
    let step = Duration::from_millis(100);
    loop {
        if host.exists(Path::new(node)) {
            tracing::debug!(
                device = node,
                waited_ms = host.now().saturating_duration_since(start).as_millis() as u64,
                "node present"
            );
            return Ok(());
        }
        if host.now().saturating_duration_since(start) >= deadline {
            return Err(anyhow!(
                "waiting for {node}: it did not appear within {} s (udev did not create it; \
                 check `udevadm monitor` and that the udev rules for md/LVM are installed)",
                deadline.as_secs()
            ));
        }
        host.sleep(step);
    }
}

/// Finds a program on `path_var`, looking through the host root.
pub fn find_tool(host: &dyn Host, path_var: &str, tool: &str) -> Option<PathBuf> {
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| host.exists(p))
}

/// Every tool must be there before the first disk is touched.
pub fn check_tools(env: &Env, tools: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| find_tool(env.host, &env.path_var, t).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(anyhow!(
        "checking tools: {} not found on PATH ({}); install it (mdadm, lvm2, gptfdisk, e2fsprogs, \
         dosfstools, util-linux, systemd) — no disk was touched",
        missing.join(", "),
        env.path_var
    ))
}

/// The identity guard: re-reads the disk behind the plan's stable path and compares
/// serial and size with the plan. Logs the identity before anything touches it.
pub fn check_identity(host: &dyn Host, d: &PlannedDisk) -> anyhow::Result<Identity> {
    let id = blockdev::read_identity(host, &d.stable_path)?.ok_or_else(|| {
        anyhow!(
            "checking the identity of {}: the disk is not present (vanished since planning, or the \
             plan was made on another machine); refusing to write",
            d.stable_path
        )
    })?;
    let mut problems = Vec::new();
    if id.size_bytes != d.size_bytes {
        problems.push(format!(
            "size {} ({} bytes) where the plan has {} ({} bytes)",
            crate::units::human_bytes(id.size_bytes),
            id.size_bytes,
            crate::units::human_bytes(d.size_bytes),
            d.size_bytes
        ));
    }
    if let Some(s) = &d.serial {
        if !id.serials.iter().any(|f| f == s) {
            problems.push(format!(
                "serial {} where the plan has {s}",
                id.serials.first().map(String::as_str).unwrap_or("none")
            ));
        }
    }
    if !problems.is_empty() {
        return Err(anyhow!(
            "checking the identity of {}: found {}; refusing to write (was the plan made on \
             another machine, or was a disk swapped?)",
            id.describe(),
            problems.join(" and ")
        ));
    }
    tracing::info!(
        device = %id.stable_path,
        kname = %id.kname,
        serial = id.serials.first().map(String::as_str).unwrap_or(""),
        size = id.size_bytes,
        model = id.model.as_deref().unwrap_or(""),
        "disk identity confirmed"
    );
    Ok(id)
}

/// An executor turns a plan into disks. Both get the same plan.
pub trait Executor {
    fn name(&self) -> &'static str;
    /// Programs the plan needs, checked before anything is touched.
    fn required_tools(&self, plan: &Plan) -> Vec<&'static str>;
    /// How many progress steps [`Executor::apply`] takes.
    fn step_count(&self, plan: &Plan) -> usize;
    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorKind {
    Native,
    Disko,
}

impl ExecutorKind {
    /// `--executor` when given, else disko when it is on PATH, else native.
    pub fn choose(arg: Option<ExecutorArg>, host: &dyn Host, path_var: &str) -> Self {
        match arg {
            Some(ExecutorArg::Native) => ExecutorKind::Native,
            Some(ExecutorArg::Disko) => ExecutorKind::Disko,
            None if find_tool(host, path_var, "disko").is_some() => ExecutorKind::Disko,
            None => ExecutorKind::Native,
        }
    }

    pub fn executor(self) -> Box<dyn Executor> {
        match self {
            ExecutorKind::Native => Box::new(native::Native),
            ExecutorKind::Disko => Box::new(disko::Disko::default()),
        }
    }
}

/// What [`provision`] is asked to do.
pub struct Request<'a> {
    pub plan: &'a Plan,
    pub executor: ExecutorKind,
    /// The wipe switch in force.
    pub wipe: Option<WipeSpec>,
    pub boot: BootOptions,
    /// MAC of the LAN, for `network-lan.nix`.
    pub lan_mac: Option<String>,
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
    match crate::verify::read_back(host, &plan.layout) {
        Ok(found) => {
            let diffs: Vec<_> = crate::verify::diff(&plan.layout, &found)
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
    let identity = identify(env.host, req.plan);
    let detection = detect::detect(env.host, &req.plan.layout.disks).map_err(|e| format!("{e:#}"));
    let provisioned = match &detection {
        Ok(d) if !d.failed() && !d.all_clean() => already_provisioned(env.host, req.plan),
        _ => None,
    };
    let policy = decide(req, &detection, provisioned, identity.as_ref().err());
    tracing::info!(state = %policy.state(), detail = %policy.detail(), "storage policy: {}", policy.message());
    eprintln_ui(&format!("storage: {}", policy.message()));
    let status = initial_status(ctx, req.plan, identity.ok());
    if policy.writes() || policy == Policy::AlreadyProvisioned {
        apply_recorded(ctx, env, req, policy, status)
    } else {
        record_unchanged(ctx, env, req.plan, policy, status)
    }
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
    let policy = policy::decide(&policy::Inputs {
        disks: &req.plan.layout.disks,
        detection: detection.as_ref().map_err(Clone::clone),
        provisioned,
        boot: &req.boot,
        wipe: req.wipe.as_ref(),
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
        updated: status::now_rfc3339(),
    }
}

fn finish(status: &mut StorageStatus, policy: &Policy, error: Option<String>) {
    status.state = policy.state();
    status.detail = policy.detail();
    status.error = error;
    status.updated = status::now_rfc3339();
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
    finish(&mut status, &policy, error);
    if !env.dry_run {
        write_plan_file(ctx, env.host, plan)?;
        status::write_storage(env.host, ctx.state_dir(), &status)
            .with_context(|| state_dir_error(ctx))?;
    }
    Ok(Outcome { policy, status })
}

/// An outcome that changes things: one pre-nixos at a time (the lock), the plan and
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
    let lock = if env.dry_run {
        None
    } else {
        Some(crate::lock::ApplyLock::acquire(host, ctx.state_dir())?)
    };
    if !env.dry_run {
        write_plan_file(ctx, host, req.plan)?;
        status::write_storage(host, ctx.state_dir(), &status)
            .with_context(|| state_dir_error(ctx))?;
    }
    let policy = match run_writes(env, req, &policy) {
        Ok(()) => {
            // A refusal that wiped the disks the switch named still says why the
            // plan was not applied, and which switch would apply it.
            let refusal =
                matches!(policy, Policy::ExistingStorage { .. }).then(|| policy.message());
            finish(&mut status, &policy, refusal);
            policy
        }
        Err(e) => {
            // ERROR=interrupted … when SIGTERM stopped the step (host::interrupt).
            let error = crate::host::interrupt::error_text(&e.error, one_line(&e.error));
            let failed = Policy::Failed {
                step: e.step.clone(),
                error: error.clone(),
            };
            finish(&mut status, &failed, Some(error));
            failed
        }
    };
    if !env.dry_run {
        status::write_storage(host, ctx.state_dir(), &status)
            .with_context(|| state_dir_error(ctx))?;
    }
    if let Some(lock) = lock {
        if let Err(e) = lock.close() {
            tracing::warn!(error = %e, "releasing the apply lock");
        }
    }
    Ok(Outcome { policy, status })
}

fn run_writes(env: &Env, req: &Request, policy: &Policy) -> Result<(), StepError> {
    let plan = req.plan;
    let exec = req.executor.executor();
    let (teardown_paths, applies): (&[String], bool) = match policy {
        Policy::WipeAndApply { disks } => (disks, true),
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
        tools.extend(crate::teardown::REQUIRED_TOOLS);
    }
    tools.sort();
    tools.dedup();
    check_tools(env, &tools).map_err(|e| StepError::new("tools", e))?;

    if *policy == Policy::AlreadyProvisioned {
        env.begin(3);
        native::mount_all(env, plan)?;
        return verify_step(env, plan);
    }

    // The identity guard: right before the first write (teardown, or an executor
    // that writes every disk at once such as disko), re-read every planned disk.
    // The native executor checks each disk again right before its own sgdisk.
    for d in &plan.layout.disks {
        check_identity(env.host, d).map_err(|e| StepError::new("identity", e))?;
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
            || crate::teardown::teardown(env, &teardown_disks),
        )?;
    }
    if !applies {
        return Ok(());
    }
    exec.apply(env, plan)?;
    verify_step(env, plan)?;
    env.step(
        "stubs",
        &format!("writing NixOS stubs to {STUB_DIR}"),
        || write_stubs(env, plan, req.lan_mac.as_deref()),
    )
}

fn verify_step(env: &Env, plan: &Plan) -> Result<(), StepError> {
    env.step(
        "verify",
        "reading the disks back and comparing with the plan",
        || {
            if env.dry_run {
                return Ok(());
            }
            // The steps before queued udev events (md superblocks, filesystems, swap);
            // read back only once they are processed.
            env.settle()?;
            let diffs = crate::verify::check(env.host, &plan.layout)?;
            if diffs.is_empty() {
                return Ok(());
            }
            Err(anyhow!(
                "the disks differ from the plan in {} place(s): {}",
                diffs.len(),
                diffs
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        },
    )
}

fn write_stubs(env: &Env, plan: &Plan, lan_mac: Option<&str>) -> anyhow::Result<()> {
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
            crate::render::nixos::network_lan_nix(mac).as_bytes(),
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

fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A line for the person at the terminal (progress and outcomes), not a log record.
pub fn eprintln_ui(line: &str) {
    let mut err = std::io::stderr();
    let _ = writeln!(err, "{line}");
}

/// The kernel command line of the machine behind `host`.
pub fn boot_options(host: &dyn Host) -> BootOptions {
    match host.read_to_string(Path::new("/proc/cmdline")) {
        Ok(t) => crate::kcmdline::parse(&t),
        Err(e) => {
            tracing::warn!(error = %e, "reading /proc/cmdline; no boot options");
            BootOptions::default()
        }
    }
}

/// Plan options from the command line, falling back to the kernel command line.
pub fn plan_options(shape: Option<&PlanShape>, boot: &BootOptions) -> PlanOptions {
    PlanOptions {
        mode: shape
            .and_then(|s| s.mode)
            .map(Into::into)
            .or(boot.mode)
            .unwrap_or_default(),
        swap_size_bytes: shape.and_then(|s| s.swap_size).or(boot.swap_size_bytes),
    }
}

/// Reads `--plan FILE` (a corrupt file is a usage error naming the field), or plans
/// this machine now.
pub fn load_or_make_plan(
    ctx: &Ctx,
    file: Option<&Path>,
    shape: Option<&PlanShape>,
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
    let boot = boot_options(ctx.host);
    let inv = crate::inventory::scan(ctx.host).context("reading the inventory")?;
    let plan = crate::plan::plan(&inv, &plan_options(shape, &boot)).context("planning storage")?;
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

/// `pre-nixos apply [--plan FILE] [--executor native|disko] [--wipe …] [--dry-run]`.
pub fn command(ctx: &Ctx, args: &ApplyArgs) -> anyhow::Result<u8> {
    let wipe = match args.wipe.as_deref().map(policy::parse_wipe_arg) {
        Some(Err(e)) => return Err(UsageError::new(e).into()),
        Some(Ok(w)) => Some(w),
        None => None,
    };
    let plan = load_or_make_plan(ctx, args.plan.as_deref(), Some(&args.shape))?;
    let mut boot = boot_options(ctx.host);
    // An explicit `apply` is the operator's decision; only --wipe may wipe here.
    boot.plan_only = false;
    let dry_host = args.dry_run.then(|| dryrun::DryRunHost::new(ctx.host));
    let mut env = Env::new(ctx.host);
    if let Some(d) = &dry_host {
        env.host = d;
        env.dry_run = true;
    }
    let executor = ExecutorKind::choose(args.executor, ctx.host, &env.path_var);
    let dctx = Ctx::new(env.host, ctx.state_dir.clone());
    let outcome = provision(
        &dctx,
        &env,
        &Request {
            plan: &plan,
            executor,
            wipe,
            boot,
            lan_mac: None,
        },
    )?;
    if args.dry_run {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "# dry run: nothing was changed; the commands, in order:"
        )?;
        for c in dry_host.as_ref().map(|d| d.commands()).unwrap_or_default() {
            writeln!(out, "# {}\n{}", c.what, c.display())?;
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

/// A detection for status and diagnose, through the same reader as the boot.
pub fn detect_plan(host: &dyn Host, plan: &Plan) -> anyhow::Result<Detection> {
    detect::detect(host, &plan.layout.disks)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod plan_file_tests {
    use super::*;
    use crate::host::fake::FakeHost;

    fn load(text: &str) -> anyhow::Error {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("storage-plan.json");
        std::fs::write(&f, text).unwrap();
        let host = FakeHost::new(dir.path());
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        load_or_make_plan(&ctx, Some(&f), None).unwrap_err()
    }

    #[test]
    fn a_corrupt_plan_file_is_a_usage_error_naming_the_field() {
        let good = serde_json::to_string_pretty(&crate::testkit::single_nvme()).unwrap();
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
}
