//! The LAN's IPv4 address from `ip -j addr show dev lan`, waiting for the DHCP
//! lease with a deadline. The pure half ([`parse_ipv4`]) is tested on the captured
//! `ip -j addr show` output.

use std::time::Duration;

use crate::host::{Cmd, Host};

/// How long to wait for the DHCP lease.
pub const LEASE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(500);

/// The first global-scope IPv4 address of `iface` in `ip -j addr` output (a JSON
/// array of links, each with `addr_info`); a non-global one only when there is no
/// global one. Malformed JSON, another interface or no `inet` → `None`.
pub fn parse_ipv4(json: &str, iface: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let links = v.as_array()?;
    let mut fallback = None;
    for link in links.iter().filter(|l| l["ifname"] == iface) {
        for a in link["addr_info"].as_array().into_iter().flatten() {
            if a["family"] != "inet" {
                continue;
            }
            let Some(local) = a["local"].as_str() else {
                continue;
            };
            match a["scope"].as_str() {
                Some("global") => return Some(local.to_owned()),
                Some("host") => {}
                _ => {
                    fallback.get_or_insert_with(|| local.to_owned());
                }
            }
        }
    }
    fallback
}

/// Polls until `iface` has an IPv4 address or `timeout` passes.
pub fn wait_for_ipv4(host: &dyn Host, iface: &str, timeout: Duration) -> Option<String> {
    let start = host.now();
    loop {
        let cmd = Cmd::new(
            format!("reading the addresses of {iface}"),
            ["ip", "-j", "addr", "show", "dev", iface],
        )
        .timeout(Duration::from_secs(5));
        match host.run(&cmd) {
            Ok(out) => {
                if let Some(ip) = parse_ipv4(&out.stdout, iface) {
                    tracing::info!(device = iface, ipv4 = %ip, "lease");
                    return Some(ip);
                }
            }
            Err(e) => tracing::debug!(device = iface, error = %e, "no address yet"),
        }
        if host.now().duration_since(start) >= timeout {
            tracing::warn!(
                device = iface,
                timeout_s = timeout.as_secs(),
                "no IPv4 address before the deadline"
            );
            return None;
        }
        host.sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURED: &str = include_str!("../../tests/fixtures/net/ip-addr.json");

    #[test]
    fn captured_output_without_lease_has_no_ipv4() {
        assert_eq!(parse_ipv4(CAPTURED, "enp0s6"), None);
        assert_eq!(
            parse_ipv4(CAPTURED, "lo"),
            None,
            "host scope is not an answer"
        );
        assert_eq!(parse_ipv4(CAPTURED, "lan"), None);
        assert_eq!(parse_ipv4("not json", "lan"), None);
    }

    #[test]
    fn global_address_preferred() {
        // The captured enp0s6 record with a lease added, as `ip -j` prints it.
        let mut v: serde_json::Value = serde_json::from_str(CAPTURED).unwrap();
        let link = &mut v[2];
        link["ifname"] = "lan".into();
        let infos = link["addr_info"].as_array_mut().unwrap();
        infos.insert(0, serde_json::json!({"family":"inet","local":"169.254.3.4","prefixlen":16,"scope":"link"}));
        infos.insert(1, serde_json::json!({"family":"inet","local":"10.0.2.15","prefixlen":24,"scope":"global","dynamic":true}));
        assert_eq!(
            parse_ipv4(&v.to_string(), "lan").as_deref(),
            Some("10.0.2.15")
        );
    }
}
