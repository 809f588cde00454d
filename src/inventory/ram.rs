//! RAM: `MemTotal` of `/proc/meminfo`, in bytes.

use std::path::Path;

use anyhow::Context as _;

use crate::host::Host;

/// Reads `/proc/meminfo`.
pub fn read_ram(host: &dyn Host) -> anyhow::Result<u64> {
    let text = host
        .read_to_string(Path::new("/proc/meminfo"))
        .context("reading /proc/meminfo")?;
    parse_meminfo(&text)
        .context("reading /proc/meminfo: no MemTotal line in kB; the swap size cannot be derived")
}

/// `MemTotal:  981416 kB` → bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => n.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_captured_meminfo() {
        let text = include_str!("../../tests/fixtures/sysfs/guest-blank/proc/meminfo");
        assert_eq!(parse_meminfo(text), Some(981_416 * 1024));
        assert_eq!(parse_meminfo("MemFree: 1 kB\n"), None);
        assert_eq!(parse_meminfo("MemTotal: lots kB\n"), None);
        assert_eq!(parse_meminfo("MemTotal: 5 MB\n"), None);
    }
}
