//! RAM: `MemTotal` of `/proc/meminfo`, in bytes.

use std::path::Path;

use anyhow::Context as _;

use crate::host::Host;

/// Reads `/proc/meminfo`.
pub fn read_ram(host: &dyn Host) -> anyhow::Result<u64> {
    let text = host
        .read_to_string(Path::new("/proc/meminfo"))
        .with_context(|| format!("reading /proc/meminfo: {WHAT_TO_DO}"))?;
    parse_meminfo(&text).with_context(|| {
        format!(
            "reading /proc/meminfo: expected a `MemTotal: <n> kB` line, found none; {WHAT_TO_DO}"
        )
    })
}

/// The swap size is derived from RAM; without RAM the operator names it.
const WHAT_TO_DO: &str = "the swap size cannot be derived from RAM: give it with \
     --swap-size SIZE or pre-nixos.swap=SIZE on the kernel command line";

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

    #[test]
    fn no_memtotal_says_how_to_give_the_swap_size() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::write(dir.path().join("proc/meminfo"), "MemFree: 1 kB\n").unwrap();
        let host = crate::host::fake::FakeHost::new(dir.path());
        let err = format!("{:#}", read_ram(&host).unwrap_err());
        assert!(
            err.starts_with("reading /proc/meminfo: expected a `MemTotal"),
            "{err}"
        );
        assert!(
            err.contains("--swap-size SIZE or pre-nixos.swap=SIZE"),
            "{err}"
        );
        std::fs::remove_file(dir.path().join("proc/meminfo")).unwrap();
        let err = format!("{:#}", read_ram(&host).unwrap_err());
        assert!(
            err.contains("--swap-size SIZE or pre-nixos.swap=SIZE"),
            "{err}"
        );
    }
}
