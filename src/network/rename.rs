//! Renaming the chosen NIC to `lan` live.
//!
//! A `.link` file only acts on the next udev "add" event, and
//! `udevadm trigger --settle` on a renaming `.link` never returns (systemd 252), so
//! the rename is done directly: `ip link set X down; ip link set X name lan;
//! ip link set lan up` (the kernel refuses to rename a link that is up).
//!
//! An existing `lan` that is *another* NIC (a previous run chose it; now the
//! operator names a different MAC, or the old one lost its link) is moved out of
//! the way to its MAC-based name `enx<mac>` (udev's own scheme, ≤ 15 characters,
//! unique) before the rename; it is never deleted and its files are replaced by the
//! new `10-lan.link`. A working `lan` is never taken down by a re-run: the chooser
//! keeps it, and this module does nothing when the chosen NIC already is `lan`.

use std::path::Path;
use std::time::Duration;

use crate::host::{Cmd, CmdError, Host};
use crate::inventory::Nic;

use super::choose::{normalize_mac, LAN};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renamed {
    /// It already was `lan`: nothing touched.
    AlreadyLan,
    /// Renamed from this name.
    From(String),
    /// The NIC vanished between the scan and the rename.
    Vanished(String),
}

fn ip(host: &dyn Host, what: String, args: &[&str]) -> Result<(), CmdError> {
    let cmd = Cmd::new(what, ["ip", "link", "set"])
        .args(args.iter().copied())
        .timeout(Duration::from_secs(10));
    host.run(&cmd).map(|_| ())
}

fn sys(name: &str) -> std::path::PathBuf {
    Path::new("/sys/class/net").join(name)
}

/// MAC-based interface name (`enx525400123451`), as udev's `ID_NET_NAME_MAC`.
pub fn mac_name(mac: &str) -> String {
    format!("enx{}", normalize_mac(mac).replace(':', ""))
}

/// Makes `nic` the interface called `lan`. Errors name the NIC and what to do.
pub fn make_lan(host: &dyn Host, nic: &Nic) -> Result<Renamed, String> {
    if nic.name == LAN {
        // Keep it as it is; only make sure it is administratively up.
        if !super::carrier::is_admin_up(host, LAN) {
            ip(host, "bringing lan up".into(), &[LAN, "up"]).map_err(|e| e.to_string())?;
        }
        return Ok(Renamed::AlreadyLan);
    }
    let name = nic.name.as_str();
    if !host.exists(&sys(name)) {
        return Ok(Renamed::Vanished(name.to_owned()));
    }
    if host.exists(&sys(LAN)) {
        let other = host
            .read_attr(&sys(LAN).join("address"))
            .unwrap_or_default();
        let away = mac_name(&other);
        tracing::warn!(device = LAN, mac = %other, new_name = %away, chosen = %name,
            "an existing lan is another NIC; moving it out of the way");
        ip(host, format!("taking down the old lan ({other})"), &[LAN, "down"])
            .and_then(|_| ip(host, format!("renaming the old lan ({other}) to {away}"), &[LAN, "name", &away]))
            .map_err(|e| {
                format!("an interface called lan already exists ({other}) and could not be renamed away: {e}; rename it by hand (ip link set lan down; ip link set lan name {away})")
            })?;
    }
    let vanished =
        |e: &CmdError| !host.exists(&sys(name)) || e.to_string().contains("Cannot find device");
    if let Err(e) = ip(
        host,
        format!("taking {name} down to rename it"),
        &[name, "down"],
    ) {
        if vanished(&e) {
            return Ok(Renamed::Vanished(name.to_owned()));
        }
        return Err(e.to_string());
    }
    if let Err(e) = ip(
        host,
        format!("renaming {name} to lan"),
        &[name, "name", LAN],
    ) {
        if vanished(&e) {
            return Ok(Renamed::Vanished(name.to_owned()));
        }
        // Leave it as we found it: up, under its old name.
        let _ = ip(
            host,
            format!("bringing {name} back up after a failed rename"),
            &[name, "up"],
        );
        return Err(e.to_string());
    }
    ip(host, "bringing lan up".into(), &[LAN, "up"]).map_err(|e| e.to_string())?;
    Ok(Renamed::From(name.to_owned()))
}
