//! `pre-nixos plan` / `--plan-only` on the built binary with `--inventory` fixtures:
//! each output format against the golden files, option precedence, and exit 2 with a
//! one-line message naming the field for malformed inventories.

use std::path::PathBuf;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdOutput, Host};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn example(name: &str) -> String {
    root().join("examples").join(name).display().to_string()
}

fn golden(case: &str, file: &str) -> String {
    std::fs::read_to_string(root().join("tests/golden").join(case).join(file)).unwrap()
}

/// Runs the binary; exit codes 0, 1 and 2 are results, not errors.
fn pre_nixos(args: &[&str]) -> CmdOutput {
    let state = tempfile::tempdir().unwrap();
    let mut argv = vec![env!("CARGO_BIN_EXE_pre-nixos")];
    argv.extend_from_slice(args);
    let cmd = Cmd::new("running pre-nixos", argv)
        .ok_codes(&[0, 1, 2])
        .env("PRE_NIXOS_STATE_DIR", state.path().display().to_string())
        .env("PRE_NIXOS_LOG", "warn")
        .env(
            "PRE_NIXOS_ACTIONS_LOG",
            std::env::temp_dir()
                .join("pre-nixos-cli-plan-actions.log")
                .display()
                .to_string(),
        );
    let out = RealHost::new().run(&cmd).expect("running the binary");
    // planning never writes into the state directory
    assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
    out
}

#[test]
fn each_output_matches_the_golden_files() {
    let inv = example("server-ssd-4hdd.json");
    for (output, file) in [
        ("json", "storage-plan.json"),
        ("disko", "disko-config.nix"),
        ("summary", "summary.txt"),
    ] {
        let out = pre_nixos(&["plan", "--inventory", &inv, "--output", output]);
        assert_eq!(out.status, Some(0), "{}", out.stderr);
        assert_eq!(
            out.stdout,
            golden("server-ssd-4hdd", file),
            "--output {output}"
        );
    }
    // summary is the default, and --plan-only is the same command
    let out = pre_nixos(&["--plan-only", "--inventory", &inv]);
    assert_eq!(out.stdout, golden("server-ssd-4hdd", "summary.txt"));
}

#[test]
fn mode_and_swap_size_shape_the_plan() {
    let out = pre_nixos(&[
        "--plan-only",
        "--inventory",
        &example("ssd-3.json"),
        "--mode",
        "careful",
        "--output",
        "json",
    ]);
    assert_eq!(out.status, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, golden("ssd-3-careful", "storage-plan.json"));

    let out = pre_nixos(&[
        "plan",
        "--inventory",
        &example("workstation-nvme.json"),
        "--swap-size",
        "8G",
        "--output",
        "json",
    ]);
    let plan = pre_nixos::render::json::plan_from_json(&out.stdout).unwrap();
    assert_eq!(plan.options.swap_size_bytes, Some(8 << 30));
    let swap = plan.layout.vgs[0]
        .lvs
        .iter()
        .find(|l| l.name == "swap")
        .unwrap();
    assert_eq!(swap.extents, 2048);
}

fn bad_inventory(edit: impl Fn(&mut serde_json::Value)) -> (tempfile::TempDir, String) {
    let text = std::fs::read_to_string(example("server-ssd-4hdd.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.json");
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    (dir, path.display().to_string())
}

fn assert_usage_error(path: &str, field: &str) {
    let out = pre_nixos(&["plan", "--inventory", path]);
    assert_eq!(
        out.status,
        Some(2),
        "stdout {} stderr {}",
        out.stdout,
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("pre-nixos plan: error:"))
        .unwrap_or_else(|| panic!("no error line in {:?}", out.stderr));
    assert!(line.contains(field), "{line:?} should name {field}");
    assert!(line.contains(path), "{line:?} should name the file");
}

#[test]
fn malformed_inventories_exit_2_naming_the_field() {
    let (_d, p) = bad_inventory(|v| v["disks"][1]["size_bytes"] = "big".into());
    assert_usage_error(&p, "field `disks[1].size_bytes`");
    let (_d, p) = bad_inventory(|v| v["disks"][0]["colour"] = "red".into());
    assert_usage_error(&p, "unknown field `colour`");
    let (_d, p) = bad_inventory(|v| {
        v.as_object_mut().unwrap().remove("ram_bytes");
    });
    assert_usage_error(&p, "missing field `ram_bytes`");
    let (_d, p) = bad_inventory(|v| v["disks"][0]["kind"] = "tape".into());
    assert_usage_error(&p, "field `disks[0].kind`");
    let (_d, p) = bad_inventory(|v| v["schema_version"] = 7.into());
    assert_usage_error(&p, "field `schema_version`");

    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("broken.json");
    std::fs::write(&p, "{ \"schema_version\": 1, ").unwrap();
    assert_usage_error(&p.display().to_string(), "EOF");
    let missing = dir.path().join("nope.json").display().to_string();
    assert_usage_error(&missing, "No such file");
}

#[test]
fn no_usable_disk_fails_with_a_clear_message() {
    let (_d, p) = bad_inventory(|v| v["disks"] = serde_json::json!([]));
    let out = pre_nixos(&["plan", "--inventory", &p]);
    // exit 2 like detect-storage: nothing to plan is an input condition, not a failed step
    assert_eq!(out.status, Some(2));
    assert!(
        out.stderr
            .contains("no usable disk: every block device is excluded"),
        "{}",
        out.stderr
    );
}

/// `8GB` is decimal, `8G` binary; a swap below 1 GiB, beyond u64, or too big for the
/// machine is refused naming the limit.
#[test]
fn swap_sizes_mean_what_their_units_say() {
    let inv = example("server-ssd-4hdd.json");
    let swap_bytes = |size: &str| -> u64 {
        let out = pre_nixos(&[
            "plan",
            "--inventory",
            &inv,
            "--output",
            "json",
            "--swap-size",
            size,
        ]);
        assert_eq!(out.status, Some(0), "{size}: {}", out.stderr);
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        v["layout"]["vgs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|vg| vg["lvs"].as_array().unwrap())
            .find(|lv| lv["name"] == "swap")
            .map(|lv| lv["size_bytes"].as_u64().unwrap())
            .unwrap()
    };
    assert_eq!(swap_bytes("8G"), 8 << 30);
    assert_eq!(swap_bytes("8GiB"), 8 << 30);
    // 8 × 10⁹ rounded up to whole 4 MiB extents
    assert_eq!(
        swap_bytes("8GB"),
        8_000_000_000u64.div_ceil(4 << 20) * (4 << 20)
    );

    for (size, says) in [
        ("1K", "below the 1.0 GiB minimum swap"),
        ("18446744073709551616", "too large"),
        ("100T", "does not fit this machine"),
    ] {
        let out = pre_nixos(&["plan", "--inventory", &inv, "--swap-size", size]);
        assert_eq!(out.status, Some(2), "{size}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("pre-nixos plan: error: ") && out.stderr.contains(says),
            "{size}: {}",
            out.stderr
        );
    }
}
