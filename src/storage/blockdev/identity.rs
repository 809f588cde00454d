//! A disk's identity right now: stable link, kernel name, serial, size, model.

use std::path::Path;

use anyhow::Context;

use crate::host::Host;

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
    /// udev's `ID_WWN_WITH_EXTENSION` / `ID_WWN`, else sysfs `wwid`.
    pub wwn: Option<String>,
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
    let devs = host.udev_devices("block").unwrap_or_default();
    let udev = devs.iter().find(|d| d.sysname == kname);
    if let Some(d) = udev {
        for k in ["ID_SERIAL_SHORT", "ID_SERIAL", "ID_SCSI_SERIAL"] {
            if let Some(v) = d.prop(k) {
                serials.push(v.trim().to_owned());
            }
        }
    }
    // Read exactly as the inventory read them when the plan was made.
    let sysattr = |a: &str| host.read_attr(&sys.join(a)).ok();
    let prop = |k: &str| udev.and_then(|d| d.prop(k)).map(str::to_owned);
    let model = crate::inventory::disks::model_from(&sysattr, &prop);
    let wwn = crate::inventory::disks::wwn_from(&sysattr, &prop);
    for p in [sys.join("device/serial"), sys.join("serial")] {
        if let Ok(s) = host.read_attr(&p) {
            if !s.trim().is_empty() {
                serials.push(s.trim().to_owned());
            }
        }
    }
    serials.dedup();
    Ok(Some(Identity {
        stable_path: stable_path.to_owned(),
        kname,
        serials,
        size_bytes: sectors * 512,
        model,
        wwn,
    }))
}
