//! The host seam: every effect `pre-nixos` has on the machine goes through [`Host`].
//!
//! Running a program, reading sysfs/procfs/etc, asking udev or libblkid, writing a
//! file, taking a lock, reading a mode, sleeping and reading the clocks. Production uses [`real::RealHost`]; tests use
//! [`fake::FakeHost`], which records every command and answers from scripts and a
//! fixture tree. Paths given to the file methods are absolute paths *of the target
//! system* (`/sys/block`, `/etc/ssh/sshd_config`); both hosts resolve them under
//! [`Host::root`], so a test points the whole tool at a fixture directory by choosing
//! the root. There is no second code path for tests: file access is implemented once,
//! here, on top of `root()`.

pub mod cmd;
pub mod dryrun;
#[cfg(feature = "testkit")]
pub mod fake;
pub mod fsutil;
pub mod interrupt;
pub mod notify;
pub mod real;
pub mod systemctl;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

pub use cmd::{Cmd, CmdError, CmdOutput};
pub use fsutil::{FileLock, LockKind};

/// One device as udev describes it: its kernel name, its properties
/// (`udevadm info --query=property`), and its `/dev` symlinks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdevDevice {
    /// Kernel name (`sda`, `nvme0n1`, `enp0s5`).
    pub sysname: String,
    /// Subsystem (`block`, `net`).
    pub subsystem: String,
    /// All properties, including `DEVTYPE`, `ID_SERIAL`, `ID_PATH`, `DEVLINKS`.
    pub properties: BTreeMap<String, String>,
    /// udev has processed the device's event (its database entry exists): its name,
    /// properties and `/dev` links are final.
    pub initialized: bool,
}

impl UdevDevice {
    pub fn prop(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    /// The `/dev` symlinks udev made for the device (from `DEVLINKS`).
    pub fn devlinks(&self) -> Vec<String> {
        self.prop("DEVLINKS")
            .map(|l| l.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// What libblkid found on a device (low-level probe, cache bypassed).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlkidProbe {
    /// Partition table type (`gpt`, `dos`), if any.
    pub partition_table: Option<String>,
    /// Superblock types found (`ext4`, `linux_raid_member`, `LVM2_member`, `swap`, `vfat`…).
    pub signatures: Vec<String>,
    /// All name/value pairs libblkid returned (`TYPE`, `LABEL`, `UUID`, `PTTYPE`, …).
    pub values: BTreeMap<String, String>,
}

/// Parses `KEY=VALUE` lines (udev properties, `blkid -o export`).
pub fn parse_key_values(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// Every effect on the host. Object safe: callers take `&dyn Host`.
pub trait Host: Send + Sync {
    /// The root every path of the target system hangs off (`/` in production).
    fn root(&self) -> &Path;

    /// Runs one external program. The only way `pre-nixos` starts a process.
    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError>;

    /// Lists the devices of one udev subsystem (`block`, `net`).
    fn udev_devices(&self, subsystem: &str) -> io::Result<Vec<UdevDevice>>;

    /// Probes a block device with libblkid (superblocks and partition table).
    /// `dev` is a path of the target system such as `/dev/sda`.
    fn blkid_probe(&self, dev: &Path) -> io::Result<BlkidProbe>;

    /// Monotonic clock. The fake advances it on `sleep`, so deadlines are testable
    /// without waiting.
    fn now(&self) -> Instant;

    /// Sleeps (bounded polls only; never as a substitute for a named wait).
    fn sleep(&self, d: Duration);

    /// Wall-clock time, for the `UPDATED=` of status files and bundle names.
    fn wall_clock(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Whether changes made through this host are real, so reading the machine back
    /// after them sees them. Only the dry-run host says no: it records changes instead
    /// of making them. The stages then skip what would only read back or wait on a change
    /// that was never made (verify, teardown's second look, the DHCP lease, sshd's start)
    /// and word their log lines in the conditional (`network::said`).
    fn changes_are_real(&self) -> bool {
        true
    }

    /// A remark on how what follows is done (which steps run side by side): the dry-run
    /// host lists it with the changes; elsewhere it is only logged by the caller.
    fn note(&self, _text: &str) {}

    /// Takes an advisory `flock` on `p`. [`LockKind::Create`] makes the file (the apply
    /// lock) and fails at once with `WouldBlock` when another process holds it;
    /// [`LockKind::Device`] opens an existing node read-only and waits (udev holds a disk
    /// only briefly). The lock lasts until the returned guard is closed or dropped.
    fn lock(&self, p: &Path, kind: LockKind) -> io::Result<FileLock> {
        fsutil::lock(&self.path(p), p, kind)
    }

    /// The permission bits of a file or directory (symlinks followed).
    fn mode(&self, p: &Path) -> io::Result<u32> {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::metadata(self.path(p))?.permissions().mode() & 0o7777)
    }

    /// Resolves a target-system path under `root()`.
    fn path(&self, p: &Path) -> PathBuf {
        let rel = p.strip_prefix("/").unwrap_or(p);
        self.root().join(rel)
    }

    fn read_to_string(&self, p: &Path) -> io::Result<String> {
        std::fs::read_to_string(self.path(p))
    }

    /// The first `head` and the last `tail` bytes of a device (read-only), for data
    /// that carries no signature libblkid knows.
    fn read_edges(&self, p: &Path, head: usize, tail: usize) -> io::Result<(Vec<u8>, Vec<u8>)> {
        fsutil::read_edges(&self.path(p), head, tail)
    }

    /// Reads a sysfs attribute, trimmed. Errors keep their `io::ErrorKind` and raw
    /// OS error so callers can tell EINVAL (a down link's `carrier`) from ENOENT.
    fn read_attr(&self, p: &Path) -> io::Result<String> {
        fsutil::read_attr(&self.path(p))
    }

    /// Names in a directory, sorted.
    fn read_dir_names(&self, p: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(self.path(p))? {
            names.push(e?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn read_link(&self, p: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(self.path(p))
    }

    fn exists(&self, p: &Path) -> bool {
        self.path(p).symlink_metadata().is_ok()
    }

    /// Replaces a file atomically: temp file in the same directory, fsync, rename,
    /// fsync the directory. Creates parent directories. The error names `p`.
    fn write_atomic(&self, p: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        fsutil::write_atomic_as(&self.path(p), p, contents, mode)
    }

    fn create_dir_all(&self, p: &Path, mode: u32) -> io::Result<()> {
        fsutil::create_dir_all(&self.path(p), mode)
    }

    /// Removes a file; a file that is already gone is not an error.
    fn remove_file(&self, p: &Path) -> io::Result<()> {
        match std::fs::remove_file(self.path(p)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// Sets the permission bits of an existing file or directory.
    fn set_mode(&self, p: &Path, mode: u32) -> io::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.path(p), std::fs::Permissions::from_mode(mode))
    }

    /// Writes `data` to a terminal or other character device without ever blocking
    /// longer than `deadline` (`O_WRONLY|O_NONBLOCK|O_NOCTTY`, poll for writability).
    /// A console nobody reads, a FIFO without a reader or a vanished device is an
    /// error, never a hang.
    fn write_nonblocking(&self, p: &Path, data: &[u8], deadline: Duration) -> io::Result<()> {
        fsutil::write_nonblocking(&self.path(p), data, deadline)
    }
}
