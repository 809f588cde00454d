//! NICs through libudev + sysfs: MAC, driver, bus, `ID_PATH`, speed, carrier,
//! operstate, and why a NIC is not a LAN candidate.
//!
//! The I/O half ([`scan_nics`]) reads `/sys/class/net/<name>/` and the udev
//! properties of the `net` subsystem through the [`Host`], so tests point it at
//! fixture trees; the pure half ([`classify`], [`parse_carrier`], [`parse_speed`])
//! decides. Reads that fail on a down or vanishing link (`EINVAL`, `ENODEV`, `ENXIO`)
//! count as "unknown", never as an error: the predecessor crashed on exactly that.
//!
//! Permanent MAC: sysfs has no `perm_addr` attribute for net devices (the kernel
//! only exposes it through the ethtool ioctl), so we read `addr_assign_type`. `0`
//! (`NET_ADDR_PERM`) means the current `address` is the burnt-in one — the kernel
//! copies it to `perm_addr` at registration, which is what `PermanentMACAddress=`
//! in a `.link` file matches (virtio-net in the guest capture reports 0). Any other
//! value (random, stolen, set) makes us ask `ethtool -P`; when that is missing or
//! says all zeros, the current address is used and `perm_mac_known` is false.

use std::io;
use std::path::{Path, PathBuf};

use crate::host::{Cmd, Host, UdevDevice};

use super::Nic;

/// Drivers of the USB NICs that BMCs (iDRAC, iLO, XCC) expose to the host: a
/// link-local management path, never the LAN.
pub const BMC_USB_DRIVERS: &[&str] = &["cdc_ether", "rndis_host"];

/// ARPHRD_ETHER.
const ARPHRD_ETHER: u32 = 1;
/// ARPHRD_LOOPBACK.
const ARPHRD_LOOPBACK: u32 = 772;

/// What sysfs and udev say about one interface, before any judgement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NicFacts {
    pub name: String,
    pub address: String,
    pub addr_assign_type: Option<u32>,
    pub arp_type: Option<u32>,
    pub operstate: String,
    pub carrier: Option<bool>,
    pub speed_mbps: Option<u32>,
    pub has_device: bool,
    pub driver: Option<String>,
    pub bus: Option<String>,
    pub id_path: Option<String>,
    pub devtype: Option<String>,
    pub is_bridge: bool,
    pub is_bond: bool,
    pub is_tun: bool,
    pub is_wireless: bool,
}

/// Every network interface, sorted by name, candidates and excluded ones alike.
/// An interface that vanishes while it is read is left out (and logged).
pub fn scan_nics(host: &dyn Host) -> anyhow::Result<Vec<Nic>> {
    let class = Path::new("/sys/class/net");
    let names = match host.read_dir_names(class) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            tracing::warn!(
                path = "/sys/class/net",
                "no /sys/class/net: no network interfaces"
            );
            Vec::new()
        }
        Err(e) => return Err(anyhow::Error::new(e).context("listing /sys/class/net")),
    };
    let udev = host.udev_devices("net").unwrap_or_else(|e| {
        tracing::warn!(error = %e, "listing udev net devices failed; using sysfs alone");
        Vec::new()
    });
    let mut nics = Vec::new();
    for name in names {
        // Only directories are interfaces (`bonding_masters` is a file).
        if !host.path(&class.join(&name)).is_dir() {
            continue;
        }
        let dev = udev.iter().find(|d| d.sysname == name);
        match read_facts(host, &name, dev) {
            Some(facts) => nics.push(to_nic(host, facts)),
            None => tracing::warn!(device = %name, "interface vanished while it was read; skipped"),
        }
    }
    Ok(nics)
}

/// Reads one interface; `None` when it disappeared meanwhile.
fn read_facts(host: &dyn Host, name: &str, dev: Option<&UdevDevice>) -> Option<NicFacts> {
    let dir = PathBuf::from("/sys/class/net").join(name);
    let attr = |a: &str| host.read_attr(&dir.join(a));
    let address = match attr("address") {
        Ok(a) => a.to_ascii_lowercase(),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !host.exists(&dir) => return None,
        Err(e) => {
            tracing::warn!(device = %name, error = %e, "reading address failed");
            String::new()
        }
    };
    let carrier = match attr("carrier") {
        Ok(v) => parse_carrier(&v),
        Err(e) => {
            // EINVAL: link administratively down; ENODEV/ENXIO: going away. Unknown.
            tracing::debug!(device = %name, error = %e, "carrier unreadable; treated as unknown");
            None
        }
    };
    let driver = host
        .read_link(&dir.join("device/driver"))
        .ok()
        .and_then(|l| l.file_name().map(|f| f.to_string_lossy().into_owned()))
        .or_else(|| dev.and_then(|d| d.prop("ID_NET_DRIVER")).map(str::to_owned));
    let bus = dev
        .and_then(|d| d.prop("ID_BUS"))
        .map(str::to_owned)
        .or_else(|| {
            host.read_link(&dir.join("device/subsystem"))
                .ok()
                .and_then(|l| l.file_name().map(|f| f.to_string_lossy().into_owned()))
        });
    Some(NicFacts {
        name: name.to_owned(),
        address,
        addr_assign_type: attr("addr_assign_type").ok().and_then(|v| v.parse().ok()),
        arp_type: attr("type").ok().and_then(|v| v.parse().ok()),
        operstate: attr("operstate").unwrap_or_else(|_| "unknown".into()),
        carrier,
        speed_mbps: attr("speed").ok().and_then(|v| parse_speed(&v)),
        has_device: host.exists(&dir.join("device")),
        driver,
        bus,
        id_path: dev.and_then(|d| d.prop("ID_PATH")).map(str::to_owned),
        devtype: dev.and_then(|d| d.prop("DEVTYPE")).map(str::to_owned),
        is_bridge: host.exists(&dir.join("bridge")),
        is_bond: host.exists(&dir.join("bonding")),
        is_tun: host.exists(&dir.join("tun_flags")),
        is_wireless: host.exists(&dir.join("wireless")) || host.exists(&dir.join("phy80211")),
    })
}

fn to_nic(host: &dyn Host, f: NicFacts) -> Nic {
    let excluded = classify(&f);
    let (perm_mac, perm_mac_known) = if f.addr_assign_type == Some(0) {
        (f.address.clone(), true)
    } else if excluded.is_none() {
        match ethtool_perm_addr(host, &f.name) {
            Some(p) => (p, true),
            None => (f.address.clone(), false),
        }
    } else {
        (f.address.clone(), false)
    };
    Nic {
        name: f.name,
        mac: f.address,
        perm_mac,
        perm_mac_known,
        driver: f.driver,
        bus: f.bus,
        id_path: f.id_path,
        speed_mbps: f.speed_mbps,
        carrier: f.carrier,
        operstate: f.operstate,
        physical: f.has_device,
        excluded,
    }
}

/// `ethtool -P <nic>` → the permanent address, when ethtool is there and knows one.
fn ethtool_perm_addr(host: &dyn Host, name: &str) -> Option<String> {
    let cmd = Cmd::new(
        format!("reading the permanent MAC of {name}"),
        ["ethtool", "-P", name],
    )
    .timeout(std::time::Duration::from_secs(5));
    let out = host.run(&cmd).ok()?;
    parse_ethtool_perm_addr(&out.stdout)
}

/// Parses `Permanent address: 52:54:00:12:34:56`; all zeros means "none".
pub fn parse_ethtool_perm_addr(text: &str) -> Option<String> {
    let mac = text.split_once("address:")?.1.trim().to_ascii_lowercase();
    let valid = mac.len() == 17
        && mac
            .split(':')
            .all(|b| b.len() == 2 && b.chars().all(|c| c.is_ascii_hexdigit()));
    (valid && mac != "00:00:00:00:00:00").then_some(mac)
}

/// `carrier` text → up/down; anything else is unknown.
pub fn parse_carrier(text: &str) -> Option<bool> {
    match text.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// `speed` text in Mbit/s; `-1` (unknown: virtio, no link) and garbage → `None`.
pub fn parse_speed(text: &str) -> Option<u32> {
    let v: i64 = text.trim().parse().ok()?;
    // SPEED_UNKNOWN is -1; some drivers report u32::MAX for the same thing.
    (v > 0 && v < i64::from(u32::MAX)).then_some(v as u32)
}

/// Why an interface is not a LAN candidate; `None` for a candidate. Order matters:
/// the most specific reason wins.
pub fn classify(f: &NicFacts) -> Option<String> {
    let devtype = f.devtype.as_deref().unwrap_or("");
    let driver = f.driver.as_deref().unwrap_or("");
    if f.name == "lo" || f.arp_type == Some(ARPHRD_LOOPBACK) {
        return Some("loopback".into());
    }
    if f.is_bridge || devtype == "bridge" {
        return Some("bridge (virtual)".into());
    }
    if f.is_bond || devtype == "bond" {
        return Some("bond (virtual)".into());
    }
    if driver == "veth" {
        return Some("veth (virtual)".into());
    }
    if f.is_tun {
        return Some("tun/tap (virtual)".into());
    }
    if f.is_wireless || devtype == "wlan" {
        return Some("wireless".into());
    }
    if !f.has_device {
        return Some("virtual (no device link in sysfs)".into());
    }
    if BMC_USB_DRIVERS.contains(&driver) {
        return Some(format!("USB NIC of a BMC (driver {driver})"));
    }
    if let Some(t) = f.arp_type {
        if t != ARPHRD_ETHER {
            return Some(format!("not Ethernet (ARP type {t})"));
        }
    }
    None
}
