//! The planner: a pure function from an [`Inventory`] and [`PlanOptions`] to a
//! [`Plan`] (SPEC §2). No I/O, no clock, no randomness: the same inventory in any
//! order gives the same plan, byte for byte once rendered.
//!
//! Stages, one module each: [`buckets`] (tiers and size buckets), [`groups`] (which
//! bucket is `main`, `swap`, `large`…), [`raid`] (the level table), [`capacity`]
//! (GPT, md and PV overhead, extents), [`volumes`] (LV sizes), [`naming`] (keys,
//! labels, device names).

pub mod buckets;
pub mod capacity;
pub mod groups;
pub mod naming;
pub mod options;
pub mod raid;
pub mod types;
pub mod validate;
pub mod volumes;

pub use types::*;

use sha2::{Digest, Sha256};

use crate::inventory::{Disk, Excluded, Inventory};
use crate::units::human_bytes;
use buckets::{bucket_tier, Tier};
use groups::{Group, Role};
use naming::{PART_ESP, PART_MD, PART_PV};

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("no usable disk: {0}")]
    NoUsableDisk(String),
    #[error("{0}")]
    Invalid(String),
}

/// sha256 (hex) of the canonical inventory JSON: collections sorted (disks by stable
/// path, excluded devices and NICs by name), keys sorted, compact. Input order does
/// not change it.
pub fn inventory_digest(inv: &Inventory) -> String {
    let mut c = inv.clone();
    // Which machine it is never shapes the layout: the same disks give the same plan.
    c.machine = None;
    c.disks.sort_by(|a, b| a.stable_path.cmp(&b.stable_path));
    c.excluded
        .sort_by(|a, b| (&a.name, &a.reason).cmp(&(&b.name, &b.reason)));
    c.nics.sort_by(|a, b| a.name.cmp(&b.name));
    // through Value: serde_json's map is a BTreeMap, so keys come out sorted
    let value = serde_json::to_value(&c).expect("inventory serializes");
    let text = serde_json::to_string(&value).expect("value serializes");
    let hash = Sha256::digest(text.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a disk of the inventory cannot be planned on, if it cannot.
fn unusable(d: &Disk) -> Option<String> {
    if d.size_bytes == 0 {
        Some("zero size".into())
    } else if d.read_only {
        Some("read-only".into())
    } else if d.removable {
        Some("removable".into())
    } else if d.bus.as_deref() == Some("usb") {
        // the inventory excludes USB disks itself; a hand-written one may list them
        Some("USB-attached (bus usb)".into())
    } else if d.size_bytes < capacity::MIN_DISK_BYTES {
        Some(format!(
            "too small ({}; the planner needs at least {})",
            human_bytes(d.size_bytes),
            crate::units::human_binary(capacity::MIN_DISK_BYTES)
        ))
    } else {
        None
    }
}

fn names(disks: &[&Disk]) -> String {
    disks
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Plans the storage of one machine: the usable disks, their buckets and groups, each
/// group built, the volumes sized, the decisions recorded.
pub fn plan(inv: &Inventory, opts: &PlanOptions) -> Result<Plan, PlanError> {
    let mut excluded: Vec<Excluded> = inv.excluded.clone();
    let usable = usable_disks(inv, opts, &mut excluded)?;

    let groups = groups::assign(
        bucket_tier(Tier::Solid, &usable),
        bucket_tier(Tier::Rotating, &usable),
    );

    let mut decisions = duplicate_serials(inv);
    let mut disks = Vec::new();
    let mut arrays = Vec::new();
    let mut spaces = Vec::new();
    let mut pvs_of = Vec::new();
    for g in &groups {
        let built = build_group(g, opts.mode, &mut excluded);
        decisions.push(Decision {
            subject: format!("vg {}", g.role.vg_name()),
            reason: built.reason,
        });
        disks.extend(built.disks);
        if let Some(a) = built.array {
            arrays.push(a);
        }
        spaces.push(volumes::VgSpace {
            role: g.role,
            name: g.role.vg_name(),
            extents: built.extents,
        });
        pvs_of.push(built.pv);
    }

    let (lvs, lv_decisions) = volumes::size_volumes(&spaces, inv.ram_bytes, opts);
    decisions.extend(lv_decisions);
    let vgs = spaces
        .into_iter()
        .zip(lvs)
        .zip(pvs_of)
        .map(|((s, lvs), pv)| VolumeGroup {
            name: s.name,
            pvs: vec![pv],
            extent_bytes: EXTENT_BYTES,
            extents: s.extents,
            lvs,
        })
        .collect();

    disks.sort_by(|a: &PlannedDisk, b| a.stable_path.cmp(&b.stable_path));
    arrays.sort_by(|a: &RaidArray, b| a.name.cmp(&b.name));
    excluded.sort_by(|a, b| (&a.name, &a.reason).cmp(&(&b.name, &b.reason)));

    Ok(Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        inventory_digest: inventory_digest(inv),
        options: opts.clone(),
        ram_bytes: inv.ram_bytes,
        decisions,
        layout: Layout { disks, arrays, vgs },
        excluded,
    })
}

/// The disks the plan may use; the others join `excluded` with their reason. Refuses an
/// inventory that lists a stable path twice, has no usable disk, or gives no way to size
/// swap.
fn usable_disks<'a>(
    inv: &'a Inventory,
    opts: &PlanOptions,
    excluded: &mut Vec<Excluded>,
) -> Result<Vec<&'a Disk>, PlanError> {
    check_numbers(inv, opts)?;
    check_stable_paths(inv)?;
    let mut usable: Vec<&Disk> = Vec::new();
    for d in &inv.disks {
        match unusable(d) {
            Some(reason) => excluded.push(Excluded {
                name: d.name.clone(),
                reason,
                ..Excluded::default()
            }),
            None => usable.push(d),
        }
    }
    if usable.is_empty() {
        let why = if excluded.is_empty() {
            "the inventory lists no disk at all".to_string()
        } else {
            let list: Vec<String> = excluded
                .iter()
                .map(|e| format!("{} ({})", e.name, e.reason))
                .collect();
            format!("every block device is excluded: {}", list.join(", "))
        };
        return Err(PlanError::NoUsableDisk(format!(
            "{why}; attach a non-removable disk of at least 2 GiB to plan storage"
        )));
    }

    if inv.ram_bytes == 0 && opts.swap_size_bytes.is_none() {
        return Err(PlanError::Invalid(
            "the inventory has no RAM size (ram_bytes 0: /proc/meminfo gave no MemTotal), so \
             the swap size cannot be derived from RAM: give it with --swap-size SIZE or \
             pre-nixos.swap=SIZE on the kernel command line"
                .into(),
        ));
    }
    Ok(usable)
}

/// The largest disk, RAM or swap size the planner accepts: 1 PiB, far beyond any real
/// machine, and small enough that every sum and product the planner forms of such
/// numbers (2 × RAM, members × member size for a few thousand members) stays inside
/// `u64`. Anything larger is a broken inventory, refused before any arithmetic.
pub const MAX_BYTES: u64 = 1 << 50;

/// Refuses sizes no real machine has (see [`MAX_BYTES`]), naming the field.
fn check_numbers(inv: &Inventory, opts: &PlanOptions) -> Result<(), PlanError> {
    let too_big = |field: String, v: u64| {
        PlanError::Invalid(format!(
            "{field} is {v} bytes, beyond any real machine (the planner accepts at most {} = \
             1 PiB); fix the number",
            MAX_BYTES
        ))
    };
    if inv.ram_bytes > MAX_BYTES {
        return Err(too_big("the inventory's `ram_bytes`".into(), inv.ram_bytes));
    }
    for (i, d) in inv.disks.iter().enumerate() {
        if d.size_bytes > MAX_BYTES {
            return Err(too_big(
                format!("the inventory's `disks[{i}].size_bytes` ({})", d.name),
                d.size_bytes,
            ));
        }
    }
    if let Some(s) = opts.swap_size_bytes.filter(|s| *s > MAX_BYTES) {
        return Err(too_big(
            "the swap size (--swap-size, pre-nixos.swap=)".into(),
            s,
        ));
    }
    Ok(())
}

/// Every disk needs a stable path of its own: disko and the verify step find the disk
/// by it. An empty one, or one two disks share, is refused naming the disks.
fn check_stable_paths(inv: &Inventory) -> Result<(), PlanError> {
    let mut seen: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    for (i, d) in inv.disks.iter().enumerate() {
        if d.stable_path.trim().is_empty() {
            return Err(PlanError::Invalid(format!(
                "the inventory's `disks[{i}].stable_path` ({}) is empty; give the disk's \
                 /dev/disk/by-id/… path (or /dev/{})",
                d.name, d.name
            )));
        }
        if let Some(first) = seen.insert(d.stable_path.as_str(), d.name.as_str()) {
            return Err(PlanError::Invalid(format!(
                "the inventory gives disks {first} and {} the same `stable_path` {}; each \
                 disk needs its own /dev/disk/by-id/… path",
                d.name, d.stable_path
            )));
        }
    }
    Ok(())
}

/// Disks that report the same serial: `--wipe SERIAL` and the verify step cannot tell
/// them apart. Not fatal (cheap enclosures and some virtual disks do this), so each
/// pair becomes a decision the summary shows.
fn duplicate_serials(inv: &Inventory) -> Vec<Decision> {
    let mut first_with: std::collections::BTreeMap<&str, &str> = std::collections::BTreeMap::new();
    let mut out = Vec::new();
    for d in &inv.disks {
        let Some(serial) = d.serial.as_deref().filter(|s| !s.trim().is_empty()) else {
            continue;
        };
        if let Some(first) = first_with.get(serial).copied() {
            out.push(Decision {
                subject: "warning".into(),
                reason: format!(
                    "disks {first} and {} report the same serial {serial}; a wipe naming it \
                     matches both",
                    d.name
                ),
            });
        } else {
            first_with.insert(serial, d.name.as_str());
        }
    }
    out
}

struct BuiltGroup {
    disks: Vec<PlannedDisk>,
    array: Option<RaidArray>,
    /// The VG's only PV.
    pv: String,
    extents: u64,
    reason: String,
}

/// Partitions the disks of one group, builds its array, counts its extents.
///
/// Long on purpose: partitions, array and extent count share the member list and the
/// smallest data partition; apart, each would recompute them.
fn build_group(g: &Group, mode: Mode, excluded: &mut Vec<Excluded>) -> BuiltGroup {
    let vg = g.role.vg_name();
    let choice = raid::choose(g.bucket.tier, g.bucket.disks.len(), mode);
    let (members, unused) = g.bucket.disks.split_at(choice.members);
    let with_esp = g.role == Role::Main;
    let data_key = if choice.level.is_some() {
        PART_MD
    } else {
        PART_PV
    };

    let mut planned = Vec::new();
    let mut data_partitions = Vec::new();
    let mut min_data_bytes = u64::MAX;
    for (i, d) in members.iter().enumerate() {
        let key = naming::disk_key(&vg, i);
        let mut parts = Vec::new();
        if with_esp {
            parts.push(Partition {
                number: 1,
                key: PART_ESP.into(),
                partlabel: naming::partlabel(&key, PART_ESP),
                device: naming::partition_device(&d.name, 1),
                size_bytes: Some(capacity::ESP_BYTES),
                type_code: "EF00".into(),
                role: PartitionRole::Esp {
                    label: naming::esp_label(i),
                    mountpoint: (i == 0).then(|| "/boot".to_string()),
                    mount_options: if i == 0 {
                        vec!["umask=0077".into()]
                    } else {
                        vec![]
                    },
                },
            });
        }
        let n = parts.len() as u32 + 1;
        let data = Partition {
            number: n,
            key: data_key.into(),
            partlabel: naming::partlabel(&key, data_key),
            device: naming::partition_device(&d.name, n),
            size_bytes: None,
            type_code: if choice.level.is_some() {
                "FD00"
            } else {
                "8E00"
            }
            .into(),
            role: if choice.level.is_some() {
                PartitionRole::RaidMember { array: vg.clone() }
            } else {
                PartitionRole::Pv { vg: vg.clone() }
            },
        };
        min_data_bytes = min_data_bytes.min(capacity::data_partition_bytes(d.size_bytes, with_esp));
        data_partitions.push(data.by_partlabel());
        parts.push(data);
        planned.push(PlannedDisk {
            key,
            name: d.name.clone(),
            stable_path: d.stable_path.clone(),
            serial: d.serial.clone(),
            wwn: d.serial.is_none().then(|| d.wwn.clone()).flatten(),
            model: d.serial.is_none().then(|| d.model.clone()).flatten(),
            size_bytes: d.size_bytes,
            kind: d.kind,
            partitions: parts,
        });
    }

    let (array, pv, pv_bytes) = match choice.level {
        Some(level) => {
            let bytes = capacity::array_bytes(level, members.len() as u64, min_data_bytes);
            let a = RaidArray {
                name: vg.clone(),
                level,
                metadata: "1.2".into(),
                members: data_partitions,
                size_bytes: bytes,
                vg: vg.clone(),
            };
            let dev = a.device();
            (Some(a), dev, bytes)
        }
        None => (None, data_partitions.remove(0), min_data_bytes),
    };
    let stripe = capacity::stripe_bytes(choice.level, members.len() as u64);
    let extents = capacity::pv_extents(pv_bytes, stripe);

    let level_text = match choice.level {
        None => format!("no array ({})", choice.why),
        Some(l) if unused.is_empty() => format!("{} ({})", l.name(), choice.why),
        Some(l) => format!("{} over {} ({})", l.name(), names(members), choice.why),
    };
    let reason = format!(
        "{}: {} × {} {} → {} → VG {vg} ({})",
        names(&g.bucket.disks),
        g.bucket.disks.len(),
        human_bytes(g.bucket.smallest_bytes()),
        g.bucket.kind_label(),
        level_text,
        g.why
    );
    for d in unused {
        excluded.push(Excluded {
            name: d.name.clone(),
            reason: format!(
                "unused: {} of VG {vg} is built over {} ({})",
                choice.level.map(RaidLevel::name).unwrap_or("the array"),
                names(members),
                choice.why
            ),
            ..Excluded::default()
        });
    }
    BuiltGroup {
        disks: planned,
        array,
        pv,
        extents,
        reason,
    }
}
