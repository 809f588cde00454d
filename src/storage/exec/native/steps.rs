//! The native executor's steps as data: a pure function of the plan, in dependency
//! order (partitions, arrays, VGs, LVs, filesystems, mounts, swap), so tests compare the
//! exact command list and the dry run prints it.

use crate::host::Cmd;
use crate::plan::naming::{target_path, TARGET};
use crate::plan::{
    Layout, LogicalVolume, LvContent, PartitionRole, Plan, PlannedDisk, RaidArray, RaidLevel,
    VolumeGroup,
};
use crate::storage::resume::Markers;
use crate::units::{human_binary, MIB};

/// One thing a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Re-reads the disk's identity and compares it with the plan (no write).
    CheckIdentity(Box<PlannedDisk>),
    /// Holds the disk `path` leads to under a BSD lock so udev defers its events (see
    /// [`crate::storage::teardown::DiskLocks`]) until [`Action::UnlockDisk`]; refuses
    /// when `path` no longer leads to `kname`, the name the step's commands write to.
    LockDisk {
        path: String,
        kname: String,
    },
    UnlockDisk,
    Run(Cmd),
    /// `udevadm settle`: only where a reader needs the whole picture (the `mark` step,
    /// before the status says applied), never between steps.
    Settle,
    /// Waits, with the executor's deadline, for the device node or `/dev/disk/by-*` link
    /// the next step uses. udev makes these links last, once it has processed the
    /// device's event, so this is the only wait a step needs: no system-wide `udevadm
    /// settle` between steps (it waited for every device's events, 20–34 % of the
    /// stage's command time).
    WaitFor(String),
    /// [`Action::WaitFor`] a partition's `by-partlabel` link, done only once the link
    /// leads to `device`, the partition's kernel node: the link is udev's sign that it
    /// has handled the new partition, but the name is shared by every disk pre-nixos
    /// ever provisioned, so a link that leads elsewhere says nothing about ours.
    WaitForLink {
        link: String,
        device: String,
    },
}

/// The current kernel names of the planned disks, in the plan's disk order, resolved
/// through their stable paths right before the apply. Every partition is written and
/// mounted through its kernel node under these names (`/dev/sdb2`), never through a
/// `by-partlabel` or `by-label` link: those names are the same on every disk pre-nixos
/// or disko ever provisioned, and udev may point them at a USB stick or a foreign disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knames(Vec<String>);

impl Knames {
    /// `knames[i]` is the kernel name of the plan's disk `i` now.
    pub fn new(knames: Vec<String>) -> Self {
        Knames(knames)
    }

    /// The names the plan was made with: for the dry run's listing and for counting.
    pub fn of_plan(plan: &Plan) -> Self {
        Knames(plan.layout.disks.iter().map(|d| d.name.clone()).collect())
    }

    fn of(&self, l: &Layout, d: &PlannedDisk) -> String {
        l.disks
            .iter()
            .position(|x| x.stable_path == d.stable_path)
            .and_then(|i| self.0.get(i))
            .cloned()
            .unwrap_or_else(|| d.name.clone())
    }

    /// The kernel node of a planned partition named by its `by-partlabel` path (as
    /// arrays and VGs list their members); any other path (`/dev/md/main`) unchanged.
    fn node(&self, l: &Layout, path: &str) -> String {
        l.disks
            .iter()
            .flat_map(|d| d.partitions.iter().map(move |p| (d, p)))
            .find(|(_, p)| p.by_partlabel() == path)
            .map(|(d, p)| super::partition_dev(&self.of(l, d), p.number))
            .unwrap_or_else(|| path.to_owned())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// `DETAIL=` when it fails: `partition`, `raid`, `vg`, `lv`, `mkfs`, `mount`, `swapon`, `mark`.
    pub key: &'static str,
    /// The progress text.
    pub what: String,
    pub actions: Vec<Action>,
}

pub(super) fn run(what: impl Into<String>, argv: Vec<String>) -> Action {
    Action::Run(Cmd::new(what, argv))
}

pub(super) fn s(v: &str) -> String {
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

/// The partitioning step of one disk: one sgdisk call creating the GPT, its disk GUID
/// set to `marker` (the plan's in-progress marker, [`crate::storage::resume`]), and every
/// partition with its type code and partlabel. The marker is in the same call as the
/// table, so no partition of ours exists without it; `--disk-guid` comes after
/// `--clear`, which would otherwise draw a random GUID over it.
pub fn partition_step(d: &PlannedDisk, kname: &str, marker: &str) -> Step {
    let mut argv = vec![s("sgdisk"), s("--clear"), format!("--disk-guid={marker}")];
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
    let nodes: Vec<String> = d
        .partitions
        .iter()
        .map(|p| super::partition_dev(kname, p.number))
        .collect();
    // A new partition that starts where an old one did can expose a stale md
    // superblock or LVM label, which udev would assemble or activate the moment it
    // sees it (the predecessor's "stale md reassembly"): wiped under the lock.
    let mut wipe = vec![s("wipefs"), s("-a")];
    wipe.extend(nodes.iter().cloned());
    let mut actions = vec![
        Action::CheckIdentity(Box::new(d.clone())),
        Action::LockDisk {
            path: d.stable_path.clone(),
            kname: kname.to_owned(),
        },
        run(format!("partitioning {kname} ({})", d.stable_path), argv),
        run(
            format!("wiping stale signatures off the new partitions of {kname}"),
            wipe,
        ),
        Action::UnlockDisk,
    ];
    actions.extend(
        d.partitions
            .iter()
            .zip(nodes)
            .map(|(p, device)| Action::WaitForLink {
                link: p.by_partlabel(),
                device,
            }),
    );
    Step {
        key: "partition",
        what: format!(
            "partitioning {} ({}): GPT, {}",
            kname,
            d.serial.as_deref().unwrap_or("no serial"),
            parts.join(", ")
        ),
        actions,
    }
}

/// Every step for `plan` on the disks now called `k`, in order.
pub fn steps(plan: &Plan, k: &Knames) -> Vec<Step> {
    let l = &plan.layout;
    let marker = Markers::for_layout(l).in_progress;
    let mut out: Vec<Step> = l
        .disks
        .iter()
        .map(|d| partition_step(d, &k.of(l, d), &marker))
        .collect();
    out.extend(l.arrays.iter().map(|a| raid_step(l, k, a)));
    out.extend(l.vgs.iter().map(|vg| vg_step(l, k, vg)));
    out.extend(
        l.vgs
            .iter()
            .flat_map(|vg| vg.lvs.iter().map(move |lv| lv_step(vg, lv))),
    );
    // Filesystems: ESPs first (disk order), then LVs (VG order).
    out.extend(l.disks.iter().flat_map(|d| esp_steps(d, &k.of(l, d))));
    out.extend(
        l.vgs
            .iter()
            .flat_map(|vg| vg.lvs.iter().map(move |lv| mkfs_step(vg, lv))),
    );
    out.push(mount_step(plan, k));
    out.extend(swapon_step(l));
    out
}

/// Steps of these kinds that follow one another have no order between them: each
/// partitions its own disk (its own identity check and lock), or makes a filesystem on
/// its own partition or LV. Arrays, PVs, VGs and LVs stay one at a time: mdadm picks a
/// free md minor and LVM takes its global lock, so running them side by side only races.
const SIDE_BY_SIDE: &[&str] = &["partition", "mkfs"];

/// [`steps`] in groups that run one after another; the steps inside a group may run
/// side by side. Flattened, it is [`steps`] in the same order.
pub fn groups(plan: &Plan, k: &Knames) -> Vec<Vec<Step>> {
    let mut out: Vec<Vec<Step>> = Vec::new();
    for step in steps(plan, k) {
        match out.last_mut() {
            Some(g) if SIDE_BY_SIDE.contains(&step.key) && g[0].key == step.key => g.push(step),
            _ => out.push(vec![step]),
        }
    }
    out
}

fn raid_step(l: &Layout, k: &Knames, a: &RaidArray) -> Step {
    let nodes: Vec<String> = a.members.iter().map(|m| k.node(l, m)).collect();
    let members: Vec<&str> = nodes.iter().map(|n| short(n)).collect();
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
    argv.extend(nodes.iter().cloned());
    Step {
        key: "raid",
        what: what.clone(),
        // `/dev/md/<name>` is udev's link, made from the array's change event once it
        // runs: pvcreate then finds it in udev's database.
        actions: vec![run(what, argv), Action::WaitFor(a.device())],
    }
}

fn vg_step(l: &Layout, k: &Knames, vg: &VolumeGroup) -> Step {
    let nodes: Vec<String> = vg.pvs.iter().map(|p| k.node(l, p)).collect();
    let pv_names: Vec<&str> = nodes.iter().map(|n| short(n)).collect();
    let what = format!("creating VG {} on {}", vg.name, pv_names.join(" "));
    let mut pv = vec![s("pvcreate"), s("--yes")];
    pv.extend(nodes.iter().cloned());
    let mut vgc = vec![
        s("vgcreate"),
        s("-s"),
        format!("{}M", vg.extent_bytes / MIB),
        vg.name.clone(),
    ];
    vgc.extend(nodes.iter().cloned());
    Step {
        key: "vg",
        what: what.clone(),
        actions: vec![
            run(format!("creating LVM PVs {}", pv_names.join(" ")), pv),
            run(what, vgc),
        ],
    }
}

fn lv_step(vg: &VolumeGroup, lv: &LogicalVolume) -> Step {
    let dev = lv.device(&vg.name);
    let what = format!(
        "creating LV {dev} ({} extents, {})",
        lv.extents,
        human_binary(lv.size_bytes)
    );
    Step {
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
            Action::WaitFor(dev),
        ],
    }
}

fn esp_steps(d: &PlannedDisk, kname: &str) -> Vec<Step> {
    d.partitions
        .iter()
        .filter_map(|p| match &p.role {
            PartitionRole::Esp { label, .. } => Some((p, label)),
            _ => None,
        })
        .map(|(p, label)| {
            let node = super::partition_dev(kname, p.number);
            let what = format!("making vfat {label} on {}", short(&node));
            Step {
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
                            node,
                        ],
                    ),
                    // No wait for `by-label/<label>`: nothing of the apply uses it
                    // (the mount takes the partition's kernel node, whose udev work
                    // was waited for after partitioning); verify's settle waits for
                    // udev's label links.
                ],
            }
        })
        .collect()
}

fn mkfs_step(vg: &VolumeGroup, lv: &LogicalVolume) -> Step {
    let dev = lv.device(&vg.name);
    let (what, argv) = match &lv.content {
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
            (format!("making ext4 {label} on {dev}"), argv)
        }
        LvContent::Swap { label } => (
            format!("making swap {label} on {dev}"),
            vec![s("mkswap"), s("-L"), label.clone(), dev.clone()],
        ),
    };
    Step {
        key: "mkfs",
        what: what.clone(),
        // Mount and swapon take the LV's path (waited for after lvcreate), not the
        // label's link: udev's probe of the new filesystem goes on beside the next
        // steps, and verify's settle waits for it.
        actions: vec![run(what, argv)],
    }
}

/// `swapon` of every swap LV, after the mounts; none when the plan has no swap.
fn swapon_step(l: &Layout) -> Option<Step> {
    let swaps = swap_devices(l);
    if swaps.is_empty() {
        return None;
    }
    Some(Step {
        key: "swapon",
        what: format!(
            "enabling swap {}",
            swaps
                .iter()
                .map(|(l, _)| l.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        actions: swaps
            .iter()
            .map(|(label, dev)| {
                run(
                    format!("enabling swap {label}"),
                    vec![s("swapon"), dev.clone()],
                )
            })
            .collect(),
    })
}

/// `(label, device)` of every swap LV of `l`, in VG order: the LV's own path, so the
/// apply never waits for (or trusts) udev's label link.
pub fn swap_devices(l: &Layout) -> Vec<(String, String)> {
    l.vgs
        .iter()
        .flat_map(|vg| vg.lvs.iter().map(move |lv| (vg, lv)))
        .filter_map(|(vg, lv)| match &lv.content {
            LvContent::Swap { label } => Some((label.clone(), lv.device(&vg.name))),
            _ => None,
        })
        .collect()
}

/// A filesystem to mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountSpec {
    pub mountpoint: String,
    pub label: String,
    /// The node mount reads: the ESP's kernel node (`/dev/sda1`) or the LV's path
    /// (waited for after lvcreate); never a label's link, which udev makes only after
    /// probing the new filesystem, and which a foreign disk may carry too.
    pub device: String,
    pub fstype: &'static str,
    pub options: Vec<String>,
    pub mode: Option<u32>,
}

/// After verify: each disk's GUID becomes the plan's done marker, so the next boot
/// never takes this finished (by then perhaps installed) layout for a cut apply. The
/// table is rewritten while its partitions are in use; sgdisk then warns that the
/// kernel keeps the old table and exits 0, which is right: only the GUID changed.
pub fn finish_step(plan: &Plan) -> Step {
    mark_done_step(plan, |_| true)
}

/// [`finish_step`] for the planned disks `which` picks (an already-provisioned boot
/// marks only the disks a cut run left saying "in progress").
pub fn mark_done_step(plan: &Plan, which: impl Fn(&PlannedDisk) -> bool) -> Step {
    let done = Markers::for_layout(&plan.layout).done;
    let mut actions: Vec<Action> = plan
        .layout
        .disks
        .iter()
        .filter(|d| which(d))
        .map(|d| {
            run(
                format!("marking {} ({}) finished", d.name, d.stable_path),
                vec![
                    s("sgdisk"),
                    format!("--disk-guid={done}"),
                    d.stable_path.clone(),
                ],
            )
        })
        .collect();
    // sgdisk's write makes udev look at each disk again; let it finish before the
    // status says applied.
    actions.push(Action::Settle);
    Step {
        key: "mark",
        what: "marking the disks finished (GPT disk GUID)".into(),
        actions,
    }
}

/// Every filesystem of the plan with a mount point, `/` first, then in path order
/// (parents before children).
pub fn mounts(plan: &Plan, k: &Knames) -> Vec<MountSpec> {
    let mut m = Vec::new();
    for d in &plan.layout.disks {
        let kname = k.of(&plan.layout, d);
        for p in &d.partitions {
            if let PartitionRole::Esp {
                label,
                mountpoint: Some(mp),
                mount_options,
            } = &p.role
            {
                m.push(MountSpec {
                    mountpoint: mp.clone(),
                    label: label.clone(),
                    device: super::partition_dev(&kname, p.number),
                    fstype: "vfat",
                    options: mount_options.clone(),
                    mode: None,
                });
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
                m.push(MountSpec {
                    mountpoint: mountpoint.clone(),
                    label: label.clone(),
                    device: lv.device(&vg.name),
                    fstype: "ext4",
                    options: mount_options.clone(),
                    mode: *mode,
                });
            }
        }
    }
    m.sort_by(|a, b| {
        (a.mountpoint != "/", &a.mountpoint).cmp(&(b.mountpoint != "/", &b.mountpoint))
    });
    m
}

/// Mounts every filesystem under `/mnt` from its device, making mount points, then the
/// modes the plan asks for (`chmod 1777 /mnt/var/tmp`).
pub fn mount_step(plan: &Plan, k: &Knames) -> Step {
    mount_step_except(plan, k, &[])
}

/// [`mount_step`] without the targets that are already mount points.
pub fn mount_step_except(plan: &Plan, k: &Knames, mounted: &[String]) -> Step {
    let mut actions = Vec::new();
    let list: Vec<MountSpec> = mounts(plan, k)
        .into_iter()
        .filter(|m| !mounted.contains(&target_path(&m.mountpoint)))
        .collect();
    for MountSpec {
        mountpoint,
        label,
        device,
        fstype,
        options: opts,
        mode,
    } in &list
    {
        let target = target_path(mountpoint);
        actions.push(run(
            format!("making the mount point {target}"),
            vec![s("mkdir"), s("-p"), target.clone()],
        ));
        let mut argv = vec![s("mount"), s("-t"), s(fstype)];
        if !opts.is_empty() {
            argv.push(s("-o"));
            argv.push(opts.join(","));
        }
        argv.push(device.clone());
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
