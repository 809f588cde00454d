//! Inventory: what the machine has — disks (libudev + sysfs + libblkid), NICs, RAM.
//!
//! Readers take a [`Host`], so tests run them on fixture trees. The result is sorted by
//! stable path and carries every excluded device with the reason it was excluded, so
//! the same hardware always yields the same [`Inventory`] whatever order the kernel
//! enumerated it in.

pub mod boot_medium;
pub mod disks;
/// Fixture trees for tests: the same layout the readers walk, written from code.
#[cfg(feature = "testkit")]
pub mod fixture;
pub mod human;
pub mod identity;
pub mod nics;
pub mod ram;
pub mod ready;
pub mod sysfs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::host::{Host, UdevDevice};
use crate::kcmdline::BootOptions;

/// Bumped whenever the JSON shape of [`Inventory`] changes incompatibly.
pub const INVENTORY_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub schema_version: u32,
    /// Installable disks, sorted by `stable_path`.
    pub disks: Vec<Disk>,
    /// Block devices that are never a target, with the reason, sorted by name.
    #[serde(default)]
    pub excluded: Vec<Excluded>,
    /// Network interfaces (candidates and excluded ones), sorted by name.
    #[serde(default)]
    pub nics: Vec<Nic>,
    /// Total RAM in bytes (`MemTotal` of `/proc/meminfo`).
    pub ram_bytes: u64,
    /// DMI system UUID, vendor, product and serial. Names the machine; never an input
    /// of the plan (`plan::inventory_digest` leaves it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<identity::MachineIdentity>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiskKind {
    Nvme,
    Ssd,
    Hdd,
}

impl DiskKind {
    /// Solid state (`rotational=0`): NVMe and SSD share a tier.
    pub fn is_solid_state(self) -> bool {
        matches!(self, DiskKind::Nvme | DiskKind::Ssd)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DiskKind::Nvme => "nvme",
            DiskKind::Ssd => "ssd",
            DiskKind::Hdd => "hdd",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disk {
    /// Kernel name: `sda`, `nvme0n1`.
    pub name: String,
    /// `/dev/disk/by-id/…`, preferring WWN, then serial-based; `/dev/<name>` when udev
    /// gives no by-id link.
    pub stable_path: String,
    pub size_bytes: u64,
    pub kind: DiskKind,
    pub logical_sector_bytes: u32,
    pub physical_sector_bytes: u32,
    /// Transport/bus (`nvme`, `sata`, `scsi`, `virtio`, …).
    #[serde(default)]
    pub bus: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub wwn: Option<String>,
    #[serde(default)]
    pub removable: bool,
    #[serde(default)]
    pub read_only: bool,
    /// Partition table type found by libblkid (`gpt`, `dos`).
    #[serde(default)]
    pub partition_table: Option<String>,
    /// Signatures on the whole device (`ext4`, `linux_raid_member`, `LVM2_member`…).
    #[serde(default)]
    pub signatures: Vec<String>,
    /// Kernel names of its partitions (`sda1`).
    #[serde(default)]
    pub partitions: Vec<String>,
    /// Holders of the disk or its partitions (`md127`, `dm-0`).
    #[serde(default)]
    pub holders: Vec<String>,
    /// Why libblkid could not probe it: its partition table and signatures are then
    /// unknown, not absent (detection treats the same failure as a detection error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_error: Option<String>,
}

impl Disk {
    /// `/dev/<name>`.
    pub fn dev_path(&self) -> String {
        format!("/dev/{}", self.name)
    }

    /// A short identity for logs and messages: `sdb (SERIAL, 4.0 TB HDD)`.
    pub fn identity(&self) -> String {
        format!(
            "{} ({}, {} {})",
            self.name,
            self.serial.as_deref().unwrap_or("no serial"),
            crate::units::human_bytes(self.size_bytes),
            self.kind.as_str().to_uppercase()
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Excluded {
    /// Kernel name (`sr0`, `loop3`, `sdd`).
    pub name: String,
    /// Why it is never a target (`boot medium (mounted at /iso)`, `removable`, …).
    pub reason: String,
    /// What the device is, when it can be read: so the operator can tell which stick
    /// or disk was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    pub name: String,
    /// Current MAC (`address`).
    pub mac: String,
    /// Permanent MAC when the kernel reports one, else the current MAC.
    pub perm_mac: String,
    /// `perm_mac` is the burnt-in address (`addr_assign_type` 0, or `ethtool -P`),
    /// so a `.link` file can match it with `PermanentMACAddress=`.
    #[serde(default)]
    pub perm_mac_known: bool,
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub bus: Option<String>,
    /// udev `ID_PATH` (`pci-0000:00:05.0`): the stable order of NICs.
    #[serde(default)]
    pub id_path: Option<String>,
    /// Mbit/s; `None` when unknown (down link, virtio).
    #[serde(default)]
    pub speed_mbps: Option<u32>,
    /// `None` when `carrier` could not be read (EINVAL on a down link).
    #[serde(default)]
    pub carrier: Option<bool>,
    pub operstate: String,
    /// Has a `device` link in sysfs.
    pub physical: bool,
    /// Why it is not a LAN candidate; `None` for candidates.
    #[serde(default)]
    pub excluded: Option<String>,
}

/// Reads the whole inventory of the machine behind `host`: block devices from udev
/// and `/sys/class/block`, the live system's disks from the mounts and the kernel
/// command line, RAM, NICs. Read-only: no device is opened for writing.
pub fn scan(host: &dyn Host, boot: &BootOptions) -> anyhow::Result<Inventory> {
    let tree = sysfs::scan(host).context("listing block devices in /sys/class/block")?;
    let udev = host.udev_devices("block").unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing block devices through udev failed; using sysfs alone (no by-id paths, serials or bus)");
        Vec::new()
    });
    let live = boot_medium::live_disks(host, &tree, &udev, boot);
    let by_id = by_id_links(host);
    let udev_disks: BTreeMap<&str, &UdevDevice> = udev
        .iter()
        .filter(|d| d.prop("DEVTYPE") == Some("disk"))
        .map(|d| (d.sysname.as_str(), d))
        .collect();
    // udev's list and sysfs's together: a disk udev has not processed yet still
    // shows up (without by-id links), and one udev lists but sysfs lost has vanished.
    let names: BTreeSet<&str> = udev_disks
        .keys()
        .copied()
        .chain(tree.disks.iter().map(String::as_str))
        .collect();
    let cx = disks::Context {
        host,
        tree: &tree,
        live: &live,
        by_id: &by_id,
    };
    let mut inv = Inventory {
        schema_version: INVENTORY_SCHEMA_VERSION,
        disks: Vec::new(),
        excluded: Vec::new(),
        nics: Vec::new(),
        ram_bytes: 0,
        machine: identity::read_identity(host),
    };
    for name in names {
        match disks::examine(&cx, name, udev_disks.get(name).copied()) {
            disks::Outcome::Disk(d) => {
                tracing::debug!(device = %d.name, stable_path = %d.stable_path, size_bytes = d.size_bytes, kind = d.kind.as_str(), "disk found");
                inv.disks.push(*d);
            }
            disks::Outcome::Excluded(x) => {
                tracing::debug!(device = %x.name, reason = %x.reason, "device excluded");
                inv.excluded.push(x);
            }
            disks::Outcome::Vanished => {}
        }
    }
    inv.disks
        .sort_by(|a, b| a.stable_path.cmp(&b.stable_path).then(a.name.cmp(&b.name)));
    inv.excluded.sort_by(|a, b| a.name.cmp(&b.name));
    // RAM only sizes swap: unknown RAM is a warning here, and the planner refuses
    // only when no swap size was given (`--swap-size`, `pre-nixos.swap=`).
    inv.ram_bytes = match ram::read_ram(host) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(file = "/proc/meminfo", error = %format!("{e:#}"), "RAM size unknown");
            0
        }
    };
    inv.nics = nics::scan_nics(host).context("listing network interfaces")?;
    Ok(inv)
}

/// `/dev/disk/by-id` links by the kernel name they point to (empty without udev).
fn by_id_links(host: &dyn Host) -> BTreeMap<String, Vec<String>> {
    let dir = Path::new("/dev/disk/by-id");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for link in host.read_dir_names(dir).unwrap_or_default() {
        let path = dir.join(&link);
        if let Ok(target) = host.read_link(&path) {
            if let Some(name) = target.file_name() {
                out.entry(name.to_string_lossy().into_owned())
                    .or_default()
                    .push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}
