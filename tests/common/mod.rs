//! Machines for planner, golden and CLI tests: disks with realistic vendor sizes,
//! kernel names and by-id paths.
#![allow(dead_code)]

use pre_nixos::inventory::{Disk, DiskKind, Excluded, Inventory, INVENTORY_SCHEMA_VERSION};

pub(crate) const GIB: u64 = 1 << 30;
pub(crate) const MIB: u64 = 1 << 20;
/// Marketing sizes as the kernel reports them.
pub(crate) const SSD_480G: u64 = 480_103_981_056;
pub(crate) const SSD_1T: u64 = 1_000_204_886_016;
pub(crate) const SSD_2T: u64 = 2_000_398_934_016;
pub(crate) const NVME_1T92: u64 = 1_920_383_410_176;
pub(crate) const HDD_2T: u64 = 2_000_398_934_016;
pub(crate) const HDD_4T: u64 = 4_000_787_030_016;
pub(crate) const HDD_8T: u64 = 8_001_563_222_016;
pub(crate) const HDD_12T: u64 = 12_000_138_625_024;

fn disk(name: &str, stable: String, size: u64, kind: DiskKind, serial: String) -> Disk {
    Disk {
        name: name.into(),
        stable_path: stable,
        size_bytes: size,
        kind,
        logical_sector_bytes: 512,
        physical_sector_bytes: if kind == DiskKind::Hdd { 4096 } else { 512 },
        bus: Some(
            if kind == DiskKind::Nvme {
                "nvme"
            } else {
                "ata"
            }
            .into(),
        ),
        model: Some(
            match kind {
                DiskKind::Nvme => "SAMSUNG MZQL21T9HCJR-00A07",
                DiskKind::Ssd => "Samsung SSD 870 EVO",
                DiskKind::Hdd => "ST4000NM000A-2HZ100",
            }
            .into(),
        ),
        serial: Some(serial),
        wwn: None,
        removable: false,
        read_only: false,
        partition_table: None,
        signatures: vec![],
        partitions: vec![],
        holders: vec![],
        probe_error: None,
    }
}

/// `/dev/nvme<i>n1`.
pub(crate) fn nvme(i: u32, size: u64) -> Disk {
    let serial = format!("S64GNE0R{i:04}");
    disk(
        &format!("nvme{i}n1"),
        format!("/dev/disk/by-id/nvme-SAMSUNG_MZQL21T9HCJR-00A07_{serial}"),
        size,
        DiskKind::Nvme,
        serial,
    )
}

/// A SATA SSD `/dev/sd<letter>`.
pub(crate) fn ssd(letter: char, size: u64) -> Disk {
    let serial = format!("S5SVNF0R{:04}", letter as u32);
    disk(
        &format!("sd{letter}"),
        format!("/dev/disk/by-id/ata-Samsung_SSD_870_EVO_{serial}"),
        size,
        DiskKind::Ssd,
        serial,
    )
}

/// A SATA HDD `/dev/sd<letter>`.
pub(crate) fn hdd(letter: char, size: u64) -> Disk {
    let serial = format!("ZC1{:05}", letter as u32);
    disk(
        &format!("sd{letter}"),
        format!("/dev/disk/by-id/ata-ST4000NM000A-2HZ100_{serial}"),
        size,
        DiskKind::Hdd,
        serial,
    )
}

pub(crate) fn machine(mut disks: Vec<Disk>, ram: u64) -> Inventory {
    disks.sort_by(|a, b| a.stable_path.cmp(&b.stable_path));
    Inventory {
        schema_version: INVENTORY_SCHEMA_VERSION,
        disks,
        excluded: vec![
            Excluded {
                name: "loop0".into(),
                reason: "loop device".into(),
                ..Default::default()
            },
            Excluded {
                name: "sr0".into(),
                reason: "optical drive".into(),
                ..Default::default()
            },
        ],
        nics: vec![],
        ram_bytes: ram,
        machine: None,
    }
}

/// Letters `sda`, `sdb`, … for SATA disks.
pub(crate) fn letters(from: char, n: usize) -> Vec<char> {
    (0..n).map(|i| (from as u8 + i as u8) as char).collect()
}
