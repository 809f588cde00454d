//! Names: disk keys, partition keys and labels, partition device names, ESP labels.
//!
//! Disk keys are `<vg><i>` for the fixed VGs (`main0`, `main1`, `swap0`, `large0`) and
//! `<vg>_<i>` for the numbered ones (`main_1_0`, `large_2_1`), `i` counting the
//! bucket's disks in stable-path order from 0. They depend only on the plan, never on
//! kernel enumeration order, and stay short so disko's partlabel
//! `disk-<key>-<part>` never reaches its 36-character hashing limit.

/// Where the live system mounts the new layout (`nixos-install --root`).
pub const TARGET: &str = "/mnt";

/// `/mnt` + a mount point.
pub fn target_path(mountpoint: &str) -> String {
    if mountpoint == "/" {
        TARGET.to_owned()
    } else {
        format!("{TARGET}{mountpoint}")
    }
}

/// disko partition key of the ESP.
pub const PART_ESP: &str = "ESP";
/// disko partition key of an md member.
pub const PART_MD: &str = "md";
/// disko partition key of an LVM PV.
pub const PART_PV: &str = "pv";

/// Longest ext4 label.
pub const EXT4_LABEL_MAX: usize = 16;
/// Longest vfat label.
pub const VFAT_LABEL_MAX: usize = 11;

/// Key of the `i`-th disk (stable-path order) of VG `vg`.
pub fn disk_key(vg: &str, i: usize) -> String {
    if vg.contains('_') {
        format!("{vg}_{i}")
    } else {
        format!("{vg}{i}")
    }
}

/// GPT partition name disko sets: `disk-<disk key>-<partition key>`.
pub fn partlabel(disk_key: &str, part_key: &str) -> String {
    format!("disk-{disk_key}-{part_key}")
}

/// Kernel device of partition `n` of `disk` (`sda` → `/dev/sda1`,
/// `nvme0n1` → `/dev/nvme0n1p1`): a `p` separator when the name ends in a digit.
pub fn partition_device(disk: &str, n: u32) -> String {
    if disk.ends_with(|c: char| c.is_ascii_digit()) {
        format!("/dev/{disk}p{n}")
    } else {
        format!("/dev/{disk}{n}")
    }
}

/// vfat label of the ESP on the `i`-th member of `main`: `EFI`, `EFI2`, `EFI3`…
pub fn esp_label(i: usize) -> String {
    if i == 0 {
        "EFI".into()
    } else {
        format!("EFI{}", i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_labels() {
        assert_eq!(disk_key("main", 0), "main0");
        assert_eq!(disk_key("swap", 1), "swap1");
        assert_eq!(disk_key("main_1", 0), "main_1_0");
        assert_eq!(partlabel("main0", PART_ESP), "disk-main0-ESP");
        assert_eq!(esp_label(0), "EFI");
        assert_eq!(esp_label(1), "EFI2");
        assert!(esp_label(999).len() <= VFAT_LABEL_MAX);
        assert!(partlabel(&disk_key("large_99", 255), PART_MD).len() <= 36);
    }

    #[test]
    fn kernel_partition_names() {
        assert_eq!(partition_device("sda", 1), "/dev/sda1");
        assert_eq!(partition_device("nvme0n1", 2), "/dev/nvme0n1p2");
        assert_eq!(partition_device("mmcblk0", 1), "/dev/mmcblk0p1");
        assert_eq!(partition_device("vdb", 2), "/dev/vdb2");
    }
}
