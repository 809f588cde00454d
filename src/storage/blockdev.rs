//! Readers of the block-device stack as it is now: `lsblk -J -b -O`, LVM JSON reports,
//! `mdadm --detail --export`, `/proc/mdstat`, `/proc/self/mountinfo`, `/proc/swaps`,
//! and a disk's identity (stable link, serial, size, model).
//!
//! Queries are bounded ([`QUERY_TIMEOUT`]) and quiet (their completion is logged at
//! debug level: they only look). Each reader has an I/O half (runs the command or reads the file through the
//! [`Host`]) and a pure `parse_*` half tested on output captured from a real Debian 12
//! guest (`tests/fixtures/cmd-output/`). Detection, teardown and verify all read the
//! machine through this one module, so they can never disagree on what is there.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::host::{Cmd, CmdError, Host};

/// A query that hangs (a wedged `lvs`) must not hang the tool, nor a login shell:
/// `pre-nixos status` runs these readers in every login shell on the ISO.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------
// lsblk

/// One node of `lsblk -J -b -O` (disk, part, raidN, lvm, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsblkNode {
    /// Kernel name (`sda1`, `md127`, `dm-0`).
    pub kname: String,
    /// lsblk's display name (`main-slash` for an LV).
    pub name: String,
    /// `MAJ:MIN`, the key of a node (an md array appears once under each member).
    pub maj_min: String,
    /// `disk`, `part`, `raid1`, `lvm`, `loop`, `rom`, …
    pub kind: String,
    pub fstype: Option<String>,
    pub label: Option<String>,
    pub partlabel: Option<String>,
    /// GPT type GUID (lower case) or MBR type (`0xc`).
    pub parttype: Option<String>,
    pub pttype: Option<String>,
    pub size: u64,
    pub serial: Option<String>,
    pub model: Option<String>,
    /// Non-empty mount points (`/mnt`, `[SWAP]`).
    pub mountpoints: Vec<String>,
    pub children: Vec<LsblkNode>,
}

impl LsblkNode {
    pub fn dev(&self) -> String {
        format!("/dev/{}", self.kname)
    }

    pub fn is_md(&self) -> bool {
        self.kind.starts_with("raid") || self.kind == "md"
    }

    /// This node and every node below it, parents before children.
    pub fn walk(&self) -> Vec<&LsblkNode> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

fn u64_field(v: &Value, key: &str) -> u64 {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.trim_end_matches('B').parse().unwrap_or(0),
        _ => 0,
    }
}

fn node_from(v: &Value) -> anyhow::Result<LsblkNode> {
    let kname = str_field(v, "kname")
        .or_else(|| str_field(v, "name"))
        .context("an lsblk node has no name")?;
    // With -p names are paths; keep kernel names everywhere.
    let kname = kname.trim_start_matches("/dev/").to_owned();
    let mut mountpoints: Vec<String> = match v.get("mountpoints") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|m| m.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if mountpoints.is_empty() {
        mountpoints.extend(str_field(v, "mountpoint"));
    }
    let mut children = Vec::new();
    if let Some(Value::Array(a)) = v.get("children") {
        for c in a {
            children.push(node_from(c)?);
        }
    }
    Ok(LsblkNode {
        name: str_field(v, "name")
            .unwrap_or_else(|| kname.clone())
            .trim_start_matches("/dev/")
            .to_owned(),
        kname,
        maj_min: str_field(v, "maj:min").unwrap_or_default(),
        kind: str_field(v, "type").unwrap_or_default(),
        fstype: str_field(v, "fstype"),
        label: str_field(v, "label"),
        partlabel: str_field(v, "partlabel"),
        parttype: str_field(v, "parttype").map(|s| s.to_ascii_lowercase()),
        pttype: str_field(v, "pttype"),
        size: u64_field(v, "size"),
        serial: str_field(v, "serial"),
        model: str_field(v, "model"),
        mountpoints,
        children,
    })
}

/// Parses `lsblk -J -b -O` (or any `lsblk -J` with `name`/`type`).
pub fn parse_lsblk(json: &str) -> anyhow::Result<Vec<LsblkNode>> {
    let v: Value = serde_json::from_str(json).context("parsing lsblk JSON")?;
    let Some(Value::Array(devs)) = v.get("blockdevices") else {
        bail!("parsing lsblk JSON: no \"blockdevices\" array");
    };
    devs.iter().map(node_from).collect()
}

pub fn read_lsblk(host: &dyn Host) -> anyhow::Result<Vec<LsblkNode>> {
    let out = host.run(
        &Cmd::new("listing block devices", ["lsblk", "-J", "-b", "-O"])
            .timeout(QUERY_TIMEOUT)
            .quiet(),
    )?;
    parse_lsblk(&out.stdout)
}

// ---------------------------------------------------------------------------------
// LVM

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pv {
    /// Kernel path (`/dev/md127`, `/dev/sda2`).
    pub name: String,
    pub vg: Option<String>,
    pub size: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vg {
    pub name: String,
    pub size: u64,
    pub extent_size: u64,
    pub extent_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lv {
    pub name: String,
    pub vg: String,
    pub size: u64,
    /// `-wi-ao----`: the 5th character `a` means active.
    pub attr: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvmState {
    pub pvs: Vec<Pv>,
    pub vgs: Vec<Vg>,
    pub lvs: Vec<Lv>,
}

/// The rows of one `--reportformat json` report (`pv`, `vg`, `lv`).
pub fn parse_lvm_rows(json: &str, kind: &str) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    let v: Value =
        serde_json::from_str(json).with_context(|| format!("parsing the LVM {kind} report"))?;
    let mut rows = Vec::new();
    let Some(Value::Array(reports)) = v.get("report") else {
        bail!("parsing the LVM {kind} report: no \"report\" array");
    };
    for r in reports {
        if let Some(Value::Array(items)) = r.get(kind) {
            for item in items {
                let Value::Object(map) = item else { continue };
                rows.push(
                    map.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect(),
                );
            }
        }
    }
    Ok(rows)
}

/// `4194304B` (from `--units b`) → 4194304.
pub fn parse_lvm_bytes(s: &str) -> u64 {
    s.trim().trim_end_matches(['B', 'b']).parse().unwrap_or(0)
}

pub fn parse_pvs(json: &str) -> anyhow::Result<Vec<Pv>> {
    Ok(parse_lvm_rows(json, "pv")?
        .into_iter()
        .map(|r| Pv {
            name: r.get("pv_name").cloned().unwrap_or_default(),
            vg: r.get("vg_name").filter(|s| !s.is_empty()).cloned(),
            size: parse_lvm_bytes(r.get("pv_size").map(String::as_str).unwrap_or("")),
        })
        .collect())
}

pub fn parse_vgs(json: &str) -> anyhow::Result<Vec<Vg>> {
    Ok(parse_lvm_rows(json, "vg")?
        .into_iter()
        .map(|r| {
            let g = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
            Vg {
                name: g("vg_name").to_owned(),
                size: parse_lvm_bytes(g("vg_size")),
                extent_size: parse_lvm_bytes(g("vg_extent_size")),
                extent_count: g("vg_extent_count").parse().unwrap_or(0),
            }
        })
        .collect())
}

pub fn parse_lvs(json: &str) -> anyhow::Result<Vec<Lv>> {
    Ok(parse_lvm_rows(json, "lv")?
        .into_iter()
        .map(|r| {
            let g = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
            Lv {
                name: g("lv_name").to_owned(),
                vg: g("vg_name").to_owned(),
                size: parse_lvm_bytes(g("lv_size")),
                attr: g("lv_attr").to_owned(),
            }
        })
        .collect())
}

fn lvm_report(host: &dyn Host, what: &str, argv: &[&str]) -> anyhow::Result<Option<String>> {
    match host.run(
        &Cmd::new(what, argv.iter().copied())
            .timeout(QUERY_TIMEOUT)
            .quiet(),
    ) {
        Ok(o) => Ok(Some(o.stdout)),
        Err(CmdError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads PVs, VGs and LVs. `Ok(None)` when LVM is not installed.
pub fn read_lvm(host: &dyn Host) -> anyhow::Result<Option<LvmState>> {
    let Some(pvs) = lvm_report(
        host,
        "listing LVM physical volumes",
        &[
            "pvs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "pv_all,vg_name",
        ],
    )?
    else {
        return Ok(None);
    };
    let vgs = lvm_report(
        host,
        "listing LVM volume groups",
        &[
            "vgs",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "vg_all",
        ],
    )?
    .unwrap_or_default();
    let lvs = lvm_report(
        host,
        "listing LVM logical volumes",
        &[
            "lvs",
            "-a",
            "--reportformat",
            "json",
            "--units",
            "b",
            "-o",
            "lv_all,vg_name",
        ],
    )?
    .unwrap_or_default();
    let or_empty = |s: String| {
        if s.trim().is_empty() {
            "{\"report\":[]}".to_owned()
        } else {
            s
        }
    };
    Ok(Some(LvmState {
        pvs: parse_pvs(&or_empty(pvs))?,
        vgs: parse_vgs(&or_empty(vgs))?,
        lvs: parse_lvs(&or_empty(lvs))?,
    }))
}

// ---------------------------------------------------------------------------------
// md

/// `mdadm --detail --export /dev/mdX`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdDetail {
    /// `raid1`, `raid5`, …
    pub level: String,
    pub raid_devices: u32,
    pub metadata: String,
    pub uuid: String,
    /// `MD_DEVNAME`: the name under `/dev/md/` (`swap`).
    pub devname: Option<String>,
    /// `MD_NAME`: `any:swap`.
    pub name: Option<String>,
    /// Member device paths (`/dev/sdb1`), by role.
    pub members: Vec<String>,
}

impl MdDetail {
    /// The array's short name: `MD_DEVNAME`, else the part after `:` of `MD_NAME`.
    pub fn short_name(&self) -> Option<String> {
        self.devname.clone().or_else(|| {
            self.name
                .as_ref()
                .map(|n| n.rsplit(':').next().unwrap_or(n).to_owned())
        })
    }

    pub fn level_number(&self) -> Option<u32> {
        self.level.trim_start_matches("raid").parse().ok()
    }
}

pub fn parse_mdadm_detail(text: &str) -> MdDetail {
    let kv = crate::host::parse_key_values(text);
    let get = |k: &str| kv.get(k).cloned();
    let mut members: Vec<(u32, String)> = kv
        .iter()
        .filter(|(k, _)| k.starts_with("MD_DEVICE_") && k.ends_with("_DEV"))
        .map(|(k, dev)| {
            let role_key = format!("{}_ROLE", k.trim_end_matches("_DEV"));
            let role = kv
                .get(&role_key)
                .and_then(|r| r.parse().ok())
                .unwrap_or(u32::MAX);
            (role, dev.clone())
        })
        .collect();
    members.sort();
    MdDetail {
        level: get("MD_LEVEL").unwrap_or_default(),
        raid_devices: get("MD_DEVICES").and_then(|d| d.parse().ok()).unwrap_or(0),
        metadata: get("MD_METADATA").unwrap_or_default(),
        uuid: get("MD_UUID").unwrap_or_default(),
        devname: get("MD_DEVNAME"),
        name: get("MD_NAME"),
        members: members.into_iter().map(|(_, d)| d).collect(),
    }
}

pub fn read_md_detail(host: &dyn Host, dev: &str) -> anyhow::Result<MdDetail> {
    let out = host.run(
        &Cmd::new(
            format!("reading the md array {dev}"),
            ["mdadm", "--detail", "--export", dev],
        )
        .timeout(QUERY_TIMEOUT)
        .quiet(),
    )?;
    Ok(parse_mdadm_detail(&out.stdout))
}

/// One array of `/proc/mdstat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdstatArray {
    /// `md127`.
    pub name: String,
    /// `active` or `inactive`.
    pub state: String,
    pub level: Option<String>,
    /// Member kernel names (`sdc1`).
    pub members: Vec<String>,
}

pub fn parse_mdstat(text: &str) -> Vec<MdstatArray> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(" : ") else {
            continue;
        };
        let name = name.trim();
        if !name.starts_with("md") {
            continue;
        }
        let mut words = rest.split_whitespace().peekable();
        let state = words.next().unwrap_or_default().to_owned();
        let mut level = None;
        let mut members = Vec::new();
        for w in words {
            if w.starts_with('(') {
                continue; // (auto-read-only), (read-only)
            }
            if let Some(idx) = w.find('[') {
                members.push(w[..idx].to_owned());
            } else if w.starts_with("raid") || w == "linear" {
                level = Some(w.to_owned());
            }
        }
        out.push(MdstatArray {
            name: name.to_owned(),
            state,
            level,
            members,
        });
    }
    out
}

/// `/proc/mdstat`; empty when the md module is not loaded (the file is missing).
pub fn read_mdstat(host: &dyn Host) -> anyhow::Result<Vec<MdstatArray>> {
    match host.read_to_string(Path::new("/proc/mdstat")) {
        Ok(t) => Ok(parse_mdstat(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).context("reading /proc/mdstat"),
    }
}

// ---------------------------------------------------------------------------------
// mounts and swaps

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountEntry {
    pub major: u32,
    pub minor: u32,
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
    pub options: String,
}

impl MountEntry {
    pub fn maj_min(&self) -> String {
        format!("{}:{}", self.major, self.minor)
    }
}

/// Undoes the octal escapes of mountinfo and swaps (`\040` = space).
pub fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.len() - i > 3 {
            let oct = &b[i + 1..i + 4];
            if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                let v = u32::from(oct[0] - b'0') * 64
                    + u32::from(oct[1] - b'0') * 8
                    + u32::from(oct[2] - b'0');
                out.push(v as u8);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split_whitespace().collect();
        let r: Vec<&str> = right.split_whitespace().collect();
        if l.len() < 6 || r.len() < 2 {
            continue;
        }
        let (major, minor) = l[2].split_once(':').unwrap_or(("0", "0"));
        out.push(MountEntry {
            major: major.parse().unwrap_or(0),
            minor: minor.parse().unwrap_or(0),
            mount_point: unescape_octal(l[4]),
            options: l[5].to_owned(),
            fstype: r[0].to_owned(),
            source: unescape_octal(r[1]),
        });
    }
    out
}

pub fn read_mountinfo(host: &dyn Host) -> anyhow::Result<Vec<MountEntry>> {
    let t = host
        .read_to_string(Path::new("/proc/self/mountinfo"))
        .context("reading /proc/self/mountinfo")?;
    Ok(parse_mountinfo(&t))
}

/// Active swap areas of `/proc/swaps`: their paths (`/dev/dm-2`).
pub fn parse_swaps(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(unescape_octal)
        .collect()
}

pub fn read_swaps(host: &dyn Host) -> anyhow::Result<Vec<String>> {
    match host.read_to_string(Path::new("/proc/swaps")) {
        Ok(t) => Ok(parse_swaps(&t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).context("reading /proc/swaps"),
    }
}

// ---------------------------------------------------------------------------------
// GPT type codes

/// sgdisk type code → GPT type GUID (lower case), for the codes the plan uses.
pub fn type_guid(code: &str) -> Option<&'static str> {
    Some(match code.to_ascii_uppercase().as_str() {
        "EF00" => "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
        "FD00" => "a19d880f-05fc-4d3b-a006-743f0f84911e",
        "8E00" => "e6d6d379-f507-44c2-a23c-238f2a3df928",
        "8300" => "0fc63daf-8483-4772-8e79-3d69d8477de4",
        "8200" => "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
        _ => return None,
    })
}

/// GPT type GUID → sgdisk type code; unknown GUIDs come back as they are.
pub fn type_code(guid: &str) -> String {
    for code in ["EF00", "FD00", "8E00", "8300", "8200"] {
        if type_guid(code) == Some(guid.to_ascii_lowercase().as_str()) {
            return code.to_owned();
        }
    }
    guid.to_owned()
}

// ---------------------------------------------------------------------------------
// Disk identity

/// What a disk is right now, read fresh from the machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    pub stable_path: String,
    /// Kernel name the stable path resolves to now.
    pub kname: String,
    /// Every serial spelling found (udev `ID_SERIAL_SHORT`, `ID_SERIAL`, sysfs).
    pub serials: Vec<String>,
    pub size_bytes: u64,
    pub model: Option<String>,
}

impl Identity {
    pub fn describe(&self) -> String {
        format!(
            "{} -> /dev/{} (serial {}, {}, model {})",
            self.stable_path,
            self.kname,
            self.serials.first().map(String::as_str).unwrap_or("none"),
            crate::units::human_bytes(self.size_bytes),
            self.model.as_deref().unwrap_or("unknown")
        )
    }
}

/// Resolves a `/dev/disk/by-*` link (or a plain `/dev/<name>`) to a kernel name.
/// `Ok(None)` when the path does not exist (the disk is gone).
pub fn resolve_kname(host: &dyn Host, dev_path: &str) -> std::io::Result<Option<String>> {
    let p = Path::new(dev_path);
    match host.read_link(p) {
        Ok(target) => Ok(target.file_name().map(|n| n.to_string_lossy().into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // Not a symlink: the path names the device itself, if it exists.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            Ok(p.file_name().map(|n| n.to_string_lossy().into_owned()))
        }
        Err(e) => Err(e),
    }
}

/// The sysfs directory of a block device: `/sys/class/block/<name>` (every block
/// device, partitions included), else `/sys/block/<name>` (whole disks). Real sysfs
/// has both; fixture trees may carry only one. `None` when the device is gone.
pub fn sys_dir(host: &dyn Host, kname: &str) -> Option<std::path::PathBuf> {
    ["/sys/class/block", "/sys/block"]
        .iter()
        .map(|d| Path::new(d).join(kname))
        .find(|p| host.exists(p))
}

/// Reads a disk's identity through its stable path. `Ok(None)` when it is gone.
pub fn read_identity(host: &dyn Host, stable_path: &str) -> anyhow::Result<Option<Identity>> {
    let Some(kname) =
        resolve_kname(host, stable_path).with_context(|| format!("resolving {stable_path}"))?
    else {
        return Ok(None);
    };
    let Some(sys) = sys_dir(host, &kname) else {
        return Ok(None);
    };
    let sectors = match host.read_attr(&sys.join("size")) {
        Ok(s) => s
            .parse::<u64>()
            .with_context(|| format!("reading {}/size: {s:?}", sys.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}/size", sys.display())),
    };
    let mut serials = Vec::new();
    let mut model = None;
    if let Ok(devs) = host.udev_devices("block") {
        if let Some(d) = devs.iter().find(|d| d.sysname == kname) {
            for k in ["ID_SERIAL_SHORT", "ID_SERIAL", "ID_SCSI_SERIAL"] {
                if let Some(v) = d.prop(k) {
                    serials.push(v.trim().to_owned());
                }
            }
            model = d.prop("ID_MODEL").map(str::to_owned);
        }
    }
    for p in [sys.join("device/serial"), sys.join("serial")] {
        if let Ok(s) = host.read_attr(&p) {
            if !s.trim().is_empty() {
                serials.push(s.trim().to_owned());
            }
        }
    }
    serials.dedup();
    if model.is_none() {
        model = host.read_attr(&sys.join("device/model")).ok();
    }
    Ok(Some(Identity {
        stable_path: stable_path.to_owned(),
        kname,
        serials,
        size_bytes: sectors * 512,
        model,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/cmd-output")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn lsblk_reads_the_disko_applied_stack() {
        let nodes = parse_lsblk(&fixture("disko-applied/lsblk-O-b.json")).unwrap();
        let sda = nodes.iter().find(|n| n.kname == "sda").unwrap();
        assert_eq!(sda.kind, "disk");
        assert_eq!(sda.size, 4294967296);
        let esp = &sda.children[0];
        assert_eq!(esp.kname, "sda1");
        assert_eq!(esp.partlabel.as_deref(), Some("disk-ssd-ESP"));
        assert_eq!(type_code(esp.parttype.as_deref().unwrap()), "EF00");
        assert_eq!(esp.mountpoints, vec!["/mnt/boot"]);
        let slash = &sda.children[1].children[0];
        assert_eq!(slash.kname, "dm-0");
        assert_eq!(slash.name, "main-slash");
        assert_eq!(slash.label.as_deref(), Some("slash"));
        let sdb = nodes.iter().find(|n| n.kname == "sdb").unwrap();
        let md = &sdb.children[0].children[0];
        assert!(md.is_md());
        assert_eq!(md.kind, "raid1");
        assert_eq!(md.maj_min, "9:127");
        assert_eq!(md.children[0].mountpoints, vec!["[SWAP]"]);
        // Unmounted nodes carry no mount points (lsblk prints [null]).
        assert!(sdb.mountpoints.is_empty());
    }

    #[test]
    fn lvm_reports_parse_both_column_sets() {
        let pvs = parse_pvs(&fixture("disko-applied/lvm/pvs-all.json")).unwrap();
        assert_eq!(
            pvs,
            vec![
                Pv {
                    name: "/dev/md127".into(),
                    vg: Some("swap".into()),
                    size: 4286578688
                },
                Pv {
                    name: "/dev/sda2".into(),
                    vg: Some("main".into()),
                    size: 3753902080
                }
            ]
        );
        let vgs = parse_vgs(&fixture("disko-applied/lvm/vgs-all.json")).unwrap();
        assert_eq!(vgs[0].name, "main");
        assert_eq!(vgs[0].extent_size, 4 << 20);
        assert_eq!(vgs[0].extent_count, 895);
        assert_eq!(vgs[1].extent_count, 1022);
        let lvs = parse_lvs(&fixture("disko-applied/lvm/lvs-all.json")).unwrap();
        let names: Vec<_> = lvs.iter().map(|l| format!("{}/{}", l.vg, l.name)).collect();
        assert_eq!(
            names,
            ["main/home", "main/slash", "swap/swap", "swap/var_log"]
        );
        assert_eq!(lvs[1].size, 2 << 30);
        // The short report (no -o) reads the same.
        let short = parse_lvs(&fixture("existing-rebooted/lvm/lvs.json")).unwrap();
        assert_eq!(short.len(), 1);
        assert_eq!(short[0].vg, "oldvg");
        assert_eq!(short[0].attr, "-wi-a-----");
        assert!(parse_pvs("{\"report\":[{\"pv\":[]}]}").unwrap().is_empty());
        assert!(parse_pvs("not json").is_err());
    }

    #[test]
    fn mdadm_detail_and_mdstat_parse() {
        let d = parse_mdadm_detail(&fixture("disko-applied/mdadm/detail-md127.txt"));
        assert_eq!(d.level, "raid1");
        assert_eq!(d.level_number(), Some(1));
        assert_eq!(d.raid_devices, 2);
        assert_eq!(d.metadata, "1.2");
        assert_eq!(d.short_name().as_deref(), Some("swap"));
        assert_eq!(d.members, ["/dev/sdb1", "/dev/sdc1"]);

        let m = parse_mdstat(&fixture("existing-rebooted/mdstat.txt"));
        assert_eq!(
            m,
            vec![MdstatArray {
                name: "md127".into(),
                state: "active".into(),
                level: Some("raid1".into()),
                members: vec!["sdc1".into()],
            }]
        );
        let m = parse_mdstat(&fixture("disko-applied/mdstat.txt"));
        assert_eq!(m[0].members, ["sdc1", "sdb1"]);
        assert!(parse_mdstat("").is_empty());
        let inactive =
            "Personalities : \nmd127 : inactive sdb1[0](S)\n      4190144 blocks super 1.2\n";
        assert_eq!(parse_mdstat(inactive)[0].state, "inactive");
        assert_eq!(parse_mdstat(inactive)[0].members, ["sdb1"]);
    }

    #[test]
    fn mountinfo_and_swaps_parse() {
        let m = parse_mountinfo(&fixture("disko-applied/mountinfo.txt"));
        let mnt: Vec<_> = m
            .iter()
            .filter(|e| e.mount_point.starts_with("/mnt"))
            .map(|e| (e.mount_point.as_str(), e.maj_min(), e.fstype.as_str()))
            .collect();
        assert_eq!(
            mnt,
            [
                ("/mnt", "253:0".to_owned(), "ext4"),
                ("/mnt/boot", "8:1".to_owned(), "vfat"),
                ("/mnt/home", "253:1".to_owned(), "ext4"),
                ("/mnt/var/log", "253:3".to_owned(), "ext4"),
            ]
        );
        let esc = parse_mountinfo("40 1 8:1 / /mnt/a\\040b rw - ext4 /dev/sda1 rw\n");
        assert_eq!(esc[0].mount_point, "/mnt/a b");
        assert_eq!(
            parse_swaps(&fixture("disko-applied/swaps.txt")),
            ["/dev/dm-2"]
        );
        assert!(parse_swaps(&fixture("existing-rebooted/swaps.txt")).is_empty());
    }

    #[test]
    fn type_codes_round_trip() {
        for c in ["EF00", "FD00", "8E00"] {
            assert_eq!(type_code(type_guid(c).unwrap()), c);
        }
        assert_eq!(type_code("0xc"), "0xc");
    }
}
