//! What every command gets: the host, the state directory, the parsed kernel
//! command line.

use std::path::{Path, PathBuf};

use crate::host::Host;

pub struct Ctx<'a> {
    pub host: &'a dyn Host,
    /// Where `storage-status`, `network-status`, `storage-plan.json` and the lock live
    /// (a path of the target system, resolved under the host root like every other).
    pub state_dir: PathBuf,
}

impl<'a> Ctx<'a> {
    pub fn new(host: &'a dyn Host, state_dir: impl Into<PathBuf>) -> Self {
        Ctx {
            host,
            state_dir: state_dir.into(),
        }
    }

    pub fn state_file(&self, name: &str) -> PathBuf {
        self.state_dir.join(name)
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }
}
