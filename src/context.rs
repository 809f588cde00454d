//! The run state every command and stage gets: the host, the state directory, and the
//! kernel command line, read and parsed once when the run starts.

use std::path::{Path, PathBuf};

use crate::host::Host;
use crate::kcmdline::{self, BootOptions};

pub struct Ctx<'a> {
    pub host: &'a dyn Host,
    /// Where `storage-status`, `network-status`, `storage-plan.json` and the lock live
    /// (a path of the target system, resolved under the host root like every other).
    pub state_dir: PathBuf,
    /// The `pre-nixos.*` switches of `/proc/cmdline` (defaults when it is unreadable).
    /// Its warnings were logged once, when the context was made.
    pub boot: BootOptions,
}

impl<'a> Ctx<'a> {
    /// Reads the kernel command line of the machine behind `host`, once.
    pub fn new(host: &'a dyn Host, state_dir: impl Into<PathBuf>) -> Self {
        Ctx {
            host,
            state_dir: state_dir.into(),
            boot: kcmdline::read(host),
        }
    }

    /// The same run state over another host (the dry-run host wrapping this one).
    pub fn with_host<'b>(&self, host: &'b dyn Host) -> Ctx<'b> {
        Ctx {
            host,
            state_dir: self.state_dir.clone(),
            boot: self.boot.clone(),
        }
    }

    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(name)
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }
}
