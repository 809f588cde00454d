//! Announcing on every console without ever blocking (SPEC §4.4).
//!
//! Targets: each name in `/sys/class/tty/console/active` as `/dev/<name>`,
//! de-duplicated. `/dev/console` is the *last* entry of that file (sysfs-tty ABI),
//! so writing to it as well would print every line twice on that console (the
//! predecessor did); it is used only when `active` is empty or unreadable, or
//! when no entry of it could be written. Each gets the line with `\r\n`
//! (a serial console in raw mode does not translate `\n`), through
//! [`Host::write_nonblocking`]: `O_WRONLY|O_NONBLOCK|O_NOCTTY`, a poll for
//! writability bounded by [`CONSOLE_DEADLINE`]. A console that is missing,
//! disconnected (ENXIO, EIO) or full (EAGAIN past the deadline) is skipped and
//! logged; announcing never fails and never hangs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::host::Host;

/// How long one console may take to accept a line before it is skipped.
pub const CONSOLE_DEADLINE: Duration = Duration::from_millis(500);

/// `/dev/<name>` for every active console, without repeats; `/dev/console` when
/// there is none.
pub fn console_targets(active: Option<&str>) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for p in active
        .unwrap_or("")
        .split_whitespace()
        .map(|n| Path::new("/dev").join(n))
    {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        out.push(PathBuf::from("/dev/console"));
    }
    out
}

/// Writes `line` to every active console, never blocking longer than the deadline
/// per console. Returns the consoles written to.
pub fn announce(host: &dyn Host, line: &str) -> Vec<String> {
    let active = host
        .read_attr(Path::new("/sys/class/tty/console/active"))
        .ok();
    // Leading CR LF: a console may be mid-line (a login prompt), and the line must
    // stand on its own there.
    let data = format!("\r\n{}\r\n", line.trim_end());
    let mut written = Vec::new();
    tracing::info!(line, "announcing");
    let mut targets = console_targets(active.as_deref());
    let console = PathBuf::from("/dev/console");
    let mut i = 0;
    while i < targets.len() {
        let target = targets[i].clone();
        i += 1;
        match host.write_nonblocking(&target, data.as_bytes(), CONSOLE_DEADLINE) {
            Ok(()) => written.push(target.display().to_string()),
            Err(e) => tracing::warn!(device = %target.display(), error = %e, "console skipped"),
        }
        // Nothing reached any console named in `active`: try /dev/console once.
        if i == targets.len() && written.is_empty() && !targets.contains(&console) {
            targets.push(console.clone());
        }
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use std::sync::mpsc;

    #[test]
    fn targets_are_deduplicated_and_end_with_console() {
        assert_eq!(
            console_targets(Some("tty0 ttyS0 ttyS0")),
            vec![PathBuf::from("/dev/tty0"), PathBuf::from("/dev/ttyS0")]
        );
        assert_eq!(
            console_targets(Some("\n")),
            vec![PathBuf::from("/dev/console")]
        );
        assert_eq!(
            console_targets(Some("console")),
            vec![PathBuf::from("/dev/console")]
        );
        assert_eq!(console_targets(None), vec![PathBuf::from("/dev/console")]);
    }

    /// Runs `announce` in a thread; fails if it has not returned within a generous
    /// bound (this is a hang check, not a speed assertion).
    fn announce_returns(root: PathBuf, line: &'static str) -> Vec<String> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let host = FakeHost::new(root);
            let _ = tx.send(announce(&host, line));
        });
        rx.recv_timeout(Duration::from_secs(60))
            .expect("announce did not return: a console write blocked")
    }

    #[test]
    fn full_pty_and_readerless_fifo_never_hang() {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("sys/class/tty/console")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(
            root.join("sys/class/tty/console/active"),
            "ttyS0 ttyFIFO tty0\n",
        )
        .unwrap();
        // A pty nobody reads, filled until a write would block.
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave_name =
            std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd())).unwrap();
        let filled = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(&slave_name)
            .unwrap();
        // The kernel moves buffered pty data into the master's line discipline in
        // the background, so keep filling until several rounds in a row block.
        let chunk = [b'x'; 4096];
        let mut total = 0usize;
        let mut blocked_rounds = 0;
        while blocked_rounds < 5 {
            use std::io::Write;
            let mut wrote = false;
            loop {
                match (&filled).write(&chunk) {
                    Ok(n) => {
                        total += n;
                        wrote = true;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) => panic!("filling the pty: {e}"),
                }
                assert!(total < 64 << 20, "pty never filled");
            }
            blocked_rounds = if wrote { 0 } else { blocked_rounds + 1 };
            std::thread::sleep(Duration::from_millis(20));
        }
        std::os::unix::fs::symlink(&slave_name, root.join("dev/ttyS0")).unwrap();
        // A FIFO with no reader.
        nix::unistd::mkfifo(
            &root.join("dev/ttyFIFO"),
            nix::sys::stat::Mode::from_bits_truncate(0o600),
        )
        .unwrap();
        // tty0 missing altogether; /dev/console (the fallback) as well.
        let written = announce_returns(root.clone(), "pre-nixos test: hello");
        assert!(
            written.is_empty(),
            "nothing can be written, got {written:?}"
        );
        drop(pty);
    }

    #[test]
    fn writes_line_with_crlf_to_each_console_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("sys/class/tty/console")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("sys/class/tty/console/active"), "ttyS0 ttyS0\n").unwrap();
        std::fs::write(root.join("dev/ttyS0"), "").unwrap();
        std::fs::write(root.join("dev/console"), "").unwrap();
        let written = announce_returns(root.clone(), "pre-nixos 0.1.0: lan 10.0.2.15");
        assert_eq!(
            written,
            vec!["/dev/ttyS0"],
            "/dev/console is ttyS0: not twice"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("dev/ttyS0")).unwrap(),
            "\r\npre-nixos 0.1.0: lan 10.0.2.15\r\n"
        );
    }
}

#[cfg(test)]
mod fallback_tests {
    use super::*;
    use crate::host::fake::FakeHost;

    #[test]
    fn dev_console_is_the_fallback_when_no_active_console_takes_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("sys/class/tty/console")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("sys/class/tty/console/active"), "ttyS1\n").unwrap();
        std::fs::write(root.join("dev/console"), "").unwrap();
        let written = announce(&FakeHost::new(root), "hello");
        assert_eq!(written, vec!["/dev/console"]);
        assert_eq!(
            std::fs::read_to_string(root.join("dev/console")).unwrap(),
            "\r\nhello\r\n"
        );
    }
}
