//! Clean-disk detection (SPEC §3.1): is every planned disk empty, and if not, why.
//!
//! A planned disk is clean when libblkid finds no partition table and no signature
//! on it (libblkid also looks at the end of the disk: md 1.0 superblocks, the GPT
//! backup header), it has no partitions and no holders, nothing on it or above it is
//! mounted or used as swap, and — where libblkid found nothing — its first 2 MiB and
//! its last MiB are zeros. That last rule catches what no signature names: a disk
//! full of data with no header, and a filesystem left at the usual 1 MiB start of a
//! first partition after its partition table was zapped (`unknown-data`). Disks are found through their stable path, never
//! the kernel name the plan saw, because letters move between boots. A disk that
//! disappears mid-scan is reported as such (and makes the detection fail), never a
//! crash. Detection only reads: it never opens a disk for writing (that alone makes
//! udev re-examine it and can reassemble a stopped array).

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::host::Host;
use crate::plan::PlannedDisk;
use crate::storage::{blockdev, resume};

/// What detection found on one planned disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiskReport {
    /// The plan's disk key (`main0`).
    pub key: String,
    pub stable_path: String,
    /// Kernel name the stable path resolves to now.
    pub name: Option<String>,
    pub serial: Option<String>,
    /// `partition-table`, `signature:<type>`, `partition:<dev>`, `holder:<dev>`,
    /// `mounted:<path>`, `swap`.
    pub reasons: Vec<String>,
    /// Why this disk could not be examined (it vanished, a read failed).
    pub error: Option<String>,
    /// The GPT's disk GUID (libblkid's `PTUUID`): pre-nixos' apply marker lives there
    /// ([`crate::storage::resume`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ptuuid: Option<String>,
    /// On a disk carrying a pre-nixos in-progress marker only: every name found on it
    /// and on the devices above it (`partlabel:…`, `md:…`, `dm:…`, `fs:<type>:<label>`,
    /// `lvm-pv`, `unreadable:<dev>`), for the resume decision. Empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl DiskReport {
    pub fn clean(&self) -> bool {
        self.error.is_none() && self.reasons.is_empty()
    }

    /// This report as the resume decision reads it.
    pub fn found(&self) -> resume::Found<'_> {
        resume::Found {
            who: self.name.as_deref().unwrap_or(&self.stable_path),
            stable_path: &self.stable_path,
            ptuuid: self.ptuuid.as_deref(),
            reasons: &self.reasons,
            names: &self.names,
        }
    }

    /// `sdb (HDD0001): partition-table, signature:ext4`.
    pub fn describe(&self) -> String {
        let who = format!(
            "{} ({})",
            self.name.as_deref().unwrap_or(&self.stable_path),
            self.serial.as_deref().unwrap_or("no serial")
        );
        match (&self.error, self.reasons.is_empty()) {
            (Some(e), _) => format!("{who}: detection failed: {e}"),
            (None, true) => format!("{who}: clean"),
            (None, false) => format!("{who}: {}", self.reasons.join(", ")),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Detection {
    pub disks: Vec<DiskReport>,
}

impl Detection {
    pub fn failed(&self) -> bool {
        self.disks.iter().any(|d| d.error.is_some())
    }

    pub fn all_clean(&self) -> bool {
        self.disks.iter().all(DiskReport::clean)
    }

    /// Disks that hold something (and were examined).
    pub fn dirty(&self) -> Vec<&DiskReport> {
        self.disks
            .iter()
            .filter(|d| d.error.is_none() && !d.reasons.is_empty())
            .collect()
    }

    /// One line for the status file: `sdb: partition-table; sdc: holder:md127`.
    pub fn summary(&self) -> String {
        self.disks
            .iter()
            .filter(|d| !d.clean())
            .map(DiskReport::describe)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Examines every planned disk. Errors only when the machine's tables cannot be
/// read at all; a problem with one disk lands in its report.
pub fn detect(host: &dyn Host, disks: &[PlannedDisk]) -> anyhow::Result<Detection> {
    let mounts = blockdev::read_mountinfo(host)?;
    let swaps = blockdev::read_swaps(host)?;
    let mut out = Detection::default();
    for d in disks {
        let mut report = DiskReport {
            key: d.key.clone(),
            stable_path: d.stable_path.clone(),
            name: None,
            serial: d.serial.clone(),
            reasons: Vec::new(),
            error: None,
            ptuuid: None,
            names: Vec::new(),
        };
        match examine(host, d, &mounts, &swaps) {
            Ok(found) => {
                report.name = Some(found.kname);
                report.reasons = found.reasons;
                report.ptuuid = found.ptuuid;
                report.names = found.names;
            }
            Err(e) => report.error = Some(format!("{e:#}")),
        }
        tracing::info!(
            device = %d.stable_path,
            kname = report.name.as_deref().unwrap_or(""),
            clean = report.clean(),
            reasons = %report.reasons.join(","),
            error = report.error.as_deref().unwrap_or(""),
            "detected"
        );
        out.disks.push(report);
    }
    Ok(out)
}

/// The start examined for data without a signature: the first MiB (tables, boot code)
/// and the next one, where a first partition starts on a 1 MiB-aligned disk.
pub const EDGE_HEAD: usize = 2 << 20;
/// The end examined: backup tables and superblocks that live at the end (md 0.90/1.0).
pub const EDGE_TAIL: usize = 1 << 20;

fn vanished(d: &PlannedDisk) -> anyhow::Error {
    anyhow::anyhow!(
        "{} vanished: the disk is gone (unplugged, failed, or renamed by the kernel)",
        d.stable_path
    )
}

/// What [`examine`] found on one disk.
struct Examined {
    kname: String,
    reasons: Vec<String>,
    ptuuid: Option<String>,
    names: Vec<String>,
}

fn examine(
    host: &dyn Host,
    d: &PlannedDisk,
    mounts: &[blockdev::MountEntry],
    swaps: &[String],
) -> anyhow::Result<Examined> {
    let kname = blockdev::resolve_kname(host, &d.stable_path)
        .with_context(|| format!("resolving {}", d.stable_path))?
        .ok_or_else(|| vanished(d))?;
    let dev = format!("/dev/{kname}");
    let probe = match host.blkid_probe(Path::new(&dev)) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(vanished(d)),
        Err(e) => return Err(e).with_context(|| format!("probing {dev} with libblkid")),
    };
    let mut reasons = content_reasons(host, Path::new(&dev), &probe)?;

    let sys = blockdev::sys_dir(host, &kname).ok_or_else(|| vanished(d))?;
    let entries = match host.read_dir_names(&sys) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(vanished(d)),
        Err(e) => return Err(e).with_context(|| format!("reading {}", sys.display())),
    };
    // Every device on or above this disk: itself, its partitions, their holders.
    let mut stack: BTreeSet<String> = BTreeSet::from([kname.clone()]);
    let mut sys_dirs = vec![sys.clone()];
    for e in &entries {
        if e.starts_with(&kname) && host.exists(&sys.join(e).join("partition")) {
            reasons.push(format!("partition:{e}"));
            stack.insert(e.clone());
            sys_dirs.push(sys.join(e));
        }
    }
    let mut holders = BTreeSet::new();
    let mut queue: Vec<std::path::PathBuf> = sys_dirs.clone();
    while let Some(dir) = queue.pop() {
        for h in holders_in(host, &dir)? {
            if holders.insert(h.clone()) {
                stack.insert(h.clone());
                queue.extend(blockdev::sys_dir(host, &h));
            }
        }
    }
    // Holders of the disk itself and of its partitions are the ones to report.
    for dir in &sys_dirs {
        for h in holders_in(host, dir)? {
            let r = format!("holder:{h}");
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        }
    }

    let mut numbers = BTreeSet::new();
    for name in &stack {
        let dirs = [blockdev::sys_dir(host, name), Some(sys.join(name))];
        for dir in dirs.into_iter().flatten() {
            if let Ok(n) = host.read_attr(&dir.join("dev")) {
                numbers.insert(n);
                break;
            }
        }
    }
    for m in mounts {
        let by_source = m
            .source
            .strip_prefix("/dev/")
            .is_some_and(|s| stack.contains(s));
        if numbers.contains(&m.maj_min()) || by_source {
            reasons.push(format!("mounted:{}", m.mount_point));
        }
    }
    for s in swaps {
        let base = s.rsplit('/').next().unwrap_or(s);
        let resolved = blockdev::resolve_kname(host, s).ok().flatten();
        if stack.contains(base) || resolved.is_some_and(|r| stack.contains(&r)) {
            reasons.push("swap".to_owned());
            break;
        }
    }
    let ptuuid = probe
        .partition_table
        .as_ref()
        .and_then(|_| probe.values.get("PTUUID").cloned());
    // Names are read only where a cut pre-nixos apply may be resumed: the other disks
    // are refused (or wiped) whatever they hold, and are not probed any further.
    let names = if ptuuid.as_deref().is_some_and(resume::is_in_progress_marker) {
        let parts: Vec<String> = stack
            .iter()
            .filter(|n| *n != &kname && !holders.contains(*n))
            .cloned()
            .collect();
        names_on(host, &sys, &probe, &parts, &holders)
    } else {
        Vec::new()
    };
    Ok(Examined {
        kname,
        reasons,
        ptuuid,
        names,
    })
}

/// Every name on a disk and above it: the whole disk's own signatures, each partition's
/// partlabel (sysfs `uevent`, `PARTNAME`) and content, each holder's device-mapper name
/// and content. A device that cannot be read yields `unreadable:<dev>`, which no plan
/// makes, so doubt refuses the resume.
fn names_on(
    host: &dyn Host,
    sys: &Path,
    probe: &crate::host::BlkidProbe,
    parts: &[String],
    holders: &BTreeSet<String>,
) -> Vec<String> {
    let mut names: Vec<String> = probe
        .signatures
        .iter()
        .map(|s| format!("signature:{s}"))
        .collect();
    for p in parts {
        let uevent = host
            .read_to_string(&sys.join(p).join("uevent"))
            .map(|t| crate::host::parse_key_values(&t));
        match uevent {
            Ok(kv) => names.push(resume::partlabel_name(
                kv.get("PARTNAME").map(String::as_str).unwrap_or(""),
            )),
            Err(_) => names.push(resume::unreadable_name(p)),
        }
        content_names(host, p, &mut names);
    }
    for h in holders {
        if h.starts_with("dm-") {
            let dir = blockdev::sys_dir(host, h).unwrap_or_else(|| sys.join(h));
            match host.read_attr(&dir.join("dm/name")) {
                Ok(n) => names.push(resume::dm_name(&n)),
                Err(_) => names.push(resume::unreadable_name(h)),
            }
        }
        content_names(host, h, &mut names);
    }
    names.sort();
    names.dedup();
    names
}

/// The signatures on `/dev/<dev>` as names: md members by array name, PVs, and
/// filesystems with their labels.
fn content_names(host: &dyn Host, dev: &str, names: &mut Vec<String>) {
    let probe = match host.blkid_probe(&Path::new("/dev").join(dev)) {
        Ok(p) => p,
        Err(_) => {
            names.push(resume::unreadable_name(dev));
            return;
        }
    };
    let label = probe.values.get("LABEL").map(String::as_str).unwrap_or("");
    for s in &probe.signatures {
        names.push(match s.as_str() {
            "linux_raid_member" => resume::md_name(label),
            "LVM2_member" => resume::LVM_PV.to_owned(),
            other => resume::fs_name(other, label),
        });
    }
    if probe.partition_table.is_some() {
        // A partition table inside a partition or an array: never ours.
        names.push(format!("partition-table:{dev}"));
    }
}

/// The names in `<dir>/holders`. A device without the directory has no holders; one
/// whose directory cannot be read may have any, so that is a detection error for the
/// disk, never "nothing above it".
fn holders_in(host: &dyn Host, dir: &Path) -> anyhow::Result<Vec<String>> {
    let path = dir.join("holders");
    match host.read_dir_names(&path) {
        Ok(names) => Ok(names),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// What is written on the device itself: its partition table, the signatures libblkid
/// found (`probe`), and, when it found neither, data that no signature names.
pub fn content_reasons(
    host: &dyn Host,
    dev: &Path,
    probe: &crate::host::BlkidProbe,
) -> anyhow::Result<Vec<String>> {
    let mut reasons = Vec::new();
    if probe.partition_table.is_some() {
        reasons.push("partition-table".to_owned());
    }
    for s in &probe.signatures {
        reasons.push(format!("signature:{s}"));
    }
    if reasons.is_empty() {
        let (head, tail) = host
            .read_edges(dev, EDGE_HEAD, EDGE_TAIL)
            .with_context(|| format!("reading the first and last MiB of {}", dev.display()))?;
        if head.iter().chain(&tail).any(|&b| b != 0) {
            reasons.push("unknown-data".to_owned());
        }
    }
    Ok(reasons)
}

/// `detect-storage --json`: every disk with `clean` and its reasons.
pub fn json_report(d: &Detection) -> serde_json::Value {
    serde_json::json!({
        "clean": d.all_clean() && !d.failed(),
        "failed": d.failed(),
        "disks": d.disks.iter().map(|r| {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            v["clean"] = serde_json::Value::Bool(r.clean());
            v
        }).collect::<Vec<_>>(),
    })
}

/// The predecessor-compatible exit status of `detect-storage`.
pub fn exit_code(d: &Detection) -> u8 {
    if d.failed() {
        2
    } else if d.all_clean() {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use crate::testkit::{self, Machine};

    #[test]
    fn blank_disks_are_clean() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert!(d.all_clean(), "{d:?}");
        assert_eq!(exit_code(&d), 1);
        assert_eq!(d.disks[1].name.as_deref(), Some("sdb"));
        // Detection reads sysfs, /proc and libblkid only: no command that could hang.
        assert_eq!(host.command_lines(), Vec::<String>::new());
    }

    #[test]
    fn data_without_a_signature_at_either_end_is_unknown_data() {
        let mib = 1usize << 20;
        // (bytes of /dev/sdb, clean?): zeros; a byte just past 1 MiB (a filesystem's
        // superblock behind a zapped table); a byte in the last MiB; a byte between
        // the two ranges, which no rule reads.
        let mut at_1mib = vec![0u8; 8 * mib];
        at_1mib[mib + 1024] = 0x53;
        let mut at_end = vec![0u8; 8 * mib];
        at_end[8 * mib - 10] = 1;
        let mut middle = vec![0u8; 8 * mib];
        middle[4 * mib] = 1;
        for (bytes, clean) in [
            (vec![0u8; 8 * mib], true),
            (at_1mib, false),
            (at_end, false),
            (middle, true),
        ] {
            let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
            std::fs::write(m.path("/dev/sdb"), &bytes).unwrap();
            let d = detect(&FakeHost::new(m.root()), &plan.layout.disks).unwrap();
            assert_eq!(d.disks[1].clean(), clean, "{d:?}");
            if !clean {
                assert_eq!(d.disks[1].reasons, ["unknown-data"]);
            }
        }
    }

    #[test]
    fn an_unreadable_holders_directory_is_a_detection_error_not_clean() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        // A file where the directory should be: reading it fails with ENOTDIR.
        m.write("/sys/block/sdb/holders", "");
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert!(d.failed(), "{d:?}");
        let e = d.disks[1].error.as_deref().unwrap_or_default();
        assert!(e.contains("/sys/block/sdb/holders"), "{e}");
        assert_eq!(exit_code(&d), 2);
    }

    #[test]
    fn each_kind_of_residue_is_a_reason() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        // sda: GPT with an ext4 partition mounted somewhere.
        m.write("/run/pre-nixos-fixture/blkid/sda", "PTTYPE=gpt\nPTUUID=x\n");
        m.write("/sys/block/sda/sda1/partition", "1\n");
        m.write("/sys/block/sda/sda1/dev", "8:1\n");
        m.write(
            "/proc/self/mountinfo",
            "25 1 254:0 / / rw - ext4 /dev/vda rw\n90 25 8:1 / /srv\\040old rw - ext4 /dev/sda1 rw\n",
        );
        // sdb: md 1.0 superblock at the end of the disk, held by md127 → dm-0 in swap.
        m.write(
            "/run/pre-nixos-fixture/blkid/sdb",
            "TYPE=linux_raid_member\nVERSION=1.0\n",
        );
        m.write("/sys/block/sdb/holders/md127", "");
        m.write("/sys/block/md127/dev", "9:127\n");
        m.write("/sys/block/md127/holders/dm-0", "");
        m.write("/sys/block/dm-0/dev", "253:0\n");
        m.write(
            "/proc/swaps",
            "Filename\tType\tSize\tUsed\tPriority\n/dev/dm-0  partition\t1048572\t0\t-2\n",
        );
        // sdc: only the GPT backup header is left at the end.
        m.write("/run/pre-nixos-fixture/blkid/sdc", "PTTYPE=gpt\n");
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert_eq!(
            d.disks[0].reasons,
            ["partition-table", "partition:sda1", "mounted:/srv old"]
        );
        assert_eq!(
            d.disks[1].reasons,
            ["signature:linux_raid_member", "holder:md127", "swap"]
        );
        assert_eq!(d.disks[2].reasons, ["partition-table"]);
        assert_eq!(exit_code(&d), 0);
        assert!(d
            .summary()
            .contains("sdb (HDDA): signature:linux_raid_member"));
    }

    #[test]
    fn a_vanished_disk_is_reported_not_a_crash() {
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        m.remove(&plan.layout.disks[2].stable_path);
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert!(d.failed());
        assert_eq!(exit_code(&d), 2);
        let e = d.disks[2].error.as_deref().unwrap();
        assert!(e.contains("vanished"), "{e}");
        // The link still there but the device gone from sysfs mid-scan.
        let (m, plan) = Machine::with_plan(testkit::ssd_and_hdd_pair());
        m.remove("/sys/block/sdb");
        m.remove("/dev/sdb");
        let host = FakeHost::new(m.root());
        let d = detect(&host, &plan.layout.disks).unwrap();
        assert!(d.disks[1].error.as_deref().unwrap().contains("vanished"));
        assert!(d.disks[0].clean());
    }
}
