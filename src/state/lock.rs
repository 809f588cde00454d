//! The apply lock: one `pre-nixos` changes disks at a time.
//!
//! `flock(LOCK_EX|LOCK_NB)` on `<state dir>/apply.lock`, which holds the owner's pid
//! for the message a second run prints. The kernel drops the lock when the process
//! dies, so a crash never leaves a stale lock behind. The guard has an explicit
//! [`ApplyLock::close`] that reports errors and a best-effort `Drop`.

use std::path::Path;

use anyhow::Context;

use crate::host::{FileLock, Host, LockKind};

pub const LOCK_FILE: &str = "apply.lock";

/// Another run holds the lock: the caller writes nothing (not even a status), because
/// the state files are that run's.
#[derive(Debug, thiserror::Error)]
#[error(
    "another pre-nixos (pid {pid}) is applying storage right now ({path} is locked); \
     wait for it to finish, then check `pre-nixos status`"
)]
pub struct Busy {
    pub pid: String,
    pub path: String,
}

pub struct ApplyLock {
    lock: FileLock,
}

impl ApplyLock {
    /// Takes the lock or explains who holds it. Through the host, so a dry run takes
    /// none (and changes nothing).
    pub fn acquire(host: &dyn Host, state_dir: &Path) -> anyhow::Result<ApplyLock> {
        let unwritable = || {
            format!(
                "the state directory {} must be writable (status, plan and lock live there); \
                 no disk was touched",
                host.path(state_dir).display()
            )
        };
        host.create_dir_all(state_dir, 0o755)
            .with_context(|| format!("creating the state directory {}", state_dir.display()))
            .with_context(unwritable)?;
        let path = state_dir.join(LOCK_FILE);
        let mut lock = match host.lock(&path, LockKind::Create) {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let owner = host.read_to_string(&path).unwrap_or_default();
                return Err(Busy {
                    pid: owner.trim().if_empty("unknown").to_owned(),
                    path: host.path(&path).display().to_string(),
                }
                .into());
            }
            Err(e) => return Err(e).with_context(unwritable),
        };
        lock.set_contents(&format!("{}\n", std::process::id()))
            .with_context(|| format!("writing the lock file {}", path.display()))?;
        Ok(ApplyLock { lock })
    }

    /// Releases the lock, reporting any error.
    pub fn close(self) -> std::io::Result<()> {
        self.lock.close()
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
