//! Leaves-first teardown of everything on the disks a wipe switch names (SPEC §3.3).
//!
//! The device graph is read whole (lsblk JSON, LVM JSON reports, `/proc/mdstat`,
//! `/proc/swaps`), never disk by disk: an array or VG that also lives on a disk the
//! switch does not name is refused before the first command, because tearing it
//! down would touch that disk. [`plan_teardown`] (pure) orders the commands: unmount
//! (deepest first) and swapoff; per VG `vgchange -an`, `lvremove`, `vgremove`, then
//! `pvremove` of its PVs; per md array `wipefs -a` of its contents (so an identical
//! re-create cannot resurrect an old PV or filesystem), `mdadm --stop`, and at once
//! `mdadm --zero-superblock` of its members (so udev's incremental assembly has
//! nothing to assemble); `wipefs -a` on partitions, then the disk; `sgdisk --zap-all`
//! (exit 2 accepted: it does its job on damaged tables and still says 2); zeros over
//! the ranges where detection looks for `unknown-data`; re-read the table; `udevadm
//! settle`. While a pass runs, each disk is held locked
//! ([`DiskLocks`]) so udev defers its events until the superblocks are gone. Then
//! [`teardown`] reads the graph again: anything still
//! there (udev may reassemble an array behind our back) gets one more pass, after
//! which the teardown fails naming what survived.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context};

use crate::host::{Cmd, Host};
use crate::kcmdline::WipeMethod;
use crate::plan::PlannedDisk;
use crate::storage::blockdev::{self, LsblkNode, LvmState, MdstatArray};
use crate::storage::env::{check_tools, DiskLocks, Env};

/// Needed whatever the graph holds; mdadm and LVM are checked when the graph has them.
pub const REQUIRED_TOOLS: &[&str] = &["lsblk", "wipefs", "sgdisk", "dd", "blockdev", "udevadm"];

/// How long `blkdiscard` of a whole device may take: a discard is a handful of
/// commands to the drive, over in seconds even on large SSDs; a drive that takes
/// longer is not discarding, it is zeroing by hand.
pub const DISCARD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The slowest sustained write an overwrite is sized for (an old 5400 rpm disk or a
/// virtual disk on a busy host), in bytes per second.
pub const OVERWRITE_MIN_RATE: u64 = 20_000_000;

/// What a disk of today writes sustained (a recent HDD's outer tracks, a SATA SSD
/// after its cache), for the estimate shown before an overwrite starts.
pub const OVERWRITE_TYPICAL_RATE: u64 = 150_000_000;

/// How long an overwrite of `size` bytes may take: the whole device at
/// [`OVERWRITE_MIN_RATE`], plus a minute for the start and the final flush.
pub fn overwrite_timeout(size: u64) -> Duration {
    Duration::from_secs(60 + size / OVERWRITE_MIN_RATE)
}

/// The cleanup method for each disk a wipe names: one default, and the disks (by
/// stable path) an operator gave another one (the TUI marks disk by disk).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WipeMethods {
    pub default: WipeMethod,
    pub per_disk: BTreeMap<String, WipeMethod>,
}

impl WipeMethods {
    pub fn all(m: WipeMethod) -> Self {
        WipeMethods {
            default: m,
            per_disk: BTreeMap::new(),
        }
    }

    pub fn for_disk(&self, stable_path: &str) -> WipeMethod {
        self.per_disk
            .get(stable_path)
            .copied()
            .unwrap_or(self.default)
    }

    /// The tools the methods of `disks` need beyond [`REQUIRED_TOOLS`].
    pub fn tools(&self, disks: &[PlannedDisk]) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = disks
            .iter()
            .filter_map(|d| match self.for_disk(&d.stable_path) {
                WipeMethod::Signatures => None,
                WipeMethod::Discard => Some("blkdiscard"),
                WipeMethod::Overwrite => Some("shred"),
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Refuses `discard` on a device whose queue says it cannot (`discard_max_bytes` 0, or
/// no such attribute): `blkdiscard` would fail after the teardown already ran, with a
/// message that does not say why.
pub fn check_discard(host: &dyn Host, stable_path: &str, kname: &str) -> anyhow::Result<()> {
    let attr = format!("/sys/block/{kname}/queue/discard_max_bytes");
    let max = host.read_attr(Path::new(&attr)).ok();
    match max.as_deref().map(str::parse::<u64>) {
        Some(Ok(n)) if n > 0 => Ok(()),
        _ => Err(anyhow!(
            "discarding /dev/{kname} ({stable_path}): the device does not support discard \
             ({attr} is {}); nothing was touched. Choose the wipe method signatures or \
             overwrite for this disk",
            max.as_deref().unwrap_or("missing")
        )),
    }
}

/// The command that cleans the whole of `dev` (`size` bytes) after its teardown, for the
/// methods that do more than the teardown's signature wipe.
pub fn method_command(method: WipeMethod, dev: &str, size: u64) -> Option<Cmd> {
    match method {
        WipeMethod::Signatures => None,
        WipeMethod::Discard => Some(
            // -f: blkdiscard refuses a device with signatures left on it; the teardown
            // wiped those it knows, a leftover it does not know is no reason to stop.
            cmd(
                format!("discarding every block of {dev}"),
                &["blkdiscard", "-f", dev],
            )
            .timeout(DISCARD_TIMEOUT),
        ),
        WipeMethod::Overwrite => {
            let t = overwrite_timeout(size);
            Some(
                // shred sizes a block device itself and writes exactly to its end; -v
                // prints its progress, which the streamed command passes on.
                cmd(
                    format!(
                        "overwriting {dev} with random data ({}: about {} min at {} MB/s, \
                         at most {} min)",
                        crate::units::human_bytes(size),
                        (size / OVERWRITE_TYPICAL_RATE).div_ceil(60).max(1),
                        OVERWRITE_TYPICAL_RATE / 1_000_000,
                        t.as_secs().div_ceil(60)
                    ),
                    &["shred", "-v", "-n", "1", dev],
                )
                .timeout(t)
                .stream(),
            )
        }
    }
}

/// The device graph around the target disks.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub lsblk: Vec<LsblkNode>,
    pub lvm: LvmState,
    pub mdstat: Vec<MdstatArray>,
    /// Active swap areas (`/dev/dm-2`).
    pub swaps: Vec<String>,
}

pub fn read_graph(host: &dyn Host) -> anyhow::Result<Graph> {
    Ok(Graph {
        lsblk: blockdev::read_lsblk(host)?,
        lvm: blockdev::read_lvm(host)?.unwrap_or_default(),
        mdstat: blockdev::read_mdstat(host)?,
        swaps: blockdev::read_swaps(host)?,
    })
}

fn cmd(what: String, argv: &[&str]) -> Cmd {
    Cmd::new(what, argv.iter().copied())
}

/// Every node on or above the target disks (kernel names), and the nodes by name.
fn subtree<'a>(g: &'a Graph, disks: &[String]) -> Vec<&'a LsblkNode> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for d in g.lsblk.iter().filter(|n| disks.contains(&n.kname)) {
        for n in d.walk() {
            if seen.insert(n.kname.clone()) {
                out.push(n);
            }
        }
    }
    out
}

/// The disk (top-level kname) each node hangs under, for every occurrence.
fn parents_of(g: &Graph, kname: &str) -> BTreeSet<String> {
    g.lsblk
        .iter()
        .filter(|d| d.walk().iter().any(|n| n.kname == kname))
        .map(|d| d.kname.clone())
        .collect()
}

/// Orders the teardown of everything on `disks` (kernel names). Errors, before any
/// command, when a stack also lives on a disk that is not named.
pub fn plan_teardown(g: &Graph, disks: &[String]) -> Result<Vec<Cmd>, String> {
    let stack = Stack::on(g, disks)?;
    let mut out = Vec::new();
    unmount(g, &stack, &mut out);
    remove_lvm(g, &stack, &mut out);
    stop_arrays(&stack, &mut out);
    wipe_disks(g, disks, &mut out);
    rescan(disks, &mut out);
    Ok(out)
}

/// What sits on the named disks: the device subtree, and the VGs and md arrays it
/// holds (with their members).
struct Stack<'a> {
    sub: Vec<&'a LsblkNode>,
    names: BTreeSet<&'a str>,
    vgs: Vec<String>,
    arrays: Vec<(String, Vec<String>)>,
}

impl<'a> Stack<'a> {
    /// The stack on `disks`, or a refusal naming every part of it that also reaches a
    /// disk that is not named.
    fn on(g: &'a Graph, disks: &[String]) -> Result<Stack<'a>, String> {
        let sub = subtree(g, disks);
        let names: BTreeSet<&str> = sub.iter().map(|n| n.kname.as_str()).collect();
        let in_sub = |dev: &str| names.contains(dev.trim_start_matches("/dev/"));
        // Refuse stacks that reach a disk that is not named.
        let mut foreign = Vec::new();
        for n in &sub {
            for p in parents_of(g, &n.kname) {
                if !disks.contains(&p) {
                    foreign.push(format!("{} (also on {p})", n.kname));
                }
            }
        }
        let mut vgs: Vec<String> = Vec::new();
        for pv in g.lvm.pvs.iter().filter(|p| in_sub(&p.name)) {
            if let Some(vg) = &pv.vg {
                if !vgs.contains(vg) {
                    vgs.push(vg.clone());
                }
            }
        }
        for vg in &vgs {
            for pv in g.lvm.pvs.iter().filter(|p| p.vg.as_deref() == Some(vg)) {
                if !in_sub(&pv.name) {
                    foreign.push(format!("VG {vg} (also on {})", pv.name));
                }
            }
        }
        let mut arrays: Vec<(String, Vec<String>)> = Vec::new();
        for n in sub.iter().filter(|n| n.is_md()) {
            arrays.push((n.kname.clone(), Vec::new()));
        }
        for a in &g.mdstat {
            if a.members.iter().any(|m| in_sub(m)) || names.contains(a.name.as_str()) {
                for m in &a.members {
                    if !in_sub(m) {
                        foreign.push(format!("md array {} (also on {m})", a.name));
                    }
                }
                match arrays.iter_mut().find(|(k, _)| k == &a.name) {
                    Some((_, members)) => members.clone_from(&a.members),
                    None => arrays.push((a.name.clone(), a.members.clone())),
                }
            }
        }
        if !foreign.is_empty() {
            foreign.sort();
            foreign.dedup();
            return Err(format!(
                "refusing to tear down: {} spans a disk the wipe switch does not name; name that \
                 disk too (or pre-nixos.wipe=all), or take it apart by hand",
                foreign.join(", ")
            ));
        }
        Ok(Stack {
            sub,
            names,
            vgs,
            arrays,
        })
    }

    fn holds(&self, dev: &str) -> bool {
        self.names.contains(dev.trim_start_matches("/dev/"))
    }
}

/// Step 1: unmount, deepest first; swapoff.
fn unmount(g: &Graph, stack: &Stack, out: &mut Vec<Cmd>) {
    let (sub, names) = (&stack.sub, &stack.names);
    let mut mps: Vec<&str> = sub
        .iter()
        .flat_map(|n| n.mountpoints.iter().map(String::as_str))
        .filter(|m| m.starts_with('/'))
        .collect();
    mps.sort_by_key(|m| std::cmp::Reverse((m.matches('/').count(), m.len(), *m)));
    mps.dedup();
    for m in mps {
        out.push(cmd(format!("unmounting {m}"), &["umount", m]));
    }
    for s in &g.swaps {
        let base = s.rsplit('/').next().unwrap_or(s);
        if names.contains(base) {
            out.push(cmd(format!("disabling swap {s}"), &["swapoff", s]));
        }
    }
}

/// Step 2: LVM, VG by VG, then the PV labels.
fn remove_lvm(g: &Graph, stack: &Stack, out: &mut Vec<Cmd>) {
    let mut vgs = stack.vgs.clone();
    vgs.sort();
    for vg in &vgs {
        out.push(cmd(
            format!("deactivating VG {vg}"),
            &["vgchange", "-an", vg],
        ));
        out.push(cmd(
            format!("removing the LVs of VG {vg}"),
            &["lvremove", "-ff", "-y", vg],
        ));
        out.push(cmd(
            format!("removing VG {vg}"),
            &["vgremove", "-ff", "-y", vg],
        ));
    }
    let mut pvs: Vec<&str> = g
        .lvm
        .pvs
        .iter()
        .filter(|p| stack.holds(&p.name))
        .map(|p| p.name.as_str())
        .collect();
    pvs.sort();
    for pv in pvs {
        out.push(cmd(
            format!("removing the LVM label of {pv}"),
            &["pvremove", "-ff", "-y", pv],
        ));
    }
}

/// Step 3: md arrays: wipe contents, stop, zero members at once; then members of arrays
/// that are not running.
fn stop_arrays(stack: &Stack, out: &mut Vec<Cmd>) {
    let sub = &stack.sub;
    let mut arrays = stack.arrays.clone();
    arrays.sort();
    let mut zeroed = BTreeSet::new();
    for (md, members) in &arrays {
        let dev = format!("/dev/{md}");
        let mut members: Vec<String> = if members.is_empty() {
            sub.iter()
                .filter(|n| n.children.iter().any(|c| &c.kname == md))
                .map(|n| n.kname.clone())
                .collect()
        } else {
            members.clone()
        };
        members.sort();
        members.dedup();
        out.push(cmd(
            format!("wiping signatures inside {dev}"),
            &["wipefs", "-a", &dev],
        ));
        out.push(cmd(format!("stopping {dev}"), &["mdadm", "--stop", &dev]));
        for m in &members {
            let mdev = format!("/dev/{m}");
            out.push(cmd(
                format!("zeroing the md superblock of {mdev}"),
                &["mdadm", "--zero-superblock", &mdev],
            ));
            zeroed.insert(m.clone());
        }
    }
    // Members of arrays that are not running.
    for n in sub.iter() {
        if n.fstype.as_deref() == Some("linux_raid_member") && !zeroed.contains(&n.kname) {
            let mdev = n.dev();
            out.push(cmd(
                format!("zeroing the md superblock of {mdev}"),
                &["mdadm", "--zero-superblock", &mdev],
            ));
        }
    }
}

/// Step 4: signatures, partition tables, and a re-read of each named disk.
fn wipe_disks(g: &Graph, disks: &[String], out: &mut Vec<Cmd>) {
    for d in disks {
        let Some(disk) = g.lsblk.iter().find(|n| &n.kname == d) else {
            continue;
        };
        for p in disk.children.iter().filter(|c| c.kind == "part") {
            let pdev = p.dev();
            out.push(cmd(
                format!("wiping signatures on {pdev}"),
                &["wipefs", "-a", &pdev],
            ));
        }
        let dev = disk.dev();
        out.push(cmd(
            format!("wiping signatures on {dev}"),
            &["wipefs", "-a", &dev],
        ));
        out.push(
            cmd(
                format!("zapping the GPT of {dev} (primary and backup)"),
                &["sgdisk", "--zap-all", &dev],
            )
            .ok_codes(&[0, 2]),
        );
        zero_edges(&dev, disk.size, out);
        out.push(cmd(
            format!("re-reading the partition table of {dev}"),
            &["blockdev", "--rereadpt", &dev],
        ));
    }
}

/// Zeros the ranges detection reads for data without a signature (`unknown-data`):
/// `wipefs` erases magic bytes only, so without this a disk wiped on request would be
/// refused as holding data on the next run. `size` is the disk's size in bytes.
fn zero_edges(dev: &str, size: u64, out: &mut Vec<Cmd>) {
    use crate::storage::detect::{EDGE_HEAD, EDGE_TAIL};
    const SECTOR: usize = 512;
    let of = format!("of={dev}");
    let head = format!("count={}", EDGE_HEAD / SECTOR);
    out.push(cmd(
        format!("zeroing the first {} MiB of {dev}", EDGE_HEAD >> 20),
        &[
            "dd",
            "if=/dev/zero",
            &of,
            "bs=512",
            &head,
            "conv=fsync,notrunc",
            "status=none",
        ],
    ));
    let tail = (EDGE_TAIL / SECTOR) as u64;
    let sectors = size / SECTOR as u64;
    // A disk too small to have a tail apart from its head is already zeroed.
    if sectors > tail + (EDGE_HEAD / SECTOR) as u64 {
        let seek = format!("seek={}", sectors - tail);
        let count = format!("count={tail}");
        out.push(cmd(
            format!("zeroing the last {} MiB of {dev}", EDGE_TAIL >> 20),
            &[
                "dd",
                "if=/dev/zero",
                &of,
                "bs=512",
                &seek,
                &count,
                "conv=fsync,notrunc",
                "status=none",
            ],
        ));
    }
}

/// udev may have skipped events while the disks were locked: have it look again at the
/// now empty disks, then wait for it.
fn rescan(disks: &[String], out: &mut Vec<Cmd>) {
    let mut trigger = vec![
        "udevadm".to_owned(),
        "trigger".to_owned(),
        "--action=change".to_owned(),
    ];
    trigger.extend(disks.iter().map(|d| format!("/dev/{d}")));
    out.push(Cmd::new("asking udev to re-read the disks", trigger));
    out.push(Cmd::udev_settle(
        "waiting for udev to settle",
        crate::storage::env::SETTLE_TIMEOUT,
    ));
}

/// What is still on the disks after a pass (empty: torn down).
pub fn residue(host: &dyn Host, g: &Graph, disks: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let sub = subtree(g, disks);
    for n in &sub {
        if !disks.contains(&n.kname) {
            out.push(format!("{} ({})", n.kname, n.kind));
        }
    }
    let names: BTreeSet<&str> = sub.iter().map(|n| n.kname.as_str()).collect();
    for a in &g.mdstat {
        if a.members.iter().any(|m| names.contains(m.as_str()))
            && !out.iter().any(|o| o.starts_with(&a.name))
        {
            out.push(format!("{} (md array, {})", a.name, a.state));
        }
    }
    for pv in &g.lvm.pvs {
        if names.contains(pv.name.trim_start_matches("/dev/")) {
            out.push(format!("LVM PV {}", pv.name));
        }
    }
    for d in disks {
        if let Ok(p) = host.blkid_probe(&Path::new("/dev").join(d)) {
            if let Some(t) = p.partition_table {
                out.push(format!("{d}: {t} partition table"));
            }
            for s in p.signatures {
                out.push(format!("{d}: {s} signature"));
            }
        }
    }
    out
}

fn run_pass(env: &Env, cmds: &[Cmd]) {
    for c in cmds {
        // Best effort within a pass: the re-check after it decides, and names what
        // survived; one failed umount must not leave the rest undone.
        if let Err(e) = env.host.run(c) {
            tracing::warn!(command = %c.display(), error = %e, "teardown command failed");
        }
    }
}

/// Tears down everything on `disks`, then cleans each by its method. Only these disks
/// are touched.
pub fn teardown(env: &Env, disks: &[PlannedDisk], methods: &WipeMethods) -> anyhow::Result<()> {
    let mut knames = Vec::new();
    for d in disks {
        let k = blockdev::resolve_kname(env.host, &d.stable_path)
            .with_context(|| format!("resolving {}", d.stable_path))?
            .ok_or_else(|| anyhow!("tearing down {}: the disk is not present", d.stable_path))?;
        if methods.for_disk(&d.stable_path) == WipeMethod::Discard {
            check_discard(env.host, &d.stable_path, &k)?;
        }
        knames.push(k);
    }
    tear_down_stacks(env, &knames)?;
    for (d, k) in disks.iter().zip(&knames) {
        let dev = format!("/dev/{k}");
        if let Some(c) = method_command(methods.for_disk(&d.stable_path), &dev, d.size_bytes) {
            env.host
                .run(&c)
                .with_context(|| format!("{} ({})", c.what, d.stable_path))?;
        }
    }
    Ok(())
}

/// The leaves-first passes over the disks `knames`, until nothing is left.
fn tear_down_stacks(env: &Env, knames: &[String]) -> anyhow::Result<()> {
    let knames = knames.to_vec();
    for pass in 1..=2 {
        let g = read_graph(env.host).context("reading the device graph")?;
        let cmds = plan_teardown(&g, &knames).map_err(|e| anyhow!(e))?;
        let mut tools: Vec<&str> = cmds.iter().map(Cmd::program).collect();
        tools.sort();
        tools.dedup();
        check_tools(env, &tools)?;
        tracing::info!(pass, commands = cmds.len(), disks = %knames.join(" "), "tearing down");
        // The final trigger and settle run after the locks are gone, so udev
        // catches up.
        let (body, settle) = cmds.split_at(cmds.len().saturating_sub(2));
        let locks = DiskLocks::take(env.host, &knames);
        run_pass(env, body);
        if let Err(e) = locks.close() {
            tracing::warn!(error = %e, "releasing the disk locks");
        }
        run_pass(env, settle);
        if !env.host.changes_are_real() {
            // A dry run recorded the pass; the disks still hold everything.
            return Ok(());
        }
        let after = read_graph(env.host).context("reading the device graph again")?;
        let left = residue(env.host, &after, &knames);
        if left.is_empty() {
            return Ok(());
        }
        tracing::warn!(pass, left = %left.join(", "), "still present after teardown");
        if pass == 2 {
            return Err(anyhow!(
                "tearing down {}: still present after two passes: {}. Something reassembles it \
                 (udev incremental md assembly, LVM autoactivation); stop it by hand and retry",
                knames.join(" "),
                left.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
