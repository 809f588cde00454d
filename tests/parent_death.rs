//! `kill -9` of pre-nixos while it holds the apply lock and a command runs: the command
//! dies with it (parent-death signal), and the lock stays held for as long as anything
//! that command forked is still alive, so a second run can never write beside an
//! orphan. The "pre-nixos" here is this test binary run again as a child process (the
//! ignored `holder_role`), which takes the lock and runs the command through the real
//! host exactly as the storage stage does.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};
use pre_nixos::state::lock::ApplyLock;

/// The apply lock's inherited descriptor is one per process: tests that take the lock
/// run one at a time.
static ONE_LOCK_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

fn wait_for_pid(file: &Path) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(p) = std::fs::read_to_string(file)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills what the test started when it ends, passed or failed, so a failing run
/// leaves no `sleep 1000` behind.
struct KillOnDrop(Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

fn wait_until_dead(pid: i32) -> bool {
    let t = Instant::now();
    while alive(pid) && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

/// Not a test: the role the test below runs in a child process (`--ignored --exact`).
/// Takes the lock under `$STATE`, then runs a command that forks a grandchild and
/// waits forever; the parent test kills this process while the command runs.
#[test]
#[ignore = "run by kill_9_kills_the_command_and_the_lock_outlives_its_orphans"]
fn holder_role() {
    let state = PathBuf::from(std::env::var("STATE").unwrap());
    let host = RealHost::new();
    let _lock = ApplyLock::acquire(&host, &state).unwrap();
    let script = format!(
        "sleep 1000 & echo $! > {gc}; echo $$ > {c}; wait",
        gc = state.join("grandchild").display(),
        c = state.join("child").display()
    );
    let _ = host.run(&Cmd::new("a writer that never ends", ["sh", "-c", &script]));
    unreachable!("the parent kills this process while the command runs");
}

#[test]
fn kill_9_kills_the_command_and_the_lock_outlives_its_orphans() {
    let _one = ONE_LOCK_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let exe = std::env::current_exe().unwrap().display().to_string();
    let st = state.display().to_string();
    let holder_run = std::thread::spawn(move || {
        RealHost::new().run(
            &Cmd::new(
                "the run that gets killed",
                [exe.as_str(), "--exact", "holder_role", "--ignored"],
            )
            .env("STATE", st),
        )
    });
    let child = wait_for_pid(&state.join("child"));
    // The lock file holds its owner's pid: the holder's.
    let holder = wait_for_pid(&state.join("apply.lock"));
    let grandchild = wait_for_pid(&state.join("grandchild"));
    let mut cleanup = KillOnDrop(vec![child, grandchild]);
    let host = RealHost::new();
    // While the holder lives, the lock is its.
    let e = ApplyLock::acquire(&host, &state)
        .err()
        .expect("lock is held");
    assert!(format!("{e:#}").contains("another pre-nixos"), "{e:#}");

    // SIGKILL: no handler, no cleanup.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let ended = holder_run.join().unwrap();
    assert!(ended.is_err(), "the holder was killed: {ended:?}");
    assert!(
        wait_until_dead(child),
        "the command {child} outlived a kill -9 of its parent"
    );
    // The grandchild is an orphan now; it still holds the lock.
    assert!(alive(grandchild), "the test's premise: the orphan lives");
    let e = ApplyLock::acquire(&host, &state)
        .err()
        .expect("an orphan of the dead run still holds the lock");
    assert!(format!("{e:#}").contains("another pre-nixos"), "{e:#}");

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(grandchild),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    assert!(wait_until_dead(grandchild));
    // Both are gone: their pids may be reused from here on, so the guard stands down.
    cleanup.0.clear();
    // Reaped by init, not by us; the lock is free the moment its last holder is gone.
    let t = Instant::now();
    let lock = loop {
        match ApplyLock::acquire(&host, &state) {
            Ok(l) => break l,
            Err(e) if t.elapsed() > Duration::from_secs(5) => panic!("{e:#}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    lock.close().unwrap();
}

/// What the command's shell has open that names the lock file.
fn lock_fds_in_a_command(host: &RealHost) -> usize {
    let out = host
        .run(&Cmd::new(
            "listing open descriptors",
            ["sh", "-c", "readlink /proc/$$/fd/* || true"],
        ))
        .unwrap();
    out.stdout
        .lines()
        .filter(|l| l.ends_with("/apply.lock"))
        .count()
}

#[test]
fn commands_inherit_the_lock_only_while_it_is_held() {
    let _one = ONE_LOCK_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let host = RealHost::new();
    assert_eq!(lock_fds_in_a_command(&host), 0);
    let lock = ApplyLock::acquire(&host, dir.path()).unwrap();
    assert_eq!(lock_fds_in_a_command(&host), 1);
    lock.close().unwrap();
    assert_eq!(lock_fds_in_a_command(&host), 0);
}
