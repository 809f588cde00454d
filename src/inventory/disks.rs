//! One disk at a time: decide whether it can ever be an install target and, if so,
//! fill its [`Disk`] record from udev properties, sysfs numbers and libblkid.
//!
//! Device classes are recognised by major number and sysfs markers first (`loop/`,
//! `dm/`, `md/`, zram's `comp_algorithm`, `ID_CDROM`, a `/devices/virtual/` path) and
//! by kernel name as a fallback, so a renamed or unusual device is still caught. An
//! attribute the kernel refuses to read (EINVAL, ENODEV, ENXIO) either makes the disk
//! excluded with that reason (size, read-only and removable flags: without them we
//! cannot know it is safe) or leaves the field at its default (rotational, sector
//! sizes, model).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::sysfs::{errno_name, Attr, BlockTree};
use super::{Disk, DiskKind, Excluded};
use crate::host::{Host, UdevDevice};

/// What became of one block device.
#[derive(Debug)]
pub enum Outcome {
    Disk(Box<Disk>),
    Excluded(Excluded),
    /// Gone between listing and reading (hot-unplug); not reported.
    Vanished,
}

/// Everything about the machine that deciding one disk needs.
pub struct Context<'a> {
    pub host: &'a dyn Host,
    pub tree: &'a BlockTree,
    /// Disks of the boot medium and running system, with what ties them to it.
    pub live: &'a BTreeMap<String, Vec<String>>,
    /// `/dev/disk/by-id` links found on disk, by kernel name (for when udev's
    /// database has no `DEVLINKS`).
    pub by_id: &'a BTreeMap<String, Vec<String>>,
}

/// A disk's udev properties (none when udev does not know it); empty values count as
/// absent.
pub struct Props<'a>(pub Option<&'a UdevDevice>);

impl<'a> Props<'a> {
    pub fn get(&self, k: &str) -> Option<&'a str> {
        self.0.and_then(|u| u.prop(k)).filter(|v| !v.is_empty())
    }
}

fn excluded(name: &str, reason: impl Into<String>) -> Outcome {
    Outcome::Excluded(Excluded {
        name: name.to_owned(),
        reason: reason.into(),
        ..Excluded::default()
    })
}

/// A disk's serial and model, from udev and sysfs, as the inventory shows them.
fn identity(cx: &Context, name: &str, props: &Props) -> (Option<String>, Option<String>) {
    let prop = |k: &str| props.get(k);
    let sysattr = |attr: &str| cx.tree.read(cx.host, name, attr).value();
    let serial = prop("ID_SERIAL_SHORT")
        .or_else(|| prop("ID_SCSI_SERIAL"))
        .map(str::to_owned)
        .or_else(|| sysattr("serial"))
        .or_else(|| sysattr("device/serial"))
        .or_else(|| prop("ID_SERIAL").map(str::to_owned))
        .map(|s| s.trim().to_owned());
    let owned = |k: &str| prop(k).map(str::to_owned);
    let model = model_from(&sysattr, &owned);
    (serial, model)
}

/// Decides about one whole disk ([`decide`]); a disk left out carries its size, model
/// and serial where they can be read, so the operator can tell which device it was.
pub fn examine(cx: &Context, name: &str, udev: Option<&UdevDevice>) -> Outcome {
    match decide(cx, name, udev) {
        Outcome::Excluded(mut x) => {
            let props = Props(udev);
            x.size_bytes = match cx.tree.read(cx.host, name, "size") {
                Attr::Value(v) => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(|s| s.saturating_mul(512)),
                _ => None,
            };
            (x.serial, x.model) = identity(cx, name, &props);
            Outcome::Excluded(x)
        }
        other => other,
    }
}

/// Decides about one whole disk.
///
/// Long on purpose: the exclusion rules of SPEC §1 in the order they are tried (boot
/// medium, device class, USB, removable, read-only, size), each a few lines that return;
/// split up, the order that decides which reason an operator reads would be spread out.
fn decide(cx: &Context, name: &str, udev: Option<&UdevDevice>) -> Outcome {
    let host = cx.host;
    let tree = cx.tree;
    let dir = tree.dir(name);
    if !host.exists(&dir) {
        tracing::debug!(
            device = name,
            "block device vanished during the scan; skipped"
        );
        return Outcome::Vanished;
    }
    let props = Props(udev);
    let prop = |k: &str| props.get(k);
    let devnum = tree.devnum(host, name);
    // The boot medium first: "boot medium (mounted at /iso)" says more than
    // "optical drive" about the sr0 the ISO runs from.
    if let Some(ties) = cx.live.get(name) {
        return excluded(name, super::boot_medium::reason(ties));
    }
    if let Some(why) = device_class(host, tree, name, devnum.map(|d| d.0), &props) {
        return excluded(name, why);
    }
    if let Some(why) = usb_attachment(host, &dir, &props) {
        return excluded(name, why);
    }
    let flag = |attr: &str| -> Result<bool, String> {
        match tree.read(host, name, attr) {
            Attr::Value(v) => Ok(v.trim() == "1"),
            Attr::Absent => Ok(false),
            Attr::Unreadable(e) => Err(errno_name(&e)),
        }
    };
    match flag("removable") {
        Ok(true) => return excluded(name, "removable"),
        Ok(false) => {}
        Err(e) => return excluded(name, format!("removable flag unreadable ({e})")),
    }
    let read_only = match flag("ro") {
        Ok(true) => return excluded(name, "read-only"),
        Ok(false) => false,
        Err(e) => return excluded(name, format!("read-only flag unreadable ({e})")),
    };
    let sectors = match tree.read(host, name, "size") {
        Attr::Value(v) => match v.trim().parse::<u64>() {
            Ok(n) => n,
            Err(_) => return excluded(name, format!("size {v:?} is not a number")),
        },
        Attr::Absent if !host.exists(&dir) => {
            tracing::debug!(
                device = name,
                "block device vanished during the scan; skipped"
            );
            return Outcome::Vanished;
        }
        Attr::Absent => return excluded(name, "no size attribute"),
        Attr::Unreadable(e) => {
            return excluded(name, format!("size unreadable ({})", errno_name(&e)))
        }
    };
    if sectors == 0 {
        return excluded(name, "zero size (no medium)");
    }
    // The kernel's `size` is in 512-byte units whatever the logical sector size.
    let size_bytes = sectors.saturating_mul(512);

    let rotational = match tree.read(host, name, "queue/rotational") {
        Attr::Value(v) => Some(v.trim() == "1"),
        Attr::Absent => None,
        Attr::Unreadable(e) => {
            tracing::debug!(device = name, error = %errno_name(&e), "queue/rotational unreadable");
            None
        }
    };
    let bus = bus(name, &props);
    let kind = if name.starts_with("nvme") || bus.as_deref() == Some("nvme") {
        DiskKind::Nvme
    } else if rotational == Some(false) {
        DiskKind::Ssd
    } else {
        // Unknown rotation counts as spinning: the slower tier is the safe guess.
        DiskKind::Hdd
    };
    let sector = |attr: &str, default: u32| {
        tree.read(host, name, attr)
            .value()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(default)
    };
    let logical = sector("queue/logical_block_size", 512);
    let physical = sector("queue/physical_block_size", logical);

    let sysattr = |attr: &str| tree.read(host, name, attr).value();
    let (serial, model) = identity(cx, name, &props);
    let owned = |k: &str| prop(k).map(str::to_owned);
    let wwn = wwn_from(&sysattr, &owned);

    let mut links: BTreeSet<String> = udev
        .map(UdevDevice::devlinks)
        .unwrap_or_default()
        .into_iter()
        .collect();
    links.extend(cx.by_id.get(name).cloned().unwrap_or_default());
    let links: Vec<String> = links.into_iter().collect();
    let stable_path = choose_stable_path(name, &links, serial.as_deref(), prop("ID_SERIAL"));

    let partitions = tree.partitions.get(name).cloned().unwrap_or_default();
    let mut holders: BTreeSet<String> = tree.links(host, name, "holders").into_iter().collect();
    for p in &partitions {
        holders.extend(tree.links(host, p, "holders"));
    }

    let dev = Path::new("/dev").join(name);
    let (probe, probe_error) = match host.blkid_probe(&dev) {
        Ok(p) => (p, None),
        Err(e) => {
            // Not fatal for an inventory (planning works without it), but recorded so
            // the disk does not look blank; detection probes again and treats a
            // failure there as a detection error.
            tracing::warn!(device = %dev.display(), error = %e, "probing signatures with libblkid failed");
            let why = format!("probing {} with libblkid: {e}", dev.display());
            (Default::default(), Some(why))
        }
    };

    Outcome::Disk(Box::new(Disk {
        name: name.to_owned(),
        stable_path,
        size_bytes,
        kind,
        logical_sector_bytes: logical,
        physical_sector_bytes: physical,
        bus,
        model,
        serial,
        wwn,
        removable: false,
        read_only,
        partition_table: probe.partition_table,
        signatures: probe.signatures,
        partitions,
        holders: holders.into_iter().collect(),
        probe_error,
    }))
}

/// Devices that are never disks to install to, by what they are.
fn device_class(
    host: &dyn Host,
    tree: &BlockTree,
    name: &str,
    major: Option<u32>,
    props: &Props,
) -> Option<String> {
    let prop = |k: &str| props.get(k);
    let has = |sub: &str| host.exists(&tree.dir(name).join(sub));
    let by_type = match major {
        Some(1) => Some("RAM disk"),
        Some(2) => Some("floppy drive"),
        Some(7) => Some("loop device"),
        Some(9) => Some("md RAID array"),
        Some(11) => Some("optical drive"),
        Some(43) => Some("network block device"),
        _ => None,
    }
    .or_else(|| has("loop").then_some("loop device"))
    .or_else(|| has("dm").then_some("device-mapper device"))
    .or_else(|| has("md").then_some("md RAID array"))
    .or_else(|| has("comp_algorithm").then_some("zram device"))
    .or_else(|| (prop("ID_CDROM") == Some("1")).then_some("optical drive"))
    .or_else(|| prop("ID_DRIVE_FLOPPY").map(|_| "floppy drive"));
    if let Some(why) = by_type {
        return Some(why.to_owned());
    }
    let digits_after = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_digit()))
    };
    let by_name = if digits_after("loop") {
        Some("loop device")
    } else if digits_after("zram") {
        Some("zram device")
    } else if digits_after("ram") {
        Some("RAM disk")
    } else if digits_after("sr") {
        Some("optical drive")
    } else if digits_after("fd") {
        Some("floppy drive")
    } else if digits_after("nbd") {
        Some("network block device")
    } else if name.starts_with("dm-") {
        Some("device-mapper device")
    } else if name.starts_with("md") {
        Some("md RAID array")
    } else if name.starts_with("mmcblk") && name.contains("boot") {
        Some("eMMC boot partition")
    } else if name.ends_with("rpmb") {
        Some("eMMC RPMB partition")
    } else {
        None
    };
    if let Some(why) = by_name {
        return Some(why.to_owned());
    }
    if tree.read(host, name, "hidden").value().as_deref() == Some("1") {
        return Some("hidden device (a path of an NVMe multipath namespace)".to_owned());
    }
    match host.read_link(&tree.dir(name)) {
        Ok(target) if target.to_string_lossy().contains("/devices/virtual/") => {
            Some("virtual block device".to_owned())
        }
        _ => None,
    }
}

/// USB-attached, by udev's bus, its `ID_PATH`, or the device path.
fn usb_attachment(host: &dyn Host, dir: &Path, props: &Props) -> Option<String> {
    let prop = |k: &str| props.get(k);
    if prop("ID_BUS") == Some("usb") {
        return Some("USB-attached (ID_BUS=usb)".to_owned());
    }
    if let Some(p) = prop("ID_PATH").filter(|p| p.contains("-usb-")) {
        return Some(format!("USB-attached (ID_PATH={p})"));
    }
    let devpath = prop("DEVPATH").map(str::to_owned).or_else(|| {
        host.read_link(dir)
            .ok()
            .map(|t| t.to_string_lossy().into_owned())
    });
    match devpath {
        Some(p) if p.contains("/usb") => Some(format!("USB-attached ({p})")),
        _ => None,
    }
}

/// Transport: udev's `ID_BUS` (`ata` on a SATA link reads `sata`), else what the
/// kernel name says (NVMe has no `ID_BUS`).
fn bus(name: &str, props: &Props) -> Option<String> {
    let prop = |k: &str| props.get(k);
    if let Some(b) = prop("ID_BUS") {
        if b == "ata" && prop("ID_ATA_SATA") == Some("1") {
            return Some("sata".to_owned());
        }
        return Some(b.to_owned());
    }
    let by_name =
        if name.starts_with("nvme") || prop("ID_PATH").is_some_and(|p| p.contains("-nvme-")) {
            "nvme"
        } else if name.starts_with("vd") {
            "virtio"
        } else if name.starts_with("xvd") {
            "xen"
        } else if name.starts_with("mmcblk") {
            "mmc"
        } else {
            return None;
        };
    Some(by_name.to_owned())
}

/// Picks the stable path of a disk from its `/dev/disk/by-id` links: a `wwn-` link
/// first, then a serial-based one (the link spelled exactly `<bus>-<ID_SERIAL>` ahead
/// of other links carrying the serial, `ata-` ahead of `scsi-SATA_…` twins), EUI/NGUID
/// NVMe links only when nothing carries the serial, never a `-partN` link; `/dev/<name>`
/// when there is no by-id link at all.
pub fn choose_stable_path(
    name: &str,
    links: &[String],
    serial: Option<&str>,
    id_serial: Option<&str>,
) -> String {
    let ids: Vec<&str> = links
        .iter()
        .filter_map(|l| l.strip_prefix("/dev/disk/by-id/"))
        .filter(|l| !is_partition_link(l))
        .collect();
    let mut wwn: Vec<&&str> = ids.iter().filter(|l| l.starts_with("wwn-")).collect();
    wwn.sort();
    if let Some(l) = wwn.first() {
        return format!("/dev/disk/by-id/{l}");
    }
    const PREFIX_ORDER: [&str; 6] = ["nvme-", "ata-", "scsi-", "virtio-", "mmc-", "usb-"];
    let rank = |l: &str| {
        let (prefix, rest) = l.split_once('-').unwrap_or((l, ""));
        let is_eui = l.starts_with("nvme-eui.") || l.starts_with("nvme-nvme.");
        let has_serial = serial.is_some_and(|s| !s.is_empty() && l.contains(s));
        let exact = id_serial.is_some_and(|s| rest == s);
        let prefix_rank = PREFIX_ORDER
            .iter()
            .position(|p| p.trim_end_matches('-') == prefix)
            .unwrap_or(PREFIX_ORDER.len());
        (
            !has_serial,
            is_eui,
            !exact,
            prefix_rank,
            l.len(),
            l.to_owned(),
        )
    };
    let best = ids
        .iter()
        .filter(|l| !l.starts_with("md-") && !l.starts_with("dm-") && !l.starts_with("lvm-"))
        .min_by_key(|l| rank(l));
    match best {
        Some(l) => format!("/dev/disk/by-id/{l}"),
        None => format!("/dev/{name}"),
    }
}

/// `…-part3` (a partition's link, not the disk's).
fn is_partition_link(l: &str) -> bool {
    l.rsplit_once("-part")
        .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// A disk's model as the inventory records it (and the identity guard compares it):
/// sysfs `device/model`, else udev's encoded, else its plain property; trimmed.
pub fn model_from(
    sysattr: &dyn Fn(&str) -> Option<String>,
    prop: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    sysattr("device/model")
        .or_else(|| prop("ID_MODEL_ENC").map(|m| decode_udev(&m)))
        .or_else(|| prop("ID_MODEL"))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// A disk's WWN as the inventory records it: udev's (with extension first), else sysfs.
pub fn wwn_from(
    sysattr: &dyn Fn(&str) -> Option<String>,
    prop: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    prop("ID_WWN_WITH_EXTENSION")
        .or_else(|| prop("ID_WWN"))
        .or_else(|| sysattr("wwid"))
}

/// Decodes udev's `\x20`-style escapes (`ID_MODEL_ENC`).
fn decode_udev(s: &str) -> String {
    // Works on bytes only: `\x` may be followed by any character (udev data is not
    // ours), and slicing the `str` there could split a multi-byte character.
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') {
            if let (Some(hi), Some(lo)) = (
                b.get(i + 2).and_then(|c| hex_digit(*c)),
                b.get(i + 3).and_then(|c| hex_digit(*c)),
            ) {
                out.push(hi * 16 + lo);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(c: u8) -> Option<u8> {
    char::from(c)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(v: &[&str]) -> Vec<String> {
        v.iter().map(|l| format!("/dev/disk/by-id/{l}")).collect()
    }

    #[test]
    fn stable_path_prefers_wwn_then_the_serial_link() {
        let sata = links(&[
            "ata-Samsung_SSD_870_EVO_1TB_S6PUNX0R1",
            "ata-Samsung_SSD_870_EVO_1TB_S6PUNX0R1-part1",
            "scsi-SATA_Samsung_SSD_870_S6PUNX0R1",
            "wwn-0x5002538f4",
            "wwn-0x5002538f4-part1",
        ]);
        assert_eq!(
            choose_stable_path(
                "sda",
                &sata,
                Some("S6PUNX0R1"),
                Some("Samsung_SSD_870_EVO_1TB_S6PUNX0R1")
            ),
            "/dev/disk/by-id/wwn-0x5002538f4"
        );
        assert_eq!(
            choose_stable_path(
                "sda",
                &sata[..3],
                Some("S6PUNX0R1"),
                Some("Samsung_SSD_870_EVO_1TB_S6PUNX0R1")
            ),
            "/dev/disk/by-id/ata-Samsung_SSD_870_EVO_1TB_S6PUNX0R1"
        );
    }

    #[test]
    fn nvme_prefers_the_namespace_serial_link_over_eui() {
        let nvme = links(&[
            "nvme-nvme.1b36-4e564d4530303031-51454d55204e564d65204374726c-00000001",
            "nvme-QEMU_NVMe_Ctrl_NVME0001",
            "nvme-QEMU_NVMe_Ctrl_NVME0001_1",
            "nvme-eui.0025388b91c1a2b3",
        ]);
        assert_eq!(
            choose_stable_path(
                "nvme0n1",
                &nvme,
                Some("NVME0001"),
                Some("QEMU_NVMe_Ctrl_NVME0001_1")
            ),
            "/dev/disk/by-id/nvme-QEMU_NVMe_Ctrl_NVME0001_1"
        );
        // Only EUI links: better than a kernel name.
        assert_eq!(
            choose_stable_path("nvme0n1", &nvme[3..], None, None),
            "/dev/disk/by-id/nvme-eui.0025388b91c1a2b3"
        );
        assert_eq!(choose_stable_path("vdb", &[], None, None), "/dev/vdb");
        // Links outside by-id never count.
        assert_eq!(
            choose_stable_path(
                "vdb",
                &["/dev/disk/by-path/pci-0000:00:05.0".into()],
                None,
                None
            ),
            "/dev/vdb"
        );
    }

    #[test]
    fn decodes_udev_escapes() {
        assert_eq!(
            decode_udev("QEMU\\x20HARDDISK\\x20\\x20\\x20"),
            "QEMU HARDDISK   "
        );
        assert_eq!(decode_udev("a\\xZZ"), "a\\xZZ");
        // A multi-byte character right after `\x`, a short escape at the end: kept as
        // they are, never a panic (slicing the str there split the character).
        assert_eq!(decode_udev("a\\x\u{e9}b"), "a\\x\u{e9}b");
        assert_eq!(decode_udev("a\\x4\u{e9}"), "a\\x4\u{e9}");
        assert_eq!(decode_udev("end\\x4"), "end\\x4");
        assert!(is_partition_link("ata-X_Y-part12"));
        assert!(!is_partition_link("usb-QEMU_QEMU_HARDDISK_USB0001-0:0"));
    }
}
