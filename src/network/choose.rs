//! Choosing the LAN: a pure function over the NIC records (SPEC §4.1).
//!
//! Rank: link (carrier, or `operstate` up when `carrier` could not be read), then
//! speed, then PCI path order (`ID_PATH`), then name and MAC so the result is total
//! and deterministic. An operator override (`pre-nixos.lan=<mac>` / `--lan`) wins
//! over everything. An existing `lan` that has a link is kept, so a re-run never
//! moves the LAN away from a working interface. No candidate with a link: no
//! choice, and the caller writes the catch-all DHCP file instead.

use std::cmp::Ordering;

use crate::inventory::Nic;

/// The name the chosen NIC gets.
pub const LAN: &str = "lan";

/// How one candidate scores (for logs and `--dry-run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub link: bool,
    /// Where `link` came from: `carrier`, `operstate`, or `none`.
    pub signal: &'static str,
    pub speed_mbps: Option<u32>,
    pub id_path: Option<String>,
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "link={} ({}) speed={} path={}",
            if self.link { "yes" } else { "no" },
            self.signal,
            self.speed_mbps
                .map(|s| format!("{s}Mb/s"))
                .unwrap_or_else(|| "unknown".into()),
            self.id_path.as_deref().unwrap_or("-")
        )
    }
}

/// Scores a NIC. `carrier` unreadable (EINVAL on a down link) falls back to operstate.
pub fn score(nic: &Nic) -> Score {
    let (link, signal) = match nic.carrier {
        Some(c) => (c, "carrier"),
        None if nic.operstate.eq_ignore_ascii_case("up") => (true, "operstate"),
        None => (false, "none"),
    };
    Score {
        link,
        signal,
        speed_mbps: if link { nic.speed_mbps } else { None },
        id_path: nic.id_path.clone(),
    }
}

/// The outcome of choosing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// This NIC becomes `lan`.
    Chosen { nic: Box<Nic>, reason: String },
    /// Candidates exist but none has a link: catch-all DHCP on every physical NIC.
    NoLink { candidates: Vec<String> },
    /// Not a single candidate NIC.
    NoCandidate,
}

impl Choice {
    pub fn chosen(&self) -> Option<&Nic> {
        match self {
            Choice::Chosen { nic, .. } => Some(nic),
            _ => None,
        }
    }
}

/// Normalises a MAC for comparison (`52-54-00-AB-…` → `52:54:00:ab:…`).
pub fn normalize_mac(mac: &str) -> String {
    mac.trim().to_ascii_lowercase().replace('-', ":")
}

/// Compares two candidates: better first.
pub fn rank(a: &Nic, b: &Nic) -> Ordering {
    let (sa, sb) = (score(a), score(b));
    sb.link
        .cmp(&sa.link)
        .then_with(|| sb.speed_mbps.unwrap_or(0).cmp(&sa.speed_mbps.unwrap_or(0)))
        .then_with(|| path_order(sa.id_path.as_deref(), sb.id_path.as_deref()))
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.perm_mac.cmp(&b.perm_mac))
}

/// PCI path order: known paths before unknown ones, then by path with numbers
/// compared as numbers where they differ in length (`pci-0000:00:1f.6` style paths
/// are fixed width, so plain comparison already is bus order).
fn path_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Candidates in rank order (best first).
pub fn ranked(nics: &[Nic]) -> Vec<&Nic> {
    let mut c: Vec<&Nic> = nics.iter().filter(|n| n.excluded.is_none()).collect();
    c.sort_by(|a, b| rank(a, b));
    c
}

/// Chooses the LAN. `override_mac` comes from `--lan` or `pre-nixos.lan=`.
/// Warnings (an override that matches nothing, an excluded override) go to `warnings`.
pub fn choose(nics: &[Nic], override_mac: Option<&str>, warnings: &mut Vec<String>) -> Choice {
    if let Some(want) = override_mac.map(normalize_mac) {
        let hit = nics
            .iter()
            .find(|n| normalize_mac(&n.perm_mac) == want || normalize_mac(&n.mac) == want);
        match hit {
            Some(n) => {
                if let Some(why) = &n.excluded {
                    warnings.push(format!(
                        "the LAN override {want} names {} which is normally excluded ({why}); using it as asked",
                        n.name
                    ));
                }
                return Choice::Chosen {
                    nic: Box::new(n.clone()),
                    reason: format!("operator override pre-nixos.lan={want} ({})", score(n)),
                };
            }
            None => warnings.push(format!(
                "the LAN override {want} matches no interface (have: {}); choosing by rank instead",
                nics.iter()
                    .map(|n| format!("{} {}", n.name, n.perm_mac))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let ranked = ranked(nics);
    let Some(best) = ranked.first() else {
        return Choice::NoCandidate;
    };
    // A working `lan` stays: never move the LAN (and drop SSH sessions) on a re-run.
    if let Some(lan) = ranked.iter().find(|n| n.name == LAN && score(n).link) {
        return Choice::Chosen {
            nic: Box::new((*lan).clone()),
            reason: format!("already named lan and has a link ({}); kept", score(lan)),
        };
    }
    let s = score(best);
    if !s.link {
        return Choice::NoLink {
            candidates: ranked.iter().map(|n| n.name.clone()).collect(),
        };
    }
    let reason = match ranked.get(1) {
        None => format!("the only candidate with a link ({s})"),
        Some(second) => {
            let s2 = score(second);
            let why = if !s2.link {
                "the only candidate with a link".to_string()
            } else if s.speed_mbps.unwrap_or(0) != s2.speed_mbps.unwrap_or(0) {
                format!("faster than {}", second.name)
            } else if s.id_path != s2.id_path {
                format!("same speed as {}, earlier PCI path", second.name)
            } else {
                format!("same speed and path as {}, earlier name", second.name)
            };
            format!("{why} ({s})")
        }
    };
    Choice::Chosen {
        nic: Box::new((*best).clone()),
        reason,
    }
}

/// A plain candidate record for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::inventory::Nic;

    pub(crate) fn nic(name: &str, mac: &str) -> Nic {
        Nic {
            name: name.into(),
            mac: mac.into(),
            perm_mac: mac.into(),
            perm_mac_known: true,
            driver: Some("e1000e".into()),
            bus: Some("pci".into()),
            id_path: Some("pci-0000:00:05.0".into()),
            speed_mbps: None,
            carrier: Some(true),
            operstate: "up".into(),
            physical: true,
            excluded: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn nic(
        name: &str,
        mac: &str,
        carrier: Option<bool>,
        speed: Option<u32>,
        path: &str,
    ) -> Nic {
        Nic {
            name: name.into(),
            mac: mac.into(),
            perm_mac: mac.into(),
            perm_mac_known: true,
            driver: Some("e1000e".into()),
            bus: Some("pci".into()),
            id_path: Some(path.into()),
            speed_mbps: speed,
            carrier,
            operstate: if carrier == Some(true) { "up" } else { "down" }.into(),
            physical: true,
            excluded: None,
        }
    }

    fn pick(nics: &[Nic], over: Option<&str>) -> (Choice, Vec<String>) {
        let mut w = Vec::new();
        (choose(nics, over, &mut w), w)
    }

    #[test]
    fn carrier_beats_speed() {
        let n = [
            nic(
                "eno1",
                "aa:00:00:00:00:01",
                Some(false),
                Some(10000),
                "pci-0000:00:1f.6",
            ),
            nic(
                "eno2",
                "aa:00:00:00:00:02",
                Some(true),
                Some(100),
                "pci-0000:03:00.0",
            ),
        ];
        let (c, _) = pick(&n, None);
        assert_eq!(c.chosen().unwrap().name, "eno2");
    }

    #[test]
    fn faster_wins_then_pci_order() {
        let n = [
            nic(
                "a",
                "aa:00:00:00:00:01",
                Some(true),
                Some(1000),
                "pci-0000:00:1f.6",
            ),
            nic(
                "b",
                "aa:00:00:00:00:02",
                Some(true),
                Some(10000),
                "pci-0000:03:00.0",
            ),
        ];
        assert_eq!(pick(&n, None).0.chosen().unwrap().name, "b");
        let n = [
            nic(
                "z",
                "aa:00:00:00:00:01",
                Some(true),
                Some(1000),
                "pci-0000:00:1f.6",
            ),
            nic(
                "a",
                "aa:00:00:00:00:02",
                Some(true),
                Some(1000),
                "pci-0000:03:00.0",
            ),
        ];
        let (c, _) = pick(&n, None);
        assert_eq!(c.chosen().unwrap().name, "z");
        match c {
            Choice::Chosen { reason, .. } => {
                assert!(reason.contains("earlier PCI path"), "{reason}");
            }
            _ => unreachable!(),
        }
    }

    #[test]
    fn override_wins_and_bad_override_warns() {
        let n = [
            nic(
                "a",
                "aa:00:00:00:00:01",
                Some(true),
                Some(1000),
                "pci-0000:00:01.0",
            ),
            nic(
                "b",
                "aa:00:00:00:00:02",
                Some(false),
                None,
                "pci-0000:00:02.0",
            ),
        ];
        let (c, w) = pick(&n, Some("AA-00-00-00-00-02"));
        assert_eq!(c.chosen().unwrap().name, "b");
        assert!(w.is_empty());
        let (c, w) = pick(&n, Some("aa:00:00:00:00:09"));
        assert_eq!(c.chosen().unwrap().name, "a");
        assert!(w[0].contains("matches no interface"), "{w:?}");
    }

    #[test]
    fn working_lan_is_kept_even_if_slower() {
        let n = [
            nic(
                "eno1",
                "aa:00:00:00:00:01",
                Some(true),
                Some(10000),
                "pci-0000:00:01.0",
            ),
            nic(
                "lan",
                "aa:00:00:00:00:02",
                Some(true),
                Some(1000),
                "pci-0000:00:02.0",
            ),
        ];
        let (c, _) = pick(&n, None);
        assert_eq!(c.chosen().unwrap().name, "lan");
    }

    #[test]
    fn no_link_and_no_candidate() {
        let n = [nic(
            "a",
            "aa:00:00:00:00:01",
            Some(false),
            None,
            "pci-0000:00:01.0",
        )];
        assert_eq!(
            pick(&n, None).0,
            Choice::NoLink {
                candidates: vec!["a".into()]
            }
        );
        assert_eq!(pick(&[], None).0, Choice::NoCandidate);
    }

    #[test]
    fn unreadable_carrier_falls_back_to_operstate() {
        let mut a = nic("a", "aa:00:00:00:00:01", None, None, "pci-0000:00:01.0");
        a.operstate = "up".into();
        let b = nic(
            "b",
            "aa:00:00:00:00:02",
            Some(false),
            None,
            "pci-0000:00:00.0",
        );
        let s = score(&a);
        assert!(s.link);
        assert_eq!(s.signal, "operstate");
        assert_eq!(pick(&[b, a], None).0.chosen().unwrap().name, "a");
    }
}
