//! Readers of the block-device stack as it is now: `lsblk -J -b -O`, LVM JSON reports,
//! `mdadm --detail --export`, `/proc/mdstat`, `/proc/self/mountinfo`, `/proc/swaps`,
//! and a disk's identity (stable link, serial, size, model).
//!
//! Queries are bounded ([`QUERY_TIMEOUT`]) and quiet (their completion is logged at
//! debug level: they only look). Each reader has an I/O half (runs the command or reads the file through the
//! [`Host`]) and a pure `parse_*` half tested on output captured from a real Debian 12
//! guest (`tests/fixtures/cmd-output/`). Detection, teardown and verify all read the
//! machine through this one module, so they can never disagree on what is there.

mod gpt;
mod identity;
mod lsblk;
mod lvm;
mod md;
mod mounts;

use std::time::Duration;

pub use gpt::*;
pub use identity::*;
pub use lsblk::*;
pub use lvm::*;
pub use md::*;
pub use mounts::*;

/// A query that hangs (a wedged `lvs`) must not hang the tool, nor a login shell:
/// `pre-nixos status` runs these readers in every login shell on the ISO.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixture(name: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cmd-output")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn lsblk_reads_the_disko_applied_stack() {
        let nodes = parse_lsblk(&fixture("disko-applied/lsblk-O-b.json")).unwrap();
        let sda = nodes.iter().find(|n| n.kname == "sda").unwrap();
        assert_eq!(sda.kind, "disk");
        assert_eq!(sda.size, 4294967296);
        let esp = &sda.children[0];
        assert_eq!(esp.kname, "sda1");
        assert_eq!(esp.partlabel.as_deref(), Some("disk-ssd-ESP"));
        assert_eq!(type_code(esp.parttype.as_deref().unwrap()), "EF00");
        assert_eq!(esp.mountpoints, vec!["/mnt/boot"]);
        let slash = &sda.children[1].children[0];
        assert_eq!(slash.kname, "dm-0");
        assert_eq!(slash.name, "main-slash");
        assert_eq!(slash.label.as_deref(), Some("slash"));
        let sdb = nodes.iter().find(|n| n.kname == "sdb").unwrap();
        let md = &sdb.children[0].children[0];
        assert!(md.is_md());
        assert_eq!(md.kind, "raid1");
        assert_eq!(md.maj_min, "9:127");
        assert_eq!(md.children[0].mountpoints, vec!["[SWAP]"]);
        // Unmounted nodes carry no mount points (lsblk prints [null]).
        assert!(sdb.mountpoints.is_empty());
    }

    #[test]
    fn lvm_reports_parse_both_column_sets() {
        let pvs = parse_pvs(&fixture("disko-applied/lvm/pvs-all.json")).unwrap();
        assert_eq!(
            pvs,
            vec![
                Pv {
                    name: "/dev/md127".into(),
                    vg: Some("swap".into()),
                    size: 4286578688
                },
                Pv {
                    name: "/dev/sda2".into(),
                    vg: Some("main".into()),
                    size: 3753902080
                }
            ]
        );
        let vgs = parse_vgs(&fixture("disko-applied/lvm/vgs-all.json")).unwrap();
        assert_eq!(vgs[0].name, "main");
        assert_eq!(vgs[0].extent_size, 4 << 20);
        assert_eq!(vgs[0].extent_count, 895);
        assert_eq!(vgs[1].extent_count, 1022);
        let lvs = parse_lvs(&fixture("disko-applied/lvm/lvs-all.json")).unwrap();
        let names: Vec<_> = lvs.iter().map(|l| format!("{}/{}", l.vg, l.name)).collect();
        assert_eq!(
            names,
            ["main/home", "main/slash", "swap/swap", "swap/var_log"]
        );
        assert_eq!(lvs[1].size, 2 << 30);
        // The short report (no -o) reads the same.
        let short = parse_lvs(&fixture("existing-rebooted/lvm/lvs.json")).unwrap();
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].vg, "oldvg");
        assert_eq!(short[0].attr, "-wi-a-----");
        assert!(parse_pvs("{\"report\":[{\"pv\":[]}]}").unwrap().is_empty());
        assert!(parse_pvs("not json").is_err());
    }

    #[test]
    fn mdadm_detail_and_mdstat_parse() {
        let d = parse_mdadm_detail(&fixture("disko-applied/mdadm/detail-md127.txt"));
        assert_eq!(d.level, "raid1");
        assert_eq!(d.level_number(), Some(1));
        assert_eq!(d.raid_devices, 2);
        assert_eq!(d.metadata, "1.2");
        assert_eq!(d.short_name().as_deref(), Some("swap"));
        assert_eq!(d.members, ["/dev/sdb1", "/dev/sdc1"]);

        let m = parse_mdstat(&fixture("existing-rebooted/mdstat.txt"));
        assert_eq!(
            m,
            vec![MdstatArray {
                name: "md127".into(),
                state: "active".into(),
                level: Some("raid1".into()),
                members: vec!["sdc1".into()],
            }]
        );
        let m = parse_mdstat(&fixture("disko-applied/mdstat.txt"));
        assert_eq!(m[0].members, ["sdc1", "sdb1"]);
        assert!(parse_mdstat("").is_empty());
        let inactive =
            "Personalities : \nmd127 : inactive sdb1[0](S)\n      4190144 blocks super 1.2\n";
        assert_eq!(parse_mdstat(inactive)[0].state, "inactive");
        assert_eq!(parse_mdstat(inactive)[0].members, ["sdb1"]);
    }

    #[test]
    fn mountinfo_and_swaps_parse() {
        let m = parse_mountinfo(&fixture("disko-applied/mountinfo.txt"));
        let mnt: Vec<_> = m
            .iter()
            .filter(|e| e.mount_point.starts_with("/mnt"))
            .map(|e| (e.mount_point.as_str(), e.maj_min(), e.fstype.as_str()))
            .collect();
        assert_eq!(
            mnt,
            [
                ("/mnt", "253:0".to_owned(), "ext4"),
                ("/mnt/boot", "8:1".to_owned(), "vfat"),
                ("/mnt/home", "253:1".to_owned(), "ext4"),
                ("/mnt/var/log", "253:3".to_owned(), "ext4"),
            ]
        );
        let esc = parse_mountinfo("40 1 8:1 / /mnt/a\\040b rw - ext4 /dev/sda1 rw\n");
        assert_eq!(esc[0].mount_point, "/mnt/a b");
        assert_eq!(
            parse_swaps(&fixture("disko-applied/swaps.txt")),
            ["/dev/dm-2"]
        );
        assert!(parse_swaps(&fixture("existing-rebooted/swaps.txt")).is_empty());
    }

    #[test]
    fn type_codes_round_trip() {
        for c in ["EF00", "FD00", "8E00"] {
            assert_eq!(type_code(type_guid(c).unwrap()), c);
        }
        assert_eq!(type_code("0xc"), "0xc");
    }
}
