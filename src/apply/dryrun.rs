//! The dry-run host: the same executor code, nothing changed.
//!
//! Wraps the real host. Reads (files, udev, libblkid) and read-only queries
//! (`lsblk`, `pvs`/`vgs`/`lvs`, `mdadm --detail`, `disko --help`) go to the machine, so
//! a dry run checks identities and sees the real device graph; every other command is
//! recorded and answered with success, file writes are recorded and dropped (as are removals and mode changes), waits
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

    /// Records a file operation as a pseudo-command, so the dry run lists it too.
    fn record(&self, what: String, argv: &[&str]) {
        self.recorded
            .lock()
            .unwrap()
            .push(Cmd::new(what, argv.iter().copied()));
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
        self.record(
            format!("writing {}", p.display()),
            &["write", &p.display().to_string()],
        );
        Ok(())
    }

    fn create_dir_all(&self, _p: &Path, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    fn remove_file(&self, p: &Path) -> io::Result<()> {
        self.record(
            format!("removing {}", p.display()),
            &["rm", &p.display().to_string()],
        );
        Ok(())
    }

    fn set_mode(&self, p: &Path, mode: u32) -> io::Result<()> {
        self.record(
            format!("setting the mode of {}", p.display()),
            &["chmod", &format!("{mode:o}"), &p.display().to_string()],
        );
        Ok(())
    }

    fn write_nonblocking(&self, p: &Path, _data: &[u8], _deadline: Duration) -> io::Result<()> {
        self.record(
            format!("writing to {}", p.display()),
            &["write", &p.display().to_string()],
        );
        Ok(())
    }

    fn path(&self, p: &Path) -> PathBuf {
        self.inner.path(p)
    }
}
