//! The real binary in a real terminal: tmux runs `pre-nixos tui` against a fixture root
//! (a saved inventory, state files in the root's state directory), sends keys, reads
//! the screen back, and checks what a terminal needs: the first screen, navigation,
//! the header refreshed from the state files while it runs, redraw on resize, ASCII
//! on `TERM=vt100`, no colour under `NO_COLOR`, and cooked mode after every way out —
//! `q`, SIGTERM, SIGHUP, and a panic; and the process ends when the terminal goes away.
//!
//! tmux is a test dependency (`scripts/install-deps`); without it the test fails
//! saying so. Each test has its own tmux server (`-L`), ended when it is done.

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    root: tempfile::TempDir,
}

impl Tmux {
    /// A session running `pre-nixos tui` in an 80×24 terminal with `env`; after the
    /// TUI ends, the shell prints its exit code and the terminal's `icanon` setting.
    fn start(name: &str, env: &str) -> Tmux {
        let found = RealHost::new()
            .run(&Cmd::new("asking tmux its version", ["tmux", "-V"]))
            .is_ok();
        assert!(
            found,
            "tmux is needed for this test (scripts/install-deps); failing instead of skipping"
        );
        let root = tempfile::tempdir().unwrap();
        let state = root.path().join("run/pre-nixos");
        std::fs::create_dir_all(&state).unwrap();
        std::fs::create_dir_all(root.path().join("proc/self")).unwrap();
        std::fs::write(root.path().join("proc/cmdline"), "console=ttyS0\n").unwrap();
        std::fs::write(root.path().join("proc/self/mountinfo"), "").unwrap();
        let t = Tmux {
            socket: format!("pre-nixos-test-{name}-{}", std::process::id()),
            root,
        };
        t.network("10.0.2.15");
        std::fs::write(
            state.join("storage-status"),
            "STATE=plan-only\nDETAIL=existing-storage\nVERSION=0.1.0\nUPDATED=2026-01-01T00:00:00Z\n",
        )
        .unwrap();
        let bin = env!("CARGO_BIN_EXE_pre-nixos");
        let inv = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/server-ssd-4hdd.json");
        let script = format!(
            "echo $$ > {pid}; exec env {env} {bin} --root {root} --state-dir /run/pre-nixos \
             tui --inventory {inv}",
            pid = t.pid_file().display(),
            root = t.root.path().display(),
            inv = inv.display(),
        );
        let outer = format!(
            "sh -c '{script}'; echo EXIT=$?; stty -a | tr \" \" \"\\n\" | grep -x -E -- '-?icanon'; sleep 600"
        );
        t.tmux(&["new-session", "-d", "-x", "80", "-y", "24", &outer]);
        t
    }

    /// A session running `command` (a shell line) in an 80×24 terminal.
    fn run(name: &str, command: &str) -> Tmux {
        let t = Tmux {
            socket: format!("pre-nixos-test-{name}-{}", std::process::id()),
            root: tempfile::tempdir().unwrap(),
        };
        t.tmux(&["new-session", "-d", "-x", "80", "-y", "24", command]);
        t
    }

    fn pid_file(&self) -> PathBuf {
        self.root.path().join("tui.pid")
    }

    fn network(&self, ip: &str) {
        std::fs::write(
            self.root.path().join("run/pre-nixos/network-status"),
            format!("LAN_IFACE=lan\nLAN_MAC=52:54:00:12:34:56\nLAN_IPV4={ip}\nSSH=ready\n"),
        )
        .unwrap();
    }

    fn tmux(&self, args: &[&str]) -> String {
        let mut argv = vec!["tmux", "-L", &self.socket];
        argv.extend_from_slice(args);
        RealHost::new()
            .run(&Cmd::new("driving the test terminal", argv))
            .unwrap_or_else(|e| panic!("{e}"))
            .stdout
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    /// The screen once it contains `needle` (within 10 s), or a failure showing it.
    fn wait_for(&self, needle: &str) -> String {
        self.wait_until(needle, |s| s.contains(needle))
    }

    fn wait_until(&self, needle: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "waited for {needle:?}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        let mut a = vec!["send-keys"];
        a.extend_from_slice(keys);
        self.tmux(&a);
    }

    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = std::fs::read_to_string(self.pid_file()).unwrap();
        let pid = nix::unistd::Pid::from_raw(pid.trim().parse().unwrap());
        nix::sys::signal::kill(pid, sig).unwrap();
    }
}

/// An SGR sequence that sets a colour (`ESC[31m`, `ESC[44m`, `ESC[38;5;14m`), as
/// opposed to resetting one (`ESC[39m`) or bold/reverse.
fn has_colour(raw: &str) -> bool {
    raw.split("\x1b[").skip(1).any(|seq| {
        let params = seq.split('m').next().unwrap_or("");
        params.split(';').any(|p| {
            matches!(p.len(), 2)
                && (p.starts_with('3') || p.starts_with('4'))
                && p.as_bytes()[1].is_ascii_digit()
                && p.as_bytes()[1] <= b'8'
        })
    })
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = RealHost::new().run(&Cmd::new(
            "ending the test terminal",
            ["tmux", "-L", &self.socket, "kill-server"],
        ));
    }
}

#[test]
fn the_tui_in_a_real_terminal_navigates_refreshes_and_restores_the_terminal() {
    let t = Tmux::start("main", "TERM=xterm LANG=C.UTF-8 NO_COLOR=1");
    // Each wait is for every part it checks: tmux may be read between two writes of one
    // frame.
    t.wait_until("the first screen", |s| {
        s.contains("ssh root@10.0.2.15")
            && s.contains("storage: plan-only/existing-storage")
            && s.contains("┌ plan: 5 disks, 1 arrays, 2 VGs")
            && s.contains("d:diag ?:help q")
    });
    // NO_COLOR: no colour in the escape sequences tmux kept.
    let raw = t.tmux(&["capture-pane", "-p", "-e"]);
    assert!(!has_colour(&raw), "colour under NO_COLOR:\n{raw:?}");
    // Down to the array, expand: its members and why RAID5.
    t.keys(&["j", "j", "j", "j", "j", "Enter"]);
    t.wait_until("the array's members and why RAID5", |s| {
        s.contains("disk-large3-md") && s.contains("RAID5 (fast mode, four rotating")
    });
    // The header follows the state files.
    t.network("10.0.2.99");
    t.wait_for("ssh root@10.0.2.99");
    // Careful mode, planned again at once, the change named.
    t.keys(&["m"]);
    t.wait_until("careful mode and the change named", |s| {
        s.contains("mode careful · swap auto · saved inventory")
            && s.contains("mode fast → careful")
    });
    // A bigger terminal: redrawn to its size.
    t.tmux(&["resize-window", "-x", "132", "-y", "43"]);
    // The whole screen, not one caught half drawn: the tree, the bottom border and the
    // footer's keys that only a wide terminal gets.
    t.wait_until("the tree redrawn 132 columns wide", |s| {
        s.contains("│▾ md/large")
            && s.lines().any(|l| l.chars().count() == 132)
            && s.contains("d diag  ? help  q quit")
    });
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    let s = t.wait_for("icanon");
    assert!(
        s.contains("\nicanon"),
        "the terminal was left in raw mode:\n{s}"
    );
}

#[test]
fn a_vt100_console_gets_ascii_and_colour() {
    let t = Tmux::start("vt100", "TERM=vt100 LANG=C.UTF-8");
    let s = t.wait_for("+ plan: 5 disks");
    assert!(s.is_ascii(), "{s}");
    let raw = t.tmux(&["capture-pane", "-p", "-e"]);
    assert!(has_colour(&raw), "no colour:\n{raw:?}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn sigterm_and_sighup_leave_a_cooked_terminal() {
    use nix::sys::signal::Signal;
    for sig in [Signal::SIGTERM, Signal::SIGHUP] {
        let t = Tmux::start(&sig.as_str().to_lowercase(), "TERM=linux LANG=C");
        t.wait_for("ssh root@10.0.2.15");
        t.signal(sig);
        t.wait_for("EXIT=1");
        let s = t.wait_for("icanon");
        assert!(s.contains("stopped by a signal"), "{sig:?}:\n{s}");
        assert!(
            s.contains("\nicanon"),
            "{sig:?}: the terminal was left in raw mode:\n{s}"
        );
        assert!(
            !s.contains("+ plan:"),
            "{sig:?}: still on the alternate screen:\n{s}"
        );
    }
}

/// A panic while the terminal is raw and on the alternate screen: the hook the guard
/// installs puts the terminal back before the message prints, so the operator reads it
/// on a cooked terminal. Nothing in the binary panics on purpose, so the guard is entered
/// by this test binary itself, in [`panics_inside_the_terminal_guard`] run inside tmux.
#[test]
fn a_panic_leaves_a_cooked_terminal_and_its_message_readable() {
    let exe = std::env::current_exe().unwrap();
    let t = Tmux::run(
        "panic",
        &format!(
            "TUI_PANIC_INSIDE_GUARD=1 {} --exact panics_inside_the_terminal_guard --ignored \
             --nocapture --test-threads=1; \
             stty -a | tr ' ' '\\n' | grep -x -E -- '-?icanon'; sleep 600",
            exe.display()
        ),
    );
    let s = t.wait_for("icanon");
    assert!(
        s.contains("raw and alternate: on purpose"),
        "the panic message is not on the screen:\n{s}"
    );
    assert!(
        s.contains("\nicanon"),
        "the terminal was left in raw mode:\n{s}"
    );
}

/// Run by the test above inside tmux (ignored otherwise, and a no-op without its
/// variable): enters the TUI's terminal guard and panics inside it.
#[test]
#[ignore = "run inside tmux by a_panic_leaves_a_cooked_terminal_and_its_message_readable"]
fn panics_inside_the_terminal_guard() {
    if std::env::var_os("TUI_PANIC_INSIDE_GUARD").is_none() {
        return;
    }
    let _guard = pre_nixos::tui::term::Guard::enter().unwrap();
    panic!("raw and alternate: on purpose");
}

/// The terminal itself goes away (the serial line or the ssh session drops; here tmux's
/// server ends, closing the pty): the TUI ends within seconds instead of spinning on a
/// tty that reads end-of-file for ever.
#[test]
fn a_terminal_that_goes_away_ends_the_tui() {
    let t = Tmux::start("gone", "TERM=linux LANG=C");
    t.wait_for("ssh root@10.0.2.15");
    let pid: i32 = std::fs::read_to_string(t.pid_file())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    t.tmux(&["kill-server"]);
    // Gone, or a zombie nobody reaps here: either way it stopped running.
    let running = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| !r.trim_start().starts_with('Z'))
        })
    };
    let start = Instant::now();
    while running() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    if running() {
        // Do not leave it spinning after the failure.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
        panic!("pre-nixos tui (pid {pid}) still runs 10 s after its terminal went away");
    }
}
