//! The native executor: sgdisk, mdadm, LVM, mkfs, mount — in dependency order, each
//! step waiting for the exact device nodes the next one needs.
//!
//! The steps are data ([`steps`] is a pure function of the plan), so tests compare
//! the exact command list, and the runner ([`Native::apply`]) is small: identity
//! guard before a disk's first write, commands, `udevadm settle`, named waits. Written
//! for the tools of a Debian 12 / NixOS live system (gdisk 1.0.9, mdadm 4.2,
//! lvm2 2.03.16, e2fsprogs, dosfstools, util-linux). md resync is left running in the
//! background; nothing waits for it. Nothing may ask a question (stdin is empty):
//! `mdadm --create --run` with explicit `--metadata` skips mdadm's "continue?"
//! prompts, `pvcreate`/`lvcreate --yes` answer LVM's wipe prompts, `mkfs.ext4 -F`.

use crate::host::Cmd;
use crate::plan::{LvContent, PartitionRole, Plan, PlannedDisk, RaidLevel};
use crate::units::{human_binary, MIB};

use super::Executor;
use crate::plan::naming::{target_path, TARGET};
use crate::storage::env::{check_identity, DiskLocks, Env, StepError};

/// One thing a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Re-reads the disk's identity and compares it with the plan (no write).
    CheckIdentity(Box<PlannedDisk>),
    /// Holds the disk under a BSD lock so udev defers its events (see
    /// [`crate::storage::teardown::DiskLocks`]) until [`Action::UnlockDisk`].
    LockDisk(String),
    UnlockDisk,
    /// `wipefs -a` on the partitions just created, by their kernel names: a new
    /// partition that starts where an old one did can expose a stale md superblock
    /// or LVM label, which udev would assemble or activate the moment it sees it
    /// (the predecessor's "stale md reassembly").
    WipeNewPartitions(Box<PlannedDisk>),
    Run(Cmd),
    /// `udevadm settle`.
    Settle,
    /// Waits for a device node with the executor's deadline.
    WaitFor(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `DETAIL=` when it fails: `partition`, `raid`, `vg`, `lv`, `mkfs`, `mount`, `swapon`.
    pub key: &'static str,
    /// The progress text.
    pub what: String,
    pub actions: Vec<Action>,
}

fn run(what: impl Into<String>, argv: Vec<String>) -> Action {
    Action::Run(Cmd::new(what, argv))
}

fn s(v: &str) -> String {
    v.to_owned()
}

/// `+1024M` (or `+<n>K` for sizes that are not whole MiB).
fn sgdisk_size(bytes: u64) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("+{}M", bytes / MIB)
    } else {
        format!("+{}K", bytes / 1024)
    }
}

fn short(dev: &str) -> &str {
    dev.rsplit('/').next().unwrap_or(dev)
}

/// The partitioning step of one disk: one sgdisk call creating the GPT and every
/// partition with its type code and partlabel.
pub fn partition_step(d: &PlannedDisk) -> Step {
    let mut argv = vec![s("sgdisk"), s("--clear")];
    let mut parts = Vec::new();
    for p in &d.partitions {
        let end = p.size_bytes.map(sgdisk_size).unwrap_or_else(|| s("0"));
        argv.push(format!("--new={}:0:{end}", p.number));
        argv.push(format!("--typecode={}:{}", p.number, p.type_code));
        argv.push(format!("--change-name={}:{}", p.number, p.partlabel));
        parts.push(format!(
            "{} {}",
            p.key,
            p.size_bytes.map(human_binary).unwrap_or_else(|| s("rest"))
        ));
    }
    argv.push(d.stable_path.clone());
    let mut actions = vec![
        Action::CheckIdentity(Box::new(d.clone())),
        Action::LockDisk(d.stable_path.clone()),
        run(format!("partitioning {} ({})", d.name, d.stable_path), argv),
        Action::WipeNewPartitions(Box::new(d.clone())),
        Action::UnlockDisk,
        Action::Settle,
    ];
    actions.extend(
        d.partitions
            .iter()
            .map(|p| Action::WaitFor(p.by_partlabel())),
    );
    Step {
        key: "partition",
        what: format!(
            "partitioning {} ({}): GPT, {}",
            d.name,
            d.serial.as_deref().unwrap_or("no serial"),
            parts.join(", ")
        ),
        actions,
    }
}

/// Every step for `plan`, in order.
pub fn steps(plan: &Plan) -> Vec<Step> {
    let l = &plan.layout;
    let mut out: Vec<Step> = l.disks.iter().map(partition_step).collect();
    let member_name = |path: &str| -> String {
        l.disks
            .iter()
            .flat_map(|d| &d.partitions)
            .find(|p| p.by_partlabel() == path)
            .map(|p| short(&p.device).to_owned())
            .unwrap_or_else(|| short(path).to_owned())
    };

    for a in &l.arrays {
        let members: Vec<String> = a.members.iter().map(|m| member_name(m)).collect();
        let what = format!(
            "creating {} {} from {}",
            a.level.name(),
            a.device(),
            members.join(" ")
        );
        let mut argv = vec![
            s("mdadm"),
            s("--create"),
            a.device(),
            s("--run"),
            format!("--metadata={}", a.metadata),
            format!("--level={}", a.level.number()),
            format!("--raid-devices={}", a.members.len()),
            s("--homehost=any"),
        ];
        if a.level != RaidLevel::Raid0 {
            // Explicit, so a newer mdadm (4.3 asks whether to add one on large
            // arrays) never stops at a question; RAID0 has nothing to resync.
            argv.push(s("--bitmap=internal"));
        }
        argv.extend(a.members.iter().cloned());
        out.push(Step {
            key: "raid",
            what: what.clone(),
            actions: vec![run(what, argv), Action::Settle, Action::WaitFor(a.device())],
        });
    }

    for vg in &l.vgs {
        let pv_names: Vec<String> = vg.pvs.iter().map(|p| member_name(p)).collect();
        let what = format!("creating VG {} on {}", vg.name, pv_names.join(" "));
        let mut pv = vec![s("pvcreate"), s("--yes")];
        pv.extend(vg.pvs.iter().cloned());
        let mut vgc = vec![
            s("vgcreate"),
            s("-s"),
            format!("{}M", vg.extent_bytes / MIB),
            vg.name.clone(),
        ];
        vgc.extend(vg.pvs.iter().cloned());
        out.push(Step {
            key: "vg",
            what: what.clone(),
            actions: vec![
                run(format!("creating LVM PVs {}", pv_names.join(" ")), pv),
                run(what, vgc),
            ],
        });
    }

    for vg in &l.vgs {
        for lv in &vg.lvs {
            let dev = lv.device(&vg.name);
            let what = format!(
                "creating LV {dev} ({} extents, {})",
                lv.extents,
                human_binary(lv.size_bytes)
            );
            out.push(Step {
                key: "lv",
                what: what.clone(),
                actions: vec![
                    run(
                        what,
                        vec![
                            s("lvcreate"),
                            s("-l"),
                            lv.extents.to_string(),
                            s("-n"),
                            lv.name.clone(),
                            vg.name.clone(),
                            s("--yes"),
                        ],
                    ),
                    Action::Settle,
                    Action::WaitFor(dev),
                ],
            });
        }
    }

    // Filesystems: ESPs first (disk order), then LVs (VG order).
    for d in &l.disks {
        for p in &d.partitions {
            if let PartitionRole::Esp { label, .. } = &p.role {
                let dev = p.by_partlabel();
                let what = format!("making vfat {label} on {}", short(&p.device));
                out.push(Step {
                    key: "mkfs",
                    what: what.clone(),
                    actions: vec![
                        run(
                            what,
                            vec![
                                s("mkfs.vfat"),
                                s("-F"),
                                s("32"),
                                s("-n"),
                                label.clone(),
                                dev,
                            ],
                        ),
                        Action::Settle,
                        Action::WaitFor(format!("/dev/disk/by-label/{label}")),
                    ],
                });
            }
        }
    }
    for vg in &l.vgs {
        for lv in &vg.lvs {
            let dev = lv.device(&vg.name);
            let (what, argv, label) = match &lv.content {
                LvContent::Ext4 {
                    label,
                    bytes_per_inode,
                    ..
                } => {
                    let mut argv = vec![s("mkfs.ext4"), s("-F"), s("-L"), label.clone()];
                    if let Some(i) = bytes_per_inode {
                        argv.push(s("-i"));
                        argv.push(i.to_string());
                    }
                    argv.push(dev.clone());
                    (format!("making ext4 {label} on {dev}"), argv, label)
                }
                LvContent::Swap { label } => (
                    format!("making swap {label} on {dev}"),
                    vec![s("mkswap"), s("-L"), label.clone(), dev.clone()],
                    label,
                ),
            };
            out.push(Step {
                key: "mkfs",
                what: what.clone(),
                actions: vec![
                    run(what, argv),
                    Action::Settle,
                    Action::WaitFor(format!("/dev/disk/by-label/{label}")),
                ],
            });
        }
    }

    out.push(mount_step(plan));
    let swaps: Vec<&str> = l
        .vgs
        .iter()
        .flat_map(|vg| &vg.lvs)
        .filter_map(|lv| match &lv.content {
            LvContent::Swap { label } => Some(label.as_str()),
            _ => None,
        })
        .collect();
    if !swaps.is_empty() {
        out.push(Step {
            key: "swapon",
            what: format!("enabling swap {}", swaps.join(" ")),
            actions: swaps
                .iter()
                .map(|label| {
                    run(
                        format!("enabling swap {label}"),
                        vec![s("swapon"), format!("/dev/disk/by-label/{label}")],
                    )
                })
                .collect(),
        });
    }
    out
}

/// A filesystem to mount: (mountpoint, label, fstype, options, mode).
pub type MountSpec = (String, String, &'static str, Vec<String>, Option<u32>);

/// Every filesystem of the plan with a mount point, `/` first, then in path order
/// (parents before children).
pub fn mounts(plan: &Plan) -> Vec<MountSpec> {
    let mut m = Vec::new();
    for d in &plan.layout.disks {
        for p in &d.partitions {
            if let PartitionRole::Esp {
                label,
                mountpoint: Some(mp),
                mount_options,
            } = &p.role
            {
                m.push((
                    mp.clone(),
                    label.clone(),
                    "vfat",
                    mount_options.clone(),
                    None,
                ));
            }
        }
    }
    for vg in &plan.layout.vgs {
        for lv in &vg.lvs {
            if let LvContent::Ext4 {
                label,
                mountpoint,
                mount_options,
                mode,
                ..
            } = &lv.content
            {
                m.push((
                    mountpoint.clone(),
                    label.clone(),
                    "ext4",
                    mount_options.clone(),
                    *mode,
                ));
            }
        }
    }
    m.sort_by(|a, b| (a.0 != "/", &a.0).cmp(&(b.0 != "/", &b.0)));
    m
}

/// Mounts every filesystem under `/mnt` by label, making mount points, then the
/// modes the plan asks for (`chmod 1777 /mnt/var/tmp`).
pub fn mount_step(plan: &Plan) -> Step {
    mount_step_except(plan, &[])
}

/// [`mount_step`] without the targets that are already mount points.
pub fn mount_step_except(plan: &Plan, mounted: &[String]) -> Step {
    let mut actions = Vec::new();
    let list: Vec<MountSpec> = mounts(plan)
        .into_iter()
        .filter(|m| !mounted.contains(&target_path(&m.0)))
        .collect();
    for (mp, label, fstype, opts, mode) in &list {
        let target = target_path(mp);
        actions.push(run(
            format!("making the mount point {target}"),
            vec![s("mkdir"), s("-p"), target.clone()],
        ));
        let mut argv = vec![s("mount"), s("-t"), s(fstype)];
        if !opts.is_empty() {
            argv.push(s("-o"));
            argv.push(opts.join(","));
        }
        argv.push(format!("/dev/disk/by-label/{label}"));
        argv.push(target.clone());
        actions.push(run(format!("mounting {label} on {target}"), argv));
        if let Some(mode) = mode {
            actions.push(run(
                format!("setting mode {mode:o} on {target}"),
                vec![s("chmod"), format!("{mode:o}"), target.clone()],
            ));
        }
    }
    Step {
        key: "mount",
        what: format!("mounting {} filesystems under {TARGET}", list.len()),
        actions,
    }
}

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

fn current_kname(env: &Env, stable_path: &str) -> anyhow::Result<String> {
    crate::storage::blockdev::resolve_kname(env.host, stable_path)?
        .ok_or_else(|| anyhow::anyhow!("{stable_path} vanished"))
}

pub fn run_step(env: &Env, step: &Step) -> Result<(), StepError> {
    env.step(step.key, &step.what, || {
        let mut lock: Option<DiskLocks> = None;
        for a in &step.actions {
            match a {
                Action::CheckIdentity(d) => {
                    check_identity(env.host, d)?;
                }
                Action::LockDisk(path) => {
                    let k = current_kname(env, path)?;
                    lock = Some(DiskLocks::take(env.host, &[k]));
                }
                Action::UnlockDisk => {
                    if let Some(l) = lock.take() {
                        l.close()?;
                    }
                }
                Action::WipeNewPartitions(d) => {
                    let k = current_kname(env, &d.stable_path)?;
                    let mut argv = vec![s("wipefs"), s("-a")];
                    argv.extend(d.partitions.iter().map(|p| partition_dev(&k, p.number)));
                    env.run(&Cmd::new(
                        format!("wiping stale signatures off the new partitions of {k}"),
                        argv,
                    ))?;
                }
                Action::Run(c) => {
                    env.run(c)?;
                }
                Action::Settle => env.settle()?,
                Action::WaitFor(node) => env.wait_for(node)?,
            }
        }
        Ok(())
    })
}

/// Mounts an already provisioned layout (second boot), changing nothing on disk:
/// only what is not mounted yet, and swap only when it is not on yet (running twice
/// in one boot changes nothing).
pub fn mount_all(env: &Env, plan: &Plan) -> Result<(), StepError> {
    let mounted: Vec<String> = crate::storage::blockdev::read_mountinfo(env.host)
        .map_err(|e| StepError::new("mount", e))?
        .into_iter()
        .map(|m| m.mount_point)
        .collect();
    let step = mount_step_except(plan, &mounted);
    if !step.actions.is_empty() {
        run_step(env, &step)?;
    }
    let active =
        crate::storage::blockdev::read_swaps(env.host).map_err(|e| StepError::new("swapon", e))?;
    let active_names: Vec<&str> = active
        .iter()
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .collect();
    let off: Vec<Action> = plan
        .layout
        .vgs
        .iter()
        .flat_map(|vg| &vg.lvs)
        .filter_map(|lv| match &lv.content {
            LvContent::Swap { label } => Some(label),
            _ => None,
        })
        .filter(|label| {
            let node = format!("/dev/disk/by-label/{label}");
            let kname = crate::storage::blockdev::resolve_kname(env.host, &node)
                .ok()
                .flatten();
            !kname.is_some_and(|k| active_names.contains(&k.as_str()))
        })
        .map(|label| {
            run(
                format!("enabling swap {label}"),
                vec![s("swapon"), format!("/dev/disk/by-label/{label}")],
            )
        })
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

pub struct Native;

impl Executor for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn required_tools(&self, plan: &Plan) -> Vec<&'static str> {
        let mut t = Vec::new();
        for step in steps(plan) {
            for a in &step.actions {
                match a {
                    Action::Run(c) => t.push(c.program().to_owned()),
                    Action::Settle => t.push("udevadm".to_owned()),
                    Action::WipeNewPartitions(_) => t.push("wipefs".to_owned()),
                    _ => {}
                }
            }
        }
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
        steps(plan).len()
    }

    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError> {
        for step in steps(plan) {
            run_step(env, &step)?;
        }
        Ok(())
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
