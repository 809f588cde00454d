//! SIGTERM to pre-nixos (the unit's RuntimeMaxSec= hit, a shutdown) while a command
//! runs: the command's whole process group is killed, the run returns
//! `CmdError::Interrupted`, and no later command starts. One test in its own binary: the
//! signal and the flag it sets belong to the whole process.

use std::time::{Duration, Instant};

use pre_nixos::host::interrupt;
use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, Host};

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

#[test]
fn sigterm_kills_the_running_group_and_refuses_new_commands() {
    interrupt::install().unwrap();
    assert!(!interrupt::interrupted());
    let dir = tempfile::tempdir().unwrap();
    let gc = dir.path().join("grandchild");
    // No timeout of its own: only the signal can end it (the default is 20 min).
    let script = format!(
        "sh -c \"trap '' TERM; exec sleep 1000\" & echo $! > {}; trap '' TERM; wait",
        gc.display()
    );
    let worker = std::thread::spawn(move || {
        let start = Instant::now();
        let r = RealHost::new().run(&Cmd::new("hanging on purpose", ["sh", "-c", &script]));
        (r, start.elapsed())
    });
    let start = Instant::now();
    let pid: i32 = loop {
        if let Some(p) = std::fs::read_to_string(&gc)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            break p;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the command never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGTERM).unwrap();
    let (r, took) = worker.join().unwrap();
    match &r {
        Err(CmdError::Interrupted {
            signal,
            started: true,
            ..
        }) => assert_eq!(signal, "SIGTERM"),
        other => panic!("expected Interrupted, got {other:?}"),
    }
    // Leader and grandchild ignore SIGTERM: SIGKILL after the grace, bounded.
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert!(interrupt::interrupted());
    let t = Instant::now();
    while alive(pid) && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "grandchild {pid} survived the interruption");

    // Nothing new starts once interrupted.
    let marker = dir.path().join("marker");
    let r = RealHost::new().run(&Cmd::new(
        "touching a marker",
        ["touch", marker.to_str().unwrap()],
    ));
    assert!(
        matches!(r, Err(CmdError::Interrupted { started: false, .. })),
        "{r:?}"
    );
    assert!(!marker.exists(), "a command started after SIGTERM");
    let e = anyhow::Error::new(r.unwrap_err());
    let text = interrupt::error_text(&e, format!("{e:#}"));
    assert!(
        text.starts_with("interrupted by SIGTERM: touching a marker"),
        "{text}"
    );
}
