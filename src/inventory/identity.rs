//! Machine identity: the DMI system UUID, vendor, product and serial
//! (`/sys/class/dmi/id/{product_uuid,sys_vendor,product_name,product_serial}`).
//!
//! It names the machine in `inventory --json` and in the collector report; it is never
//! an input of the plan (the same disks give the same layout on any machine:
//! [`crate::plan::inventory_digest`] leaves it out). `product_uuid` and `product_serial`
//! are readable by root only; an unreadable or empty attribute is `None`, and a
//! machine without any of them (no DMI: some ARM boards, containers) has no identity.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::host::Host;

const DMI: &str = "/sys/class/dmi/id";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MachineIdentity {
    /// SMBIOS system UUID (`product_uuid`), lowercase.
    #[serde(default)]
    pub uuid: Option<String>,
    /// `sys_vendor` (`QEMU`, `Dell Inc.`).
    #[serde(default)]
    pub vendor: Option<String>,
    /// `product_name` (`Standard PC (Q35 + ICH9, 2009)`, `PowerEdge R640`).
    #[serde(default)]
    pub product: Option<String>,
    /// `product_serial` (the chassis service tag on most servers).
    #[serde(default)]
    pub serial: Option<String>,
}

impl MachineIdentity {
    pub fn is_empty(&self) -> bool {
        self.uuid.is_none()
            && self.vendor.is_none()
            && self.product.is_none()
            && self.serial.is_none()
    }
}

/// Reads the DMI identity of the machine behind `host`; `None` when no attribute is
/// readable.
pub fn read_identity(host: &dyn Host) -> Option<MachineIdentity> {
    let attr = |name: &str| -> Option<String> {
        let v = host.read_attr(&Path::new(DMI).join(name)).ok()?;
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_owned())
    };
    let id = MachineIdentity {
        uuid: attr("product_uuid").map(|u| u.to_ascii_lowercase()),
        vendor: attr("sys_vendor"),
        product: attr("product_name"),
        serial: attr("product_serial"),
    };
    (!id.is_empty()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    #[test]
    fn reads_the_four_attributes_under_the_root_and_skips_empty_ones() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("sys/class/dmi/id");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("product_uuid"),
            "4C4C4544-0042-3510-8050-B4C04F565931\n",
        )
        .unwrap();
        std::fs::write(d.join("sys_vendor"), "Dell Inc.\n").unwrap();
        std::fs::write(d.join("product_name"), "PowerEdge R640\n").unwrap();
        std::fs::write(d.join("product_serial"), " \n").unwrap();
        let host = FakeHost::new(dir.path());
        assert_eq!(
            read_identity(&host),
            Some(MachineIdentity {
                uuid: Some("4c4c4544-0042-3510-8050-b4c04f565931".into()),
                vendor: Some("Dell Inc.".into()),
                product: Some("PowerEdge R640".into()),
                serial: None,
            })
        );
    }

    #[test]
    fn no_dmi_is_no_identity() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_identity(&FakeHost::new(dir.path())), None);
    }
}
