//! The planner on the machines of issue 2, each with its complete expected plan:
//! VGs with their array level, member disks (key=kernel name), extents, and every LV
//! with its extents. VG extents come from an independent oracle written from the
//! capacity rules (GPT 1 MiB head + 1 MiB tail, ESP 1 GiB, md data offset 129 MiB,
//! PV reserve 1 MiB + max(1 MiB, stripe)), anchored by one hand-computed value.

mod common;

use common::*;
use pre_nixos::inventory::Inventory;
use pre_nixos::plan::{
    plan, LvContent, Mode, PartitionRole, Plan, PlanError, PlanOptions, RaidLevel,
};
use pretty_assertions::assert_eq;

const EXT: u64 = 4 * MIB;
const SLASH: u64 = 12800;
const HOME: u64 = 4096;

// ---- oracle -------------------------------------------------------------------

fn part_bytes(disk: u64, esp: bool) -> u64 {
    (disk - MIB) / MIB * MIB - MIB - if esp { GIB } else { 0 }
}

/// Extents of a VG on a single disk's PV partition.
fn disk_extents(disk: u64, esp: bool) -> u64 {
    (part_bytes(disk, esp) - 2 * MIB) / EXT
}

/// Extents of a VG on an array of `n` members of `level` (smallest member `disk`).
fn md_extents(level: RaidLevel, n: u64, disk: u64, esp: bool) -> u64 {
    let member = (part_bytes(disk, esp) - 129 * MIB) / MIB * MIB;
    let data = match level {
        RaidLevel::Raid0 => n,
        RaidLevel::Raid1 => 1,
        RaidLevel::Raid5 => n - 1,
        RaidLevel::Raid6 => n - 2,
        RaidLevel::Raid10 => n / 2,
    };
    let stripe = if level == RaidLevel::Raid1 {
        0
    } else {
        data * 512 * 1024
    };
    let reserve = MIB + stripe.max(MIB).div_ceil(MIB) * MIB;
    (member * data - reserve) / EXT
}

fn quarter_home(vg: u64) -> u64 {
    HOME.min((vg - 2 - SLASH) / 4)
}

// ---- helpers ------------------------------------------------------------------

fn fast() -> PlanOptions {
    PlanOptions::default()
}

fn careful() -> PlanOptions {
    PlanOptions {
        mode: Mode::Careful,
        swap_size_bytes: None,
    }
}

/// One line per VG: `name level [key=disk …] extents: lv=extents …`.
fn describe(p: &Plan) -> Vec<String> {
    p.layout
        .vgs
        .iter()
        .map(|vg| {
            let level = p
                .layout
                .arrays
                .iter()
                .find(|a| a.vg == vg.name)
                .map(|a| a.level.name())
                .unwrap_or("disk");
            let mut disks: Vec<(&str, &str)> = p
                .layout
                .disks
                .iter()
                .filter(|d| {
                    d.partitions.iter().any(|pt| match &pt.role {
                        PartitionRole::RaidMember { array } => *array == vg.name,
                        PartitionRole::Pv { vg: v } => *v == vg.name,
                        PartitionRole::Esp { .. } => false,
                    })
                })
                .map(|d| (d.key.as_str(), d.name.as_str()))
                .collect();
            disks.sort();
            let disks: Vec<String> = disks.iter().map(|(k, n)| format!("{k}={n}")).collect();
            let lvs: Vec<String> = vg
                .lvs
                .iter()
                .map(|l| format!("{}={}", l.name, l.extents))
                .collect();
            format!(
                "{} {} [{}] {}: {}",
                vg.name,
                level,
                disks.join(" "),
                vg.extents,
                lvs.join(" ")
            )
            .trim_end()
            .to_string()
        })
        .collect()
}

fn esp_labels(p: &Plan) -> Vec<(String, String, Option<String>)> {
    let mut v = Vec::new();
    for d in &p.layout.disks {
        for pt in &d.partitions {
            if let PartitionRole::Esp {
                label, mountpoint, ..
            } = &pt.role
            {
                v.push((d.key.clone(), label.clone(), mountpoint.clone()));
            }
        }
    }
    v.sort();
    v
}

fn unused(p: &Plan) -> Vec<String> {
    p.excluded
        .iter()
        .filter(|e| e.reason.starts_with("unused"))
        .map(|e| e.name.clone())
        .collect()
}

fn reason(p: &Plan, subject: &str) -> String {
    p.decisions
        .iter()
        .find(|d| d.subject == subject)
        .unwrap_or_else(|| panic!("no decision about {subject}: {:#?}", p.decisions))
        .reason
        .clone()
}

fn run(inv: &Inventory, opts: &PlanOptions) -> Plan {
    plan(inv, opts).expect("planning")
}

// ---- the machines -------------------------------------------------------------

#[test]
fn oracle_matches_a_hand_computation() {
    // 1 TB SSD = 1_000_204_886_016 B: 953868 whole MiB before the 1 MiB tail,
    // minus 1 MiB head and 1024 MiB ESP = 952843 MiB; minus 2 MiB PV = 952841 MiB
    // = 238210 extents (and 1 MiB over).
    assert_eq!(disk_extents(SSD_1T, true), 238_210);
    let p = run(&machine(vec![ssd('a', SSD_1T)], 8 * GIB), &fast());
    assert_eq!(p.layout.vgs[0].extents, 238_210);
}

#[test]
fn one_nvme() {
    let p = run(&machine(vec![nvme(0, NVME_1T92)], 32 * GIB), &fast());
    let e = disk_extents(NVME_1T92, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main disk [main0=nvme0n1] {e}: slash={SLASH} home={HOME} swap=16384"
        )]
    );
    assert!(p.layout.arrays.is_empty());
    let d = &p.layout.disks[0];
    assert_eq!(d.partitions[0].device, "/dev/nvme0n1p1");
    assert_eq!(d.partitions[1].device, "/dev/nvme0n1p2");
    assert_eq!(d.partitions[1].partlabel, "disk-main0-pv");
    assert_eq!(d.partitions[1].type_code, "8E00");
    assert_eq!(d.partitions[0].type_code, "EF00");
    assert_eq!(
        esp_labels(&p),
        vec![("main0".into(), "EFI".into(), Some("/boot".into()))]
    );
    assert!(reason(&p, "lv main/swap").contains("quarter"));
    assert_eq!(
        reason(&p, "vg main"),
        "nvme0n1: 1 × 1.9 TB NVMe → no array (single disk) → VG main (largest solid-state bucket)"
    );
}

#[test]
fn two_equal_ssds_fast_and_careful() {
    let inv = machine(vec![ssd('a', SSD_1T), ssd('b', SSD_1T)], 16 * GIB);
    let p = run(&inv, &fast());
    let e = md_extents(RaidLevel::Raid0, 2, SSD_1T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID0 [main0=sda main1=sdb] {e}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    assert_eq!(
        esp_labels(&p),
        vec![
            ("main0".into(), "EFI".into(), Some("/boot".into())),
            ("main1".into(), "EFI2".into(), None)
        ]
    );
    let a = &p.layout.arrays[0];
    assert_eq!(a.name, "main");
    assert_eq!(a.metadata, "1.2");
    assert_eq!(
        a.members,
        vec![
            "/dev/disk/by-partlabel/disk-main0-md",
            "/dev/disk/by-partlabel/disk-main1-md"
        ]
    );
    assert_eq!(p.layout.vgs[0].pvs, vec!["/dev/md/main"]);

    let p = run(&inv, &careful());
    let e = md_extents(RaidLevel::Raid1, 2, SSD_1T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID1 [main0=sda main1=sdb] {e}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
}

#[test]
fn three_ssds_careful_mirror_two() {
    let inv = machine(
        vec![ssd('a', SSD_1T), ssd('b', SSD_1T), ssd('c', SSD_1T)],
        16 * GIB,
    );
    let p = run(&inv, &careful());
    let e = md_extents(RaidLevel::Raid1, 2, SSD_1T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID1 [main0=sda main1=sdb] {e}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    assert_eq!(unused(&p), vec!["sdc"]);
    assert!(!p.layout.disks.iter().any(|d| d.name == "sdc"));
    assert_eq!(
        reason(&p, "vg main"),
        "sda, sdb, sdc: 3 × 1.0 TB SSD → RAID1 over sda, sdb (careful mode, odd count: a mirror of two) → VG main (largest solid-state bucket)"
    );
    // fast mode stripes all three
    let p = run(&inv, &fast());
    let e = md_extents(RaidLevel::Raid0, 3, SSD_1T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID0 [main0=sda main1=sdb main2=sdc] {e}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
}

#[test]
fn four_ssds_careful_raid10() {
    let inv = machine(
        letters('a', 4)
            .into_iter()
            .map(|l| ssd(l, SSD_1T))
            .collect(),
        16 * GIB,
    );
    let p = run(&inv, &careful());
    let e = md_extents(RaidLevel::Raid10, 4, SSD_1T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID10 [main0=sda main1=sdb main2=sdc main3=sdd] {e}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    assert_eq!(esp_labels(&p).len(), 4);
    assert_eq!(esp_labels(&p)[3].1, "EFI4");
}

#[test]
fn ssd_and_two_hdds() {
    let inv = machine(
        vec![ssd('a', SSD_1T), hdd('b', HDD_4T), hdd('c', HDD_4T)],
        16 * GIB,
    );
    let p = run(&inv, &fast());
    let m = disk_extents(SSD_1T, true);
    let s = md_extents(RaidLevel::Raid1, 2, HDD_4T, false);
    assert_eq!(
        describe(&p),
        vec![
            format!("main disk [main0=sda] {m}: slash={SLASH} home={HOME}"),
            format!("swap RAID1 [swap0=sdb swap1=sdc] {s}: swap=8192 var_tmp=8192 var_log=1024"),
        ]
    );
    assert_eq!(
        reason(&p, "vg swap"),
        "sdb, sdc: 2 × 4.0 TB HDD → RAID1 (two rotating disks are mirrored) → VG swap (two-disk rotating bucket)"
    );
    let var_tmp = &p.layout.vgs[1].lvs[1];
    assert!(matches!(
        var_tmp.content,
        LvContent::Ext4 {
            mode: Some(0o1777),
            ..
        }
    ));
    // no ESP off main
    assert_eq!(esp_labels(&p).len(), 1);
    assert_eq!(
        p.layout
            .disks
            .iter()
            .find(|d| d.name == "sdb")
            .unwrap()
            .partitions[0]
            .device,
        "/dev/sdb1"
    );
}

#[test]
fn ssd_and_four_hdds() {
    let mut disks = vec![ssd('a', SSD_1T)];
    disks.extend(letters('b', 4).into_iter().map(|l| hdd(l, HDD_4T)));
    let inv = machine(disks, 16 * GIB);
    let m = disk_extents(SSD_1T, true);
    let p = run(&inv, &fast());
    let l = md_extents(RaidLevel::Raid5, 4, HDD_4T, false);
    assert_eq!(
        describe(&p),
        vec![
            format!("main disk [main0=sda] {m}: slash={SLASH} home={HOME}"),
            format!("large RAID5 [large0=sdb large1=sdc large2=sdd large3=sde] {l}: swap=8192 data=25600"),
        ]
    );
    assert!(reason(&p, "lv large/swap").contains("no swap VG"));
    let data = &p.layout.vgs[1].lvs[1];
    assert!(matches!(
        data.content,
        LvContent::Ext4 {
            bytes_per_inode: Some(2048),
            ..
        }
    ));
    // careful: RAID6 over four
    let p = run(&inv, &careful());
    let l = md_extents(RaidLevel::Raid6, 4, HDD_4T, false);
    assert_eq!(
        describe(&p)[1],
        format!(
            "large RAID6 [large0=sdb large1=sdc large2=sdd large3=sde] {l}: swap=8192 data=25600"
        )
    );
}

#[test]
fn ssd_four_hdds_and_two_smaller_hdds() {
    let mut disks = vec![ssd('a', SSD_1T)];
    disks.extend(letters('b', 4).into_iter().map(|l| hdd(l, HDD_8T)));
    disks.extend(letters('f', 2).into_iter().map(|l| hdd(l, HDD_4T)));
    let p = run(&machine(disks, 64 * GIB), &fast());
    let m = disk_extents(SSD_1T, true);
    let s = md_extents(RaidLevel::Raid1, 2, HDD_4T, false);
    let l = md_extents(RaidLevel::Raid5, 4, HDD_8T, false);
    assert_eq!(
        describe(&p),
        vec![
            format!("main disk [main0=sda] {m}: slash={SLASH} home={HOME}"),
            format!("swap RAID1 [swap0=sdf swap1=sdg] {s}: swap=16384 var_tmp=16384 var_log=1024"),
            format!("large RAID5 [large0=sdb large1=sdc large2=sdd large3=sde] {l}: data=25600"),
        ]
    );
}

#[test]
fn ssd_and_hdds_of_three_sizes() {
    let mut disks = vec![ssd('a', SSD_1T)];
    disks.extend(letters('b', 2).into_iter().map(|l| hdd(l, HDD_2T)));
    disks.extend(letters('d', 2).into_iter().map(|l| hdd(l, HDD_4T)));
    disks.extend(letters('f', 3).into_iter().map(|l| hdd(l, HDD_8T)));
    let p = run(&machine(disks, 16 * GIB), &fast());
    let m = disk_extents(SSD_1T, true);
    let s = md_extents(RaidLevel::Raid1, 2, HDD_2T, false);
    let l = md_extents(RaidLevel::Raid5, 3, HDD_8T, false);
    let l1 = md_extents(RaidLevel::Raid1, 2, HDD_4T, false);
    assert_eq!(
        describe(&p),
        vec![
            format!("main disk [main0=sda] {m}: slash={SLASH} home={HOME}"),
            format!("swap RAID1 [swap0=sdb swap1=sdc] {s}: swap=8192 var_tmp=8192 var_log=1024"),
            format!("large RAID5 [large0=sdf large1=sdg large2=sdh] {l}: data=25600"),
            format!("large_1 RAID1 [large_1_0=sdd large_1_1=sde] {l1}:"),
        ]
    );
    assert_eq!(
        reason(&p, "vg swap"),
        "sdb, sdc: 2 × 2.0 TB HDD → RAID1 (two rotating disks are mirrored) → VG swap (smallest of 2 two-disk rotating buckets)"
    );
}

#[test]
fn hdd_only_one_disk() {
    let p = run(&machine(vec![hdd('a', HDD_4T)], 16 * GIB), &fast());
    let m = disk_extents(HDD_4T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main disk [main0=sda] {m}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    assert!(reason(&p, "vg main").contains("largest rotating bucket; no solid-state disk"));
}

#[test]
fn hdd_only_two_disks() {
    let p = run(
        &machine(vec![hdd('a', HDD_4T), hdd('b', HDD_4T)], 16 * GIB),
        &fast(),
    );
    let m = md_extents(RaidLevel::Raid1, 2, HDD_4T, true);
    // the only pair holds main, so it is not the swap VG; swap goes on main
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID1 [main0=sda main1=sdb] {m}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
}

#[test]
fn hdd_only_three_disks() {
    let p = run(
        &machine(
            letters('a', 3)
                .into_iter()
                .map(|l| hdd(l, HDD_4T))
                .collect(),
            16 * GIB,
        ),
        &fast(),
    );
    let m = md_extents(RaidLevel::Raid5, 3, HDD_4T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID5 [main0=sda main1=sdb main2=sdc] {m}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
}

#[test]
fn hdd_only_six_disks() {
    let p = run(
        &machine(
            letters('a', 6)
                .into_iter()
                .map(|l| hdd(l, HDD_4T))
                .collect(),
            16 * GIB,
        ),
        &careful(),
    );
    let m = md_extents(RaidLevel::Raid6, 6, HDD_4T, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID6 [main0=sda main1=sdb main2=sdc main3=sdd main4=sde main5=sdf] {m}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    let labels: Vec<String> = esp_labels(&p).into_iter().map(|e| e.1).collect();
    assert_eq!(labels, vec!["EFI", "EFI2", "EFI3", "EFI4", "EFI5", "EFI6"]);
}

#[test]
fn two_ssd_buckets_of_different_sizes() {
    let inv = machine(
        vec![
            ssd('a', SSD_480G),
            ssd('b', SSD_480G),
            nvme(0, SSD_1T),
            nvme(1, SSD_1T),
        ],
        16 * GIB,
    );
    let p = run(&inv, &fast());
    let m = md_extents(RaidLevel::Raid0, 2, SSD_1T, true);
    let m1 = md_extents(RaidLevel::Raid0, 2, SSD_480G, false);
    assert_eq!(
        describe(&p),
        vec![
            format!(
                "main RAID0 [main0=nvme0n1 main1=nvme1n1] {m}: slash={SLASH} home={HOME} swap=8192"
            ),
            format!("main_1 RAID0 [main_1_0=sda main_1_1=sdb] {m1}:"),
        ]
    );
    assert_eq!(esp_labels(&p).len(), 2, "ESPs only on main members");
}

#[test]
fn disks_within_and_beyond_one_percent() {
    let base = SSD_1T;
    let plus_0_9 = base + base * 9 / 1000;
    let plus_1_1 = base + base * 11 / 1000;
    let p = run(
        &machine(vec![ssd('a', base), ssd('b', plus_0_9)], 16 * GIB),
        &fast(),
    );
    let m = md_extents(RaidLevel::Raid0, 2, base, true);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main RAID0 [main0=sda main1=sdb] {m}: slash={SLASH} home={HOME} swap=8192"
        )]
    );
    let p = run(
        &machine(vec![ssd('a', base), ssd('b', plus_1_1)], 16 * GIB),
        &fast(),
    );
    let m = disk_extents(plus_1_1, true);
    let m1 = disk_extents(base, false);
    assert_eq!(
        describe(&p),
        vec![
            format!("main disk [main0=sdb] {m}: slash={SLASH} home={HOME} swap=8192"),
            format!("main_1 disk [main_1_0=sda] {m1}:"),
        ]
    );
}

/// Deterministic permutations without a randomness crate.
fn permutations<T: Clone>(v: &[T], seeds: &[u64]) -> Vec<Vec<T>> {
    seeds
        .iter()
        .map(|&seed| {
            let mut x = seed | 1;
            let mut w = v.to_vec();
            for i in (1..w.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.swap(i, (x % (i as u64 + 1)) as usize);
            }
            w
        })
        .collect()
}

#[test]
fn shuffled_input_orders_give_identical_plans() {
    let mut disks = vec![ssd('a', SSD_1T), nvme(0, SSD_1T)];
    disks.extend(letters('b', 2).into_iter().map(|l| hdd(l, HDD_2T)));
    disks.extend(letters('d', 2).into_iter().map(|l| hdd(l, HDD_4T)));
    disks.extend(letters('f', 3).into_iter().map(|l| hdd(l, HDD_8T)));
    let reference = machine(disks.clone(), 16 * GIB);
    for opts in [fast(), careful()] {
        let want = pre_nixos::render::json::plan_to_json(&run(&reference, &opts));
        for order in permutations(&disks, &[1, 7, 42, 1234, 99991]) {
            let mut inv = reference.clone();
            inv.disks = order; // not re-sorted: the planner must not care
            inv.excluded.reverse();
            let got = pre_nixos::render::json::plan_to_json(&run(&inv, &opts));
            assert_eq!(got, want);
        }
    }
}

#[test]
fn a_15_gib_ssd_gets_slash_only() {
    let p = run(&machine(vec![ssd('a', 15 * GIB)], 8 * GIB), &fast());
    let m = disk_extents(15 * GIB, true);
    assert_eq!(m, 3583);
    assert_eq!(
        describe(&p),
        vec![format!("main disk [main0=sda] {m}: slash={}", m - 2)]
    );
    assert!(reason(&p, "lv main/slash").contains("all it has"));
    assert!(reason(&p, "lv main/home").starts_with("no /home volume"));
    assert!(reason(&p, "lv swap").starts_with("no swap: 16.0 GiB"));
}

#[test]
fn a_512_gib_ram_machine_caps_swap_at_64_gib() {
    let inv = machine(
        vec![ssd('a', SSD_1T), hdd('b', HDD_4T), hdd('c', HDD_4T)],
        512 * GIB,
    );
    let p = run(&inv, &fast());
    let s = md_extents(RaidLevel::Raid1, 2, HDD_4T, false);
    assert_eq!(
        describe(&p)[1],
        format!("swap RAID1 [swap0=sdb swap1=sdc] {s}: swap=16384 var_tmp=16384 var_log=1024")
    );
    assert!(reason(&p, "lv swap/swap").contains("capped at 64.0 GiB"));
    // on main alone the capped swap must fit in a quarter of the free space
    let p = run(&machine(vec![ssd('a', SSD_480G)], 512 * GIB), &fast());
    let m = disk_extents(SSD_480G, true);
    let free = m - 2 - SLASH - quarter_home(m);
    assert!(16384 <= free / 4);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main disk [main0=sda] {m}: slash={SLASH} home={HOME} swap=16384"
        )]
    );
}

#[test]
fn swap_on_main_only_if_it_fits_a_quarter() {
    // 100 GiB SSD: free after slash+home is ~33 GiB; a quarter is ~8 GiB < 16 GiB
    let p = run(&machine(vec![ssd('a', 100 * GIB)], 8 * GIB), &fast());
    let m = disk_extents(100 * GIB, true);
    let home = quarter_home(m);
    assert_eq!(
        describe(&p),
        vec![format!(
            "main disk [main0=sda] {m}: slash={SLASH} home={home}"
        )]
    );
    assert!(reason(&p, "lv swap").contains("does not fit in a quarter"));
    // the operator's --swap-size wins and fits
    let opts = PlanOptions {
        mode: Mode::Fast,
        swap_size_bytes: Some(2 * GIB),
    };
    let p = run(&machine(vec![ssd('a', 100 * GIB)], 8 * GIB), &opts);
    assert_eq!(p.layout.vgs[0].lvs[2].extents, 512);
}

#[test]
fn swap_shrinks_on_a_small_swap_vg_but_not_below_1_gib() {
    let inv = machine(
        vec![ssd('a', SSD_1T), hdd('b', 20 * GIB), hdd('c', 20 * GIB)],
        64 * GIB,
    );
    let p = run(&inv, &fast());
    let s = md_extents(RaidLevel::Raid1, 2, 20 * GIB, false);
    assert_eq!(
        describe(&p)[1],
        format!("swap RAID1 [swap0=sdb swap1=sdc] {s}: swap={}", s - 2)
    );
    assert!(reason(&p, "lv swap/swap").contains("shrunk"));
    assert!(reason(&p, "lv swap/var_tmp").starts_with("no /var/tmp"));

    // (below 1 GiB: see the unit test in plan::volumes; 2 GiB disks always leave more)
}

#[test]
fn unknown_ram_needs_a_swap_size() {
    let inv = machine(vec![ssd('a', 256 * GIB)], 0);
    let err = plan(&inv, &fast()).unwrap_err().to_string();
    assert!(err.contains("no RAM size"), "{err}");
    assert!(
        err.contains("--swap-size SIZE or pre-nixos.swap=SIZE"),
        "{err}"
    );
    let opts = PlanOptions {
        swap_size_bytes: Some(4 * GIB),
        ..fast()
    };
    let p = plan(&inv, &opts).unwrap();
    assert!(p
        .layout
        .vgs
        .iter()
        .any(|vg| vg.name == "swap" || vg.lvs.iter().any(|lv| lv.name == "swap")));
}

#[test]
fn no_usable_disk_is_an_error() {
    let mut inv = machine(vec![], 8 * GIB);
    let err = plan(&inv, &fast()).unwrap_err();
    assert!(matches!(err, PlanError::NoUsableDisk(_)));
    let msg = err.to_string();
    assert!(msg.starts_with("no usable disk: every block device is excluded: loop0 (loop device), sr0 (optical drive)"), "{msg}");

    let mut stick = ssd('a', 32 * GIB);
    stick.removable = true;
    inv.disks.push(stick);
    let msg = plan(&inv, &fast()).unwrap_err().to_string();
    assert!(msg.contains("sda (removable)"), "{msg}");
}

#[test]
fn duplicate_stable_paths_are_rejected() {
    let inv = machine(vec![ssd('a', SSD_1T), ssd('a', SSD_1T)], 8 * GIB);
    assert!(matches!(plan(&inv, &fast()), Err(PlanError::Invalid(_))));
}

// ---- invariants over generated machines ------------------------------------------

#[test]
fn invariants_hold_on_generated_machines() {
    let sizes = [
        15 * GIB,
        SSD_480G,
        SSD_1T,
        SSD_1T + SSD_1T / 200,
        SSD_2T,
        HDD_4T,
        HDD_8T,
        HDD_12T,
    ];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for case in 0..300 {
        let n = 1 + (next() % 14) as usize;
        let mut disks = Vec::new();
        for i in 0..n {
            let size = sizes[(next() % sizes.len() as u64) as usize];
            let d = match next() % 3 {
                0 => nvme(i as u32, size),
                1 => ssd((b'a' + i as u8) as char, size),
                _ => hdd((b'a' + i as u8) as char, size),
            };
            if !disks
                .iter()
                .any(|e: &pre_nixos::inventory::Disk| e.stable_path == d.stable_path)
            {
                disks.push(d);
            }
        }
        let ram = (1 + next() % 768) * GIB;
        let opts = if next() % 2 == 0 { fast() } else { careful() };
        let inv = machine(disks, ram);
        let p = run(&inv, &opts);
        let ctx = format!("case {case}: {:?}", describe(&p));

        // exactly one main, carrying slash mounted at /
        let mains: Vec<_> = p.layout.vgs.iter().filter(|v| v.name == "main").collect();
        assert_eq!(mains.len(), 1, "{ctx}");
        assert_eq!(mains[0].lvs[0].name, "slash", "{ctx}");
        // names unique
        let mut vg_names: Vec<_> = p.layout.vgs.iter().map(|v| &v.name).collect();
        vg_names.sort();
        vg_names.dedup();
        assert_eq!(vg_names.len(), p.layout.vgs.len(), "{ctx}");
        let mut keys: Vec<_> = p.layout.disks.iter().map(|d| &d.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), p.layout.disks.len(), "{ctx}");
        let mut labels = Vec::new();
        for vg in &p.layout.vgs {
            // LV extents never reach the last two extents
            let used: u64 = vg.lvs.iter().map(|l| l.extents).sum();
            assert!(used + 2 <= vg.extents, "{ctx}");
            for lv in &vg.lvs {
                assert!(lv.extents > 0, "{ctx}");
                assert_eq!(lv.size_bytes, lv.extents * EXT);
                let label = match &lv.content {
                    LvContent::Ext4 { label, .. } | LvContent::Swap { label } => label,
                };
                assert!(label.len() <= 16);
                labels.push(label.clone());
            }
        }
        let n_labels = labels.len();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), n_labels, "{ctx}");
        // array members from one bucket: sizes within 1 % of the smallest
        for a in &p.layout.arrays {
            let sizes: Vec<u64> = p
                .layout
                .disks
                .iter()
                .filter(|d| {
                    d.partitions
                        .iter()
                        .any(|pt| a.members.contains(&pt.by_partlabel()))
                })
                .map(|d| d.size_bytes)
                .collect();
            assert_eq!(sizes.len(), a.members.len(), "{ctx}");
            let min = *sizes.iter().min().unwrap();
            assert!(
                sizes
                    .iter()
                    .all(|&s| u128::from(s) * 100 <= u128::from(min) * 101),
                "{ctx}"
            );
            // never more space than the disks have
            assert!(a.size_bytes <= sizes.iter().sum::<u64>(), "{ctx}");
        }
        // every planned disk or excluded
        let planned = p.layout.disks.len() + unused(&p).len();
        assert!(planned <= inv.disks.len(), "{ctx}");
        // a JSON round trip changes nothing
        let json = pre_nixos::render::json::plan_to_json(&p);
        assert_eq!(pre_nixos::render::json::plan_from_json(&json).unwrap(), p);
    }
}

#[test]
fn a_disk_without_serial_keeps_its_wwn_and_model_for_the_identity_guard() {
    let mut with_serial = nvme(0, NVME_1T92);
    with_serial.wwn = Some("eui.00a1".into());
    let mut without = ssd('a', SSD_1T);
    without.serial = None;
    without.wwn = Some("0x5000c500a1b2c3d4".into());
    let p = run(&machine(vec![with_serial, without], 32 * GIB), &fast());
    let by_serial = |has: bool| {
        p.layout
            .disks
            .iter()
            .find(|d| d.serial.is_some() == has)
            .unwrap()
    };
    // A disk with a serial: nothing new in its plan JSON.
    assert_eq!(
        (&by_serial(true).wwn, &by_serial(true).model),
        (&None, &None)
    );
    let d = by_serial(false);
    assert_eq!(d.wwn.as_deref(), Some("0x5000c500a1b2c3d4"));
    assert!(d.model.is_some(), "{d:?}");
    let json = pre_nixos::render::json::plan_to_json(&p);
    assert_eq!(json.matches("\"wwn\"").count(), 1, "{json}");
}

#[test]
fn the_machine_identity_never_shapes_the_plan() {
    use pre_nixos::inventory::identity::MachineIdentity;
    let disks = || vec![ssd('a', SSD_1T), hdd('b', HDD_8T), hdd('c', HDD_8T)];
    let mut a = machine(disks(), 16 * GIB);
    let mut b = machine(disks(), 16 * GIB);
    a.machine = Some(MachineIdentity {
        uuid: Some("4c4c4544-0042-3510-8050-b4c04f565931".into()),
        vendor: Some("Dell Inc.".into()),
        product: Some("PowerEdge R640".into()),
        serial: Some("B5P0VY1".into()),
    });
    b.machine = Some(MachineIdentity {
        uuid: Some("0b7f2a1e-5c3d-4e8f-9a6b-1c2d3e4f5a6b".into()),
        vendor: Some("QEMU".into()),
        product: Some("Standard PC (Q35 + ICH9, 2009)".into()),
        serial: None,
    });
    assert_ne!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap(),
        "the inventories differ (in their identity)"
    );
    let (pa, pb) = (run(&a, &fast()), run(&b, &fast()));
    assert_eq!(
        pre_nixos::render::json::plan_to_json(&pa),
        pre_nixos::render::json::plan_to_json(&pb)
    );
    b.machine = None;
    assert_eq!(
        pre_nixos::render::json::plan_to_json(&pa),
        pre_nixos::render::json::plan_to_json(&run(&b, &fast()))
    );
}
