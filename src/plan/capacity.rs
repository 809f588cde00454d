//! Capacity accounting: how many bytes each layer takes before LVM sees the rest,
//! and how many whole 4 MiB extents a VG ends up with. Every number here errs on the
//! small side, so the plan never asks `lvcreate` for more than exists.
//!
//! Layers, outermost first:
//! - GPT: the first partition starts at 1 MiB (sgdisk's 2048-sector alignment) and we
//!   keep the last 1 MiB free for the backup GPT (33 sectors, 4 KiB-sector disks
//!   included); the end of the last partition is rounded down to 1 MiB.
//! - ESP: exactly 1 GiB on every member of `main`.
//! - md metadata 1.2: mdadm puts the data at `data_offset` =
//!   round_up(12 KiB superblock area + bitmap space (≤ 128 KiB) + reshape headroom
//!   (≤ 128 MiB, about 0.1 % of the device), 1 MiB) — at most 129 MiB, the value it
//!   picks for every member larger than 128 GiB. We reserve those 129 MiB on every
//!   member whatever its size, and round each member's data size down to 1 MiB
//!   (a multiple of the 512 KiB default chunk).
//! - LVM PV: 1 MiB of metadata area, then `pe_start` aligned to 1 MiB or, on md, to
//!   the full stripe width LVM detects (chunk × data disks). We reserve 1 MiB plus
//!   that alignment, which is more than pvcreate takes.
//! - VG: whole extents only; the planner never allocates the last two.

use crate::plan::types::{RaidLevel, EXTENT_BYTES};
use crate::units::{GIB, KIB, MIB};

/// Kept free before the first partition (sgdisk aligns the first one to 1 MiB).
pub const GPT_HEAD_BYTES: u64 = MIB;
/// Kept free after the last partition (backup GPT and its header).
pub const GPT_TAIL_BYTES: u64 = MIB;
/// Partitions start and end on 1 MiB boundaries.
pub const PARTITION_ALIGN_BYTES: u64 = MIB;
/// Size of every ESP.
pub const ESP_BYTES: u64 = GIB;
/// mdadm 1.2 data offset reserved on every member (its maximum default, see above).
pub const MD_DATA_OFFSET_BYTES: u64 = 129 * MIB;
/// mdadm's default chunk for striped levels.
pub const MD_CHUNK_BYTES: u64 = 512 * KIB;
/// LVM metadata area at the start of a PV.
pub const PV_METADATA_BYTES: u64 = MIB;
/// Smallest disk the planner uses: an ESP plus a useful PV.
pub const MIN_DISK_BYTES: u64 = 2 * GIB;
/// Extents never allocated at the end of a VG.
pub const VG_SPARE_EXTENTS: u64 = 2;

pub fn align_down(v: u64, a: u64) -> u64 {
    v - v % a
}

pub fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a).saturating_mul(a)
}

/// Bytes of the data partition (the one after the optional ESP) of a disk.
pub fn data_partition_bytes(disk_bytes: u64, with_esp: bool) -> u64 {
    let end = align_down(
        disk_bytes.saturating_sub(GPT_TAIL_BYTES),
        PARTITION_ALIGN_BYTES,
    );
    let start = GPT_HEAD_BYTES + if with_esp { ESP_BYTES } else { 0 };
    end.saturating_sub(start)
}

/// Data bytes one md member contributes, from its partition size.
pub fn md_member_bytes(partition_bytes: u64) -> u64 {
    align_down(partition_bytes.saturating_sub(MD_DATA_OFFSET_BYTES), MIB)
}

/// How many members' worth of data an array of `n` members holds.
pub fn data_members(level: RaidLevel, n: u64) -> u64 {
    match level {
        RaidLevel::Raid0 => n,
        RaidLevel::Raid1 => 1,
        RaidLevel::Raid5 => n.saturating_sub(1),
        RaidLevel::Raid6 => n.saturating_sub(2),
        // near-2 layout (mdadm's default); the planner only builds it on even counts
        RaidLevel::Raid10 => n / 2,
    }
}

/// Usable bytes of an array whose smallest member partition has `min_partition` bytes.
pub fn array_bytes(level: RaidLevel, n: u64, min_partition: u64) -> u64 {
    // saturating: the planner refuses sizes beyond 1 PiB first, but a hand-built call
    // must not overflow either
    md_member_bytes(min_partition).saturating_mul(data_members(level, n))
}

/// Full stripe width LVM aligns a PV on an array to (0 for mirrors and plain disks).
pub fn stripe_bytes(level: Option<RaidLevel>, n: u64) -> u64 {
    match level {
        None | Some(RaidLevel::Raid1) => 0,
        Some(l) => MD_CHUNK_BYTES.saturating_mul(data_members(l, n)),
    }
}

/// Bytes reserved at the start of a PV before its first extent.
pub fn pv_reserved_bytes(stripe: u64) -> u64 {
    PV_METADATA_BYTES.saturating_add(align_up(stripe.max(MIB), MIB))
}

/// Extents a PV of `pv_bytes` offers.
pub fn pv_extents(pv_bytes: u64, stripe: u64) -> u64 {
    pv_bytes.saturating_sub(pv_reserved_bytes(stripe)) / EXTENT_BYTES
}

/// Whole extents needed for `bytes` (rounded up, as lvcreate does).
pub fn extents_for(bytes: u64) -> u64 {
    bytes.div_ceil(EXTENT_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_sizes_saturate_instead_of_overflowing() {
        assert_eq!(array_bytes(RaidLevel::Raid0, u64::MAX, u64::MAX), u64::MAX);
        assert!(stripe_bytes(Some(RaidLevel::Raid0), u64::MAX) > 0);
        assert_eq!(align_up(u64::MAX - 1, MIB), u64::MAX);
        assert!(pv_extents(u64::MAX, u64::MAX) < u64::MAX);
    }
    use crate::units::TIB;

    #[test]
    fn data_partition_leaves_gpt_and_esp() {
        // 1 TiB disk: 1 MiB head, 1 GiB ESP, 1 MiB tail
        assert_eq!(data_partition_bytes(TIB, true), TIB - 2 * MIB - GIB);
        assert_eq!(data_partition_bytes(TIB, false), TIB - 2 * MIB);
        // an unaligned size is rounded down to the MiB
        assert_eq!(data_partition_bytes(TIB + 12345, false), TIB - 2 * MIB);
        assert_eq!(data_partition_bytes(MIB, true), 0);
    }

    #[test]
    fn md_reserves_data_offset() {
        assert_eq!(md_member_bytes(GIB), GIB - 129 * MIB);
        assert_eq!(md_member_bytes(100 * MIB), 0);
        assert_eq!(array_bytes(RaidLevel::Raid6, 6, GIB + 129 * MIB), 4 * GIB);
        assert_eq!(array_bytes(RaidLevel::Raid10, 4, GIB + 129 * MIB), 2 * GIB);
        assert_eq!(array_bytes(RaidLevel::Raid5, 3, GIB + 129 * MIB), 2 * GIB);
    }

    #[test]
    fn pv_alignment_follows_stripe() {
        assert_eq!(stripe_bytes(None, 1), 0);
        assert_eq!(stripe_bytes(Some(RaidLevel::Raid1), 2), 0);
        assert_eq!(stripe_bytes(Some(RaidLevel::Raid0), 4), 2 * MIB);
        assert_eq!(pv_reserved_bytes(0), 2 * MIB);
        assert_eq!(pv_reserved_bytes(3 * MIB / 2), 3 * MIB);
        assert_eq!(pv_extents(GIB, 0), (GIB - 2 * MIB) / EXTENT_BYTES);
        assert_eq!(extents_for(GIB), 256);
        assert_eq!(extents_for(GIB + 1), 257);
    }
}
