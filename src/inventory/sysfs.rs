//! Block devices as sysfs shows them under `/sys/class/block`: whole disks, their
//! partitions (subdirectories holding a `partition` file), device numbers, holders and
//! slaves, and attribute reads that tell "absent" from "the kernel refused" (EINVAL,
//! ENODEV, ENXIO), so one odd attribute never stops a scan.
//!
//! Partitions are found under their disk (`/sys/class/block/sda/sda1`), which works
//! the same on a live sysfs and on a fixture tree that has no top-level partition
//! entries.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::host::Host;

pub const CLASS_BLOCK: &str = "/sys/class/block";

/// What reading one attribute gave.
#[derive(Debug)]
pub enum Attr {
    Value(String),
    /// The attribute does not exist (ENOENT).
    Absent,
    /// The attribute exists but its read failed (EINVAL on a down link, ENODEV, ENXIO…).
    Unreadable(io::Error),
}

impl Attr {
    pub fn value(self) -> Option<String> {
        match self {
            Attr::Value(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
            _ => None,
        }
    }
}

/// The errno name of an error for reasons and logs (`EINVAL`), or its text.
pub fn errno_name(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EINVAL) => "EINVAL".into(),
        Some(libc::ENODEV) => "ENODEV".into(),
        Some(libc::ENXIO) => "ENXIO".into(),
        Some(libc::EIO) => "EIO".into(),
        Some(libc::EACCES) => "EACCES".into(),
        Some(libc::ENOENT) => "ENOENT".into(),
        _ => e.to_string(),
    }
}

/// Every block device of the machine, by kernel name.
#[derive(Debug, Default)]
pub struct BlockTree {
    /// Whole disks (no `partition` file), sorted.
    pub disks: Vec<String>,
    /// Partition → its disk.
    pub parent: BTreeMap<String, String>,
    /// Disk → its partitions, sorted.
    pub partitions: BTreeMap<String, Vec<String>>,
    /// `major:minor` → name, for disks and partitions.
    pub by_devnum: BTreeMap<(u32, u32), String>,
}

impl BlockTree {
    /// The sysfs directory of a disk or partition (a path of the target system).
    pub fn dir(&self, name: &str) -> PathBuf {
        match self.parent.get(name) {
            Some(disk) => Path::new(CLASS_BLOCK).join(disk).join(name),
            None => Path::new(CLASS_BLOCK).join(name),
        }
    }

    pub fn read(&self, host: &dyn Host, name: &str, attr: &str) -> Attr {
        read_attr(host, &self.dir(name).join(attr))
    }

    pub fn devnum(&self, host: &dyn Host, name: &str) -> Option<(u32, u32)> {
        self.read(host, name, "dev")
            .value()
            .and_then(|v| parse_devnum(&v))
    }

    /// Names in `holders/` (or `slaves/`) of a disk or partition; absent is empty.
    pub fn links(&self, host: &dyn Host, name: &str, which: &str) -> Vec<String> {
        host.read_dir_names(&self.dir(name).join(which))
            .unwrap_or_default()
    }
}

pub fn read_attr(host: &dyn Host, path: &Path) -> Attr {
    match host.read_attr(path) {
        Ok(v) => Attr::Value(v),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Attr::Absent,
        Err(e) => Attr::Unreadable(e),
    }
}

/// `8:16` → (8, 16).
pub fn parse_devnum(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once(':')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Reads `/sys/class/block`: whole disks, and each disk's partitions.
pub fn scan(host: &dyn Host) -> io::Result<BlockTree> {
    let top = Path::new(CLASS_BLOCK);
    let mut tree = BlockTree::default();
    let names = match host.read_dir_names(top) {
        Ok(n) => n,
        // A machine (or fixture) without block devices has nothing to install to,
        // which the planner reports; it is not a scan failure.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    for name in names {
        // A live sysfs lists partitions here too; they are read under their disk.
        if host.exists(&top.join(&name).join("partition")) {
            continue;
        }
        let mut parts = Vec::new();
        // Partitions are named after their disk (sda1, nvme0n1p1, mmcblk0p1).
        for sub in host
            .read_dir_names(&top.join(&name))
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.starts_with(name.as_str()) && s != &name)
        {
            if host.exists(&top.join(&name).join(&sub).join("partition")) {
                tree.parent.insert(sub.clone(), name.clone());
                parts.push(sub);
            }
        }
        tree.partitions.insert(name.clone(), parts);
        tree.disks.push(name);
    }
    let all: Vec<String> = tree
        .disks
        .iter()
        .chain(tree.parent.keys())
        .cloned()
        .collect();
    for name in all {
        if let Some(n) = tree.devnum(host, &name) {
            tree.by_devnum.insert(n, name);
        }
    }
    Ok(tree)
}
