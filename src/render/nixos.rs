//! NixOS stubs for the installed system: `hardware-disk.nix` and `network-lan.nix`.

use crate::plan::Plan;

pub fn hardware_disk_nix(plan: &Plan) -> String {
    let _ = plan;
    String::new()
}

/// networkd DHCP on `lan`, matched by `mac`.
pub fn network_lan_nix(mac: &str) -> String {
    let _ = mac;
    String::new()
}
