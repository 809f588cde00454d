//! The plan's types. The planner produces them; the renderers, both executors and
//! verify consume them; verify also reads the disks back *into* [`Layout`], so
//! "already provisioned" and `status` are a diff of two values of the same type.

use serde::{Deserialize, Serialize};

use crate::inventory::{DiskKind, Excluded};

pub use super::options::{Mode, PlanOptions};

/// Bumped whenever the JSON shape of [`Plan`] changes incompatibly.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// LVM extent size used for every VG.
pub const EXTENT_BYTES: u64 = 4 * crate::units::MIB;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RaidLevel {
    Raid0,
    Raid1,
    Raid5,
    Raid6,
    Raid10,
}

impl RaidLevel {
    /// The number mdadm and disko take (`--level=5`, `level = 5;`).
    pub fn number(self) -> u32 {
        match self {
            RaidLevel::Raid0 => 0,
            RaidLevel::Raid1 => 1,
            RaidLevel::Raid5 => 5,
            RaidLevel::Raid6 => 6,
            RaidLevel::Raid10 => 10,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RaidLevel::Raid0 => "RAID0",
            RaidLevel::Raid1 => "RAID1",
            RaidLevel::Raid5 => "RAID5",
            RaidLevel::Raid6 => "RAID6",
            RaidLevel::Raid10 => "RAID10",
        }
    }

    pub fn from_number(n: u32) -> Option<Self> {
        Some(match n {
            0 => RaidLevel::Raid0,
            1 => RaidLevel::Raid1,
            5 => RaidLevel::Raid5,
            6 => RaidLevel::Raid6,
            10 => RaidLevel::Raid10,
            _ => return None,
        })
    }
}

/// One decision and why it was taken, shown by the summary and kept in the JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// What the decision is about: `bucket ssd-0`, `vg main`, `lv swap`.
    pub subject: String,
    /// Why: "sdb, sdc: 2 × 4.0 TB HDD → RAID1 → VG swap (two-disk rotating bucket)".
    pub reason: String,
}

/// A storage layout: what the plan wants, or what verify read back from the disks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Planned disks, sorted by stable path.
    pub disks: Vec<PlannedDisk>,
    /// md arrays, sorted by name.
    pub arrays: Vec<RaidArray>,
    /// Volume groups: `main`, `swap`, `large`, then `main_N`, `large_N`.
    pub vgs: Vec<VolumeGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub schema_version: u32,
    /// sha256 of the canonical inventory JSON this plan was made from.
    pub inventory_digest: String,
    pub options: PlanOptions,
    /// RAM the swap size was derived from.
    pub ram_bytes: u64,
    pub decisions: Vec<Decision>,
    pub layout: Layout,
    /// Devices the inventory excluded, and usable disks the plan leaves unused
    /// (e.g. the odd SSD in careful mode), each with its reason.
    pub excluded: Vec<Excluded>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedDisk {
    /// Short, stable key used in the disko config and in partition labels (`main0`).
    pub key: String,
    /// Kernel name at planning time (`sda`); informative only, never used to address it.
    pub name: String,
    /// How every executor addresses the disk.
    pub stable_path: String,
    #[serde(default)]
    pub serial: Option<String>,
    /// WWN and model, kept only for a disk without a serial: then they, the size and
    /// the stable path are all the identity guard has to tell this disk from another
    /// one put in its slot. (A disk with a serial keeps its plan JSON as it was.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wwn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub size_bytes: u64,
    pub kind: DiskKind,
    /// In GPT order.
    pub partitions: Vec<Partition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partition {
    /// GPT partition number, 1-based.
    pub number: u32,
    /// disko partition key (`ESP`, `md`, `pv`).
    pub key: String,
    /// GPT partition name: `disk-<disk key>-<partition key>` (what disko sets), so
    /// `/dev/disk/by-partlabel/<partlabel>` names it whichever executor made it.
    pub partlabel: String,
    /// Kernel device name at planning time (`/dev/sda1`, `/dev/nvme0n1p1`).
    pub device: String,
    /// `None` = the rest of the disk.
    #[serde(default)]
    pub size_bytes: Option<u64>,
    /// sgdisk type code: `EF00`, `FD00`, `8E00`.
    pub type_code: String,
    pub role: PartitionRole,
}

impl Partition {
    pub fn by_partlabel(&self) -> String {
        format!("/dev/disk/by-partlabel/{}", self.partlabel)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PartitionRole {
    /// vfat ESP labelled `label` (`EFI`, `EFI2`…), mounted only when `mountpoint` is set.
    Esp {
        label: String,
        #[serde(default)]
        mountpoint: Option<String>,
        mount_options: Vec<String>,
    },
    /// Member of the md array `array`.
    RaidMember { array: String },
    /// LVM physical volume of `vg`.
    Pv { vg: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaidArray {
    /// md name; the device is `/dev/md/<name>`.
    pub name: String,
    pub level: RaidLevel,
    /// Always `1.2`.
    pub metadata: String,
    /// Member partitions, as `/dev/disk/by-partlabel/…` paths, in order.
    pub members: Vec<String>,
    /// Usable size of the array.
    pub size_bytes: u64,
    /// The VG whose PV this array is.
    pub vg: String,
}

impl RaidArray {
    pub fn device(&self) -> String {
        format!("/dev/md/{}", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeGroup {
    pub name: String,
    /// PV devices: `/dev/md/<array>` or `/dev/disk/by-partlabel/…`.
    pub pvs: Vec<String>,
    pub extent_bytes: u64,
    /// Extents LVM will offer once the PVs exist (metadata already subtracted).
    pub extents: u64,
    /// Empty for the operator's `main_N` / `large_N` groups.
    pub lvs: Vec<LogicalVolume>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogicalVolume {
    pub name: String,
    pub extents: u64,
    pub size_bytes: u64,
    pub content: LvContent,
}

impl LogicalVolume {
    pub fn device(&self, vg: &str) -> String {
        format!("/dev/{vg}/{}", self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LvContent {
    Ext4 {
        label: String,
        mountpoint: String,
        mount_options: Vec<String>,
        /// `mkfs.ext4 -i <bytes-per-inode>` (2048 for `data`).
        #[serde(default)]
        bytes_per_inode: Option<u64>,
        /// Mode of the mounted root directory (`0o1777` for `/var/tmp`).
        #[serde(default)]
        mode: Option<u32>,
    },
    Swap {
        label: String,
    },
}
