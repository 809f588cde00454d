//! Image-file tier: `RealHost::blkid_probe` (libblkid through blkid-sys) on sparse
//! files formatted by the real tools, run through `Host::run`. Needs e2fsprogs and
//! gdisk; when they are missing the test fails and says how to install them.

use std::path::Path;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, Host};

fn sparse_image(dir: &Path, name: &str, bytes: u64) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().set_len(bytes).unwrap();
    p
}

fn run_tool(host: &RealHost, what: &str, argv: &[&str]) {
    match host.run(&Cmd::new(what, argv.iter().copied())) {
        Ok(_) => {}
        Err(e @ CmdError::NotFound { .. }) => panic!(
            "{}: {argv:?} is not installed; run `scripts/install-deps --all` (e2fsprogs, gdisk)",
            e.one_line()
        ),
        Err(e) => panic!("{}", e.one_line()),
    }
}

#[test]
fn probes_ext4_gpt_and_blank_images() {
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::new();

    let ext4 = sparse_image(dir.path(), "ext4.img", 64 << 20);
    let ext4_s = ext4.to_str().unwrap();
    run_tool(
        &host,
        "formatting ext4.img",
        &["mkfs.ext4", "-F", "-q", "-L", "probe-test", ext4_s],
    );
    let p = host.blkid_probe(&ext4).unwrap();
    assert_eq!(p.signatures, ["ext4"]);
    assert_eq!(p.partition_table, None);
    assert_eq!(p.values.get("TYPE").map(String::as_str), Some("ext4"));
    assert_eq!(
        p.values.get("LABEL").map(String::as_str),
        Some("probe-test")
    );
    assert_eq!(p.values.get("UUID").map(std::string::String::len), Some(36));

    let gpt = sparse_image(dir.path(), "gpt.img", 64 << 20);
    run_tool(
        &host,
        "writing a GPT to gpt.img",
        &["sgdisk", "-o", gpt.to_str().unwrap()],
    );
    let p = host.blkid_probe(&gpt).unwrap();
    assert_eq!(p.partition_table.as_deref(), Some("gpt"));
    assert!(p.signatures.is_empty(), "{:?}", p.signatures);
    assert_eq!(p.values.get("PTTYPE").map(String::as_str), Some("gpt"));

    let blank = sparse_image(dir.path(), "blank.img", 8 << 20);
    let p = host.blkid_probe(&blank).unwrap();
    assert_eq!(p, Default::default());

    let err = host
        .blkid_probe(&dir.path().join("missing.img"))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

/// Writes `len` bytes of a fixed pseudo-random pattern at `at` (reproducible: a data
/// pattern that happened to match a signature would fail the same way every run).
fn scribble(path: &Path, at: u64, len: usize) {
    use std::io::{Seek, SeekFrom, Write};
    let mut x: u32 = 0x2545_f491;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect();
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&data).unwrap();
}

fn zero(path: &Path, at: u64, len: usize) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&vec![0; len]).unwrap();
}

/// Every signature a Debian tool writes without kernel modules, on an image file,
/// through real libblkid and the same `content_reasons` detection uses: each is "not
/// clean" with its reason (md and LVM need the kernel: the VM suite has them).
#[test]
fn every_kind_of_leftover_on_an_image_is_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::new();
    let mib = 1u64 << 20;
    type Make = fn(&RealHost, &Path);
    let cases: Vec<(&str, u64, Make, &str)> = vec![
        ("blank", 64, |_, _| {}, ""),
        (
            "gpt",
            64,
            |h, p| run_tool(h, "gpt", &["sgdisk", "-o", p.to_str().unwrap()]),
            "partition-table",
        ),
        (
            "gpt-backup-only",
            64,
            |h, p| {
                run_tool(h, "gpt", &["sgdisk", "-o", p.to_str().unwrap()]);
                // The primary header and table gone: only the backup at the end is left.
                zero(p, 0, 34 * 512);
            },
            "partition-table",
        ),
        (
            "dos",
            64,
            |h, p| {
                h.run(
                    &Cmd::new("dos", ["sfdisk", "-q", p.to_str().unwrap()])
                        .stdin("label: dos\n,,L\n"),
                )
                .unwrap();
            },
            "partition-table",
        ),
        (
            "ext4",
            64,
            |h, p| run_tool(h, "ext4", &["mkfs.ext4", "-F", "-q", p.to_str().unwrap()]),
            "signature:ext4",
        ),
        (
            "xfs",
            320,
            |h, p| run_tool(h, "xfs", &["mkfs.xfs", "-q", "-f", p.to_str().unwrap()]),
            "signature:xfs",
        ),
        (
            "btrfs",
            256,
            |h, p| run_tool(h, "btrfs", &["mkfs.btrfs", "-q", "-f", p.to_str().unwrap()]),
            "signature:btrfs",
        ),
        (
            "vfat",
            64,
            |h, p| run_tool(h, "vfat", &["mkfs.vfat", p.to_str().unwrap()]),
            "signature:vfat",
        ),
        (
            "swap",
            64,
            |h, p| run_tool(h, "swap", &["mkswap", p.to_str().unwrap()]),
            "signature:swap",
        ),
        (
            "luks1",
            64,
            |h, p| luks(h, p, "luks1"),
            "signature:crypto_LUKS",
        ),
        (
            "luks2",
            64,
            |h, p| luks(h, p, "luks2"),
            "signature:crypto_LUKS",
        ),
        (
            "iso9660",
            0,
            |h, p| {
                let src = p.with_extension("d");
                std::fs::create_dir_all(&src).unwrap();
                std::fs::write(src.join("README"), "pre-nixos image test\n").unwrap();
                let _ = std::fs::remove_file(p);
                run_tool(
                    h,
                    "iso9660",
                    &[
                        "genisoimage",
                        "-quiet",
                        "-V",
                        "PNX",
                        "-o",
                        p.to_str().unwrap(),
                        src.to_str().unwrap(),
                    ],
                );
            },
            "signature:iso9660",
        ),
        (
            "ext4-behind-a-zapped-table",
            64,
            |h, p| {
                let s = p.to_str().unwrap();
                run_tool(h, "partition", &["sgdisk", "-o", "-n", "1:2048:0", s]);
                run_tool(
                    h,
                    "ext4 at 1 MiB",
                    &["mkfs.ext4", "-F", "-q", "-E", "offset=1048576", s, "60M"],
                );
                run_tool(h, "zap", &["sgdisk", "--zap-all", s]);
            },
            "unknown-data",
        ),
        (
            "data-without-a-header",
            64,
            |_, p| scribble(p, 0, 4 << 20),
            "unknown-data",
        ),
    ];
    for (name, size_mib, make, want) in cases {
        let img = sparse_image(dir.path(), &format!("{name}.img"), size_mib.max(1) * mib);
        make(&host, &img);
        let probe = host.blkid_probe(&img).unwrap();
        let reasons = pre_nixos::storage::detect::content_reasons(&host, &img, &probe).unwrap();
        if want.is_empty() {
            assert_eq!(reasons, Vec::<String>::new(), "{name}");
        } else {
            assert!(
                reasons.iter().any(|r| r == want),
                "{name}: {reasons:?}, expected {want}"
            );
        }
    }
}

fn luks(host: &RealHost, p: &Path, kind: &str) {
    // pbkdf2 with few iterations: a test header, not a secret; no device-mapper needed.
    host.run(
        &Cmd::new(
            format!("formatting {kind}"),
            [
                "cryptsetup",
                "luksFormat",
                "-q",
                "--batch-mode",
                "--type",
                kind,
                "--pbkdf",
                "pbkdf2",
                "--pbkdf-force-iterations",
                "1000",
                "--key-file",
                "-",
                p.to_str().unwrap(),
            ],
        )
        .stdin("test passphrase"),
    )
    .unwrap_or_else(|e| panic!("{}", e.one_line()));
}
