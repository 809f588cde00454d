//! Tiers and size buckets (SPEC §2.1): solid-state and rotating disks apart; within a
//! tier, disks sorted by size (then stable path) and grouped greedily while each disk
//! is within 1 % of the group's smallest. Buckets are ranked by total raw capacity,
//! largest first, ties by the first stable path. Nothing here depends on input order.

use crate::inventory::{Disk, DiskKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tier {
    /// `ssd` and `nvme` (rotational=0).
    Solid,
    /// `hdd`.
    Rotating,
}

impl Tier {
    pub fn of(kind: DiskKind) -> Tier {
        if kind.is_solid_state() {
            Tier::Solid
        } else {
            Tier::Rotating
        }
    }
}

/// Disks of one tier whose sizes are within 1 % of the smallest.
#[derive(Debug, Clone)]
pub struct Bucket<'a> {
    pub tier: Tier,
    /// Sorted by stable path.
    pub disks: Vec<&'a Disk>,
}

impl Bucket<'_> {
    pub fn total_bytes(&self) -> u128 {
        self.disks.iter().map(|d| u128::from(d.size_bytes)).sum()
    }

    pub fn smallest_bytes(&self) -> u64 {
        self.disks.iter().map(|d| d.size_bytes).min().unwrap_or(0)
    }

    pub fn first_path(&self) -> &str {
        &self.disks[0].stable_path
    }

    /// `SSD`, `NVMe`, `SSD/NVMe` or `HDD`, for reasons.
    pub fn kind_label(&self) -> &'static str {
        let nvme = self.disks.iter().any(|d| d.kind == DiskKind::Nvme);
        let ssd = self.disks.iter().any(|d| d.kind == DiskKind::Ssd);
        match (self.tier, nvme, ssd) {
            (Tier::Rotating, _, _) => "HDD",
            (Tier::Solid, true, true) => "SSD/NVMe",
            (Tier::Solid, true, false) => "NVMe",
            (Tier::Solid, false, _) => "SSD",
        }
    }
}

/// `b` is within 1 % of `smallest` (integer math: b ≤ smallest × 1.01).
pub fn within_one_percent(smallest: u64, b: u64) -> bool {
    u128::from(b) * 100 <= u128::from(smallest) * 101
}

/// Buckets of one tier, ranked largest total capacity first.
pub fn bucket_tier<'a>(tier: Tier, disks: &[&'a Disk]) -> Vec<Bucket<'a>> {
    let mut sorted: Vec<&Disk> = disks
        .iter()
        .copied()
        .filter(|d| Tier::of(d.kind) == tier)
        .collect();
    sorted.sort_by(|a, b| {
        (a.size_bytes, a.stable_path.as_str()).cmp(&(b.size_bytes, b.stable_path.as_str()))
    });
    let mut buckets: Vec<Bucket> = Vec::new();
    for d in sorted {
        match buckets.last_mut() {
            Some(b) if within_one_percent(b.disks[0].size_bytes, d.size_bytes) => b.disks.push(d),
            _ => buckets.push(Bucket {
                tier,
                disks: vec![d],
            }),
        }
    }
    for b in &mut buckets {
        b.disks.sort_by(|x, y| x.stable_path.cmp(&y.stable_path));
    }
    rank(&mut buckets);
    buckets
}

/// Largest total capacity first; ties by the first stable path.
pub fn rank(buckets: &mut [Bucket]) {
    buckets.sort_by(|a, b| {
        b.total_bytes()
            .cmp(&a.total_bytes())
            .then_with(|| a.first_path().cmp(b.first_path()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disk(path: &str, size: u64, kind: DiskKind) -> Disk {
        Disk {
            name: path.trim_start_matches("/dev/").into(),
            stable_path: path.into(),
            size_bytes: size,
            kind,
            logical_sector_bytes: 512,
            physical_sector_bytes: 512,
            bus: None,
            model: None,
            serial: None,
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

    #[test]
    fn one_percent_of_the_smallest() {
        assert!(within_one_percent(1000, 1010));
        assert!(!within_one_percent(1000, 1011));
    }

    #[test]
    fn greedy_groups_measure_from_the_smallest() {
        // 1000, 1009, 1018: the third is within 1 % of 1009 but not of 1000
        let a = disk("/dev/a", 1000, DiskKind::Hdd);
        let b = disk("/dev/b", 1009, DiskKind::Hdd);
        let c = disk("/dev/c", 1018, DiskKind::Hdd);
        let s = disk("/dev/s", 1000, DiskKind::Ssd);
        let all = [&c, &s, &a, &b];
        let hdd = bucket_tier(Tier::Rotating, &all);
        assert_eq!(hdd.len(), 2);
        let names: Vec<Vec<&str>> = hdd
            .iter()
            .map(|b| b.disks.iter().map(|d| d.name.as_str()).collect())
            .collect();
        assert_eq!(names, vec![vec!["a", "b"], vec!["c"]]);
        let ssd = bucket_tier(Tier::Solid, &all);
        assert_eq!(ssd.len(), 1);
        assert_eq!(ssd[0].kind_label(), "SSD");
    }

    #[test]
    fn ties_rank_by_first_path() {
        let a = disk("/dev/x1", 500, DiskKind::Hdd);
        let b = disk("/dev/x0", 1000, DiskKind::Hdd);
        let c = disk("/dev/y0", 250, DiskKind::Hdd);
        let d = disk("/dev/y1", 250, DiskKind::Hdd);
        let all = [&a, &b, &c, &d];
        let hdd = bucket_tier(Tier::Rotating, &all);
        let firsts: Vec<&str> = hdd.iter().map(super::Bucket::first_path).collect();
        // x0 (1000) first; x1 (500) and y0+y1 (500) tie → x1 before y0
        assert_eq!(firsts, vec!["/dev/x0", "/dev/x1", "/dev/y0"]);
    }
}
