//! The final word on interruption (issue 11): what happens to the commands `pre-nixos`
//! runs when it is told to stop, and to the status it leaves behind.
//!
//! - Every command runs in its own process group (`process_group(0)`), so a timeout or
//!   an interruption ends the command *and everything it forked*: SIGTERM to the group,
//!   a bounded grace for the leader, then SIGKILL to the group, then a bounded reap.
//!   [`kill_group`] does that; `host::real` calls it.
//! - SIGTERM (the unit's RuntimeMaxSec= hit, a shutdown, `systemctl stop`) and SIGINT
//!   only set a flag ([`install`]; a second signal exits at once); the thread waiting for
//!   a command sees it within one poll, kills that command's group and returns
//!   [`CmdError::Interrupted`]; every later command is refused with the same error
//!   before it starts. The storage flow then ends
//!   through its ordinary failure path (the step that was running is `DETAIL=`), and
//!   [`error_text`] makes its `ERROR=` start with `interrupted`. The unit sends SIGTERM
//!   to the main process only (KillMode=mixed), so the children are ours to end.
//! - Commands that set no timeout get [`DEFAULT_TIMEOUT`]; every timeout stays below the
//!   unit's RuntimeMaxSec= (tests/units.rs checks the literal ones).
//!
//! The handler is nix's `sigaction` with an atomic flag rather than the signal-hook
//! crate: nix is already a dependency, the handler does nothing but atomic loads and
//! stores and `_exit` (all async-signal-safe), and the waiting is done where the commands
//! are waited for.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::Pid;

use super::cmd::CmdError;

/// What a command gets when it sets no timeout of its own: long enough for mkfs or a
/// partition table rewrite on a large, slow disk; far below the unit's 45 min bound.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// How long the group leader gets to exit after SIGTERM before the group is SIGKILLed.
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// How long a killed command is waited for (a process in uninterruptible I/O may never
/// go): after that it is left behind and logged, never waited for without end.
pub const REAP_WAIT: Duration = Duration::from_secs(5);

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    // A second signal is an operator who will not wait for the orderly end (Ctrl-C twice
    // on an interactive `pre-nixos apply`): leave at once, as without a handler.
    if INTERRUPTED.load(Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(128 + sig) }
    }
    // The signal first: whoever sees the flag can name it.
    SIGNAL.store(sig, Ordering::SeqCst);
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs the SIGTERM and SIGINT handlers (`main` does, for every verb: the commands
/// run in their own process groups, so a terminal's Ctrl-C reaches only pre-nixos, which
/// must then end them itself).
pub fn install() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        // SA_RESTART: a read or write in flight is resumed, not failed with EINTR; the
        // flag is what stops the flow.
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: the handler only stores to two atomics, which is async-signal-safe.
        unsafe { signal::sigaction(sig, &action) }?;
    }
    Ok(())
}

/// Has a SIGTERM or SIGINT arrived?
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The signal that interrupted the run, by name ("SIGTERM").
pub fn signal_name() -> String {
    match Signal::try_from(SIGNAL.load(Ordering::SeqCst)) {
        Ok(s) => s.as_str().to_owned(),
        Err(_) => "a signal".to_owned(),
    }
}

/// The `ERROR=` text of a failed step: unchanged, unless the failure is an interruption
/// anywhere in the error's chain, then it starts with `interrupted by <signal>`.
pub fn error_text(e: &anyhow::Error, text: String) -> String {
    let by_signal = e.chain().find_map(|c| match c.downcast_ref::<CmdError>() {
        Some(CmdError::Interrupted { signal, .. }) => Some(signal.clone()),
        _ => None,
    });
    match by_signal {
        Some(signal) => format!("interrupted by {signal}: {text}"),
        None if interrupted() => format!("interrupted by {}: {text}", signal_name()),
        None => text,
    }
}

thread_local! {
    // Per thread: the flow's steps and the catch of its panic run on one thread.
    static STEP: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records the storage step that is starting, so a panic can still name it in `DETAIL=`.
/// It is also the unit's `STATUS=` (`systemctl status pre-nixos`).
pub fn note_step(step: &str) {
    STEP.with(|s| *s.borrow_mut() = Some(step.to_owned()));
    super::notify::status(&format!("storage: {step}"));
}

/// The last step [`note_step`] recorded on this thread.
pub fn last_step() -> Option<String> {
    STEP.with(|s| s.borrow().clone())
}

/// Ends a command's process group `pgid` (the leader's pid): SIGTERM to the group, up to
/// [`TERM_GRACE`] for the leader to exit, SIGKILL to the group (grandchildren that
/// ignore SIGTERM or outlived the leader), then up to [`REAP_WAIT`] to reap the leader.
/// `reap` polls the leader (`Child::try_wait`): true once it has been reaped.
pub fn kill_group(pgid: u32, mut reap: impl FnMut() -> bool) {
    let group = Pid::from_raw(-(pgid as i32));
    let _ = signal::kill(group, Signal::SIGTERM);
    let start = Instant::now();
    let mut reaped = false;
    while start.elapsed() < TERM_GRACE {
        if reap() {
            reaped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Always, even when the leader went: its grandchildren are in the same group.
    let _ = signal::kill(group, Signal::SIGKILL);
    let start = Instant::now();
    while !reaped && start.elapsed() < REAP_WAIT {
        reaped = reap();
        if !reaped {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if !reaped {
        tracing::error!(
            pgid,
            "a killed command did not exit within {} s (uninterruptible I/O?); leaving it",
            REAP_WAIT.as_secs()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interruption_anywhere_in_the_chain_makes_the_error_say_so() {
        let e = anyhow::Error::new(CmdError::Interrupted {
            what: "creating ext4 home".into(),
            argv: "mkfs.ext4 -L home /dev/main/home".into(),
            signal: "SIGTERM".into(),
            started: true,
        })
        .context("step mkfs-home");
        let text = format!("{e:#}");
        let out = error_text(&e, text.clone());
        assert!(out.starts_with("interrupted by SIGTERM: "), "{out}");
        assert!(out.ends_with(&text), "{out}");
        // A plain failure is left alone (the flag is never set in this test binary).
        let plain = anyhow::anyhow!("mkfs.ext4 exited with status 1");
        assert_eq!(error_text(&plain, "x".into()), "x");
    }
}
