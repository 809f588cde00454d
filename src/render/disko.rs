//! `disko-config.nix`: the plan as a disko configuration, filled from the templates in
//! `disko-templates/*.nix.in` (compiled in; not Nix until filled). A plain attrset, so the same file works as a
//! NixOS module import, with the disko CLI, and with an offline evaluator.
//!
//! Disks are addressed by stable path; every partition has an explicit `type`,
//! `priority` and `size`; labels travel in `extraArgs` as separate list items; LV sizes
//! are whole extents in `M`. Every string from the inventory is escaped for Nix.
//! What disko cannot express — the mode 1777 of `/var/tmp` — is noted in a comment and
//! left to the executor.

use crate::plan::{
    LogicalVolume, LvContent, Partition, PartitionRole, Plan, PlannedDisk, RaidArray, RaidLevel,
    VolumeGroup,
};
use crate::render::template::{attrset, comment_text, fill, nix_str};
use crate::units::{human_binary, human_bytes, GIB, MIB};

const CONFIG: &str = include_str!("../../disko-templates/config.nix.in");
const DISK: &str = include_str!("../../disko-templates/disk.nix.in");
const PART_ESP: &str = include_str!("../../disko-templates/part-esp.nix.in");
const PART_MD: &str = include_str!("../../disko-templates/part-md.nix.in");
const PART_PV: &str = include_str!("../../disko-templates/part-pv.nix.in");
const MDADM: &str = include_str!("../../disko-templates/mdadm.nix.in");
const LVM_VG: &str = include_str!("../../disko-templates/lvm_vg.nix.in");
const LV_EXT4: &str = include_str!("../../disko-templates/lv-ext4.nix.in");
const LV_SWAP: &str = include_str!("../../disko-templates/lv-swap.nix.in");

/// The value of a template's `"{{x}}"` slot: a Nix-escaped string body.
fn esc(s: &str) -> String {
    crate::render::template::nix_escape(s)
}

/// sgdisk size of a partition: whole GiB as `NG`, else `NM`, the rest `100%`.
fn partition_size(p: &Partition) -> String {
    match p.size_bytes {
        None => "100%".into(),
        Some(b) if b % GIB == 0 => format!("{}G", b / GIB),
        Some(b) => format!("{}M", b.div_ceil(MIB)),
    }
}

fn render_partition(p: &Partition) -> String {
    let priority = p.number.to_string();
    let size = partition_size(p);
    match &p.role {
        PartitionRole::Esp {
            label,
            mountpoint,
            mount_options,
        } => {
            let mount = match mountpoint {
                Some(m) => format!(
                    "mountpoint = {};\nmountOptions = {};",
                    nix_str(m),
                    nix_list(mount_options)
                ),
                None => String::new(),
            };
            fill(
                PART_ESP,
                &[
                    ("key", &p.key),
                    ("priority", &priority),
                    ("size", &size),
                    ("label", &esc(label)),
                    ("mount", &mount),
                ],
            )
        }
        PartitionRole::RaidMember { array } => fill(
            PART_MD,
            &[
                ("key", &p.key),
                ("priority", &priority),
                ("size", &size),
                ("array", &esc(array)),
            ],
        ),
        PartitionRole::Pv { vg } => fill(
            PART_PV,
            &[
                ("key", &p.key),
                ("priority", &priority),
                ("size", &size),
                ("vg", &esc(vg)),
            ],
        ),
    }
}

fn nix_list(items: &[String]) -> String {
    if items.is_empty() {
        return "[ ]".into();
    }
    let parts: Vec<String> = items.iter().map(|s| nix_str(s)).collect();
    format!("[ {} ]", parts.join(" "))
}

fn render_disk(d: &PlannedDisk) -> String {
    let comment = comment_text(&format!(
        "{}: {} {}, serial {}",
        d.name,
        human_bytes(d.size_bytes),
        kind_label(d.kind),
        d.serial.as_deref().unwrap_or("unknown")
    ));
    let parts: Vec<String> = d.partitions.iter().map(render_partition).collect();
    fill(
        DISK,
        &[
            ("comment", &comment),
            ("key", &d.key),
            ("device", &esc(&d.stable_path)),
            ("partitions", &attrset(&parts)),
        ],
    )
}

fn render_array(a: &RaidArray) -> String {
    let comment = format!(
        "/dev/md/{}: {} over {} members, {}",
        a.name,
        a.level.name(),
        a.members.len(),
        human_binary(a.size_bytes)
    );
    // The same flag the native executor passes (`exec::native::steps`); RAID0 has no
    // redundancy to resync.
    let extra_args = if a.level == RaidLevel::Raid0 {
        String::new()
    } else {
        nix_str("--bitmap=internal")
    };
    fill(
        MDADM,
        &[
            ("comment", &comment_text(&comment)),
            ("name", &a.name),
            ("level", &a.level.number().to_string()),
            ("extra_args", &extra_args),
            ("vg", &esc(&a.vg)),
        ],
    )
}

fn render_lv(lv: &LogicalVolume) -> String {
    let size = format!("{}M", lv.size_bytes / MIB);
    match &lv.content {
        LvContent::Ext4 {
            label,
            mountpoint,
            mount_options,
            bytes_per_inode,
            mode,
        } => {
            let mut args = vec![nix_str("-L"), nix_str(label)];
            if let Some(i) = bytes_per_inode {
                args.push(nix_str("-i"));
                args.push(nix_str(&i.to_string()));
            }
            let note = match mode {
                Some(m) => format!(
                    "# {mountpoint} gets mode {m:o} from pre-nixos after mounting (disko has no option for it)."
                ),
                None => String::new(),
            };
            let opts: Vec<String> = mount_options.iter().map(|o| nix_str(o)).collect();
            fill(
                LV_EXT4,
                &[
                    ("note", &comment_text(&note)),
                    ("name", &lv.name),
                    ("size", &size),
                    ("extra_args", &args.join(" ")),
                    ("mountpoint", &esc(mountpoint)),
                    ("mount_options", &opts.join(" ")),
                ],
            )
        }
        LvContent::Swap { label } => fill(
            LV_SWAP,
            &[("name", &lv.name), ("size", &size), ("label", &esc(label))],
        ),
    }
}

fn render_vg(vg: &VolumeGroup) -> String {
    let comment = if vg.lvs.is_empty() {
        format!(
            "VG {}: {} extents of 4 MiB; no LV, left for the operator",
            vg.name, vg.extents
        )
    } else {
        format!("VG {}: {} extents of 4 MiB", vg.name, vg.extents)
    };
    let lvs: Vec<String> = vg.lvs.iter().map(render_lv).collect();
    fill(
        LVM_VG,
        &[
            ("comment", &comment_text(&comment)),
            ("name", &vg.name),
            ("lvs", &attrset(&lvs)),
        ],
    )
}

/// Renders the whole disko configuration. Deterministic: disks by stable path,
/// arrays by name, VGs in plan order.
pub fn render_disko(plan: &Plan) -> String {
    let disks: Vec<String> = plan.layout.disks.iter().map(render_disk).collect();
    let arrays: Vec<String> = plan.layout.arrays.iter().map(render_array).collect();
    let vgs: Vec<String> = plan.layout.vgs.iter().map(render_vg).collect();
    fill(
        CONFIG,
        &[
            ("schema", &plan.schema_version.to_string()),
            ("mode", plan.options.mode.as_str()),
            ("digest", &comment_text(&plan.inventory_digest)),
            ("disks", &attrset(&disks)),
            ("arrays", &attrset(&arrays)),
            ("vgs", &attrset(&vgs)),
        ],
    )
}

/// `NVMe`, `SSD`, `HDD`.
fn kind_label(k: crate::inventory::DiskKind) -> &'static str {
    match k {
        crate::inventory::DiskKind::Nvme => "NVMe",
        crate::inventory::DiskKind::Ssd => "SSD",
        crate::inventory::DiskKind::Hdd => "HDD",
    }
}
