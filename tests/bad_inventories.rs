//! Hand-made inventories that are wrong in ways a JSON schema does not catch
//! (`tests/fixtures/inventories/`): each is refused with exit 2 and one error line that
//! names the file, the field and the disks, or planned with the bad disk left out. No
//! input makes the binary panic or overflow.

use std::path::PathBuf;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdOutput, Host};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/inventories")
        .join(name)
        .display()
        .to_string()
}

fn pre_nixos(args: &[&str]) -> CmdOutput {
    let state = tempfile::tempdir().unwrap();
    let mut argv = vec![env!("CARGO_BIN_EXE_pre-nixos")];
    argv.extend_from_slice(args);
    let cmd = Cmd::new("running pre-nixos", argv)
        .ok_codes(&[0, 1, 2, 101])
        .env("PRE_NIXOS_STATE_DIR", state.path().display().to_string())
        .env("PRE_NIXOS_LOG", "warn")
        .env(
            "PRE_NIXOS_ACTIONS_LOG",
            state.path().join("actions.log").display().to_string(),
        );
    RealHost::new().run(&cmd).expect("running the binary")
}

/// `plan --inventory FILE` exits 2 with one `pre-nixos plan: error:` line naming the
/// file and every word of `names`.
fn refused(file: &str, names: &[&str]) {
    let path = fixture(file);
    let out = pre_nixos(&["plan", "--inventory", &path]);
    assert_eq!(out.status, Some(2), "{file}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{file}: {}", out.stdout);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{file}: {}", out.stderr);
    assert!(
        lines[0].starts_with("pre-nixos plan: error: "),
        "{file}: {}",
        lines[0]
    );
    for n in names.iter().chain([&path.as_str()]) {
        assert!(
            lines[0].contains(n),
            "{file}: {:?} should name {n}",
            lines[0]
        );
    }
}

#[test]
fn two_inventories_in_one_file_are_refused() {
    refused("trailing-data.json", &["more data after the JSON value"]);
}

#[test]
fn an_empty_stable_path_is_refused_naming_the_field() {
    refused(
        "empty-stable-path.json",
        &["`disks[2].stable_path`", "sdb", "by-id"],
    );
}

#[test]
fn a_stable_path_two_disks_share_is_refused_naming_both() {
    refused(
        "duplicate-stable-path.json",
        &["disks sda and sdb", "`stable_path`"],
    );
}

#[test]
fn absurd_sizes_are_refused_naming_the_field_not_overflowed() {
    refused(
        "huge-ram.json",
        &["`ram_bytes`", "9223372036854775808", "1 PiB"],
    );
    refused("huge-disks.json", &["`disks[1].size_bytes`", "sda"]);
}

#[test]
fn a_usb_disk_listed_as_a_disk_is_left_out() {
    let out = pre_nixos(&["plan", "--inventory", &fixture("usb-disk.json")]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    let plan = pre_nixos(&[
        "plan",
        "--inventory",
        &fixture("usb-disk.json"),
        "--output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let names: Vec<&str> = v["layout"]["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"sdb"), "{names:?}");
    assert!(
        v["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "sdb" && e["reason"].as_str().unwrap().contains("USB")),
        "{}",
        plan.stdout
    );
}

#[test]
fn disks_sharing_a_serial_plan_with_a_warning_naming_both() {
    let out = pre_nixos(&["plan", "--inventory", &fixture("duplicate-serial.json")]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("disks sda and sdb report the same serial WSD00000"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_swap_size_beyond_u64_is_a_usage_error() {
    let out = pre_nixos(&[
        "plan",
        "--inventory",
        &fixture("usb-disk.json"),
        "--swap-size",
        "18446744073709551616",
    ]);
    assert_eq!(out.status, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.starts_with("pre-nixos plan: error: ") && out.stderr.contains("--swap-size"),
        "{}",
        out.stderr
    );
}
