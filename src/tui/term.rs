//! The terminal while the TUI runs: raw mode and the alternate screen on entry, and
//! back to a usable terminal however the TUI ends — return, error, panic (the hook
//! restores before the message prints), SIGTERM, or SIGHUP when the serial line drops
//! (both only set a flag here; the event loop sees it within one poll and returns, and
//! [`Guard`]'s drop restores).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};

use super::view::Look;

static HANGUP: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

extern "C" fn on_hangup(_: libc::c_int) {
    HANGUP.store(true, Ordering::SeqCst);
}

/// Has the terminal gone (SIGHUP) or has someone asked us to stop (SIGTERM, SIGINT)?
pub fn stop_requested() -> bool {
    HANGUP.load(Ordering::SeqCst) || crate::host::interrupt::interrupted()
}

/// Has the terminal hung up under us (the serial line or the ssh session dropped, the
/// terminal emulator closed)? Asked of stdin with a zero-timeout `poll(2)`: a hung-up
/// tty reports `POLLHUP`. Needed besides the SIGHUP flag: once the tty reads end-of-file,
/// it is always "readable", and crossterm's `event::read` then spins on `read() = 0`
/// for ever (100 % CPU, deaf to every signal's flag) instead of returning.
pub fn terminal_gone() -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let stdin = io::stdin();
    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
    match poll(&mut fds, PollTimeout::ZERO) {
        Ok(_) => fds[0].revents().is_some_and(|r| {
            r.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
        }),
        Err(_) => false,
    }
}

/// Puts the terminal back: cooked mode, the normal screen, a visible cursor. Safe to
/// call more than once and on a terminal that is gone (every error is ignored: there
/// is nobody left to tell).
pub fn restore() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(out, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

/// Raw mode and the alternate screen for as long as it lives.
pub struct Guard(());

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
            let action = SigAction::new(
                SigHandler::Handler(on_hangup),
                SaFlags::SA_RESTART,
                SigSet::empty(),
            );
            // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
            if let Err(e) = unsafe { signal::sigaction(Signal::SIGHUP, &action) } {
                tracing::warn!(error = %e, "installing the SIGHUP handler");
            }
        });
        enable_raw_mode()?;
        let guard = Guard(());
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        Ok(guard)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// What this terminal can show, from the environment: no colour under `NO_COLOR` (any
/// value) or `TERM=dumb`; ASCII only on the Linux console and the DEC terminals a serial
/// console claims to be, or where the locale is not UTF-8.
pub fn look_from(term: Option<&str>, no_color: bool, locale: Option<&str>) -> Look {
    let term = term.unwrap_or("dumb");
    let plain_term = matches!(
        term,
        "linux" | "vt100" | "vt102" | "vt220" | "ansi" | "dumb" | "vt52"
    );
    let utf8 = locale.is_some_and(|l| {
        let l = l.to_ascii_lowercase();
        l.contains("utf-8") || l.contains("utf8")
    });
    Look {
        color: !no_color && term != "dumb",
        unicode: !plain_term && utf8,
    }
}

/// [`look_from`] with this process's environment (the first of `LC_ALL`, `LC_CTYPE`,
/// `LANG` that is set, as the C library picks the locale).
pub fn look() -> Look {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let locale = var("LC_ALL")
        .or_else(|| var("LC_CTYPE"))
        .or_else(|| var("LANG"));
    look_from(
        var("TERM").as_deref(),
        std::env::var_os("NO_COLOR").is_some(),
        locale.as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_consoles_and_non_utf8_locales_get_ascii() {
        let l = |t, n, loc| look_from(t, n, loc);
        assert_eq!(
            l(Some("xterm-256color"), false, Some("en_US.UTF-8")),
            Look {
                color: true,
                unicode: true
            }
        );
        assert!(!l(Some("linux"), false, Some("C.UTF-8")).unicode);
        assert!(!l(Some("vt100"), false, Some("en_US.utf8")).unicode);
        assert!(!l(Some("xterm"), false, Some("C")).unicode);
        assert!(!l(Some("xterm"), false, None).unicode);
        assert!(!l(Some("xterm"), true, Some("C.UTF-8")).color);
        assert!(!l(Some("dumb"), false, Some("C.UTF-8")).color);
        assert!(!l(None, false, Some("C.UTF-8")).color);
    }
}
