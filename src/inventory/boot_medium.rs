//! The boot medium and the running system: the disks under the live system's mounts
//! (`/`, `/iso`, `/nix/.ro-store`, any squashfs or iso9660) and the devices the kernel
//! command line names (`boot=LABEL=…`, `root=…`), each followed through partitions,
//! md and device-mapper slaves and loop backing files down to whole disks. These are
//! never install targets, whatever else they look like.
//!
//! Other mounts (an operator's `/mnt`, the target tree after apply) do not make a
//! disk part of the live system; detection reports them as "in use" instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use super::sysfs::BlockTree;
use crate::host::{Host, UdevDevice};
use crate::kcmdline::BootOptions;

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: String,
    /// `major:minor` of the mounted device (0:N for tmpfs, overlay, btrfs subvolumes).
    pub devnum: (u32, u32),
    pub fstype: String,
    /// The mount source (`/dev/vda`, `/dev/disk/by-label/…`, `tmpfs`).
    pub source: String,
}

/// Parses `/proc/self/mountinfo`; lines it cannot read are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let f: Vec<&str> = left.split_whitespace().collect();
            let r: Vec<&str> = right.split_whitespace().collect();
            if f.len() < 5 || r.len() < 2 {
                return None;
            }
            Some(MountEntry {
                mount_point: unescape(f[4]),
                devnum: super::sysfs::parse_devnum(f[2])?,
                fstype: r[0].to_owned(),
                source: unescape(r[1]),
            })
        })
        .collect()
}

/// Undoes the kernel's octal escapes in mountinfo (`\040` space, `\011` tab,
/// `\012` newline, `\134` backslash).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // The kernel escapes with three octal digits, so at most \377; anything larger
        // (`\777`) is not an escape and must not overflow a byte.
        let octal = b.get(i + 1..i + 4).filter(|d| {
            b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)) && d[0] <= b'3'
        });
        if let Some(d) = octal {
            out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A mount that belongs to the live system.
pub fn is_live_mount(m: &MountEntry) -> bool {
    matches!(m.mount_point.as_str(), "/" | "/iso" | "/nix/.ro-store")
        || matches!(m.fstype.as_str(), "squashfs" | "iso9660")
}

/// Whole disks of the boot medium and the running system, each with what ties it
/// to them (`mounted at /iso`, `boot=LABEL=NIXOS`).
pub fn live_disks(
    host: &dyn Host,
    tree: &BlockTree,
    udev: &[UdevDevice],
    boot: &BootOptions,
) -> BTreeMap<String, Vec<String>> {
    let mounts = match host.read_to_string(Path::new("/proc/self/mountinfo")) {
        Ok(t) => parse_mountinfo(&t),
        Err(e) => {
            tracing::warn!(file = "/proc/self/mountinfo", error = %e,
                "reading mounts failed; the running system's disks cannot be recognised by their mounts");
            Vec::new()
        }
    };
    let r = Resolver {
        host,
        tree,
        mounts: &mounts,
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |disks: BTreeSet<String>, why: String| {
        for d in disks {
            let reasons = out.entry(d).or_default();
            if !reasons.contains(&why) {
                reasons.push(why.clone());
            }
        }
    };
    for m in mounts.iter().filter(|m| is_live_mount(m)) {
        if let Some(dev) = r.mount_device(m) {
            add(
                r.disks_under(&dev, 0),
                format!("mounted at {}", m.mount_point),
            );
        }
    }
    for (key, spec) in [("boot", &boot.boot_device), ("root", &boot.root_device)] {
        let Some(spec) = spec else { continue };
        match r.device_of_spec(spec, udev) {
            Some(dev) => add(r.disks_under(&dev, 0), format!("{key}={spec}")),
            None => tracing::warn!(
                spec = %spec,
                "{key}={spec} on the kernel command line names no device found here"
            ),
        }
    }
    out
}

/// "running system (mounted at /)" / "boot medium (mounted at /iso, boot=LABEL=X)".
pub fn reason(ties: &[String]) -> String {
    let what = if ties.iter().any(|t| t == "mounted at /") {
        "running system"
    } else {
        "boot medium"
    };
    format!("{what} ({})", ties.join(", "))
}

struct Resolver<'a> {
    host: &'a dyn Host,
    tree: &'a BlockTree,
    mounts: &'a [MountEntry],
}

impl Resolver<'_> {
    /// The block device a mount sits on, by device number, else by source path
    /// (a btrfs or overlay mount has an anonymous 0:N number).
    fn mount_device(&self, m: &MountEntry) -> Option<String> {
        if m.devnum.0 != 0 {
            if let Some(n) = self.tree.by_devnum.get(&m.devnum) {
                return Some(n.clone());
            }
        }
        if m.source.starts_with("/dev/") {
            return self.device_of_path(Path::new(&m.source));
        }
        None
    }

    /// Follows `/dev` symlinks (`/dev/disk/by-label/X → ../../sr0`) to a kernel name.
    fn device_of_path(&self, p: &Path) -> Option<String> {
        let mut p = p.to_path_buf();
        for _ in 0..16 {
            match self.host.read_link(&p) {
                Ok(target) => p = normalize(&p.parent().unwrap_or(Path::new("/")).join(target)),
                Err(_) => break,
            }
        }
        let name = p.file_name()?.to_string_lossy().into_owned();
        if self.tree.parent.contains_key(&name) || self.tree.disks.contains(&name) {
            return Some(name);
        }
        // `/dev/mapper/<name>` as a plain node: find the dm device of that name.
        if p.parent() == Some(Path::new("/dev/mapper")) {
            return self
                .tree
                .disks
                .iter()
                .find(|d| self.tree.read(self.host, d, "dm/name").value().as_deref() == Some(&name))
                .cloned();
        }
        None
    }

    /// `LABEL=x`, `UUID=x`, `PARTUUID=x`, `PARTLABEL=x` or `/dev/…` → kernel name,
    /// through the udev links, else through the udev properties themselves (a system
    /// whose links are not there yet).
    fn device_of_spec(&self, spec: &str, udev: &[UdevDevice]) -> Option<String> {
        if spec.starts_with("/dev/") {
            return self.device_of_path(Path::new(spec));
        }
        let (kind, value) = spec.split_once('=')?;
        let (dir, prop) = match kind {
            "LABEL" => ("by-label", "ID_FS_LABEL"),
            "UUID" => ("by-uuid", "ID_FS_UUID"),
            "PARTUUID" => ("by-partuuid", "ID_PART_ENTRY_UUID"),
            "PARTLABEL" => ("by-partlabel", "ID_PART_ENTRY_NAME"),
            _ => return None,
        };
        let mut candidates = vec![encode_link_name(value)];
        if kind.ends_with("UUID") {
            candidates.push(value.to_ascii_lowercase());
        }
        for c in candidates {
            let link = Path::new("/dev/disk").join(dir).join(c);
            if self.host.exists(&link) {
                if let Some(n) = self.device_of_path(&link) {
                    return Some(n);
                }
            }
        }
        udev.iter()
            .find(|d| {
                d.prop(prop).is_some_and(|v| {
                    v == value || (kind.ends_with("UUID") && v.eq_ignore_ascii_case(value))
                })
            })
            .map(|d| d.sysname.clone())
    }

    /// The whole disks under a device: a partition's disk, an md or dm device's
    /// slaves, a loop device's backing file's mount, recursively.
    fn disks_under(&self, name: &str, depth: usize) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if depth > 8 {
            return out;
        }
        if let Some(disk) = self.tree.parent.get(name) {
            return self.disks_under(disk, depth + 1);
        }
        let slaves = self.tree.links(self.host, name, "slaves");
        for s in &slaves {
            out.extend(self.disks_under(s, depth + 1));
        }
        if slaves.is_empty() {
            out.insert(name.to_owned());
        }
        if let Some(file) = self.tree.read(self.host, name, "loop/backing_file").value() {
            if let Some(m) = self.mount_of_file(&file) {
                if let Some(dev) = self.mount_device(m) {
                    out.extend(self.disks_under(&dev, depth + 1));
                }
            }
        }
        out
    }

    /// The mount holding a file: the longest mount point that is a prefix of it.
    fn mount_of_file(&self, file: &str) -> Option<&MountEntry> {
        let f = Path::new(file);
        self.mounts
            .iter()
            .filter(|m| f.starts_with(&m.mount_point))
            .max_by_key(|m| m.mount_point.len())
    }
}

/// Lexically resolves `.` and `..` (symlink targets are relative to their directory).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// udev's encoding of a label in a link name: bytes outside a safe set as `\xHH`.
fn encode_link_name(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"#+-.:=@_".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_captured_mountinfo() {
        let text = include_str!("../../tests/fixtures/sysfs/guest-blank/proc/self/mountinfo");
        let m = parse_mountinfo(text);
        assert_eq!(m.len(), 23);
        let root = m.iter().find(|m| m.mount_point == "/").unwrap();
        assert_eq!(
            root,
            &MountEntry {
                mount_point: "/".into(),
                devnum: (254, 0),
                fstype: "ext4".into(),
                source: "/dev/vda".into(),
            }
        );
        let live: Vec<&str> = m
            .iter()
            .filter(|m| is_live_mount(m))
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(live, ["/"]);
    }

    #[test]
    fn unescapes_octal_and_keeps_optional_fields_apart() {
        let line =
            "36 25 11:0 / /run/my\\040iso ro,relatime shared:3 master:1 - iso9660 /dev/sr0 ro\n\
                    37 25 0:40 / /nix/.ro-store ro - squashfs /dev/loop0 ro";
        let m = parse_mountinfo(line);
        assert_eq!(m[0].mount_point, "/run/my iso");
        assert_eq!(m[0].fstype, "iso9660");
        assert_eq!(m[0].devnum, (11, 0));
        assert!(is_live_mount(&m[0]) && is_live_mount(&m[1]));
        assert_eq!(unescape("a\\134b\\011c\\012"), "a\\b\tc\n");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
        // Three octal digits above \377 are no escape (and no u8 overflow).
        assert_eq!(unescape("x\\777y"), "x\\777y");
        assert_eq!(unescape("x\\477"), "x\\477");
    }

    #[test]
    fn link_names_are_encoded_like_udev() {
        assert_eq!(encode_link_name("NIXOS ISO"), "NIXOS\\x20ISO");
        assert_eq!(encode_link_name("nixos-24.05-x86_64"), "nixos-24.05-x86_64");
        assert_eq!(
            normalize(Path::new("/dev/disk/by-label/../../sr0")),
            PathBuf::from("/dev/sr0")
        );
    }

    #[test]
    fn reason_names_the_ties() {
        assert_eq!(
            reason(&["mounted at /".into(), "root=/dev/vda".into()]),
            "running system (mounted at /, root=/dev/vda)"
        );
        assert_eq!(
            reason(&["mounted at /iso".into()]),
            "boot medium (mounted at /iso)"
        );
    }
}
