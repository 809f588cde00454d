//! The dry-run host for `apply --dry-run` and `network --dry-run`: reads go to the
//! wrapped host, every change is recorded instead of made. The stages run unchanged
//! against it, so a dry run shows exactly what the real run would write and run —
//! there is no second code path to drift.
//!
//! Commands that only look ([`is_read_only`]) run for real, so a dry run checks
//! identities and sees the real device graph and links; every other command is
//! recorded and answered with success. Device nodes under `/dev` the run would have
//! created count as present, and the clock is virtual on top of the real one: a wait
//! in a dry run costs no time.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{BlkidProbe, Cmd, CmdError, CmdOutput, FileLock, Host, LockKind, UdevDevice};

/// One change the run would have made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Run(Cmd),
    Write {
        path: PathBuf,
        mode: u32,
        contents: String,
    },
    Mkdir {
        path: PathBuf,
        mode: u32,
    },
    Chmod {
        path: PathBuf,
        mode: u32,
    },
    Remove(PathBuf),
    Console {
        path: PathBuf,
        text: String,
    },
    /// Not a change: how the real run would schedule the changes that follow (steps
    /// that run side by side), shown in the listing.
    Note(String),
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Run(c) => write!(f, "run    {}", c.display()),
            Action::Write {
                path,
                mode,
                contents,
            } => {
                writeln!(f, "write  {} (mode {mode:o}):", path.display())?;
                for l in contents.lines() {
                    writeln!(f, "         | {l}")?;
                }
                Ok(())
            }
            Action::Mkdir { path, mode } => write!(f, "mkdir  {} (mode {mode:o})", path.display()),
            Action::Chmod { path, mode } => write!(f, "chmod  {mode:o} {}", path.display()),
            Action::Remove(p) => write!(f, "remove {}", p.display()),
            Action::Console { path, text } => {
                write!(f, "print  {}: {}", path.display(), text.trim())
            }
            Action::Note(text) => write!(f, "# {text}"),
        }
    }
}

pub struct DryRunHost<'a> {
    inner: &'a dyn Host,
    actions: Mutex<Vec<Action>>,
    skew: Mutex<Duration>,
}

impl<'a> DryRunHost<'a> {
    pub fn new(inner: &'a dyn Host) -> Self {
        DryRunHost {
            inner,
            actions: Mutex::new(Vec::new()),
            skew: Mutex::new(Duration::ZERO),
        }
    }

    pub fn actions(&self) -> Vec<Action> {
        self.actions.lock().unwrap().clone()
    }

    /// The same changes as commands, files as pseudo-commands (`write FILE`,
    /// `rm FILE`, `chmod MODE FILE`), in order.
    pub fn commands(&self) -> Vec<Cmd> {
        self.actions()
            .into_iter()
            .filter_map(|a| {
                let shown = |p: &Path| p.display().to_string();
                Some(match a {
                    Action::Run(c) => c,
                    Action::Write { path, .. } | Action::Console { path, .. } => Cmd::new(
                        format!("writing {}", path.display()),
                        ["write".to_owned(), shown(&path)],
                    ),
                    Action::Remove(path) => Cmd::new(
                        format!("removing {}", path.display()),
                        ["rm".to_owned(), shown(&path)],
                    ),
                    Action::Chmod { path, mode } => Cmd::new(
                        format!("setting the mode of {}", path.display()),
                        ["chmod".to_owned(), format!("{mode:o}"), shown(&path)],
                    ),
                    Action::Mkdir { .. } | Action::Note(_) => return None,
                })
            })
            .collect()
    }

    fn record(&self, a: Action) {
        self.actions.lock().unwrap().push(a);
    }
}

/// Commands that change nothing and may run for real in a dry run.
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
            | ["ip", "-j", ..]
            | ["ethtool", "-P", ..]
            | ["systemctl", "is-active", ..]
            | ["systemctl", "list-units", ..]
            | ["systemctl", "list-jobs", ..]
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
        self.record(Action::Run(cmd.clone()));
        Ok(CmdOutput::ok(""))
    }

    fn udev_devices(&self, subsystem: &str) -> io::Result<Vec<UdevDevice>> {
        self.inner.udev_devices(subsystem)
    }

    fn blkid_probe(&self, dev: &Path) -> io::Result<BlkidProbe> {
        self.inner.blkid_probe(dev)
    }

    fn now(&self) -> Instant {
        self.inner.now() + *self.skew.lock().unwrap()
    }

    fn sleep(&self, d: Duration) {
        *self.skew.lock().unwrap() += d;
    }

    fn wall_clock(&self) -> std::time::SystemTime {
        self.inner.wall_clock()
    }

    fn note(&self, text: &str) {
        self.record(Action::Note(text.to_owned()));
    }

    fn changes_are_real(&self) -> bool {
        false
    }

    fn lock(&self, p: &Path, _kind: LockKind) -> io::Result<FileLock> {
        // Nothing changes, so nothing needs excluding: a dry run never waits for, nor
        // blocks, a real run.
        Ok(FileLock::none(p))
    }

    fn exists(&self, p: &Path) -> bool {
        // Nodes the run would have created: pretend they appeared.
        p.starts_with("/dev") || self.inner.exists(p)
    }

    fn path(&self, p: &Path) -> PathBuf {
        self.inner.path(p)
    }

    fn write_atomic(&self, p: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
        self.record(Action::Write {
            path: p.to_path_buf(),
            mode,
            contents: String::from_utf8_lossy(contents).into_owned(),
        });
        Ok(())
    }

    fn create_dir_all(&self, p: &Path, mode: u32) -> io::Result<()> {
        if !self.inner.path(p).is_dir() {
            self.record(Action::Mkdir {
                path: p.to_path_buf(),
                mode,
            });
        }
        Ok(())
    }

    fn remove_file(&self, p: &Path) -> io::Result<()> {
        if self.inner.exists(p) {
            self.record(Action::Remove(p.to_path_buf()));
        }
        Ok(())
    }

    fn set_mode(&self, p: &Path, mode: u32) -> io::Result<()> {
        self.record(Action::Chmod {
            path: p.to_path_buf(),
            mode,
        });
        Ok(())
    }

    fn write_nonblocking(&self, p: &Path, data: &[u8], _deadline: Duration) -> io::Result<()> {
        self.record(Action::Console {
            path: p.to_path_buf(),
            text: String::from_utf8_lossy(data).into_owned(),
        });
        Ok(())
    }
}
