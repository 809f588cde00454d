//! The recording fake host for tests.
//!
//! Files come from a real directory (the fixture root), so every reader runs its
//! production code. Commands are recorded in order and answered from scripted
//! responses matched by argv prefix (first match wins; unmatched commands succeed
//! with empty output unless [`FakeHost::strict`] is set). udev devices come from
//! `<root>/run/pre-nixos-fixture/udev/<subsystem>/<sysname>` files holding
//! `KEY=VALUE` lines (the `udevadm info --query=property` format); libblkid results
//! from `<root>/run/pre-nixos-fixture/blkid/<devname>` files in `blkid -p -o export`
//! format (a sibling `<devname>.err` holding an errno name makes the probe fail that
//! way). The clock is virtual: `sleep` advances it instantly.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::cmd::{Cmd, CmdError, CmdOutput, STDERR_TAIL};
use super::fsutil::tail;
use super::{parse_key_values, BlkidProbe, Host, UdevDevice};

/// Where fixture trees keep what libudev and libblkid would report.
pub const FIXTURE_DIR: &str = "run/pre-nixos-fixture";

/// A scripted answer to a command.
#[derive(Debug, Clone)]
pub enum Response {
    Ok(CmdOutput),
    /// Exits with this status and stderr.
    Fail {
        status: i32,
        stderr: String,
    },
    NotFound,
    TimedOut,
    /// The run was stopped by SIGTERM while this command ran (host::interrupt).
    Interrupted,
}

impl Response {
    pub fn stdout(s: impl Into<String>) -> Self {
        Response::Ok(CmdOutput::ok(s))
    }
    pub fn fail(status: i32, stderr: impl Into<String>) -> Self {
        Response::Fail {
            status,
            stderr: stderr.into(),
        }
    }
}

/// A change a scripted command makes to the fixture tree.
type Effect = std::sync::Arc<dyn Fn(&Path) + Send + Sync>;

struct Rule {
    prefix: Vec<String>,
    response: Response,
    /// Consumed after this many uses (None = forever).
    remaining: Option<usize>,
    /// Applied to the fixture tree when the command runs (simulates its effect).
    effect: Option<Effect>,
}

pub struct FakeHost {
    root: PathBuf,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Cmd>>,
    clock: Mutex<Instant>,
    strict: bool,
}

impl FakeHost {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FakeHost {
            root: root.into(),
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            clock: Mutex::new(Instant::now()),
            strict: false,
        }
    }

    /// Unscripted commands fail as "not found" instead of succeeding.
    pub fn strict(mut self) -> Self {
        self.strict = true;
        self
    }

    /// Answers every command whose argv starts with `prefix`.
    pub fn on(&self, prefix: &[&str], response: Response) -> &Self {
        self.push_rule(prefix, response, None, None)
    }

    /// Answers the next `times` commands whose argv starts with `prefix`.
    pub fn on_times(&self, prefix: &[&str], times: usize, response: Response) -> &Self {
        self.push_rule(prefix, response, Some(times), None)
    }

    /// Answers and changes the fixture tree (e.g. a device node appearing).
    pub fn on_with_effect(
        &self,
        prefix: &[&str],
        response: Response,
        effect: impl Fn(&Path) + Send + Sync + 'static,
    ) -> &Self {
        self.push_rule(prefix, response, None, Some(std::sync::Arc::new(effect)))
    }

    fn push_rule(
        &self,
        prefix: &[&str],
        response: Response,
        remaining: Option<usize>,
        effect: Option<Effect>,
    ) -> &Self {
        self.rules.lock().unwrap().push(Rule {
            prefix: prefix.iter().map(ToString::to_string).collect(),
            response,
            remaining,
            effect,
        });
        self
    }

    /// Every command run so far, in order.
    pub fn commands(&self) -> Vec<Cmd> {
        self.log.lock().unwrap().clone()
    }

    /// Every command run so far as display lines (`sgdisk --zap-all /dev/sda`).
    pub fn command_lines(&self) -> Vec<String> {
        self.commands().iter().map(Cmd::display).collect()
    }

    /// Time elapsed on the virtual clock since the host was made.
    pub fn advance(&self, d: Duration) {
        *self.clock.lock().unwrap() += d;
    }
}

impl Host for FakeHost {
    fn root(&self) -> &Path {
        &self.root
    }

    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        self.log.lock().unwrap().push(cmd.clone());
        let mut rules = self.rules.lock().unwrap();
        let idx = rules.iter().position(|r| {
            r.remaining != Some(0)
                && r.prefix.len() <= cmd.argv.len()
                && r.prefix.iter().zip(&cmd.argv).all(|(a, b)| a == b)
        });
        let (response, effect) = match idx {
            Some(i) => {
                let rule = &mut rules[i];
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                (rule.response.clone(), rule.effect.clone())
            }
            None if self.strict => (Response::NotFound, None),
            None => (Response::Ok(CmdOutput::ok("")), None),
        };
        drop(rules);
        // Outside the lock: commands that run side by side (the storage groups) take
        // their time side by side here too.
        if let Some(effect) = effect {
            effect(&self.root);
        }
        match response {
            Response::Ok(out) => {
                if let Some(code) = out.status {
                    if !cmd.ok_codes.contains(&code) {
                        return Err(CmdError::Failed {
                            what: cmd.what.clone(),
                            argv: cmd.display(),
                            status: format!("with status {code}"),
                            stderr_tail: tail(out.stderr.as_bytes(), STDERR_TAIL),
                            output: Box::new(out),
                        });
                    }
                }
                Ok(out)
            }
            Response::Fail { status, stderr } => {
                let output = CmdOutput {
                    status: Some(status),
                    stdout: String::new(),
                    stderr: stderr.clone(),
                    duration: Duration::ZERO,
                };
                if cmd.ok_codes.contains(&status) {
                    return Ok(output);
                }
                Err(CmdError::Failed {
                    what: cmd.what.clone(),
                    argv: cmd.display(),
                    status: format!("with status {status}"),
                    stderr_tail: tail(stderr.as_bytes(), STDERR_TAIL),
                    output: Box::new(output),
                })
            }
            Response::NotFound => Err(CmdError::NotFound {
                what: cmd.what.clone(),
                program: cmd.program().to_owned(),
            }),
            Response::Interrupted => Err(CmdError::Interrupted {
                what: cmd.what.clone(),
                argv: cmd.display(),
                signal: "SIGTERM".into(),
                started: true,
            }),
            Response::TimedOut => {
                if let Some(t) = cmd.timeout {
                    self.advance(t);
                }
                Err(CmdError::TimedOut {
                    what: cmd.what.clone(),
                    argv: cmd.display(),
                    timeout: cmd.timeout.unwrap_or_default(),
                })
            }
        }
    }

    fn udev_devices(&self, subsystem: &str) -> io::Result<Vec<UdevDevice>> {
        let dir = self.root.join(FIXTURE_DIR).join("udev").join(subsystem);
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let sysname = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path())?;
            let mut properties = parse_key_values(&text);
            // A fixture file is the device's udev database entry, unless it says that
            // udev has not finished with the device.
            let initialized = properties
                .remove("PRE_NIXOS_FIXTURE_INITIALIZED")
                .as_deref()
                != Some("0");
            out.push(UdevDevice {
                sysname,
                subsystem: subsystem.to_owned(),
                properties,
                initialized,
            });
        }
        out.sort_by(|a, b| a.sysname.cmp(&b.sysname));
        Ok(out)
    }

    fn blkid_probe(&self, dev: &Path) -> io::Result<BlkidProbe> {
        let name = dev
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = self.root.join(FIXTURE_DIR).join("blkid").join(&name);
        // `<dev>.err` holding an errno name: the probe fails that way (EACCES…).
        if let Ok(errno) = std::fs::read_to_string(file.with_file_name(format!("{name}.err"))) {
            return Err(super::fsutil::errno_from_name(errno.trim()));
        }
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            // No fixture for a device that exists: nothing found on it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.exists(dev) || self.exists(&Path::new("/sys/class/block").join(&name)) {
                    return Ok(BlkidProbe::default());
                }
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{} does not exist", dev.display()),
                ));
            }
            Err(e) => return Err(e),
        };
        Ok(probe_from_export(&text))
    }

    fn now(&self) -> Instant {
        *self.clock.lock().unwrap()
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

/// Builds a probe result from `blkid -p -o export` text.
pub fn probe_from_export(text: &str) -> BlkidProbe {
    let values = parse_key_values(text);
    BlkidProbe {
        partition_table: values.get("PTTYPE").cloned(),
        signatures: values.get("TYPE").cloned().into_iter().collect(),
        values,
    }
}
