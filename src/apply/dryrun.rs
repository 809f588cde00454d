//! The dry-run host: the same executor code, nothing changed.
//!
//! Wraps the real host. Reads (files, udev, libblkid) and read-only queries
//! (`lsblk`, `pvs`/`vgs`/`lvs`, `mdadm --detail`, `disko --help`) go to the machine, so
//! a dry run checks identities and sees the real device graph; every other command is
//! recorded and answered with success, file writes are recorded and dropped, waits
//! for device nodes succeed at once and sleeps take no time.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::host::{BlkidProbe, Cmd, CmdError, CmdOutput, Host, UdevDevice};

pub struct DryRunHost<'a> {
    inner: &'a dyn Host,
    recorded: Mutex<Vec<Cmd>>,
}

impl<'a> DryRunHost<'a> {
    pub fn new(inner: &'a dyn Host) -> Self {
        DryRunHost {
            inner,
            recorded: Mutex::new(Vec::new()),
        }
    }

    /// Every command that would have run (and every file that would have been
    /// written, as a pseudo-command `write FILE`), in order.
    pub fn recorded(&self) -> Vec<Cmd> {
        self.recorded.lock().unwrap().clone()
    }
}

/// Commands that only look: safe to run for real during a dry run.
pub fn is_read_only(cmd: &Cmd) -> bool {
    let a: Vec<&str> = cmd.argv.iter().map(String::as_str).collect();
    matches!(
        a.as_slice(),
        ["lsblk", ..]
            | ["pvs", ..]
            | ["vgs", ..]
            | ["lvs", ..]
            | ["blkid", ..]
            | ["mdadm", "--detail", ..]
            | ["mdadm", "--examine", ..]
            | ["disko", "--help"]
    )
}

impl Host for DryRunHost<'_> {
    fn root(&self) -> &Path {
        self.inner.root()
    }

    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        if is_read_only(cmd) {
            return self.inner.run(cmd);
        }
        self.recorded.lock().unwrap().push(cmd.clone());
        Ok(CmdOutput::ok(""))
    }

    fn udev_devices(&self, subsystem: &str) -> io::Result<Vec<UdevDevice>> {
        self.inner.udev_devices(subsystem)
    }

    fn blkid_probe(&self, dev: &Path) -> io::Result<BlkidProbe> {
        self.inner.blkid_probe(dev)
    }

    fn now(&self) -> Instant {
        self.inner.now()
    }

    fn sleep(&self, _d: Duration) {}

    fn exists(&self, p: &Path) -> bool {
        // Nodes the run would have created: pretend they appeared.
        p.starts_with("/dev") || self.inner.exists(p)
    }

    fn write_atomic(&self, p: &Path, _contents: &[u8], _mode: u32) -> io::Result<()> {
        self.recorded.lock().unwrap().push(Cmd::new(
            format!("writing {}", p.display()),
            ["write".to_owned(), p.display().to_string()],
        ));
        Ok(())
    }

    fn create_dir_all(&self, _p: &Path, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    fn path(&self, p: &Path) -> PathBuf {
        self.inner.path(p)
    }
}
