//! Verify: read the disks back into the plan's own types and diff (SPEC §3.5).
//!
//! [`read_back`] gathers what is there (lsblk JSON, `mdadm --detail --export`, LVM
//! JSON reports, labels as udev's blkid saw them, `/proc/self/mountinfo`) and
//! [`layout_from`] — the pure half — turns it into a [`Layout`] seen from the
//! expected one (disks are found by stable path, partitions keyed by number). [`diff`]
//! compares what matters: partitions, their types, labels and roles; arrays, levels
//! and members; VGs, PVs and LVs with their extents; filesystems and labels; mounts
//! under `/mnt`, the mode of a mounted root the plan sets (`/mnt/var/tmp` 1777), and
//! — through [`check`], which reads `/proc/swaps` too — whether swap is on. Sizes
//! that md and LVM round (array and VG sizes) are not compared; fixed partition sizes
//! are, to the MiB. The same reader decides `already-provisioned` (a diff without the
//! mount and swap lines: nothing is mounted or on at boot) and feeds `status`.

mod diff;
mod read;

use crate::host::Host;
use crate::plan::{Layout, LvContent};
use crate::storage::blockdev;

pub use diff::{diff, Difference};
pub use read::{layout_from, read_back, Facts};

/// Everything verify compares: [`read_back`] and [`diff`], then whether each swap LV
/// is on (`/proc/swaps`). Swap is switched on by the mount step, so on a machine
/// that has just booted "swap off" is a difference like "not mounted".
pub fn check(host: &dyn Host, expected: &Layout) -> anyhow::Result<Vec<Difference>> {
    let found = read_back(host, expected)?;
    let mut out = diff(expected, &found);
    out.extend(swap_differences(host, expected)?);
    Ok(out)
}

/// A `swap /dev/disk/by-label/<label>` difference for each swap LV of `expected`
/// that is not in `/proc/swaps` (compared by kernel name, as `swapon` lists `dm-N`).
pub fn swap_differences(host: &dyn Host, expected: &Layout) -> anyhow::Result<Vec<Difference>> {
    let active = blockdev::active_swap_knames(host)?;
    let mut out = Vec::new();
    for lv in expected.vgs.iter().flat_map(|v| &v.lvs) {
        let LvContent::Swap { label } = &lv.content else {
            continue;
        };
        let node = format!("/dev/disk/by-label/{label}");
        let kname = blockdev::resolve_kname(host, &node).ok().flatten();
        if !kname.as_ref().is_some_and(|k| active.contains(k)) {
            out.push(Difference::new(
                format!("swap {node}"),
                "on (listed in /proc/swaps)",
                match kname {
                    Some(k) => format!("{k} not in /proc/swaps"),
                    None => format!("no {node}"),
                },
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
