//! The native executor: sgdisk, mdadm, LVM, mkfs, mount — in dependency order, each
//! step waiting for the exact device nodes the next one needs.
//!
//! The steps are data ([`steps`] is a pure function of the plan), so tests compare
//! the exact command list, and the runner ([`Native::apply`]) is small: identity
//! guard before a disk's first write, commands, named waits for the exact node the next
//! step needs (one `udevadm settle`, before verify, is the storage flow's). Written
//! for the tools of a Debian 12 / NixOS live system (gdisk 1.0.9, mdadm 4.2,
//! lvm2 2.03.16, e2fsprogs, dosfstools, util-linux). md resync is left running in the
//! background; nothing waits for it. Nothing may ask a question (stdin is empty):
//! `mdadm --create --run` with explicit `--metadata` skips mdadm's "continue?"
//! prompts, `pvcreate`/`lvcreate --yes` answer LVM's wipe prompts, `mkfs.ext4 -F`.

mod steps;

pub use steps::*;
use steps::{run, s};

use crate::plan::Plan;

use super::Executor;
use crate::storage::env::{guard_identity, DiskLocks, Env, Shown, StepError};

/// Runs one step's actions through `env`.
/// `/dev/sda` + 2 → `/dev/sda2`; `/dev/nvme0n1` + 2 → `/dev/nvme0n1p2`.
pub fn partition_dev(kname: &str, n: u32) -> String {
    let sep = if kname.ends_with(|c: char| c.is_ascii_digit()) {
        "p"
    } else {
        ""
    };
    format!("/dev/{kname}{sep}{n}")
}

pub fn run_step(env: &Env, step: &Step) -> Result<(), StepError> {
    run_step_shown(env, step, Shown::Live)
}

/// [`run_step`], shown as in [`Env::step_shown`].
fn run_step_shown(env: &Env, step: &Step, shown: Shown) -> Result<(), StepError> {
    env.step_shown(step.key, &step.what, shown, || {
        let mut lock: Option<DiskLocks> = None;
        for a in &step.actions {
            match a {
                Action::CheckIdentity(d) => {
                    guard_identity(env.host, d)?;
                }
                Action::LockDisk { path, kname } => {
                    match crate::storage::blockdev::resolve_kname(env.host, path)? {
                        // The commands of the step name the partitions by kernel name;
                        // a disk renamed since the apply began (hot-plug) would send
                        // them to another disk.
                        Some(k) if k != *kname && env.host.changes_are_real() => {
                            anyhow::bail!(
                                "{path} now leads to /dev/{k}, not /dev/{kname} as when the \
                                 apply began (a disk was added or removed); refusing to \
                                 write, run again"
                            )
                        }
                        Some(k) => lock = Some(DiskLocks::take(env.host, &[k])),
                        // A dry run's disk from another machine: nothing to lock, as
                        // nothing is written (the dry-run host's locks are no-ops).
                        None if !env.host.changes_are_real() => {}
                        None => anyhow::bail!("{path} vanished"),
                    }
                }
                Action::UnlockDisk => {
                    if let Some(l) = lock.take() {
                        l.close()?;
                    }
                }
                Action::Run(c) => {
                    env.run(c)?;
                }
                Action::Settle => env.settle()?,
                Action::WaitFor(node) => env.wait_for(node)?,
                Action::WaitForLink { link, device } => env.wait_for_link(link, device)?,
            }
        }
        Ok(())
    })
}

/// Mounts an already provisioned layout (second boot), changing nothing on disk:
/// only what is not mounted yet, and swap only when it is not on yet (running twice
/// in one boot changes nothing).
pub fn mount_all(env: &Env, plan: &Plan) -> Result<(), StepError> {
    let k = knames(env, plan).map_err(|e| StepError::new("mount", e))?;
    let mounted: Vec<String> = crate::storage::blockdev::read_mountinfo(env.host)
        .map_err(|e| StepError::new("mount", e))?
        .into_iter()
        .map(|m| m.mount_point)
        .collect();
    let step = mount_step_except(plan, &k, &mounted);
    if !step.actions.is_empty() {
        run_step(env, &step)?;
    }
    let active = crate::storage::blockdev::active_swap_knames(env.host)
        .map_err(|e| StepError::new("swapon", e))?;
    let off: Vec<Action> = steps::swap_devices(&plan.layout)
        .into_iter()
        .filter(|(_, dev)| {
            let kname = crate::storage::blockdev::resolve_kname(env.host, dev)
                .ok()
                .flatten();
            !kname.is_some_and(|k| active.contains(&k))
        })
        .map(|(label, dev)| run(format!("enabling swap {label}"), vec![s("swapon"), dev]))
        .collect();
    if off.is_empty() {
        return Ok(());
    }
    run_step(
        env,
        &Step {
            key: "swapon",
            what: "enabling swap".into(),
            actions: off,
        },
    )
}

/// The planned disks' kernel names now ([`Knames`]).
fn knames(env: &Env, plan: &Plan) -> anyhow::Result<Knames> {
    crate::storage::collisions::planned_knames(env.host, plan).map(Knames::new)
}

pub struct Native;

impl Executor for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn required_tools(&self, plan: &Plan) -> Vec<&'static str> {
        let mut t = Vec::new();
        for step in steps(plan, &Knames::of_plan(plan)) {
            for a in &step.actions {
                if let Action::Run(c) = a {
                    t.push(c.program().to_owned());
                }
            }
        }
        // Verify settles udev once before it reads the disks back.
        t.push("udevadm".to_owned());
        t.sort();
        t.dedup();
        // Leak-free mapping to the static names the check reports.
        KNOWN_TOOLS
            .iter()
            .copied()
            .filter(|k| t.iter().any(|x| x == k))
            .collect()
    }

    fn step_count(&self, plan: &Plan) -> usize {
        // The steps, and the finish step after verify.
        steps(plan, &Knames::of_plan(plan)).len() + 1
    }

    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError> {
        let k = knames(env, plan).map_err(|e| StepError::new("partition", e))?;
        for group in groups(plan, &k) {
            if group.len() > 1 {
                let note = format!(
                    "side by side: the next {} steps ({}), one per core at most",
                    group.len(),
                    group[0].key
                );
                tracing::info!(steps = group.len(), jobs = env.jobs, "{note}");
                env.host.note(&note);
                // The workers note the step on their own threads; a panic is caught on
                // this one.
                crate::host::interrupt::note_step(group[0].key);
            }
            env.run_group(&group, |step, shown| run_step_shown(env, step, shown))?;
        }
        Ok(())
    }

    fn finish(&self, env: &Env, plan: &Plan) -> Result<(), StepError> {
        run_step(env, &finish_step(plan))
    }
}

const KNOWN_TOOLS: &[&str] = &[
    "wipefs",
    "chmod",
    "lvcreate",
    "mdadm",
    "mkdir",
    "mkfs.ext4",
    "mkfs.vfat",
    "mkswap",
    "mount",
    "pvcreate",
    "sgdisk",
    "swapon",
    "udevadm",
    "vgcreate",
];

#[cfg(test)]
mod tests;
