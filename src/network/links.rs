//! The systemd-networkd files that make the chosen NIC `lan` with DHCP (SPEC §4.2),
//! rendered from the NIC record alone (golden-tested) and written atomically, only
//! when their content changes, so a second run writes nothing.
//!
//! `.link` match: `PermanentMACAddress=` (systemd ≥ 248, so 252 on Debian 12 and
//! every NixOS in use) when the kernel knows the burnt-in MAC — it still matches
//! after someone changes the current address. When it does not (random or
//! driver-set MAC: `perm_addr` is all zeros and `PermanentMACAddress=` can never
//! match), `MACAddress=` with the current MAC is used instead. No `OriginalName=`:
//! kernel names are not stable across kernels.
//!
//! Directory: `/etc/systemd/network`, unless that is a symlink (NixOS renders it
//! into the read-only Nix store when networks are declared); then
//! `/run/systemd/network`, which networkd and udev read as well.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::host::{Cmd, Host};
use crate::inventory::Nic;

pub const LINK_FILE: &str = "10-lan.link";
pub const NETWORK_FILE: &str = "20-lan.network";
/// With no link anywhere: DHCP on every physical Ethernet NIC. Sorted after
/// `20-lan.network`, so once `lan` exists its own file wins, and before 70 (the
/// man page's advice), so no distribution default file takes precedence.
pub const CATCHALL_FILE: &str = "60-pre-nixos-ether-dhcp.network";

const HEADER: &str = "# Written by pre-nixos (SPEC 4.2). Rewritten on every boot.\n";

/// `10-lan.link` for the chosen NIC.
pub fn render_link(nic: &Nic) -> String {
    let m = if nic.perm_mac_known {
        format!("PermanentMACAddress={}", nic.perm_mac)
    } else {
        format!("MACAddress={}", nic.mac)
    };
    format!("{HEADER}[Match]\n{m}\n\n[Link]\nName=lan\n")
}

/// `20-lan.network`: DHCP on `lan`, client identifier from the MAC (not the
/// machine-id based DUID: a live ISO's machine-id is random per boot).
pub fn render_network() -> String {
    format!("{HEADER}[Match]\nName=lan\n\n[Network]\nDHCP=yes\n\n[DHCPv4]\nClientIdentifier=mac\n")
}

/// The no-carrier fallback: every physical Ethernet NIC gets DHCP. `Kind=!*`
/// (systemd ≥ 251) leaves out every netdev with a kind (bridge, bond, veth, tun,
/// vlan…); `Type=ether` leaves out loopback and wireless (`wlan`); `Driver=!…`
/// leaves out the BMC's USB NIC.
pub fn render_catchall() -> String {
    format!(
        "{HEADER}[Match]\nType=ether\nKind=!*\nDriver=!{}\n\n[Network]\nDHCP=yes\n\n[DHCPv4]\nClientIdentifier=mac\n",
        crate::inventory::nics::BMC_USB_DRIVERS.join(" ")
    )
}

/// Where the files go (see the module comment).
pub fn network_dir(host: &dyn Host) -> PathBuf {
    let etc = Path::new("/etc/systemd/network");
    match host.read_link(etc) {
        Ok(target) => {
            tracing::info!(path = %etc.display(), target = %target.display(),
                "/etc/systemd/network is a symlink (read-only on NixOS); using /run/systemd/network");
            PathBuf::from("/run/systemd/network")
        }
        Err(_) => etc.to_path_buf(),
    }
}

/// Writes `content` atomically unless the file already holds exactly that.
/// Returns whether it wrote.
pub fn write_if_changed(
    host: &dyn Host,
    path: &Path,
    content: &str,
    mode: u32,
) -> io::Result<bool> {
    if host.read_to_string(path).ok().as_deref() == Some(content) {
        tracing::debug!(path = %path.display(), "unchanged");
        return Ok(false);
    }
    host.write_atomic(path, content.as_bytes(), mode)?;
    tracing::info!(path = %path.display(), "{}", crate::network::said(host, "written", "would write"));
    Ok(true)
}

/// Makes networkd re-read its files without blocking: `networkctl reload` (needs
/// D-Bus and a running networkd), else a queued
/// `systemctl reload-or-restart --no-block systemd-networkd.service` (also starts
/// a networkd that is not running). Returns an error text when both fail.
pub fn reload_networkd(host: &dyn Host) -> Result<(), String> {
    let reload = Cmd::new("reloading systemd-networkd", ["networkctl", "reload"])
        .timeout(Duration::from_secs(10));
    match host.run(&reload) {
        Ok(_) => return Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "networkctl reload failed; queueing a networkd reload-or-restart");
        }
    }
    let queue = Cmd::new(
        "queueing a reload-or-restart of systemd-networkd",
        [
            "systemctl",
            "reload-or-restart",
            "--no-block",
            "systemd-networkd.service",
        ],
    )
    .timeout(Duration::from_secs(10));
    host.run(&queue).map(|_| ()).map_err(|e| e.to_string())
}
