//! The real host's command machinery against real processes (issue 11): every command
//! runs in its own process group, and a timeout ends the whole group, including a
//! command that ignores SIGTERM and a grandchild it forked, within a bounded time.
//! (SIGTERM to pre-nixos itself is in tests/interrupt_signal.rs: a signal reaches the
//! whole test process, so it gets a test binary of its own.)

use std::path::Path;
use std::time::{Duration, Instant};

use pre_nixos::host::interrupt::{REAP_WAIT, TERM_GRACE};
use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, Host};

/// Is `pid` a live process (not gone, not a zombie nobody reaped yet)?
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            // "pid (comm) S ...": the state follows the last ')'.
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

/// Waits up to 2 s for `pid` to be gone (a killed orphan is reaped by init, not by us).
fn gone_soon(pid: i32) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn read_pid(path: &Path) -> i32 {
    let start = Instant::now();
    loop {
        if let Ok(t) = std::fs::read_to_string(path) {
            if let Ok(p) = t.trim().parse() {
                return p;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no pid in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn sh(what: &str, script: &str, timeout: Duration) -> (Result<(), CmdError>, Duration) {
    let cmd = Cmd::new(what, ["sh", "-c", script]).timeout(timeout);
    let start = Instant::now();
    let r = RealHost::new().run(&cmd).map(|_| ());
    (r, start.elapsed())
}

#[test]
fn a_command_that_hangs_past_its_timeout_is_killed_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!("echo $$ > {}; exec sleep 1000", pidfile.display());
    let (r, took) = sh("hanging", &script, Duration::from_millis(300));
    assert!(matches!(r, Err(CmdError::TimedOut { .. })), "{r:?}");
    // sleep dies on SIGTERM: no need for the grace period.
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(!alive(read_pid(&pidfile)));
}

#[test]
fn a_command_that_ignores_sigterm_is_killed_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    // An ignored signal stays ignored across fork and exec: the whole tree ignores it.
    let script = format!(
        "trap '' TERM; echo $$ > {}; while :; do sleep 0.1; done",
        pidfile.display()
    );
    let (r, took) = sh("ignoring SIGTERM", &script, Duration::from_millis(300));
    assert!(matches!(r, Err(CmdError::TimedOut { .. })), "{r:?}");
    assert!(
        took >= TERM_GRACE && took < TERM_GRACE + REAP_WAIT,
        "SIGKILL after the {TERM_GRACE:?} grace, bounded: took {took:?}"
    );
    assert!(!alive(read_pid(&pidfile)));
}

#[test]
fn a_grandchild_that_outlives_its_parent_is_killed_with_the_group() {
    let dir = tempfile::tempdir().unwrap();
    let gc = dir.path().join("grandchild");
    // The leader dies on SIGTERM at once; its child ignores SIGTERM and would be an
    // orphan holding a device open if only the leader were killed.
    let script = format!(
        "sh -c \"trap '' TERM; exec sleep 1000\" & echo $! > {}; wait",
        gc.display()
    );
    let (r, took) = sh("forking a grandchild", &script, Duration::from_millis(300));
    assert!(matches!(r, Err(CmdError::TimedOut { .. })), "{r:?}");
    assert!(took < TERM_GRACE + REAP_WAIT, "{took:?}");
    let pid = read_pid(&gc);
    assert!(
        gone_soon(pid),
        "grandchild {pid} survived its command's timeout"
    );
}

#[test]
fn a_command_that_finishes_in_time_is_not_touched() {
    let (r, took) = sh("quick", "exit 0", Duration::from_secs(10));
    assert!(r.is_ok(), "{r:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}
