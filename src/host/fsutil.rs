//! File helpers shared by every host: atomic replace, sysfs attribute reads.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Reads a sysfs attribute and trims the trailing newline.
///
/// Fixture trees cannot hold a file whose read fails, so a sibling `<name>.err`
/// containing an errno name (`EINVAL`, `ENODEV`, `ENXIO`) stands for "this read
/// fails with that errno" — the guest captures record failed reads the same way.
/// Up to `head` bytes from the start and `tail` bytes from the end of a file or block
/// device, opened read-only (opening a disk for writing alone makes udev re-examine
/// it). A device smaller than the ranges gives what it has; the ranges may overlap.
pub fn read_edges(path: &Path, head: usize, tail: usize) -> io::Result<(Vec<u8>, Vec<u8>)> {
    use std::io::{Seek, SeekFrom};
    let mut f = File::open(path)?;
    // A block device reports its size through seeking to its end, not through metadata.
    let size = f.seek(SeekFrom::End(0))?;
    let read_at = |f: &mut File, at: u64, len: usize| -> io::Result<Vec<u8>> {
        f.seek(SeekFrom::Start(at))?;
        let mut buf = Vec::with_capacity(len);
        f.take(len as u64).read_to_end(&mut buf)?;
        Ok(buf)
    };
    let first = read_at(&mut f, 0, head)?;
    let last = read_at(&mut f, size.saturating_sub(tail as u64), tail)?;
    Ok((first, last))
}

pub fn read_attr(path: &Path) -> io::Result<String> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(s.trim_end_matches(['\n', '\0']).trim_end().to_owned()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut err_path = path.as_os_str().to_owned();
            err_path.push(".err");
            match fs::read_to_string(&err_path) {
                Ok(name) => Err(errno_from_name(name.trim())),
                Err(_) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

pub(crate) fn errno_from_name(text: &str) -> io::Error {
    let code = if text.contains("EINVAL") || text.contains("Invalid argument") {
        libc::EINVAL
    } else if text.contains("ENODEV") || text.contains("No such device") {
        libc::ENODEV
    } else if text.contains("ENXIO") || text.contains("No such device or address") {
        libc::ENXIO
    } else if text.contains("EACCES") || text.contains("Permission denied") {
        libc::EACCES
    } else {
        libc::EIO
    };
    io::Error::from_raw_os_error(code)
}

/// Replaces `path` atomically: a temp file in the same directory, written and
/// fsynced, renamed over the target, then the directory fsynced — a reader sees the
/// old file or the new one, never half of either, even across a crash. The error
/// names the path ("replacing /run/pre-nixos/storage-status: Read-only file system")
/// and keeps the [`io::ErrorKind`].
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    write_atomic_as(path, path, contents, mode)
}

/// [`write_atomic`] on `path`, naming `shown` in the error: a host rooted elsewhere
/// names the target-system path the operator knows, not where it sits on the host.
pub fn write_atomic_as(path: &Path, shown: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    replace(path, contents, mode)
        .map_err(|e| io::Error::new(e.kind(), format!("replacing {}: {e}", shown.display())))
}

fn replace(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        // The umask may have narrowed `mode`; the caller asked for exactly this.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(contents)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

pub fn create_dir_all(path: &Path, mode: u32) -> io::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Reads at most `limit` bytes from the end of `bytes` as lossy UTF-8, on a line
/// boundary where possible (for stderr tails in error messages).
pub fn tail(bytes: &[u8], limit: usize) -> String {
    let start = bytes.len().saturating_sub(limit);
    let mut s = String::from_utf8_lossy(&bytes[start..]).into_owned();
    if start > 0 {
        if let Some(nl) = s.find('\n') {
            s = s[nl + 1..].to_owned();
        }
    }
    s.trim().to_owned()
}

/// Reads a whole small file, returning `None` when it does not exist.
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    let mut s = String::new();
    match File::open(path) {
        Ok(mut f) => {
            f.read_to_string(&mut s)?;
            Ok(Some(s))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes `data` to a device opened `O_WRONLY|O_NONBLOCK|O_NOCTTY`, polling for
/// writability until `deadline` has passed (wall clock: this is a real device).
///
/// Opening a FIFO that has no reader fails at once with ENXIO; a pty or serial line
/// whose buffer is full returns EAGAIN, after which we poll; on timeout the rest of
/// the line is dropped and `TimedOut` returned. Never blocks beyond the deadline.
pub fn write_nonblocking(
    path: &Path,
    data: &[u8],
    deadline: std::time::Duration,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let start = std::time::Instant::now();
    let f = OpenOptions::new()
        .write(true)
        // O_NOCTTY: writing to a console must never make it our controlling tty.
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let fd = f.as_raw_fd();
    let mut rest = data;
    while !rest.is_empty() {
        // SAFETY: fd is open for the whole loop; rest is a valid buffer.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n >= 0 {
            rest = &rest[n as usize..];
            continue;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) => {}
            _ => return Err(err),
        }
        let left = deadline.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("not writable within {} ms", deadline.as_millis()),
            ));
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLOUT,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINTR) {
                return Err(e);
            }
        } else if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
            && pfd.revents & libc::POLLOUT == 0
        {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
    }
    Ok(())
}

/// How [`crate::host::Host::lock`] opens and locks a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// Create the file if missing (read-write) and fail at once with `WouldBlock` when
    /// another process holds the lock (`LOCK_EX | LOCK_NB`).
    Create,
    /// Open an existing node read-only and wait for the lock (`LOCK_EX`).
    Device,
}

/// An advisory `flock`, held until [`FileLock::close`] or drop. A guard without a file
/// (the dry-run host's) holds nothing.
#[derive(Debug)]
pub struct FileLock {
    file: Option<nix::fcntl::Flock<File>>,
    shown: std::path::PathBuf,
}

/// The apply lock's descriptor while it is held (-1 otherwise). Every command started
/// meanwhile inherits it (see `real::run_process`), so the lock lives as long as any
/// process we started: after a `kill -9` of pre-nixos an orphaned `mkfs` or `mdadm`
/// still holds it, and a second run waits for it instead of writing beside it.
static INHERITED_LOCK_FD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

/// The descriptor a child must keep open across exec, if any.
pub fn inherited_lock_fd() -> i32 {
    INHERITED_LOCK_FD.load(std::sync::atomic::Ordering::SeqCst)
}

impl FileLock {
    /// A guard that holds nothing: the dry-run host's answer.
    pub fn none(shown: &Path) -> FileLock {
        FileLock {
            file: None,
            shown: shown.to_path_buf(),
        }
    }

    /// Replaces the locked file's contents (the owner's pid in the apply lock).
    pub fn set_contents(&mut self, text: &str) -> io::Result<()> {
        use std::io::Seek;
        if let Some(f) = self.file.as_mut() {
            f.set_len(0)?;
            f.rewind()?;
            f.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    /// Releases the lock, reporting any error.
    pub fn close(mut self) -> io::Result<()> {
        self.release()
    }

    fn release(&mut self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        if let Some(f) = self.file.take() {
            let _ = INHERITED_LOCK_FD.compare_exchange(
                f.as_raw_fd(),
                -1,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            );
            // An explicit unlock, not just the close: a child that inherited the
            // descriptor would otherwise keep the lock after we let go of it.
            f.unlock().map_err(|(_, e)| io::Error::from(e))?;
            tracing::debug!(path = %self.shown.display(), "lock released");
        }
        Ok(())
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

/// Opens `real` and takes the lock [`LockKind`] asks for; errors name `shown`.
pub fn lock(real: &Path, shown: &Path, kind: LockKind) -> io::Result<FileLock> {
    use std::os::fd::AsRawFd;
    let name = |e: io::Error, what: &str| {
        io::Error::new(e.kind(), format!("{what} {}: {e}", shown.display()))
    };
    let file = match kind {
        LockKind::Create => OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(real),
        LockKind::Device => File::open(real),
    }
    .map_err(|e| name(e, "opening"))?;
    let op = match kind {
        LockKind::Create => nix::fcntl::FlockArg::LockExclusiveNonblock,
        LockKind::Device => nix::fcntl::FlockArg::LockExclusive,
    };
    let file = match nix::fcntl::Flock::lock(file, op) {
        Ok(locked) => locked,
        // Kept as the bare kind: the caller reads the owner and words the message.
        Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
            return Err(io::Error::from(io::ErrorKind::WouldBlock))
        }
        Err((_, e)) => return Err(name(io::Error::from(e), "locking")),
    };
    tracing::debug!(path = %shown.display(), "lock taken");
    if kind == LockKind::Create {
        INHERITED_LOCK_FD.store(file.as_raw_fd(), std::sync::atomic::Ordering::SeqCst);
    }
    Ok(FileLock {
        file: Some(file),
        shown: shown.to_path_buf(),
    })
}
