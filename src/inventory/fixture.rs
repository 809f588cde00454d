//! Test support: builds a fixture root (sysfs, procfs, `/dev/disk` links and the
//! udev/blkid files [`FakeHost`](crate::host::fake::FakeHost) reads) in a directory,
//! so a test describes a machine in a few lines instead of committing hundreds of
//! files. The layout it writes is the one the committed trees under
//! `tests/fixtures/sysfs/` use:
//!
//! ```text
//! sys/class/block/<disk>/{dev,size,removable,ro,queue/{rotational,logical_block_size,physical_block_size}}
//! sys/class/block/<disk>/<part>/{partition,dev,holders/<h>}   holders/<h>, slaves/<s>
//! sys/class/block/<disk>/<attr>.err                           (read fails with that errno)
//! run/pre-nixos-fixture/udev/block/<name>                     (KEY=VALUE, DEVTYPE=disk)
//! run/pre-nixos-fixture/blkid/<name>                          (blkid -p -o export)
//! proc/self/mountinfo, proc/cmdline, proc/meminfo, dev/disk/by-*/<link> → ../../<name>
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::host::fake::FIXTURE_DIR;

/// One whole disk (or disk-like device) to put in a fixture tree.
#[derive(Debug, Clone)]
pub struct BlockDev {
    name: String,
    dev: String,
    size_sectors: u64,
    rotational: Option<bool>,
    logical: u32,
    physical: u32,
    removable: bool,
    read_only: bool,
    udev: Vec<(String, String)>,
    blkid: Option<String>,
    partitions: Vec<(String, String, Vec<String>)>,
    holders: Vec<String>,
    slaves: Vec<String>,
    attrs: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl BlockDev {
    /// A 4 GiB spinning disk with 512-byte sectors, device number `dev` (`8:0`).
    pub fn new(name: &str, dev: &str) -> Self {
        BlockDev {
            name: name.into(),
            dev: dev.into(),
            size_sectors: 8_388_608,
            rotational: Some(true),
            logical: 512,
            physical: 512,
            removable: false,
            read_only: false,
            udev: Vec::new(),
            blkid: None,
            partitions: Vec::new(),
            holders: Vec::new(),
            slaves: Vec::new(),
            attrs: Vec::new(),
            errors: Vec::new(),
        }
    }
    pub fn sectors(mut self, n: u64) -> Self {
        self.size_sectors = n;
        self
    }
    pub fn gib(self, n: u64) -> Self {
        self.sectors(n * 2 * 1024 * 1024)
    }
    pub fn rotational(mut self, r: Option<bool>) -> Self {
        self.rotational = r;
        self
    }
    pub fn sector_sizes(mut self, logical: u32, physical: u32) -> Self {
        self.logical = logical;
        self.physical = physical;
        self
    }
    pub fn removable(mut self) -> Self {
        self.removable = true;
        self
    }
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }
    /// A udev property (`ID_BUS`, `ID_SERIAL_SHORT`, `DEVLINKS`…).
    pub fn prop(mut self, k: &str, v: &str) -> Self {
        self.udev.push((k.into(), v.into()));
        self
    }
    /// What `blkid -p -o export` prints for it.
    pub fn blkid(mut self, export: &str) -> Self {
        self.blkid = Some(export.into());
        self
    }
    pub fn partition(mut self, name: &str, dev: &str, holders: &[&str]) -> Self {
        self.partitions.push((
            name.into(),
            dev.into(),
            holders.iter().map(ToString::to_string).collect(),
        ));
        self
    }
    pub fn holder(mut self, h: &str) -> Self {
        self.holders.push(h.into());
        self
    }
    pub fn slave(mut self, s: &str) -> Self {
        self.slaves.push(s.into());
        self
    }
    /// Any other sysfs attribute, relative to the device directory (`device/model`).
    pub fn attr(mut self, rel: &str, value: &str) -> Self {
        self.attrs.push((rel.into(), value.into()));
        self
    }
    /// An attribute whose read fails with `errno` (`EINVAL`, `ENODEV`, `ENXIO`).
    pub fn attr_err(mut self, rel: &str, errno: &str) -> Self {
        self.errors.push((rel.into(), errno.into()));
        self
    }
}

/// A fixture root being built.
pub struct FixtureTree {
    root: PathBuf,
}

impl FixtureTree {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FixtureTree { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes a file of the target system (`/proc/cmdline`), creating directories.
    pub fn file(&self, path: &str, contents: &str) -> io::Result<&Self> {
        let p = self.root.join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().expect("a file path has a parent"))?;
        fs::write(p, contents)?;
        Ok(self)
    }

    /// A symlink of the target system (`/dev/disk/by-label/X` → `../../sr0`).
    pub fn symlink(&self, link: &str, target: &str) -> io::Result<&Self> {
        let p = self.root.join(link.trim_start_matches('/'));
        fs::create_dir_all(p.parent().expect("a link path has a parent"))?;
        std::os::unix::fs::symlink(target, p)?;
        Ok(self)
    }

    /// `/proc/meminfo` with this `MemTotal` in kB.
    pub fn meminfo_kib(&self, kib: u64) -> io::Result<&Self> {
        self.file(
            "/proc/meminfo",
            &format!("MemTotal:       {kib} kB\nMemFree:        1024 kB\n"),
        )
    }

    /// `/proc/self/mountinfo` lines: `(major:minor, mount point, fstype, source)`.
    pub fn mounts(&self, mounts: &[(&str, &str, &str, &str)]) -> io::Result<&Self> {
        let mut text = String::new();
        for (i, (dev, mp, fstype, source)) in mounts.iter().enumerate() {
            let mp = mp.replace(' ', "\\040");
            text.push_str(&format!(
                "{} 1 {dev} / {mp} rw,relatime shared:{i} - {fstype} {source} rw\n",
                20 + i
            ));
        }
        self.file("/proc/self/mountinfo", &text)
    }

    pub fn add(&self, d: &BlockDev) -> io::Result<&Self> {
        let dir = format!("/sys/class/block/{}", d.name);
        let a = |rel: &str, v: &str| self.file(&format!("{dir}/{rel}"), &format!("{v}\n"));
        a("dev", &d.dev)?;
        a("size", &d.size_sectors.to_string())?;
        a("removable", if d.removable { "1" } else { "0" })?;
        a("ro", if d.read_only { "1" } else { "0" })?;
        if let Some(r) = d.rotational {
            a("queue/rotational", if r { "1" } else { "0" })?;
        }
        a("queue/logical_block_size", &d.logical.to_string())?;
        a("queue/physical_block_size", &d.physical.to_string())?;
        for (rel, v) in &d.attrs {
            a(rel, v)?;
        }
        for (rel, errno) in &d.errors {
            // Remove a default value so the `.err` twin is what a read finds.
            let _ = fs::remove_file(self.root.join(dir.trim_start_matches('/')).join(rel));
            a(&format!("{rel}.err"), errno)?;
        }
        for h in &d.holders {
            a(&format!("holders/{h}"), "")?;
        }
        for s in &d.slaves {
            a(&format!("slaves/{s}"), "")?;
        }
        let (major, minor) = d.dev.split_once(':').unwrap_or(("0", "0"));
        let mut udev = format!(
            "DEVNAME=/dev/{}\nDEVTYPE=disk\nMAJOR={major}\nMINOR={minor}\nSUBSYSTEM=block\n",
            d.name
        );
        for (i, (p, pdev, holders)) in d.partitions.iter().enumerate() {
            a(&format!("{p}/partition"), &(i + 1).to_string())?;
            a(&format!("{p}/dev"), pdev)?;
            for h in holders {
                a(&format!("{p}/holders/{h}"), "")?;
            }
        }
        for (k, v) in &d.udev {
            udev.push_str(&format!("{k}={v}\n"));
        }
        self.file(&format!("{FIXTURE_DIR}/udev/block/{}", d.name), &udev)?;
        // The node, as udev makes it: empty, so detection reads zeros from it.
        if !self.root.join("dev").join(&d.name).exists() {
            self.file(&format!("/dev/{}", d.name), "")?;
        }
        if let Some(b) = &d.blkid {
            self.file(&format!("{FIXTURE_DIR}/blkid/{}", d.name), b)?;
        }
        Ok(self)
    }
}
