//! The real host: processes, libudev, libblkid and the live filesystem.

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::cmd::{Cmd, CmdError, CmdOutput, STDERR_TAIL};
use super::fsutil::tail;
use super::interrupt;
use super::{BlkidProbe, Host, UdevDevice};

pub struct RealHost {
    root: PathBuf,
}

impl RealHost {
    pub fn new() -> Self {
        RealHost {
            root: PathBuf::from("/"),
        }
    }

    /// A real host whose files live under another root (e.g. a chroot or a test tree).
    /// Commands, udev and libblkid still talk to this machine.
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        RealHost { root: root.into() }
    }
}

impl Default for RealHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Host for RealHost {
    fn root(&self) -> &Path {
        &self.root
    }

    fn run(&self, cmd: &Cmd) -> Result<CmdOutput, CmdError> {
        run_process(cmd)
    }

    fn udev_devices(&self, subsystem: &str) -> io::Result<Vec<UdevDevice>> {
        let mut en = udev::Enumerator::new()?;
        en.match_subsystem(subsystem)?;
        let mut out = Vec::new();
        for dev in en.scan_devices()? {
            let mut properties = BTreeMap::new();
            for p in dev.properties() {
                properties.insert(
                    p.name().to_string_lossy().into_owned(),
                    p.value().to_string_lossy().into_owned(),
                );
            }
            out.push(UdevDevice {
                sysname: dev.sysname().to_string_lossy().into_owned(),
                subsystem: subsystem.to_owned(),
                properties,
                initialized: dev.is_initialized(),
            });
        }
        out.sort_by(|a, b| a.sysname.cmp(&b.sysname));
        Ok(out)
    }

    fn blkid_probe(&self, dev: &Path) -> io::Result<BlkidProbe> {
        blkid_low_level_probe(&self.path(dev))
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Runs in the child between fork and exec.
///
/// - `PR_SET_PDEATHSIG`: a `kill -9` of pre-nixos kills the command too, instead of
///   leaving it writing to a disk nobody watches. The signal follows the death of the
///   *thread* that forked, which is fine here: a command runs to its end on the thread
///   that started it (`run_process` waits for it).
/// - The parent may have died before the prctl: then exit at once, nothing started.
/// - The apply lock's descriptor stays open across exec (its close-on-exec flag is
///   cleared in this child only), so the lock outlives us for as long as the command
///   or anything it forked lives.
fn child_setup(parent: u32, lock_fd: i32) -> io::Result<()> {
    // SAFETY: plain syscalls on integers; no memory is shared or allocated.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
            return Err(io::Error::last_os_error());
        }
        if u32::try_from(libc::getppid()).ok() != Some(parent) {
            return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
        if lock_fd >= 0 && libc::fcntl(lock_fd, libc::F_SETFD, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[allow(clippy::disallowed_types)] // the one place a process is started
fn run_process(cmd: &Cmd) -> Result<CmdOutput, CmdError> {
    let argv = cmd.display();
    let program = cmd.program().to_owned();
    tracing::debug!(command = %argv, what = %cmd.what, "running");
    // Stopping (SIGTERM): no new command starts (issue 11, see host::interrupt).
    if interrupt::interrupted() {
        return Err(CmdError::Interrupted {
            what: cmd.what.clone(),
            argv,
            signal: interrupt::signal_name(),
            started: false,
        });
    }
    let timeout = cmd.timeout.unwrap_or(interrupt::DEFAULT_TIMEOUT);
    let start = Instant::now();
    let mut command = std::process::Command::new(&program);
    // Its own process group: a timeout or an interruption kills what it forked too.
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let parent = std::process::id();
    let lock_fd = super::fsutil::inherited_lock_fd();
    // SAFETY: `child_setup` makes only async-signal-safe calls (prctl, getppid, fcntl)
    // and allocates nothing, as the code between fork and exec must.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            child_setup(parent, lock_fd)
        });
    }
    command
        .args(&cmd.argv[1..])
        .stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CmdError::NotFound {
                what: cmd.what.clone(),
                program,
            })
        }
        Err(e) => {
            return Err(CmdError::Spawn {
                what: cmd.what.clone(),
                argv,
                error: e.to_string(),
            })
        }
    };
    if let Some(data) = &cmd.stdin {
        let mut stdin = child.stdin.take().expect("stdin piped");
        let data = data.clone();
        // A writer thread: a program that does not read its stdin must not block us.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let stream = cmd.stream;
    let out_handle = spawn_reader(child.stdout.take().expect("stdout piped"), stream, &program);
    let err_handle = spawn_reader(child.stderr.take().expect("stderr piped"), stream, &program);

    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => {
                return Err(CmdError::Spawn {
                    what: cmd.what.clone(),
                    argv,
                    error: e.to_string(),
                })
            }
        }
        let timed_out = start.elapsed() >= timeout;
        if timed_out || interrupt::interrupted() {
            let pgid = child.id();
            interrupt::kill_group(pgid, || !matches!(child.try_wait(), Ok(None)));
            if timed_out {
                tracing::warn!(command = %argv, timeout_ms = timeout.as_millis() as u64, "command timed out; its process group was killed");
                return Err(CmdError::TimedOut {
                    what: cmd.what.clone(),
                    argv,
                    timeout,
                });
            }
            let signal = interrupt::signal_name();
            tracing::warn!(command = %argv, signal = %signal, "interrupted; the command's process group was killed");
            return Err(CmdError::Interrupted {
                what: cmd.what.clone(),
                argv,
                signal,
                started: true,
            });
        }
        // Bounded poll of the child's state; the readers drain its pipes meanwhile.
        std::thread::sleep(Duration::from_millis(5));
    };
    // A grandchild may keep a pipe open after the child exited: give the readers a
    // bounded time, never wait forever on them.
    let stdout = out_handle
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    let stderr = err_handle
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    let duration = start.elapsed();
    let code = std::os::unix::process::ExitStatusExt::into_raw(status);
    let exit = status.code();
    let signal = if exit.is_none() { code & 0x7f } else { 0 };
    let duration_ms = duration.as_millis() as u64;
    if cmd.quiet {
        tracing::debug!(command = %argv, exit = exit.unwrap_or(-1), signal, duration_ms, "command finished");
    } else {
        tracing::info!(command = %argv, exit = exit.unwrap_or(-1), signal, duration_ms, "command finished");
    }
    let output = CmdOutput {
        status: exit,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        duration,
    };
    match exit {
        Some(c) if cmd.ok_codes.contains(&c) => Ok(output),
        _ => Err(CmdError::Failed {
            what: cmd.what.clone(),
            argv,
            status: match exit {
                Some(c) => format!("with status {c}"),
                None => format!("on signal {}", code & 0x7f),
            },
            stderr_tail: tail(&stderr, STDERR_TAIL),
            output: Box::new(output),
        }),
    }
}

fn spawn_reader<R: Read + Send + 'static>(
    r: R,
    stream: bool,
    program: &str,
) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    let program = program.to_owned();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut reader = BufReader::new(r);
        if stream {
            let mut line = Vec::new();
            while let Ok(n) = reader.read_until(b'\n', &mut line) {
                if n == 0 {
                    break;
                }
                tracing::info!(program = %program, "{}", String::from_utf8_lossy(&line).trim_end());
                buf.extend_from_slice(&line);
                line.clear();
            }
        } else {
            let _ = reader.read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// Low-level libblkid probe of one device: superblocks (all of them, including
/// ones at the end of the disk such as md 1.0) and the partition table.
fn blkid_low_level_probe(dev: &Path) -> io::Result<BlkidProbe> {
    use blkid_sys::*;
    let c_path = CString::new(dev.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in device path"))?;
    // SAFETY: the probe is created, used and freed within this function; every
    // pointer libblkid hands back is copied before the probe is freed.
    unsafe {
        let pr = blkid_new_probe_from_filename(c_path.as_ptr());
        if pr.is_null() {
            return Err(io::Error::last_os_error());
        }
        struct Guard(blkid_probe);
        impl Drop for Guard {
            fn drop(&mut self) {
                unsafe { blkid_free_probe(self.0) }
            }
        }
        let guard = Guard(pr);
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(
            pr,
            (BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_BADCSUM)
                as i32,
        );
        blkid_probe_enable_partitions(pr, 1);
        // FORCE_GPT: also report a GPT whose protective MBR is gone (only the backup
        // header at the end of the disk survives) — a disk like that is not clean.
        blkid_probe_set_partitions_flags(pr, (BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT) as i32);

        let mut probe = BlkidProbe::default();
        // Walk every signature, not just the first, so a stale md superblock behind
        // a filesystem is still reported.
        loop {
            let rc = blkid_do_probe(pr);
            if rc != 0 {
                if rc < 0 {
                    // libblkid does not always set errno on a failed probe; never
                    // report "Success" as the reason.
                    let os = io::Error::last_os_error();
                    return Err(match os.raw_os_error() {
                        Some(code) if code != 0 => os,
                        _ => {
                            io::Error::other(format!("libblkid could not probe {}", dev.display()))
                        }
                    });
                }
                break;
            }
            let n = blkid_probe_numof_values(pr);
            for i in 0..n {
                let mut name: *const libc::c_char = std::ptr::null();
                let mut data: *const libc::c_char = std::ptr::null();
                // `len` counts the terminating NUL; `data` is NUL-terminated, so it
                // is read as a C string.
                let mut len: usize = 0;
                if blkid_probe_get_value(pr, i, &mut name, &mut data, &mut len) == 0
                    && !name.is_null()
                    && !data.is_null()
                {
                    let k = CStr::from_ptr(name).to_string_lossy().into_owned();
                    let v = CStr::from_ptr(data).to_string_lossy().into_owned();
                    match k.as_str() {
                        "TYPE" if !probe.signatures.contains(&v) => {
                            probe.signatures.push(v.clone());
                        }
                        "PTTYPE" => probe.partition_table = Some(v.clone()),
                        _ => {}
                    }
                    probe.values.entry(k).or_insert(v);
                }
            }
        }
        drop(guard);
        Ok(probe)
    }
}
