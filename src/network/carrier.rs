//! Bringing the candidates up and waiting for a link, with a deadline.
//!
//! A down link cannot report carrier (its `carrier` read fails with EINVAL), so
//! every candidate is set up first — in one go, so their autonegotiations overlap.
//! Then sysfs is polled through the host (a bounded poll: the fake's virtual clock
//! makes the deadline testable without waiting). The wait ends as soon as the
//! winner is certain:
//! - the operator named the LAN's MAC and it exists (nothing to rank);
//! - every candidate has a link (no state left to change the rank);
//! - some candidate has had a link for [`SETTLE`]: links brought up together
//!   negotiate within a second or three, so a port still dark after that is not
//!   cabled (waiting the full deadline on every two-port server with one cable
//!   would delay SSH by 30 s for nothing);
//! - or the deadline passes.

use std::path::Path;
use std::time::Duration;

use crate::host::{Cmd, Host};
use crate::inventory::nics::scan_nics;
use crate::inventory::Nic;

use super::choose::{normalize_mac, ranked, score};

/// How often sysfs is polled while waiting.
pub const POLL: Duration = Duration::from_millis(250);
/// How long a first link waits for a better one to appear.
pub const SETTLE: Duration = Duration::from_secs(3);

/// `ip link set <nic> up` for every candidate that is not up yet. Failures are
/// returned as warnings (the NIC then simply never shows a link).
pub fn bring_up(host: &dyn Host, nics: &[Nic]) -> Vec<String> {
    let mut warnings = Vec::new();
    for n in nics.iter().filter(|n| n.excluded.is_none()) {
        if is_admin_up(host, &n.name) {
            continue;
        }
        let cmd = Cmd::new(
            format!("bringing {} up to read its carrier", n.name),
            ["ip", "link", "set", n.name.as_str(), "up"],
        )
        .timeout(Duration::from_secs(10));
        if let Err(e) = host.run(&cmd) {
            tracing::warn!(device = %n.name, error = %e, "bringing link up failed");
            warnings.push(e.to_string());
        }
    }
    warnings
}

/// `IFF_UP` in `/sys/class/net/<nic>/flags` (hex). Unreadable → not known to be up.
pub fn is_admin_up(host: &dyn Host, name: &str) -> bool {
    host.read_attr(&Path::new("/sys/class/net").join(name).join("flags"))
        .ok()
        .and_then(|f| u32::from_str_radix(f.trim_start_matches("0x"), 16).ok())
        .is_some_and(|f| f & 1 == 1)
}

/// Why the wait ended (for the log and `--dry-run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub nics: Vec<Nic>,
    pub waited: Duration,
    pub why: String,
}

/// Polls until the winner is certain or `timeout` passes; returns the last scan.
pub fn wait_for_link(
    host: &dyn Host,
    timeout: Duration,
    override_mac: Option<&str>,
) -> anyhow::Result<Waited> {
    let start = host.now();
    let mut first_link: Option<std::time::Instant> = None;
    loop {
        let nics = scan_nics(host)?;
        let now = host.now();
        let waited = now.duration_since(start);
        let done = |why: String| Waited {
            nics: nics.clone(),
            waited,
            why,
        };
        if let Some(want) = override_mac.map(normalize_mac) {
            if nics
                .iter()
                .any(|n| normalize_mac(&n.perm_mac) == want || normalize_mac(&n.mac) == want)
            {
                return Ok(done(format!("override {want} present")));
            }
        }
        let cands = ranked(&nics);
        if cands.is_empty() {
            return Ok(done("no candidate NIC".into()));
        }
        let with_link = cands.iter().filter(|n| score(n).link).count();
        if with_link == cands.len() {
            return Ok(done("every candidate has a link".into()));
        }
        if with_link > 0 {
            let t = *first_link.get_or_insert(now);
            if now.duration_since(t) >= SETTLE {
                return Ok(done(format!(
                    "{} has a link; the others stayed dark for {} s",
                    cands[0].name,
                    SETTLE.as_secs()
                )));
            }
        }
        if waited >= timeout {
            return Ok(done(format!(
                "deadline of {} s passed{}",
                timeout.as_secs(),
                if with_link == 0 {
                    " with no link anywhere"
                } else {
                    ""
                }
            )));
        }
        host.sleep(POLL);
    }
}
