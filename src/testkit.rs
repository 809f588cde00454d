//! Test support shared by unit and integration tests: hand-built plans (the planner
//! lands separately, and executor tests must not depend on its choices) and fixture
//! trees that look like a machine to the [`crate::host::fake::FakeHost`].
//!
//! Not part of the tool's behaviour; kept in the library so `tests/` can use it.
#![doc(hidden)]

use std::path::{Path, PathBuf};

use crate::inventory::DiskKind;
use crate::plan::*;
use crate::units::GIB;

/// A planned disk with an ESP (when `esp` names its label) and one data partition.
pub fn disk(
    key: &str,
    name: &str,
    serial: &str,
    size: u64,
    kind: DiskKind,
    esp: Option<(&str, bool)>,
    data: PartitionRole,
) -> PlannedDisk {
    let sep = if name.ends_with(|c: char| c.is_ascii_digit()) {
        "p"
    } else {
        ""
    };
    let mut partitions = Vec::new();
    if let Some((label, mounted)) = esp {
        partitions.push(Partition {
            number: 1,
            key: "ESP".into(),
            partlabel: format!("disk-{key}-ESP"),
            device: format!("/dev/{name}{sep}1"),
            size_bytes: Some(GIB),
            type_code: "EF00".into(),
            role: PartitionRole::Esp {
                label: label.into(),
                mountpoint: mounted.then(|| "/boot".to_owned()),
                mount_options: vec!["umask=0077".into()],
            },
        });
    }
    let (pkey, code) = match &data {
        PartitionRole::RaidMember { .. } => ("md", "FD00"),
        _ => ("pv", "8E00"),
    };
    let n = partitions.len() as u32 + 1;
    partitions.push(Partition {
        number: n,
        key: pkey.into(),
        partlabel: format!("disk-{key}-{pkey}"),
        device: format!("/dev/{name}{sep}{n}"),
        size_bytes: None,
        type_code: code.into(),
        role: data,
    });
    let stable_path = match kind {
        DiskKind::Nvme => format!("/dev/disk/by-id/nvme-Vendor_NVMe_{serial}"),
        _ => format!("/dev/disk/by-id/ata-Vendor_Disk_{serial}"),
    };
    PlannedDisk {
        key: key.into(),
        name: name.into(),
        stable_path,
        serial: Some(serial.into()),
        wwn: None,
        model: None,
        size_bytes: size,
        kind,
        partitions,
    }
}

/// The planner's ext4 LV, with the planner's `data` inode ratio and `/var/tmp` mode.
pub fn ext4(name: &str, mountpoint: &str, extents: u64) -> LogicalVolume {
    let mut lv = volumes::ext4(name, mountpoint, extents);
    if let LvContent::Ext4 {
        bytes_per_inode,
        mode,
        ..
    } = &mut lv.content
    {
        *bytes_per_inode = (name == "data").then_some(2048);
        *mode = (mountpoint == "/var/tmp").then_some(0o1777);
    }
    lv
}

pub fn swap(extents: u64) -> LogicalVolume {
    volumes::swap_lv(extents)
}

pub fn vg(name: &str, pvs: &[&str], extents: u64, lvs: Vec<LogicalVolume>) -> VolumeGroup {
    VolumeGroup {
        name: name.into(),
        pvs: pvs.iter().map(ToString::to_string).collect(),
        extent_bytes: EXTENT_BYTES,
        extents,
        lvs,
    }
}

pub fn array(name: &str, level: RaidLevel, members: &[&PlannedDisk], size: u64) -> RaidArray {
    RaidArray {
        name: name.into(),
        level,
        metadata: "1.2".into(),
        members: members
            .iter()
            .map(|d| d.partitions.last().unwrap().by_partlabel())
            .collect(),
        size_bytes: size,
        vg: name.into(),
    }
}

pub fn plan_of(layout: Layout) -> Plan {
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        inventory_digest: "sha256:test".into(),
        options: PlanOptions::default(),
        ram_bytes: 8 * GIB,
        decisions: Vec::new(),
        layout,
        excluded: Vec::new(),
    }
}

fn pv_path(d: &PlannedDisk) -> String {
    d.partitions.last().unwrap().by_partlabel()
}

/// One 1 TB NVMe: ESP + PV of `main` (slash, home, swap).
pub fn single_nvme() -> Plan {
    let d = disk(
        "main0",
        "nvme0n1",
        "NV001",
        1_000_204_886_016,
        DiskKind::Nvme,
        Some(("EFI", true)),
        PartitionRole::Pv { vg: "main".into() },
    );
    let main = vg(
        "main",
        &[&pv_path(&d)],
        238_210,
        vec![
            ext4("slash", "/", 12_800),
            ext4("home", "/home", 4_096),
            swap(4_096),
        ],
    );
    plan_of(Layout {
        disks: vec![d],
        arrays: vec![],
        vgs: vec![main],
    })
}

/// Two 500 GB SSDs striped (RAID0 `main`), each with an ESP.
pub fn ssd_pair_raid0() -> Plan {
    let a = disk(
        "main0",
        "sda",
        "SSDA",
        500_107_862_016,
        DiskKind::Ssd,
        Some(("EFI", true)),
        PartitionRole::RaidMember {
            array: "main".into(),
        },
    );
    let b = disk(
        "main1",
        "sdb",
        "SSDB",
        500_107_862_016,
        DiskKind::Ssd,
        Some(("EFI2", false)),
        PartitionRole::RaidMember {
            array: "main".into(),
        },
    );
    let md = array("main", RaidLevel::Raid0, &[&a, &b], 998 * GIB);
    let main = vg(
        "main",
        &["/dev/md/main"],
        255_400,
        vec![
            ext4("slash", "/", 12_800),
            ext4("home", "/home", 4_096),
            swap(4_096),
        ],
    );
    plan_of(Layout {
        disks: vec![a, b],
        arrays: vec![md],
        vgs: vec![main],
    })
}

/// One SSD (`main`) and an HDD pair mirrored as `swap` (swap, var_tmp, var_log).
pub fn ssd_and_hdd_pair() -> Plan {
    let s = disk(
        "main0",
        "sda",
        "SSDA",
        500_107_862_016,
        DiskKind::Ssd,
        Some(("EFI", true)),
        PartitionRole::Pv { vg: "main".into() },
    );
    let h0 = disk(
        "swap0",
        "sdb",
        "HDDA",
        2_000_398_934_016,
        DiskKind::Hdd,
        None,
        PartitionRole::RaidMember {
            array: "swap".into(),
        },
    );
    let h1 = disk(
        "swap1",
        "sdc",
        "HDDB",
        2_000_398_934_016,
        DiskKind::Hdd,
        None,
        PartitionRole::RaidMember {
            array: "swap".into(),
        },
    );
    let md = array("swap", RaidLevel::Raid1, &[&h0, &h1], 2_000_000_000_000);
    let main = vg(
        "main",
        &[&pv_path(&s)],
        118_990,
        vec![ext4("slash", "/", 12_800), ext4("home", "/home", 4_096)],
    );
    let swapvg = vg(
        "swap",
        &["/dev/md/swap"],
        476_800,
        vec![
            swap(4_096),
            ext4("var_tmp", "/var/tmp", 4_096),
            ext4("var_log", "/var/log", 1_024),
        ],
    );
    plan_of(Layout {
        disks: vec![s, h0, h1],
        arrays: vec![md],
        vgs: vec![main, swapvg],
    })
}

/// One SSD (`main`) and four HDDs in RAID5 `large` (swap, data).
pub fn ssd_and_four_hdd_raid5() -> Plan {
    let s = disk(
        "main0",
        "sda",
        "SSDA",
        500_107_862_016,
        DiskKind::Ssd,
        Some(("EFI", true)),
        PartitionRole::Pv { vg: "main".into() },
    );
    let hdds: Vec<PlannedDisk> = ["sdb", "sdc", "sdd", "sde"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            disk(
                &format!("large{i}"),
                n,
                &format!("HDD{i}"),
                4_000_787_030_016,
                DiskKind::Hdd,
                None,
                PartitionRole::RaidMember {
                    array: "large".into(),
                },
            )
        })
        .collect();
    let refs: Vec<&PlannedDisk> = hdds.iter().collect();
    let md = array("large", RaidLevel::Raid5, &refs, 12_000_000_000_000);
    let main = vg(
        "main",
        &[&pv_path(&s)],
        118_990,
        vec![ext4("slash", "/", 12_800), ext4("home", "/home", 4_096)],
    );
    let large = vg(
        "large",
        &["/dev/md/large"],
        2_861_000,
        vec![swap(4_096), ext4("data", "/data", 25_600)],
    );
    let mut disks = vec![s];
    disks.extend(hdds);
    plan_of(Layout {
        disks,
        arrays: vec![md],
        vgs: vec![main, large],
    })
}

/// A fixture tree that looks like a machine with the plan's disks present and blank:
/// by-id links, sysfs sizes, udev serials, empty mount and swap tables, and the
/// tools on `/usr/sbin`.
pub struct Machine {
    pub dir: tempfile::TempDir,
}

impl Machine {
    pub fn new() -> Self {
        let m = Machine {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        m.write(
            "/proc/self/mountinfo",
            "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n",
        );
        m.write(
            "/proc/swaps",
            "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n",
        );
        m.write("/proc/cmdline", "console=ttyS0\n");
        m
    }

    /// A machine holding every disk of `plan`, blank, with every tool installed.
    pub fn for_plan(plan: &Plan) -> Self {
        let m = Machine::new();
        for d in &plan.layout.disks {
            m.add_disk(d);
        }
        m.install_tools(ALL_TOOLS);
        m
    }

    /// A machine for `plan`, and the plan, for tests that need both.
    pub fn with_plan(plan: Plan) -> (Machine, Plan) {
        (Machine::for_plan(&plan), plan)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.root().join(p.trim_start_matches('/'))
    }

    pub fn write(&self, p: &str, text: &str) {
        let full = self.path(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn symlink(&self, link: &str, target: &str) {
        let full = self.path(link);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&full);
        std::os::unix::fs::symlink(target, full).unwrap();
    }

    pub fn remove(&self, p: &str) {
        let full = self.path(p);
        if full.is_dir() {
            std::fs::remove_dir_all(full).unwrap();
        } else {
            let _ = std::fs::remove_file(full);
        }
    }

    pub fn add_disk(&self, d: &PlannedDisk) {
        self.symlink(&d.stable_path, &format!("../../{}", d.name));
        self.write(&format!("/dev/{}", d.name), "");
        self.write(
            &format!("/sys/block/{}/size", d.name),
            &format!("{}\n", d.size_bytes / 512),
        );
        self.write(&format!("/sys/block/{}/dev", d.name), "8:0\n");
        self.write(
            &format!("/run/pre-nixos-fixture/udev/block/{}", d.name),
            &format!(
                "DEVNAME=/dev/{}\nDEVTYPE=disk\nID_SERIAL_SHORT={}\nID_SERIAL=Vendor_Disk_{}\nID_MODEL=Vendor_Disk\n",
                d.name,
                d.serial.as_deref().unwrap_or(""),
                d.serial.as_deref().unwrap_or("")
            ),
        );
    }

    /// Makes every node the native executor waits for exist (as udev would).
    pub fn add_expected_nodes(&self, plan: &Plan) {
        for d in &plan.layout.disks {
            for p in &d.partitions {
                self.symlink(
                    &p.by_partlabel(),
                    &format!("../../{}", p.device.trim_start_matches("/dev/")),
                );
                if let PartitionRole::Esp { label, .. } = &p.role {
                    self.symlink(
                        &format!("/dev/disk/by-label/{label}"),
                        &format!("../../{}", p.device.trim_start_matches("/dev/")),
                    );
                }
            }
        }
        for (i, a) in plan.layout.arrays.iter().enumerate() {
            self.symlink(&a.device(), &format!("../md{}", 127 - i));
        }
        let mut dm = 0;
        for vg in &plan.layout.vgs {
            for lv in &vg.lvs {
                self.symlink(&lv.device(&vg.name), &format!("../dm-{dm}"));
                let label = match &lv.content {
                    LvContent::Ext4 { label, .. } | LvContent::Swap { label } => label,
                };
                self.symlink(
                    &format!("/dev/disk/by-label/{label}"),
                    &format!("../../dm-{dm}"),
                );
                dm += 1;
            }
        }
    }

    pub fn install_tools(&self, tools: &[&str]) {
        for t in tools {
            self.write(&format!("/usr/sbin/{t}"), "#!/bin/sh\n");
        }
    }
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

/// PATH used by tests (resolved under the fixture root).
pub const TEST_PATH: &str = "/usr/sbin:/usr/bin";

pub const ALL_TOOLS: &[&str] = &[
    "sgdisk",
    "dd",
    "mdadm",
    "pvcreate",
    "vgcreate",
    "lvcreate",
    "mkfs.ext4",
    "mkfs.vfat",
    "mkswap",
    "mount",
    "swapon",
    "udevadm",
    "mkdir",
    "chmod",
    "lsblk",
    "pvs",
    "vgs",
    "lvs",
    "umount",
    "swapoff",
    "vgchange",
    "lvremove",
    "vgremove",
    "pvremove",
    "wipefs",
    "blockdev",
    "partprobe",
];

/// The layout disko made in the guest capture `disko-applied` (SSD: 512 MiB ESP + PV
/// of `main` with slash 2 GiB and home; HDD pair: RAID1 `swap` → VG `swap` with swap
/// and var_log 1 GiB each), as a plan.
pub fn disko_applied_plan() -> Plan {
    let mut ssd = disk(
        "ssd",
        "sda",
        "SSD0001",
        4_294_967_296,
        DiskKind::Ssd,
        Some(("EFI", true)),
        PartitionRole::Pv { vg: "main".into() },
    );
    ssd.partitions[0].size_bytes = Some(512 * crate::units::MIB);
    let member = || PartitionRole::RaidMember {
        array: "swap".into(),
    };
    let h0 = disk(
        "hdd0",
        "sdb",
        "HDD0001",
        4_294_967_296,
        DiskKind::Hdd,
        None,
        member(),
    );
    let h1 = disk(
        "hdd1",
        "sdc",
        "HDD0002",
        4_294_967_296,
        DiskKind::Hdd,
        None,
        member(),
    );
    let mut disks = vec![ssd, h0, h1];
    for d in &mut disks {
        d.stable_path = format!(
            "/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_{}",
            d.serial.as_deref().unwrap()
        );
    }
    let md = array(
        "swap",
        RaidLevel::Raid1,
        &[&disks[1], &disks[2]],
        4_289_724_416,
    );
    let main = vg(
        "main",
        &["/dev/disk/by-partlabel/disk-ssd-pv"],
        895,
        vec![ext4("slash", "/", 512), ext4("home", "/home", 383)],
    );
    let swapvg = vg(
        "swap",
        &["/dev/md/swap"],
        1022,
        vec![swap(256), ext4("var_log", "/var/log", 256)],
    );
    plan_of(Layout {
        disks,
        arrays: vec![md],
        vgs: vec![main, swapvg],
    })
}

/// Where the captured command outputs live.
pub fn capture_dir(state: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cmd-output")
        .join(state)
}

pub fn capture(state: &str, file: &str) -> String {
    let p = capture_dir(state).join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Scripts the fake host to answer lsblk, LVM and mdadm queries with a capture.
pub fn script_capture(host: &crate::host::fake::FakeHost, state: &str) {
    use crate::host::fake::Response;
    host.on(
        &["lsblk"],
        Response::stdout(capture(state, "lsblk-O-b.json")),
    );
    host.on(
        &["pvs"],
        Response::stdout(capture(state, "lvm/pvs-all.json")),
    );
    host.on(
        &["vgs"],
        Response::stdout(capture(state, "lvm/vgs-all.json")),
    );
    host.on(
        &["lvs"],
        Response::stdout(capture(state, "lvm/lvs-all.json")),
    );
    if capture_dir(state).join("mdadm/detail-md127.txt").exists() {
        host.on(
            &["mdadm", "--detail", "--export", "/dev/md127"],
            Response::stdout(capture(state, "mdadm/detail-md127.txt")),
        );
    }
}

/// A machine tree for a capture: the by-id links of its disks, sysfs sizes, udev
/// serials, and its mount and swap tables.
pub fn capture_machine(plan: &Plan, state: &str) -> Machine {
    let m = Machine::for_plan(plan);
    m.write("/proc/self/mountinfo", &capture(state, "mountinfo.txt"));
    m.write("/proc/swaps", &capture(state, "swaps.txt"));
    m
}

/// `wipefs -a /dev/<dev>` clears what libblkid saw on it.
pub fn wipefs_clears(host: &crate::host::fake::FakeHost, m: &Machine, dev: &str) {
    let root = m.root().to_owned();
    let fixture = format!("run/pre-nixos-fixture/blkid/{dev}");
    host.on_with_effect(
        &["wipefs", "-a", &format!("/dev/{dev}")],
        crate::host::fake::Response::stdout(""),
        move |_| {
            std::fs::remove_file(root.join(&fixture)).unwrap();
        },
    );
}

/// `swapon`, the last native step, leaves the mounts and swaps of the disko-applied
/// capture behind.
pub fn swapon_completes_the_capture(host: &crate::host::fake::FakeHost, m: &Machine) {
    let root = m.root().to_owned();
    host.on_with_effect(
        &["swapon"],
        crate::host::fake::Response::stdout(""),
        move |_| {
            for (file, name) in [
                ("proc/self/mountinfo", "mountinfo.txt"),
                ("proc/swaps", "swaps.txt"),
            ] {
                std::fs::write(root.join(file), capture("disko-applied", name)).unwrap();
            }
        },
    );
}

/// A machine with blank disks of the disko-applied capture, whose queries answer with
/// the capture once the layout "exists" (after swapon, the last native step): an
/// apply on it ends applied and verified.
pub fn applying_machine() -> (Machine, crate::host::fake::FakeHost, Plan) {
    let plan = disko_applied_plan();
    let m = Machine::for_plan(&plan);
    m.add_expected_nodes(&plan);
    let host = crate::host::fake::FakeHost::new(m.root());
    script_capture(&host, "disko-applied");
    wipefs_clears(&host, &m, "sdc");
    swapon_completes_the_capture(&host, &m);
    (m, host, plan)
}
