//! What is mounted and swapped on: `/proc/self/mountinfo` and `/proc/swaps`.

use std::path::Path;

use anyhow::Context;

use crate::host::Host;

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

/// The kernel names of the active swap devices (`dm-3`): `/proc/swaps` lists a swap LV
/// as `/dev/dm-N`, so a planned swap is compared by the kernel name its node resolves to.
pub fn active_swap_knames(host: &dyn Host) -> anyhow::Result<std::collections::BTreeSet<String>> {
    Ok(read_swaps(host)?
        .iter()
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned())
        .collect())
}
