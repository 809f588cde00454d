//! `pre-nixos inventory` on this very machine (read-only): the JSON parses back into
//! an `Inventory`, and whatever block device holds `/` is excluded as the running
//! system, never offered as a disk.

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};
use pre_nixos::inventory::Inventory;

fn run(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("actions.log");
    let cmd = Cmd::new(
        "running pre-nixos inventory",
        std::iter::once(env!("CARGO_BIN_EXE_pre-nixos")).chain(args.iter().copied()),
    )
    .env("PRE_NIXOS_ACTIONS_LOG", log.to_str().unwrap());
    RealHost::new().run(&cmd).unwrap().stdout
}

/// The kernel name of the block device `/` is mounted from, if it is one.
fn root_device() -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let m = pre_nixos::inventory::boot_medium::parse_mountinfo(&info)
        .into_iter()
        .rfind(|m| m.mount_point == "/")?;
    if m.devnum.0 == 0 {
        return None;
    }
    let link = std::fs::read_link(format!("/sys/dev/block/{}:{}", m.devnum.0, m.devnum.1)).ok()?;
    let name = link.file_name()?.to_string_lossy().into_owned();
    // A partition's disk is its parent directory.
    let parent = std::path::Path::new("/sys/class/block")
        .join(&name)
        .join("partition");
    if parent.exists() {
        return Some(link.parent()?.file_name()?.to_string_lossy().into_owned());
    }
    Some(name)
}

#[test]
fn json_inventory_of_this_machine_excludes_the_running_system() {
    let out = run(&["inventory", "--json"]);
    let inv: Inventory = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(inv.schema_version, 1);
    assert!(inv.ram_bytes > 0);
    let mut paths: Vec<&str> = inv.disks.iter().map(|d| d.stable_path.as_str()).collect();
    let sorted = {
        let mut s = paths.clone();
        s.sort();
        s
    };
    assert_eq!(paths, sorted, "disks sorted by stable path");
    paths.clear();
    if let Some(root) = root_device() {
        assert!(
            inv.disks.iter().all(|d| d.name != root),
            "{root} offered as a disk: {out}"
        );
        let x = inv.excluded.iter().find(|x| x.name == root);
        let reason = x.map(|x| x.reason.as_str()).unwrap_or("");
        let stacked = std::fs::read_dir(format!("/sys/class/block/{root}/slaves"))
            .map(|d| d.count() > 0)
            .unwrap_or(false);
        // An md or dm root is excluded for what it is; its member disks carry the
        // "running system" reason (tested on fixture trees).
        if !stacked {
            assert!(
                reason.starts_with("running system (mounted at /"),
                "{root}: {reason:?}"
            );
        }
    }
    let human = run(&["inventory"]);
    assert!(
        human.starts_with(&format!("Disks ({}):\n", inv.disks.len())),
        "{human}"
    );
    assert!(
        human.contains(&format!("\nExcluded ({}):\n", inv.excluded.len())),
        "{human}"
    );
}
