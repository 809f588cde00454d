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
