//! Tier 2: real tools on sparse image files (and a loop device, which this host's
//! kernel allows): GPT, ext4, vfat, swap, labels, libblkid detection of each kind of
//! signature, clean vs not clean, the status file. md and device-mapper are not
//! available here; RAID and LVM are proven in the VM suite.
//!
//! A missing tool fails the test with the reason; nothing is skipped silently.

use std::path::{Path, PathBuf};

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};
use pre_nixos::inventory::DiskKind;
use pre_nixos::plan::{Layout, PartitionRole, PlannedDisk};
use pre_nixos::state::status::{self, State, StorageStatus};
use pre_nixos::storage::detect;
use pre_nixos::storage::exec::native::{self, Action};
use pre_nixos::storage::resume::{self, Markers};
use pre_nixos::testkit;

const MIB: u64 = 1 << 20;

fn need(tools: &[&str]) {
    for t in tools {
        let found = std::env::var("PATH")
            .unwrap_or_default()
            .split(':')
            .chain(["/usr/sbin", "/sbin"])
            .any(|d| Path::new(d).join(t).exists());
        assert!(
            found,
            "tier-2 image tests need {t} (install gdisk, e2fsprogs, dosfstools, util-linux); failing instead of skipping"
        );
    }
}

fn sh(host: &RealHost, argv: &[&str]) -> String {
    let out = host
        .run(&Cmd::new(
            format!("running {}", argv[0]),
            argv.iter().copied(),
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    out.stdout
}

/// A fixture root whose `/dev/<name>` is a sparse image file and whose sysfs says
/// how big it is: real libblkid probes it through the production code.
struct ImageDisk {
    name: String,
    image: PathBuf,
    disk: PlannedDisk,
}

fn image_disk(root: &Path, name: &str, size: u64) -> ImageDisk {
    let serial = format!("IMG-{name}");
    let mut disk = testkit::disk(
        "main0",
        name,
        &serial,
        size,
        DiskKind::Ssd,
        Some(("EFI", true)),
        PartitionRole::Pv { vg: "main".into() },
    );
    disk.stable_path = format!("/dev/disk/by-id/ata-IMG_{name}");
    let image = root.join("dev").join(name);
    std::fs::create_dir_all(image.parent().unwrap()).unwrap();
    let f = std::fs::File::create(&image).unwrap();
    f.set_len(size).unwrap();
    let sys = root.join("sys/block").join(name);
    std::fs::create_dir_all(&sys).unwrap();
    std::fs::write(sys.join("size"), format!("{}\n", size / 512)).unwrap();
    let link = root.join(disk.stable_path.trim_start_matches('/'));
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(format!("../../{name}"), link).unwrap();
    ImageDisk {
        name: name.into(),
        image,
        disk,
    }
}

fn empty_tables(root: &Path) {
    std::fs::create_dir_all(root.join("proc/self")).unwrap();
    std::fs::write(root.join("proc/self/mountinfo"), "").unwrap();
    std::fs::write(
        root.join("proc/swaps"),
        "Filename Type Size Used Priority\n",
    )
    .unwrap();
}

/// The in-progress marker of a plan whose only disk is `d`.
fn markers(d: &ImageDisk) -> Markers {
    Markers::for_layout(&Layout {
        disks: vec![d.disk.clone()],
        ..Layout::default()
    })
}

/// The exact sgdisk argv the native executor runs, pointed at the image.
fn partition_argv(d: &ImageDisk) -> Vec<String> {
    let step = native::partition_step(&d.disk, &d.disk.name, &markers(d).in_progress);
    let Some(Action::Run(cmd)) = step.actions.iter().find(|a| matches!(a, Action::Run(_))) else {
        panic!("no sgdisk in {step:?}");
    };
    let mut argv = cmd.argv.clone();
    *argv.last_mut().unwrap() = d.image.display().to_string();
    argv
}

#[test]
fn detection_on_image_files_finds_every_kind_of_signature() {
    need(&["sgdisk", "mkfs.ext4", "mkfs.vfat", "mkswap", "dd"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    empty_tables(root);
    let host = RealHost::with_root(root);
    let blank = image_disk(root, "sda", 64 * MIB);
    let gpt = image_disk(root, "sdb", 2048 * MIB);
    let ext4 = image_disk(root, "sdc", 64 * MIB);
    let vfat = image_disk(root, "sdd", 64 * MIB);
    let swap = image_disk(root, "sde", 64 * MIB);
    let backup_gpt = image_disk(root, "sdf", 2048 * MIB);

    let argv = partition_argv(&gpt);
    sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    sh(
        &host,
        &[
            "mkfs.ext4",
            "-q",
            "-F",
            "-L",
            "olddata",
            ext4.image.to_str().unwrap(),
        ],
    );
    sh(
        &host,
        &["mkfs.vfat", "-n", "OLD", vfat.image.to_str().unwrap()],
    );
    sh(
        &host,
        &["mkswap", "-L", "oldswap", swap.image.to_str().unwrap()],
    );
    // Only the backup GPT header at the end survives: protective MBR and primary
    // header zeroed, as a careless wipe of the first sectors leaves it.
    let argv = partition_argv(&backup_gpt);
    sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    let of = format!("of={}", backup_gpt.image.display());
    sh(
        &host,
        &[
            "dd",
            "if=/dev/zero",
            &of,
            "bs=512",
            "count=34",
            "conv=notrunc",
            "status=none",
        ],
    );

    let disks: Vec<PlannedDisk> = [&blank, &gpt, &ext4, &vfat, &swap, &backup_gpt]
        .iter()
        .map(|d| d.disk.clone())
        .collect();
    let found = detect::detect(&host, &disks).unwrap();
    let reasons: Vec<(String, Vec<String>)> = found
        .disks
        .iter()
        .map(|d| (d.name.clone().unwrap(), d.reasons.clone()))
        .collect();
    let r = |v: &[&str]| {
        v.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        reasons,
        [
            ("sda".into(), r(&[])),
            ("sdb".into(), r(&["partition-table"])),
            ("sdc".into(), r(&["signature:ext4"])),
            ("sdd".into(), r(&["signature:vfat"])),
            ("sde".into(), r(&["signature:swap"])),
            ("sdf".into(), r(&["partition-table"])),
        ]
    );
    assert!(found.disks[0].clean());
    assert_eq!(detect::exit_code(&found), 0);
    // Only the blank one: all clean.
    let only_blank = detect::detect(&host, &disks[..1]).unwrap();
    assert_eq!(detect::exit_code(&only_blank), 1);
    let _ = blank.name;
}

#[test]
fn the_native_partition_and_mkfs_commands_work_with_the_real_tools() {
    need(&["sgdisk", "mkfs.ext4", "mkfs.vfat", "mkswap"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let host = RealHost::with_root(root);
    let d = image_disk(root, "nvme0n1", 2048 * MIB);
    let argv = partition_argv(&d);
    sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    let img = d.image.to_str().unwrap();
    let p1 = sh(&host, &["sgdisk", "-i", "1", img]);
    assert!(p1.contains("Partition name: 'disk-main0-ESP'"), "{p1}");
    assert!(p1.contains("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), "{p1}");
    assert!(
        p1.contains("Partition size: 2097152 sectors (1024.0 MiB)"),
        "{p1}"
    );
    let p2 = sh(&host, &["sgdisk", "-i", "2", img]);
    assert!(p2.contains("Partition name: 'disk-main0-pv'"), "{p2}");
    assert!(p2.contains("E6D6D379-F507-44C2-A23C-238F2A3DF928"), "{p2}");
    let probe = host.blkid_probe(Path::new("/dev/nvme0n1")).unwrap();
    assert_eq!(probe.partition_table.as_deref(), Some("gpt"));

    // Every mkfs step of a plan, run for real on an image of its own; libblkid
    // must read back the type and label the plan asked for.
    let plan = testkit::ssd_and_hdd_pair();
    let mut checked = 0;
    for step in native::steps(&plan, &native::Knames::of_plan(&plan))
        .iter()
        .filter(|s| s.key == "mkfs")
    {
        let Some(Action::Run(cmd)) = step.actions.first() else {
            panic!("{step:?}")
        };
        let name = format!("fs{checked}");
        let target = image_disk(root, &name, 600 * MIB);
        let mut argv = cmd.argv.clone();
        *argv.last_mut().unwrap() = target.image.display().to_string();
        if argv[0] == "mkfs.ext4" {
            argv.insert(1, "-q".into());
        }
        sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());
        let probe = host.blkid_probe(&Path::new("/dev").join(&name)).unwrap();
        let label_flag = argv
            .iter()
            .position(|a| a == "-L" || a == "-n")
            .expect("a label flag");
        let want_type = match argv[0].as_str() {
            "mkfs.vfat" => "vfat",
            "mkfs.ext4" => "ext4",
            "mkswap" => "swap",
            other => panic!("unexpected {other}"),
        };
        assert_eq!(probe.signatures, [want_type], "{argv:?}");
        assert_eq!(
            probe.values.get("LABEL"),
            Some(&argv[label_flag + 1]),
            "{argv:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 6, "ESP + slash, home, swap, var_tmp, var_log");
}

#[test]
fn the_status_file_is_replaced_atomically_on_a_real_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::with_root(dir.path());
    let state = Path::new("/run/pre-nixos");
    let mut s = StorageStatus {
        state: State::Running,
        detail: String::new(),
        plan: Some("/run/pre-nixos/storage-plan.json".into()),
        disks: vec!["sda".into()],
        error: None,
        version: "0.1.0".into(),
        updated: status::now_rfc3339(&host),
    };
    status::write_storage(&host, state, &s).unwrap();
    s.state = State::Failed;
    s.detail = "mkfs".into();
    s.error = Some("making ext4 slash: exited 1".into());
    status::write_storage(&host, state, &s).unwrap();
    let back = status::read_storage(&host, state).unwrap().unwrap();
    assert_eq!(back.state, State::Failed);
    assert_eq!(back.error.as_deref(), Some("making ext4 slash: exited 1"));
    let names: Vec<String> = std::fs::read_dir(dir.path().join("run/pre-nixos"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["storage-status"], "no temp file left behind");
}

/// Unmounts and detaches what the loop test set up, by name, even on panic.
struct Loop<'a> {
    host: &'a RealHost,
    dev: String,
    mountpoint: Option<PathBuf>,
}

impl Drop for Loop<'_> {
    fn drop(&mut self) {
        if let Some(m) = &self.mountpoint {
            let _ = self.host.run(&Cmd::new(
                "unmounting the test loop device",
                ["umount".to_owned(), m.display().to_string()],
            ));
        }
        let _ = self.host.run(&Cmd::new(
            "detaching the test loop device",
            ["losetup", "-d", &self.dev],
        ));
    }
}

/// A real block device: libblkid through the production probe, mountinfo from
/// the kernel. (This kernel creates no partition nodes for loop devices, so
/// partitions and holders are covered by the fixture-tree tests instead.)
#[test]
fn a_mounted_loop_device_is_not_clean() {
    need(&["losetup", "mkfs.ext4", "mount", "umount"]);
    let host = RealHost::new();
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    std::fs::File::create(&img)
        .unwrap()
        .set_len(64 * MIB)
        .unwrap();
    let img_s = img.to_str().unwrap();
    sh(&host, &["mkfs.ext4", "-q", "-F", "-L", "loopdata", img_s]);
    let dev = sh(&host, &["losetup", "-f", "--show", img_s])
        .trim()
        .to_owned();
    assert!(dev.starts_with("/dev/loop"), "losetup printed {dev:?}");
    let mut guard = Loop {
        host: &host,
        dev: dev.clone(),
        mountpoint: None,
    };
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    sh(&host, &["mount", &dev, mnt.to_str().unwrap()]);
    guard.mountpoint = Some(mnt.clone());
    let kname = dev.trim_start_matches("/dev/").to_owned();
    let size: u64 = host
        .read_attr(&Path::new("/sys/block").join(&kname).join("size"))
        .unwrap()
        .parse()
        .unwrap();
    let disk = PlannedDisk {
        key: "loop".into(),
        name: kname.clone(),
        stable_path: dev.clone(),
        serial: None,
        wwn: None,
        model: None,
        size_bytes: size * 512,
        kind: DiskKind::Ssd,
        partitions: vec![],
    };
    let found = detect::detect(&host, &[disk]).unwrap();
    assert_eq!(
        found.disks[0].reasons,
        [
            "signature:ext4".to_owned(),
            format!("mounted:{}", mnt.display())
        ]
    );
    assert_eq!(detect::exit_code(&found), 0);
}

#[test]
fn the_apply_marker_written_by_sgdisk_is_read_back_by_detection() {
    need(&["sgdisk"]);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    empty_tables(root);
    let host = RealHost::with_root(root);
    let d = image_disk(root, "sdb", 2048 * MIB);
    let layout = Layout {
        disks: vec![d.disk.clone()],
        ..Layout::default()
    };
    let expected = resume::Expected::for_layout(&layout);
    let argv = partition_argv(&d);
    sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());

    // The partitioning call leaves the plan's in-progress marker as the disk GUID,
    // and detection reads it back through libblkid.
    let found = detect::detect(&host, std::slice::from_ref(&d.disk)).unwrap();
    let report = &found.disks[0];
    assert_eq!(report.reasons, ["partition-table"]);
    assert_eq!(
        report.ptuuid.as_deref(),
        Some(expected.markers.in_progress.as_str())
    );
    assert!(resume::is_in_progress_marker(
        report.ptuuid.as_deref().unwrap()
    ));
    let img = d.image.to_str().unwrap();
    let printed = sh(&host, &["sgdisk", "-p", img]);
    assert!(
        printed.contains(&format!(
            "Disk identifier (GUID): {}",
            expected.markers.in_progress.to_uppercase()
        )),
        "{printed}"
    );
    assert_eq!(
        resume::check(
            &expected,
            &found.dirty().iter().map(|d| d.found()).collect::<Vec<_>>()
        ),
        Ok(vec![d.disk.stable_path.clone()])
    );
    // Another plan (one partition size differs) does not own this marker.
    let mut other = layout.clone();
    other.disks[0].partitions[0].size_bytes = Some(512 * MIB);
    let e = resume::check(
        &resume::Expected::for_layout(&other),
        &found.dirty().iter().map(|d| d.found()).collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert!(e.contains("another plan"), "{e}");

    // The finish step's exact argv, pointed at the image: the marker becomes `done`,
    // the table and its partitions stay as they were, and resuming is refused.
    let plan = pre_nixos::plan::Plan {
        layout: layout.clone(),
        ..testkit::ssd_and_hdd_pair()
    };
    let finish = native::finish_step(&plan);
    let Some(Action::Run(cmd)) = finish.actions.first() else {
        panic!("{finish:?}")
    };
    let mut argv = cmd.argv.clone();
    *argv.last_mut().unwrap() = img.to_owned();
    sh(&host, &argv.iter().map(String::as_str).collect::<Vec<_>>());
    let found = detect::detect(&host, std::slice::from_ref(&d.disk)).unwrap();
    assert_eq!(
        found.disks[0].ptuuid.as_deref(),
        Some(expected.markers.done.as_str())
    );
    let e = resume::check(
        &expected,
        &found.dirty().iter().map(|d| d.found()).collect::<Vec<_>>(),
    )
    .unwrap_err();
    assert!(e.contains("done marker"), "{e}");
    let p2 = sh(&host, &["sgdisk", "-i", "2", img]);
    assert!(p2.contains("Partition name: 'disk-main0-pv'"), "{p2}");
}

/// The cleanup methods with the real tools: `discard` on a loop device over a sparse
/// file (the loop driver passes a discard on as a hole punched in the file, so every
/// byte reads back zero), `overwrite` on an image file (shred writes to the end of what
/// it is given, a file as a disk). Each through the production command and the
/// production discard check.
#[test]
fn the_discard_and_overwrite_methods_clean_real_devices() {
    use pre_nixos::kcmdline::WipeMethod;
    use pre_nixos::storage::teardown::{check_discard, method_command};
    need(&["losetup", "blkdiscard", "shred"]);
    let host = RealHost::new();
    let dir = tempfile::tempdir().unwrap();
    let pattern: Vec<u8> = (0..MIB as usize).map(|i| (i % 251) as u8 + 1).collect();
    let make = |name: &str| {
        let p = dir.path().join(name);
        let mut data = Vec::new();
        for _ in 0..8 {
            data.extend_from_slice(&pattern);
        }
        std::fs::write(&p, &data).unwrap();
        p
    };

    // discard, on a loop device.
    let img = make("ssd.img");
    let dev = sh(&host, &["losetup", "-f", "--show", img.to_str().unwrap()])
        .trim()
        .to_owned();
    assert!(dev.starts_with("/dev/loop"), "losetup printed {dev:?}");
    let _guard = Loop {
        host: &host,
        dev: dev.clone(),
        mountpoint: None,
    };
    let kname = dev.trim_start_matches("/dev/");
    check_discard(&host, "/dev/disk/by-id/loop-test", kname)
        .unwrap_or_else(|e| panic!("this kernel's loop driver should discard: {e:#}"));
    let c = method_command(WipeMethod::Discard, &dev, 8 * MIB).unwrap();
    host.run(&c).unwrap_or_else(|e| panic!("{e}"));
    let after = std::fs::read(&img).unwrap();
    assert_eq!(after.len() as u64, 8 * MIB);
    assert!(
        after.iter().all(|&b| b == 0),
        "blkdiscard left data on {dev}"
    );

    // overwrite, on an image file.
    let img = make("hdd.img");
    let path = img.to_str().unwrap();
    let c = method_command(WipeMethod::Overwrite, path, 8 * MIB).unwrap();
    host.run(&c).unwrap_or_else(|e| panic!("{e}"));
    let after = std::fs::read(&img).unwrap();
    assert_eq!(after.len() as u64, 8 * MIB, "shred must not grow the file");
    for (i, chunk) in after.chunks(MIB as usize).enumerate() {
        assert_ne!(chunk, &pattern[..], "MiB {i} still holds the old data");
        assert!(
            chunk.iter().any(|&b| b != 0),
            "MiB {i} is zeros, not random data"
        );
    }
}

/// A device whose queue says it cannot discard is refused by name.
#[test]
fn discard_is_refused_by_name_where_the_queue_says_no() {
    use pre_nixos::storage::teardown::check_discard;
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("sys/block/sdb/queue");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join("discard_max_bytes"), "0\n").unwrap();
    let host = RealHost::with_root(dir.path());
    let e = format!(
        "{:#}",
        check_discard(&host, "/dev/disk/by-id/ata-HDD_1", "sdb").unwrap_err()
    );
    assert!(
        e.starts_with(
            "discarding /dev/sdb (/dev/disk/by-id/ata-HDD_1): the device does not support discard"
        ),
        "{e}"
    );
}
