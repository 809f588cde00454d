//! Golden renderings, byte for byte, for the example machines: storage-plan.json,
//! disko-config.nix, summary.txt, hardware-disk.nix, and network-lan.nix. `UPDATE_GOLDEN=1 cargo test
//! --test golden` rewrites them (review the diff before committing).
//!
//! Every golden `.nix` is also read by a real Nix evaluator (Debian's nix-bin):
//! `nix-instantiate --parse`, then `--eval --strict --json --store dummy://`, and the
//! evaluated disko config is compared structurally with the plan. Without
//! `nix-instantiate` these tests FAIL and say how to install it.

use std::path::{Path, PathBuf};

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};
use pre_nixos::plan::{plan, LvContent, Mode, PartitionRole, Plan, PlanOptions};
use pre_nixos::render::{disko, json, nixos, read_inventory_file, summary};
use serde_json::Value;

struct Case {
    name: &'static str,
    inventory: &'static str,
    mode: Mode,
}

const CASES: &[Case] = &[
    Case {
        name: "server-ssd-4hdd",
        inventory: "examples/server-ssd-4hdd.json",
        mode: Mode::Fast,
    },
    Case {
        name: "workstation-nvme",
        inventory: "examples/workstation-nvme.json",
        mode: Mode::Fast,
    },
    Case {
        name: "storage-ssd-6hdd",
        inventory: "examples/storage-ssd-6hdd.json",
        mode: Mode::Fast,
    },
    Case {
        name: "hdd-only-3",
        inventory: "examples/hdd-only-3.json",
        mode: Mode::Fast,
    },
    Case {
        name: "ssd-3-careful",
        inventory: "examples/ssd-3.json",
        mode: Mode::Careful,
    },
    Case {
        name: "mixed-three-sizes",
        inventory: "examples/mixed-three-sizes.json",
        mode: Mode::Careful,
    },
    Case {
        name: "nasty-strings",
        inventory: "tests/fixtures/inventories/nasty-strings.json",
        mode: Mode::Fast,
    },
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn plan_case(c: &Case) -> Plan {
    let inv = read_inventory_file(&root().join(c.inventory)).expect("reading example inventory");
    let opts = PlanOptions {
        mode: c.mode,
        swap_size_bytes: None,
    };
    plan(&inv, &opts).expect("planning example")
}

fn renderings(p: &Plan) -> Vec<(&'static str, String)> {
    let mut s = Vec::new();
    summary::write_summary(p, &mut s).unwrap();
    vec![
        ("storage-plan.json", json::plan_to_json(p)),
        ("disko-config.nix", disko::render_disko(p)),
        ("summary.txt", String::from_utf8(s).unwrap()),
        ("hardware-disk.nix", nixos::hardware_disk_nix(p)),
    ]
}

#[test]
fn golden_files_match() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for c in CASES {
        let dir = root().join("tests/golden").join(c.name);
        for (file, text) in renderings(&plan_case(c)) {
            let path = dir.join(file);
            if update {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, &text).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "reading {}: {e} (UPDATE_GOLDEN=1 creates it)",
                    path.display()
                )
            });
            if want != text {
                stale.push(path.display().to_string());
            }
        }
    }
    let lan = nixos::network_lan_nix("3C:EC:EF:10:20:31", true);
    let path = root().join("tests/golden/network-lan.nix");
    if update {
        std::fs::write(&path, &lan).unwrap();
    } else if std::fs::read_to_string(&path).ok().as_deref() != Some(lan.as_str()) {
        stale.push(path.display().to_string());
    }
    assert!(
        stale.is_empty(),
        "renderings differ from the golden files (inspect, then UPDATE_GOLDEN=1): {stale:#?}"
    );
}

#[test]
fn golden_plans_round_trip() {
    for c in CASES {
        let p = plan_case(c);
        let text = json::plan_to_json(&p);
        assert_eq!(json::plan_from_json(&text).unwrap(), p, "{}", c.name);
        assert!(text.ends_with("}\n"));
    }
}

// ---- a real Nix evaluator ------------------------------------------------------

fn nix(args: &[&str]) -> String {
    let host = RealHost::new();
    let mut argv = vec!["nix-instantiate"];
    argv.extend_from_slice(args);
    let cmd = Cmd::new("evaluating a rendered Nix file", argv)
        .env(
            "NIX_STATE_DIR",
            std::env::temp_dir()
                .join("pre-nixos-nix-state")
                .display()
                .to_string(),
        )
        .env("NIX_REMOTE", "")
        .timeout(std::time::Duration::from_secs(60));
    match host.run(&cmd) {
        Ok(out) => out.stdout,
        Err(pre_nixos::host::CmdError::NotFound { .. }) => panic!(
            "nix-instantiate is not installed, so the rendered Nix cannot be checked: run scripts/install-deps --all"
        ),
        Err(e) => panic!("{e}"),
    }
}

fn eval_json(path: &Path, apply_empty_arg: bool) -> Value {
    let p = path.display().to_string();
    let out = if apply_empty_arg {
        let expr = format!("(import {p}) {{ }}");
        nix(&[
            "--eval", "--strict", "--json", "--store", "dummy://", "-E", &expr,
        ])
    } else {
        nix(&["--eval", "--strict", "--json", "--store", "dummy://", &p])
    };
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("nix output for {p} is not JSON: {e}: {out}"))
}

#[test]
fn golden_nix_files_parse_and_evaluate() {
    for c in CASES {
        let dir = root().join("tests/golden").join(c.name);
        for f in ["disko-config.nix", "hardware-disk.nix"] {
            nix(&["--parse", &dir.join(f).display().to_string()]);
        }
        let p = plan_case(c);
        let v = eval_json(&dir.join("disko-config.nix"), false);
        compare_disko(&p, &v, c.name);
        let hw = eval_json(&dir.join("hardware-disk.nix"), true);
        compare_hardware(&p, &hw, c.name);
    }
    let f = root().join("tests/golden/network-lan.nix");
    nix(&["--parse", &f.display().to_string()]);
    let v = eval_json(&f, true);
    assert_eq!(
        v["systemd"]["network"]["links"]["10-lan"]["matchConfig"]["PermanentMACAddress"],
        "3c:ec:ef:10:20:31"
    );
    assert_eq!(
        v["systemd"]["network"]["links"]["10-lan"]["linkConfig"]["Name"],
        "lan"
    );
    assert_eq!(
        v["systemd"]["network"]["networks"]["20-lan"]["networkConfig"]["DHCP"],
        "yes"
    );
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// The evaluated disko config says what the plan says.
fn compare_disko(p: &Plan, v: &Value, case: &str) {
    let d = &v["disko"]["devices"];
    let mut want: Vec<String> = p.layout.disks.iter().map(|d| d.key.clone()).collect();
    want.sort();
    assert_eq!(keys(&d["disk"]), want, "{case}: disk keys");
    for pd in &p.layout.disks {
        let dv = &d["disk"][&pd.key];
        assert_eq!(dv["type"], "disk");
        assert_eq!(
            dv["device"],
            pd.stable_path.as_str(),
            "{case}: device survives escaping"
        );
        assert_eq!(dv["content"]["type"], "gpt");
        let parts = &dv["content"]["partitions"];
        let mut want: Vec<String> = pd.partitions.iter().map(|p| p.key.clone()).collect();
        want.sort();
        assert_eq!(keys(parts), want, "{case}: partitions of {}", pd.key);
        for pt in &pd.partitions {
            let pv = &parts[&pt.key];
            assert_eq!(pv["type"], pt.type_code.as_str());
            assert_eq!(pv["priority"], pt.number);
            let size = if pt.size_bytes.is_some() {
                "1G"
            } else {
                "100%"
            };
            assert_eq!(pv["size"], size);
            match &pt.role {
                PartitionRole::Esp {
                    label,
                    mountpoint,
                    mount_options,
                } => {
                    assert_eq!(pv["content"]["format"], "vfat");
                    assert_eq!(pv["content"]["extraArgs"], serde_json::json!(["-n", label]));
                    match mountpoint {
                        Some(m) => {
                            assert_eq!(pv["content"]["mountpoint"], m.as_str());
                            assert_eq!(
                                pv["content"]["mountOptions"],
                                serde_json::json!(mount_options)
                            );
                        }
                        None => assert!(pv["content"].get("mountpoint").is_none()),
                    }
                }
                PartitionRole::RaidMember { array } => {
                    assert_eq!(pv["content"]["type"], "mdraid");
                    assert_eq!(pv["content"]["name"], array.as_str());
                }
                PartitionRole::Pv { vg } => {
                    assert_eq!(pv["content"]["type"], "lvm_pv");
                    assert_eq!(pv["content"]["vg"], vg.as_str());
                }
            }
        }
    }
    let mut want: Vec<String> = p.layout.arrays.iter().map(|a| a.name.clone()).collect();
    want.sort();
    assert_eq!(keys(&d["mdadm"]), want, "{case}: arrays");
    for a in &p.layout.arrays {
        let av = &d["mdadm"][&a.name];
        assert_eq!(av["level"], a.level.number(), "{case}: level of {}", a.name);
        assert_eq!(av["metadata"], "1.2");
        assert_eq!(av["content"]["vg"], a.vg.as_str());
    }
    let mut want: Vec<String> = p.layout.vgs.iter().map(|v| v.name.clone()).collect();
    want.sort();
    assert_eq!(keys(&d["lvm_vg"]), want, "{case}: VGs");
    for vg in &p.layout.vgs {
        let vv = &d["lvm_vg"][&vg.name];
        assert_eq!(vv["type"], "lvm_vg");
        let mut want: Vec<String> = vg.lvs.iter().map(|l| l.name.clone()).collect();
        want.sort();
        assert_eq!(keys(&vv["lvs"]), want, "{case}: LVs of {}", vg.name);
        for lv in &vg.lvs {
            let lvv = &vv["lvs"][&lv.name];
            assert_eq!(
                lvv["size"],
                format!("{}M", lv.extents * 4),
                "{case}: {}",
                lv.name
            );
            match &lv.content {
                LvContent::Ext4 {
                    label,
                    mountpoint,
                    mount_options,
                    bytes_per_inode,
                    ..
                } => {
                    assert_eq!(lvv["content"]["format"], "ext4");
                    let mut args = vec!["-L".to_string(), label.clone()];
                    if let Some(i) = bytes_per_inode {
                        args.extend(["-i".to_string(), i.to_string()]);
                    }
                    assert_eq!(lvv["content"]["extraArgs"], serde_json::json!(args));
                    assert_eq!(lvv["content"]["mountpoint"], mountpoint.as_str());
                    assert_eq!(
                        lvv["content"]["mountOptions"],
                        serde_json::json!(mount_options)
                    );
                }
                LvContent::Swap { label } => {
                    assert_eq!(lvv["content"]["type"], "swap");
                    assert_eq!(
                        lvv["content"]["extraArgs"],
                        serde_json::json!(["-L", label])
                    );
                }
            }
        }
    }
}

/// hardware-disk.nix mounts every planned filesystem by label and enables md when needed.
fn compare_hardware(p: &Plan, v: &Value, case: &str) {
    let mut want = vec!["/boot".to_string()];
    let mut swaps = Vec::new();
    for vg in &p.layout.vgs {
        for lv in &vg.lvs {
            match &lv.content {
                LvContent::Ext4 {
                    mountpoint, label, ..
                } => {
                    want.push(mountpoint.clone());
                    assert_eq!(
                        v["fileSystems"][mountpoint]["device"],
                        format!("/dev/disk/by-label/{label}")
                    );
                }
                LvContent::Swap { label } => swaps.push(format!("/dev/disk/by-label/{label}")),
            }
        }
    }
    want.sort();
    assert_eq!(keys(&v["fileSystems"]), want, "{case}: fileSystems");
    assert_eq!(
        v["fileSystems"]["/boot"]["device"],
        "/dev/disk/by-label/EFI"
    );
    let got_swaps: Vec<String> = v["swapDevices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["device"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got_swaps, swaps, "{case}: swapDevices");
    assert_eq!(
        v["boot"]["swraid"]["enable"].as_bool().unwrap_or(false),
        !p.layout.arrays.is_empty(),
        "{case}: swraid"
    );
    assert_eq!(v["boot"]["loader"]["systemd-boot"]["enable"], true);
}

/// The summary fits 80 columns (the width when the terminal's is unknown) for every
/// example machine; `--wide` keeps every line whole and adds the by-id paths.
#[test]
fn summaries_fit_80_columns_and_wide_adds_the_stable_paths() {
    for c in CASES {
        let p = plan_case(c);
        let mut s = Vec::new();
        summary::write_summary(&p, &mut s).unwrap();
        let text = String::from_utf8(s).unwrap();
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{}: {} columns: {line}",
                c.name,
                line.chars().count()
            );
        }
        let mut w = Vec::new();
        let wide = summary::Layout {
            width: 80,
            wide: true,
        };
        summary::write_summary_as(&p, wide, &mut w).unwrap();
        let wide = String::from_utf8(w).unwrap();
        for d in &p.layout.disks {
            assert!(!text.contains(&d.stable_path), "{}", c.name);
            assert!(wide.contains(&d.stable_path), "{}", c.name);
        }
        // every decision stays within reach: the VG ones on the screen, all with --wide
        for d in &p.decisions {
            let line = format!("  {}: ", d.subject);
            assert!(wide.contains(&line), "{}: {line}", c.name);
            assert_eq!(
                text.contains(&line),
                !d.subject.starts_with("lv "),
                "{}: {line}",
                c.name
            );
        }
        // one screen: 40 rows at 80 columns for a machine of up to eight disks (an
        // eleven-disk, five-VG machine takes one row more per disk, VG and LV)
        if p.layout.disks.len() <= 8 {
            let rows = text.lines().count();
            assert!(rows <= 40, "{}: {rows} rows:\n{text}", c.name);
        }
    }
}
