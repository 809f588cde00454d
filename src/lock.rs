//! The apply lock: one `pre-nixos` changes disks at a time.
//!
//! `flock(LOCK_EX|LOCK_NB)` on `<state dir>/apply.lock`, which holds the owner's pid
//! for the message a second run prints. The kernel drops the lock when the process
//! dies, so a crash never leaves a stale lock behind. The guard has an explicit
//! [`ApplyLock::close`] that reports errors and a best-effort `Drop`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::host::Host;

pub const LOCK_FILE: &str = "apply.lock";

pub struct ApplyLock {
    file: Option<File>,
    path: PathBuf,
}

impl ApplyLock {
    /// Takes the lock or explains who holds it.
    pub fn acquire(host: &dyn Host, state_dir: &Path) -> anyhow::Result<ApplyLock> {
        let dir = host.path(state_dir);
        let unwritable = || {
            format!(
                "the state directory {} must be writable (status, plan and lock live there); \
                 no disk was touched",
                dir.display()
            )
        };
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the state directory {}", dir.display()))
            .with_context(unwritable)?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))
            .with_context(unwritable)?;
        // SAFETY: flock on a file descriptor we own.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut owner = String::new();
                let _ = file.read_to_string(&mut owner);
                anyhow::bail!(
                    "another pre-nixos (pid {}) is applying storage right now ({} is locked); \
                     wait for it to finish, then check `pre-nixos status`",
                    owner.trim().if_empty("unknown"),
                    path.display()
                );
            }
            return Err(err).with_context(|| format!("locking {}", path.display()));
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())
            .with_context(|| format!("writing the lock file {}", path.display()))?;
        tracing::debug!(path = %path.display(), "apply lock taken");
        Ok(ApplyLock {
            file: Some(file),
            path,
        })
    }

    /// Releases the lock, reporting any error.
    pub fn close(mut self) -> std::io::Result<()> {
        self.release()
    }

    fn release(&mut self) -> std::io::Result<()> {
        if let Some(f) = self.file.take() {
            // SAFETY: unlocking a descriptor we own; closing it would also unlock.
            let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
            tracing::debug!(path = %self.path.display(), "apply lock released");
        }
        Ok(())
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

trait IfEmpty {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str;
}

impl IfEmpty for str {
    fn if_empty<'a>(&'a self, other: &'a str) -> &'a str {
        if self.is_empty() {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    #[test]
    fn a_second_holder_is_refused_with_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let host = FakeHost::new(dir.path());
        let state = Path::new("/run/pre-nixos");
        let first = ApplyLock::acquire(&host, state).unwrap();
        let err = ApplyLock::acquire(&host, state).err().unwrap().to_string();
        assert!(err.contains("another pre-nixos"), "{err}");
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        first.close().unwrap();
        let again = ApplyLock::acquire(&host, state).unwrap();
        drop(again);
        ApplyLock::acquire(&host, state).unwrap();
    }

    #[test]
    fn an_unusable_state_dir_says_so() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        // A file where the directory should be: no lock can live there.
        std::fs::write(dir.path().join("run/pre-nixos"), "").unwrap();
        let host = FakeHost::new(dir.path());
        let e = ApplyLock::acquire(&host, Path::new("/run/pre-nixos"))
            .err()
            .unwrap();
        let msg = format!("{e:#}");
        assert!(msg.contains("must be writable"), "{msg}");
        assert!(msg.contains("no disk was touched"), "{msg}");
    }
}
