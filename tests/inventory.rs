//! Inventory on fixture trees through the fake host: the real guest capture (blank
//! disks) and synthetic machines built with `inventory::fixture`, covering every
//! exclusion rule of SPEC §1.

use pre_nixos::host::fake::FakeHost;
use pre_nixos::inventory::fixture::{BlockDev, FixtureTree};
use pre_nixos::inventory::{self, Disk, DiskKind, Excluded, Inventory, INVENTORY_SCHEMA_VERSION};
use pretty_assertions::assert_eq;

/// The inventory as a run sees it: the kernel command line of the fixture, read into the
/// run state first.
fn scan(host: &FakeHost) -> anyhow::Result<inventory::Inventory> {
    let ctx = pre_nixos::context::Ctx::new(host, "/run/pre-nixos");
    inventory::scan(host, &ctx.boot)
}

const GIB: u64 = 1 << 30;

/// Name and reason of each excluded device (what the exclusion rules decide; the
/// identity fields are checked where the fixture sets them).
fn pairs(x: &[Excluded]) -> Vec<(String, String)> {
    x.iter()
        .map(|e| (e.name.clone(), e.reason.clone()))
        .collect()
}

fn excluded_pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, r)| (n.to_string(), r.to_string()))
        .collect()
}

fn excluded(list: &[(&str, &str)]) -> Vec<Excluded> {
    list.iter()
        .map(|(n, r)| Excluded {
            name: n.to_string(),
            reason: r.to_string(),
            ..Default::default()
        })
        .collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(std::string::ToString::to_string).collect()
}

/// A blank data disk as the guest capture shows it.
fn qemu_disk(name: &str, path: &str, kind: DiskKind, bus: &str, model: &str, serial: &str) -> Disk {
    Disk {
        name: name.into(),
        stable_path: path.into(),
        size_bytes: 4 * GIB,
        kind,
        logical_sector_bytes: 512,
        physical_sector_bytes: 512,
        bus: Some(bus.into()),
        model: Some(model.into()),
        serial: Some(serial.into()),
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
fn guest_capture_blank_gives_the_four_data_disks() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sysfs/guest-blank"
    );
    let inv = scan(&FakeHost::new(root)).unwrap();
    let mut nvme = qemu_disk(
        "nvme0n1",
        "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME0001_1",
        DiskKind::Nvme,
        "nvme",
        "QEMU NVMe Ctrl",
        "NVME0001",
    );
    nvme.wwn = Some("nvme.1b36-4e564d4530303031-51454d55204e564d65204374726c-00000001".into());
    let scsi = |name: &str, serial: &str, kind| {
        qemu_disk(
            name,
            &format!("/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_{serial}"),
            kind,
            "scsi",
            "QEMU HARDDISK",
            serial,
        )
    };
    let expected = Inventory {
        schema_version: INVENTORY_SCHEMA_VERSION,
        disks: vec![
            nvme,
            scsi("sdc", "HDD0001", DiskKind::Hdd),
            scsi("sdb", "HDD0002", DiskKind::Hdd),
            scsi("sda", "SSD0001", DiskKind::Ssd),
        ],
        // A device left out says what it is: size, model, serial where known.
        excluded: vec![
            excluded(&[("loop0", "loop device")]).remove(0),
            Excluded {
                name: "sdd".into(),
                reason: "USB-attached (ID_BUS=usb)".into(),
                size_bytes: Some(4 * GIB),
                model: Some("QEMU HARDDISK".into()),
                serial: Some("USB0001".into()),
            },
            Excluded {
                name: "vda".into(),
                reason: "running system (mounted at /, root=/dev/vda)".into(),
                size_bytes: Some(1536 << 20),
                model: None,
                serial: Some("probe-root".into()),
            },
        ],
        // NICs belong to `inventory::nics` and are tested there.
        nics: inv.nics.clone(),
        ram_bytes: 981_416 * 1024,
        machine: inv.machine.clone(),
    };
    assert_eq!(inv, expected);
    // The JSON round-trips and carries the schema version.
    let json = serde_json::to_string(&inv).unwrap();
    assert!(json.starts_with("{\"schema_version\":1,"));
    assert_eq!(serde_json::from_str::<Inventory>(&json).unwrap(), inv);
}

#[test]
fn guest_capture_human_output() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/sysfs/guest-blank"
    );
    let mut inv = scan(&FakeHost::new(root)).unwrap();
    inv.nics.clear();
    let mut out = Vec::new();
    inventory::human::write_human(&inv, &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "\
Disks (4):
  NAME     STABLE PATH                                       SIZE    KIND  BUS   SERIAL    MODEL           SIGNATURES
  nvme0n1  /dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME0001_1    4.3 GB  nvme  nvme  NVME0001  QEMU NVMe Ctrl  none
  sdc      /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_HDD0001  4.3 GB  hdd   scsi  HDD0001   QEMU HARDDISK   none
  sdb      /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_HDD0002  4.3 GB  hdd   scsi  HDD0002   QEMU HARDDISK   none
  sda      /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_SSD0001  4.3 GB  ssd   scsi  SSD0001   QEMU HARDDISK   none

NICs (0):
  none

Excluded (3):
  NAME   REASON
  loop0  loop device
  sdd    USB-attached (ID_BUS=usb) — 4.3 GB QEMU HARDDISK, serial USB0001
  vda    running system (mounted at /, root=/dev/vda) — 1.6 GB, serial probe-root

RAM: 958.4 MiB
"
    );
}

/// A server booted from the NixOS ISO on a SATA stick-like disk, with every kind of
/// device the exclusion rules name.
fn iso_server(t: &FixtureTree) {
    t.meminfo_kib(64 * 1024 * 1024).unwrap();
    t.file(
        "/proc/cmdline",
        "initrd=initrd init=/nix/store/x-nixos/init root=LABEL=nixos-minimal \"boot=LABEL=NIXOS BOOT\" \
         pre-nixos.mode=careful\n",
    )
    .unwrap();
    // The NixOS ISO: / is tmpfs, /iso the medium (by its partition's number), the
    // store a squashfs on a loop device backed by a file on /iso.
    t.mounts(&[
        ("0:30", "/", "tmpfs", "tmpfs"),
        ("8:49", "/iso", "iso9660", "/dev/root"),
        (
            "7:0",
            "/nix/.ro-store",
            "squashfs",
            "/iso/nix-store.squashfs",
        ),
        ("0:32", "/nix/store", "overlay", "overlay"),
        ("8:17", "/mnt/my data", "ext4", "/dev/sdb1"),
    ])
    .unwrap();
    let disks = [
        BlockDev::new("nvme0n1", "259:0")
            .gib(1000)
            .rotational(Some(false))
            .prop("ID_SERIAL_SHORT", "S1NV")
            .prop("ID_SERIAL", "Samsung_SSD_980_1TB_S1NV_1")
            .prop("ID_MODEL", "Samsung SSD 980 1TB")
            .prop("ID_WWN", "eui.002538b911b2c3d4")
            .prop("ID_PATH", "pci-0000:01:00.0-nvme-1")
            .prop(
                "DEVLINKS",
                "/dev/disk/by-id/nvme-eui.002538b911b2c3d4 /dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S1NV \
                 /dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S1NV_1 /dev/disk/by-path/pci-0000:01:00.0-nvme-1",
            )
            .attr("device/model", "Samsung SSD 980 1TB                     ")
            .blkid("PTTYPE=gpt\nPTUUID=0b6c9a52-4b8e-4f4a-9c1b-3f4f2c1a0e11\n")
            .partition("nvme0n1p1", "259:1", &[])
            .partition("nvme0n1p2", "259:2", &["md127"]),
        BlockDev::new("sda", "8:0")
            .gib(480)
            .rotational(Some(false))
            .sector_sizes(512, 4096)
            .prop("ID_BUS", "ata")
            .prop("ID_ATA_SATA", "1")
            .prop("ID_SERIAL_SHORT", "BTWA1234")
            .prop("ID_SERIAL", "INTEL_SSDSC2KB480G8_BTWA1234")
            .prop("ID_WWN", "0x55cd2e4150000001")
            .prop("ID_MODEL_ENC", "INTEL\\x20SSDSC2KB480G8\\x20\\x20")
            .prop(
                "DEVLINKS",
                "/dev/disk/by-id/ata-INTEL_SSDSC2KB480G8_BTWA1234 /dev/disk/by-id/wwn-0x55cd2e4150000001 \
                 /dev/disk/by-id/scsi-SATA_INTEL_SSDSC2KB48_BTWA1234",
            )
            .blkid("TYPE=linux_raid_member\nUUID=1b2c\nLABEL=any:old\n")
            .holder("md127"),
        // The HDD: its `device/wwid` read fails with EINVAL, as on real SCSI disks.
        BlockDev::new("sdb", "8:16")
            .gib(4000)
            .sector_sizes(512, 4096)
            .prop("ID_BUS", "ata")
            .prop("ID_SERIAL_SHORT", "ZC1ABCDE")
            .prop("ID_SERIAL", "ST4000NM0035-1V4107_ZC1ABCDE")
            .prop("DEVLINKS", "/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1ABCDE")
            .attr("device/model", "ST4000NM0035-1V4")
            .attr_err("device/wwid", "EINVAL")
            .partition("sdb1", "8:17", &[]),
        BlockDev::new("sdc", "8:32")
            .gib(16)
            .removable()
            .prop("ID_BUS", "usb")
            .prop("ID_SERIAL_SHORT", "USB0001"),
        // The boot medium, recognised through its partition mounted at /iso.
        BlockDev::new("sdd", "8:48")
            .gib(32)
            .prop("ID_BUS", "ata")
            .prop("ID_SERIAL_SHORT", "ISODISK")
            .blkid("PTTYPE=dos\n")
            .partition("sdd1", "8:49", &[]),
        // A second medium, named only by boot=LABEL= on the kernel command line.
        BlockDev::new("sde", "8:64")
            .gib(8)
            .rotational(Some(false))
            .prop("ID_BUS", "ata")
            .partition("sde1", "8:65", &[])
            .partition("sde2", "8:66", &[]),
        BlockDev::new("sdf", "8:80").sectors(0).prop("ID_BUS", "scsi"),
        BlockDev::new("sdg", "8:96").read_only().prop("ID_BUS", "scsi"),
        // Every optional attribute the inventory reads fails with EINVAL: still a disk,
        // with the fields unknown (rotation → HDD, physical = logical sector).
        BlockDev::new("sdk", "8:160")
            .sector_sizes(4096, 4096)
            .prop("ID_BUS", "scsi")
            .prop("ID_SERIAL_SHORT", "FLAKY01")
            .prop("DEVLINKS", "/dev/disk/by-id/scsi-0VENDOR_FLAKY01")
            .attr_err("queue/rotational", "EINVAL")
            .attr_err("queue/physical_block_size", "EINVAL")
            .attr_err("device/model", "EINVAL")
            .attr_err("wwid", "EINVAL")
            .attr_err("serial", "ENODEV"),
        BlockDev::new("sdh", "8:112").attr_err("size", "ENXIO"),
        BlockDev::new("sdi", "8:128").attr_err("removable", "ENODEV"),
        // USB only by its path (a UAS bridge without ID_BUS=usb).
        BlockDev::new("sdj", "8:144").prop("ID_PATH", "pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:0"),
        BlockDev::new("mmcblk0", "179:0")
            .gib(16)
            .rotational(Some(false))
            .prop("ID_NAME", "SEM16G")
            .prop("ID_SERIAL", "0x1234abcd")
            .prop("DEVLINKS", "/dev/disk/by-id/mmc-SEM16G_0x1234abcd")
            .attr("device/name", "SEM16G")
            .attr("device/serial", "0x1234abcd")
            .partition("mmcblk0p1", "179:1", &[]),
        BlockDev::new("mmcblk0boot0", "179:8").sectors(8192).read_only(),
        BlockDev::new("mmcblk0rpmb", "179:24").sectors(8192),
        // Known to sysfs only (udev has not processed it): still a disk, by kernel name.
        BlockDev::new("vdb", "252:16").gib(20),
        BlockDev::new("zram0", "253:0").gib(8).attr("comp_algorithm", "[lzo-rle] zstd"),
        BlockDev::new("dm-0", "253:1").attr("dm/name", "oldvg-oldlv").slave("nvme0n1p2"),
        BlockDev::new("md127", "9:127").attr("md/level", "raid1").slave("sda").holder("dm-0"),
        BlockDev::new("loop0", "7:0")
            .sectors(2_000_000)
            .attr("loop/backing_file", "/iso/nix-store.squashfs"),
        BlockDev::new("loop1", "7:1").sectors(0),
        BlockDev::new("sr0", "11:0").prop("ID_CDROM", "1").removable(),
        BlockDev::new("fd0", "2:0").sectors(2880).removable(),
        BlockDev::new("nbd0", "43:0").sectors(0),
        BlockDev::new("ram0", "1:0").sectors(131072),
    ];
    for d in &disks {
        t.add(d).unwrap();
    }
    // vdb has no udev record at all.
    std::fs::remove_file(t.root().join("run/pre-nixos-fixture/udev/block/vdb")).unwrap();
    // udev lists a disk whose sysfs directory is gone (unplugged mid-scan).
    t.file(
        "/run/pre-nixos-fixture/udev/block/sdz",
        "DEVTYPE=disk\nID_BUS=ata\n",
    )
    .unwrap();
    // The label as udev encodes it in the link name.
    t.symlink("/dev/disk/by-label/NIXOS\\x20BOOT", "../../sde2")
        .unwrap();
}

#[test]
fn iso_server_keeps_only_installable_disks_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    iso_server(&t);
    let inv = scan(&FakeHost::new(dir.path())).unwrap();

    let base = |name: &str, path: &str, gib: u64, kind| Disk {
        name: name.into(),
        stable_path: path.into(),
        size_bytes: gib * GIB,
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
    };
    let hdd = Disk {
        physical_sector_bytes: 4096,
        bus: Some("ata".into()),
        model: Some("ST4000NM0035-1V4".into()),
        serial: Some("ZC1ABCDE".into()),
        partitions: strings(&["sdb1"]),
        ..base(
            "sdb",
            "/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC1ABCDE",
            4000,
            DiskKind::Hdd,
        )
    };
    let emmc = Disk {
        bus: Some("mmc".into()),
        serial: Some("0x1234abcd".into()),
        partitions: strings(&["mmcblk0p1"]),
        ..base(
            "mmcblk0",
            "/dev/disk/by-id/mmc-SEM16G_0x1234abcd",
            16,
            DiskKind::Ssd,
        )
    };
    let nvme = Disk {
        bus: Some("nvme".into()),
        model: Some("Samsung SSD 980 1TB".into()),
        serial: Some("S1NV".into()),
        wwn: Some("eui.002538b911b2c3d4".into()),
        partition_table: Some("gpt".into()),
        partitions: strings(&["nvme0n1p1", "nvme0n1p2"]),
        holders: strings(&["md127"]),
        probe_error: None,
        ..base(
            "nvme0n1",
            "/dev/disk/by-id/nvme-Samsung_SSD_980_1TB_S1NV_1",
            1000,
            DiskKind::Nvme,
        )
    };
    let sata_ssd = Disk {
        physical_sector_bytes: 4096,
        bus: Some("sata".into()),
        model: Some("INTEL SSDSC2KB480G8".into()),
        serial: Some("BTWA1234".into()),
        wwn: Some("0x55cd2e4150000001".into()),
        signatures: strings(&["linux_raid_member"]),
        holders: strings(&["md127"]),
        probe_error: None,
        ..base(
            "sda",
            "/dev/disk/by-id/wwn-0x55cd2e4150000001",
            480,
            DiskKind::Ssd,
        )
    };
    let flaky = Disk {
        logical_sector_bytes: 4096,
        physical_sector_bytes: 4096,
        bus: Some("scsi".into()),
        serial: Some("FLAKY01".into()),
        ..base(
            "sdk",
            "/dev/disk/by-id/scsi-0VENDOR_FLAKY01",
            4,
            DiskKind::Hdd,
        )
    };
    let virtio = Disk {
        bus: Some("virtio".into()),
        ..base("vdb", "/dev/vdb", 20, DiskKind::Hdd)
    };
    assert_eq!(inv.disks, vec![hdd, emmc, nvme, flaky, sata_ssd, virtio]);
    assert_eq!(
        pairs(&inv.excluded),
        excluded_pairs(&[
            ("dm-0", "device-mapper device"),
            ("fd0", "floppy drive"),
            ("loop0", "boot medium (mounted at /nix/.ro-store)"),
            ("loop1", "loop device"),
            ("md127", "md RAID array"),
            ("mmcblk0boot0", "eMMC boot partition"),
            ("mmcblk0rpmb", "eMMC RPMB partition"),
            ("nbd0", "network block device"),
            ("ram0", "RAM disk"),
            ("sdc", "USB-attached (ID_BUS=usb)"),
            (
                "sdd",
                "boot medium (mounted at /iso, mounted at /nix/.ro-store)"
            ),
            ("sde", "boot medium (boot=LABEL=NIXOS BOOT)"),
            ("sdf", "zero size (no medium)"),
            ("sdg", "read-only"),
            ("sdh", "size unreadable (ENXIO)"),
            ("sdi", "removable flag unreadable (ENODEV)"),
            (
                "sdj",
                "USB-attached (ID_PATH=pci-0000:00:14.0-usb-0:2:1.0-scsi-0:0:0:0)"
            ),
            ("sr0", "optical drive"),
            ("zram0", "zram device"),
        ])
    );
    assert_eq!(inv.ram_bytes, 64 * GIB);
}

#[test]
fn the_order_of_enumeration_does_not_change_the_inventory() {
    // Same hardware, kernel letters swapped: the disks come out in the same order
    // (by stable path), only the names differ.
    let make = |names: [&str; 2]| {
        let dir = tempfile::tempdir().unwrap();
        let t = FixtureTree::new(dir.path());
        t.meminfo_kib(1024).unwrap();
        for (name, serial) in names.iter().zip(["AAA", "BBB"]) {
            let minor = if *name == "sda" { "0" } else { "16" };
            t.add(
                &BlockDev::new(name, &format!("8:{minor}"))
                    .prop("ID_BUS", "ata")
                    .prop("ID_SERIAL_SHORT", serial)
                    .prop("DEVLINKS", &format!("/dev/disk/by-id/ata-DISK_{serial}")),
            )
            .unwrap();
        }
        let inv = scan(&FakeHost::new(dir.path())).unwrap();
        inv.disks
            .iter()
            .map(|d| (d.stable_path.clone(), d.name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        make(["sda", "sdb"]),
        [
            (
                "/dev/disk/by-id/ata-DISK_AAA".to_string(),
                "sda".to_string()
            ),
            (
                "/dev/disk/by-id/ata-DISK_BBB".to_string(),
                "sdb".to_string()
            )
        ]
    );
    assert_eq!(
        make(["sdb", "sda"]),
        [
            (
                "/dev/disk/by-id/ata-DISK_AAA".to_string(),
                "sdb".to_string()
            ),
            (
                "/dev/disk/by-id/ata-DISK_BBB".to_string(),
                "sda".to_string()
            )
        ]
    );
}

#[test]
fn root_on_lvm_on_raid_excludes_every_member_disk() {
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.meminfo_kib(1024).unwrap();
    t.mounts(&[("253:0", "/", "ext4", "/dev/mapper/vg-root")])
        .unwrap();
    t.add(&BlockDev::new("sda", "8:0").partition("sda1", "8:1", &["md0"]))
        .unwrap();
    t.add(&BlockDev::new("sdb", "8:16").partition("sdb1", "8:17", &["md0"]))
        .unwrap();
    t.add(&BlockDev::new("sdc", "8:32")).unwrap();
    t.add(
        &BlockDev::new("md0", "9:0")
            .slave("sda1")
            .slave("sdb1")
            .holder("dm-0"),
    )
    .unwrap();
    t.add(
        &BlockDev::new("dm-0", "253:0")
            .attr("dm/name", "vg-root")
            .slave("md0"),
    )
    .unwrap();
    let inv = scan(&FakeHost::new(dir.path())).unwrap();
    let names: Vec<&str> = inv.disks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["sdc"]);
    assert_eq!(
        pairs(&inv.excluded),
        excluded_pairs(&[
            ("dm-0", "device-mapper device"),
            ("md0", "md RAID array"),
            ("sda", "running system (mounted at /)"),
            ("sdb", "running system (mounted at /)"),
        ])
    );
}

#[test]
fn a_root_mount_known_only_by_its_source_path_is_resolved_through_links() {
    // btrfs reports an anonymous device number: the source path is what is left.
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.meminfo_kib(1024).unwrap();
    t.mounts(&[("0:45", "/", "btrfs", "/dev/disk/by-uuid/1234-abcd")])
        .unwrap();
    t.symlink("/dev/disk/by-uuid/1234-abcd", "../../nvme0n1p2")
        .unwrap();
    t.add(&BlockDev::new("nvme0n1", "259:0").partition("nvme0n1p2", "259:2", &[]))
        .unwrap();
    t.add(&BlockDev::new("nvme1n1", "259:3")).unwrap();
    let inv = scan(&FakeHost::new(dir.path())).unwrap();
    assert_eq!(inv.disks.len(), 1);
    assert_eq!(inv.disks[0].name, "nvme1n1");
    assert_eq!(inv.disks[0].kind, DiskKind::Nvme);
    assert_eq!(
        pairs(&inv.excluded),
        excluded_pairs(&[("nvme0n1", "running system (mounted at /)")])
    );
}

#[test]
fn a_missing_meminfo_leaves_ram_unknown_for_the_planner_to_refuse() {
    // RAM only sizes swap: the inventory still lists the disks, and planning without
    // a swap size says which file and which switch.
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.add(&BlockDev::new("nvme1n1", "259:3")).unwrap();
    let inv = scan(&FakeHost::new(dir.path())).unwrap();
    assert_eq!(inv.disks.len(), 1);
    assert_eq!(inv.ram_bytes, 0);
    let err = pre_nixos::plan::plan(&inv, &Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("/proc/meminfo"), "{err}");
    assert!(
        err.contains("--swap-size SIZE or pre-nixos.swap=SIZE"),
        "{err}"
    );
}

#[test]
fn boot_uuid_is_found_through_udev_properties_when_links_are_missing() {
    // Early in boot (or without udevd) /dev/disk/by-uuid may not exist yet; the
    // partition's udev record still names its filesystem UUID.
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.meminfo_kib(1024).unwrap();
    t.file("/proc/cmdline", "boot=UUID=2024-05-01-12-00-00-00 quiet\n")
        .unwrap();
    t.add(&BlockDev::new("sda", "8:0").partition("sda1", "8:1", &[]))
        .unwrap();
    t.add(&BlockDev::new("sdb", "8:16")).unwrap();
    t.file(
        "/run/pre-nixos-fixture/udev/block/sda1",
        "DEVTYPE=partition\nID_FS_TYPE=iso9660\nID_FS_UUID=2024-05-01-12-00-00-00\n",
    )
    .unwrap();
    let inv = scan(&FakeHost::new(dir.path())).unwrap();
    let names: Vec<&str> = inv.disks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["sdb"]);
    assert_eq!(
        pairs(&inv.excluded),
        excluded_pairs(&[("sda", "boot medium (boot=UUID=2024-05-01-12-00-00-00)")])
    );
}

#[test]
fn a_failed_probe_is_recorded_not_shown_as_a_blank_disk() {
    let dir = tempfile::tempdir().unwrap();
    let t = FixtureTree::new(dir.path());
    t.meminfo_kib(1024).unwrap();
    t.add(&BlockDev::new("nvme1n1", "259:3")).unwrap();
    t.file("/run/pre-nixos-fixture/blkid/nvme1n1.err", "EACCES\n")
        .unwrap();
    let inv = scan(&FakeHost::new(dir.path())).unwrap();
    let e = inv.disks[0].probe_error.as_deref().unwrap();
    assert!(
        e.starts_with("probing /dev/nvme1n1 with libblkid: Permission denied"),
        "{e}"
    );
    let mut out = Vec::new();
    inventory::human::write_human(&inv, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("unknown (probe failed)"), "{text}");
    assert!(
        text.contains("nvme1n1: probing /dev/nvme1n1 with libblkid: Permission denied"),
        "{text}"
    );
    let json = serde_json::to_value(&inv).unwrap();
    assert!(json["disks"][0]["probe_error"].is_string(), "{json}");
}
