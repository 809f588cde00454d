//! `pre-nixos tui` screens through ratatui's `TestBackend`, compared byte for byte with
//! `tests/golden/tui/` at 80×24 (a serial console) and 132×43, in Unicode and in the
//! ASCII a `TERM=linux`/`vt100` console gets. Keystrokes go through the real event
//! loop (`tui::run_loop`) on the fake host. `UPDATE_GOLDEN=1 cargo test --test tui`
//! rewrites the files.

use std::path::Path;

use pre_nixos::context::Ctx;
use pre_nixos::host::fake::FakeHost;
use pre_nixos::inventory::Inventory;
use pre_nixos::plan::PlanOptions;
use pre_nixos::storage::detect::DiskReport;
use pre_nixos::tui::model::App;
use pre_nixos::tui::view::Look;
use pre_nixos::tui::{keys, run_loop, Input};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

fn app() -> App {
    app_for("server-ssd-4hdd", |i| i == 1 || i == 2)
}

/// The TUI on `examples/<example>.json`, the planned disks whose index `dirty` names
/// holding an old array.
fn app_for(example: &str, dirty: fn(usize) -> bool) -> App {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{example}.json")),
    )
    .unwrap();
    let inv: Inventory = serde_json::from_str(&text).unwrap();
    let plan = pre_nixos::plan::plan(&inv, &PlanOptions::default()).unwrap();
    let mut app = App::new(inv, plan.options.clone(), Ok(plan.clone()));
    for (i, d) in plan.layout.disks.iter().enumerate() {
        app.detection.insert(
            d.stable_path.clone(),
            DiskReport {
                key: d.key.clone(),
                stable_path: d.stable_path.clone(),
                name: Some(d.name.clone()),
                serial: d.serial.clone(),
                reasons: if dirty(i) {
                    vec![
                        "partition-table".into(),
                        "signature:linux_raid_member".into(),
                    ]
                } else {
                    vec![]
                },
                error: None,
                ptuuid: None,
                names: Vec::new(),
            },
        );
    }
    app
}

fn text(t: &Terminal<TestBackend>) -> String {
    let b = t.backend().buffer();
    let w = b.area.width as usize;
    let mut out = String::new();
    for row in b.content.chunks(w) {
        let line: String = row.iter().map(ratatui::buffer::Cell::symbol).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Runs `script` through the event loop on a fake host whose state directory says
/// the boot left the disks alone, and returns the last screen. Every key but `t`
/// (status asks systemd and sshd) runs no command.
fn screen(script: &str, w: u16, h: u16, look: Look) -> String {
    screen_of(app(), script, w, h, look)
}

fn screen_of(mut a: App, script: &str, w: u16, h: u16, look: Look) -> String {
    let dir = tempfile::tempdir().unwrap();
    let host = FakeHost::new(dir.path());
    let state = dir.path().join("run/pre-nixos");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("storage-status"),
        "STATE=plan-only\nDETAIL=existing-storage\nVERSION=0.1.0\nUPDATED=2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    std::fs::write(
        state.join("network-status"),
        "LAN_IFACE=lan\nLAN_MAC=52:54:00:12:34:56\nLAN_IPV4=10.0.2.15\nSSH=ready\n",
    )
    .unwrap();
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    // The header comes from the state files, read on the first tick.
    let mut events = vec![Input::Tick];
    events.extend(keys(script));
    run_loop(&ctx, &mut t, &mut a, look, None, events).unwrap();
    if !script.contains('t') {
        assert_eq!(host.command_lines(), Vec::<String>::new(), "{script:?}");
    }
    text(&t)
}

const UNICODE: Look = Look {
    color: false,
    unicode: true,
};
const ASCII: Look = Look {
    color: false,
    unicode: false,
};

/// Compares `got` with `tests/golden/tui/<file>` (or writes it under UPDATE_GOLDEN=1);
/// the difference as a message when they differ.
fn golden(file: &str, got: &str) -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/tui");
    let path = dir.join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, got).unwrap();
        return None;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (UPDATE_GOLDEN=1 creates it)",
            path.display()
        )
    });
    (want != got).then(|| format!("{}:\n{got}", path.display()))
}

#[test]
fn every_screen_matches_its_golden_file() {
    let mut stale = Vec::new();
    // Screens: the tree on the RAID5 array expanded; a dirty disk's details; the swap
    // prompt; marking; the confirmation half done; help; the excluded devices; careful
    // mode planned again (the changes named); the status view. The progress screen is
    // the apply test's.
    let screens = [
        ("plan-array", "jjjjj\n"),
        ("plan-disk", "j"),
        ("swap", "s16"),
        ("wipe", "a \tj "),
        ("confirm", "a \tj \nWSD00000\n"),
        ("help", "?"),
        ("excluded", "jjjjjjjjjj\n"),
        ("careful", "m"),
        ("status", "t"),
    ];
    for (name, script) in screens {
        for (w, h) in [(80u16, 24u16), (132, 43)] {
            for (look, lname) in [(UNICODE, "utf8"), (ASCII, "ascii")] {
                if lname == "ascii" && (w, h) != (80, 24) {
                    continue;
                }
                let got = screen(script, w, h, look);
                if lname == "ascii" {
                    assert!(got.is_ascii(), "{name}: not ASCII:\n{got}");
                }
                stale.extend(golden(&format!("{name}-{w}x{h}-{lname}.txt"), &got));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "screens differ from the golden files (inspect, then UPDATE_GOLDEN=1):\n{}",
        stale.join("\n")
    );
}

/// Eleven disks that all hold data do not fit an 80×24 console: the marking list and
/// the confirmation scroll so that the disk at the cursor (or the one whose serial is
/// asked for) and the prompt stay on screen, with a row saying how much is out of view.
#[test]
fn long_disk_lists_scroll_with_the_cursor_on_a_serial_console() {
    let mut stale = Vec::new();
    let all = |_| true;
    // The cursor to the last disk, marked there: the list shows its end.
    let got = screen_of(
        app_for("mixed-three-sizes", all),
        "ajjjjjjjjjj ",
        80,
        24,
        UNICODE,
    );
    let marked: Vec<&str> = got.lines().filter(|l| l.contains("[x] ")).collect();
    assert_eq!(marked.len(), 1, "{got}");
    assert!(marked[0].contains("wipe: signatures"), "{got}");
    assert!(got.contains("more rows above"), "{got}");
    stale.extend(golden("wipe-many-80x24-utf8.txt", &got));
    // Every disk marked, the confirmation asks for the first serial: the prompt shows.
    let mark_all = format!("a{}\n", " j".repeat(11));
    let got = screen_of(
        app_for("mixed-three-sizes", all),
        &mark_all,
        80,
        24,
        UNICODE,
    );
    assert!(got.contains("Type the serial of "), "{got}");
    assert!(got.contains("> _"), "{got}");
    assert!(got.contains("more rows below"), "{got}");
    stale.extend(golden("confirm-many-80x24-utf8.txt", &got));
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn esc_on_the_confirmation_leaves_with_nothing_run() {
    let got = screen("a \tj \n\x1b", 80, 24, UNICODE);
    assert!(got.contains("nothing was done"), "{got}");
}

/// The whole way through the real loop on clean disks: `a`, the word `apply`, and
/// provision runs as `pre-nixos apply` runs it — the status file says applied, the
/// progress lines are on the screen as `[n/N] … done in x s`, and the verify result
/// ends it.
#[test]
fn apply_from_the_tui_is_the_apply_path_with_its_progress_on_screen() {
    use pre_nixos::testkit;
    let (m, host, plan) = testkit::applying_machine();
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let inv = Inventory {
        schema_version: 1,
        disks: vec![],
        excluded: vec![],
        nics: vec![],
        ram_bytes: plan.ram_bytes,
        machine: None,
    };
    let mut a = App::new(inv, plan.options.clone(), Ok(plan.clone()));
    let mut t = Terminal::new(TestBackend::new(132, 43)).unwrap();
    // Esc first: nothing may have run.
    run_loop(
        &ctx,
        &mut t,
        &mut a,
        UNICODE,
        Some(testkit::TEST_PATH),
        keys("a\x1b"),
    )
    .unwrap();
    assert_eq!(host.command_lines(), Vec::<String>::new());
    // Every disk clean: the confirmation lists them and asks for the word `apply`, at
    // both sizes.
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("a")).unwrap();
    let mut stale: Vec<String> = golden("confirm-clean-132x43-utf8.txt", &text(&t))
        .into_iter()
        .collect();
    t.backend_mut().resize(80, 24);
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Resize]).unwrap();
    stale.extend(golden("confirm-clean-80x24-utf8.txt", &text(&t)));
    t.backend_mut().resize(132, 43);
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Resize]).unwrap();
    assert_eq!(host.command_lines(), Vec::<String>::new());
    run_loop(
        &ctx,
        &mut t,
        &mut a,
        UNICODE,
        Some(testkit::TEST_PATH),
        keys("apply\n"),
    )
    .unwrap();
    let status = std::fs::read_to_string(m.path("/run/pre-nixos/storage-status")).unwrap();
    assert!(status.starts_with("STATE=applied\n"), "{status}");
    let outcome = a.outcome.clone().unwrap();
    assert!(outcome.starts_with("storage: applied/"), "{outcome}");
    assert!(
        outcome.ends_with("verify: the disks match the plan"),
        "{outcome}"
    );
    let steps: Vec<&str> = a.progress.iter().map(|p| p.text.as_str()).collect();
    assert!(
        steps
            .iter()
            .any(|s| s.contains("reading the disks back and comparing with the plan … done")),
        "{steps:?}"
    );
    let n = steps.iter().filter(|s| s.starts_with('[')).count();
    assert!(n >= 3, "{steps:?}");
    for s in steps.iter().filter(|s| s.starts_with('[')) {
        assert!(s.contains(&format!("/{n}] ")), "{s}");
        assert!(s.contains(" … done in ") && s.ends_with(" s"), "{s}");
    }
    let screen = text(&t);
    assert!(
        screen.contains("verify: the disks match the plan"),
        "{screen}"
    );
    // The progress screen, then the same after the terminal shrank to a console's size.
    stale.extend(golden("progress-132x43-utf8.txt", &screen));
    t.backend_mut().resize(80, 24);
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Resize]).unwrap();
    let small = text(&t);
    assert_eq!(small.lines().count(), 24);
    stale.extend(golden("progress-80x24-utf8.txt", &small));
    assert!(stale.is_empty(), "{}", stale.join("\n"));
    assert!(host.command_lines().iter().any(|c| c.starts_with("sgdisk")));
    // A second apply needs the disks read again.
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("\na")).unwrap();
    assert!(a.message[0].contains("applied already"), "{:?}", a.message);
}

/// `S` writes the plan shown (careful mode here) to the state directory, `L` reads it
/// back after the mode was switched away; a corrupt file is a message, not a crash.
#[test]
fn save_and_load_round_trip_the_plan_file() {
    let dir = tempfile::tempdir().unwrap();
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut a = app();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("mS")).unwrap();
    let file = dir.path().join("run/pre-nixos/storage-plan.json");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        saved,
        pre_nixos::render::json::plan_to_json(a.plan.as_ref().unwrap())
    );
    assert!(a.message[0].starts_with("saved the plan to /run/pre-nixos/storage-plan.json"));
    let careful = a.plan.clone().unwrap();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("m")).unwrap();
    assert_ne!(a.plan.as_ref().unwrap(), &careful);
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("L")).unwrap();
    assert_eq!(a.plan.as_ref().unwrap(), &careful);
    assert_eq!(a.options, careful.options);
    assert_eq!(
        a.plan_source,
        "loaded from /run/pre-nixos/storage-plan.json"
    );
    assert!(text(&t).contains("mode careful"));
    std::fs::write(&file, "{").unwrap();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("L")).unwrap();
    assert!(
        a.message[0]
            .starts_with("the plan file /run/pre-nixos/storage-plan.json is not a valid plan"),
        "{:?}",
        a.message
    );
    assert_eq!(a.plan.as_ref().unwrap(), &careful);
}

/// The header follows the state files on each tick, as a boot still running
/// rewrites them.
#[test]
fn a_tick_reads_the_state_files_again() {
    let dir = tempfile::tempdir().unwrap();
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let mut t = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut a = app();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Tick]).unwrap();
    assert!(text(&t)
        .starts_with("pre-nixos · lan: not up yet (no network-status)\nstorage: no status yet"));
    let state = dir.path().join("run/pre-nixos");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(
        state.join("network-status"),
        "LAN_IFACE=lan\nLAN_MAC=52:54:00:12:34:56\nSSH=no-authorized-key\n",
    )
    .unwrap();
    std::fs::write(
        state.join("storage-status"),
        "STATE=running\nVERSION=0.1.0\nUPDATED=2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Tick]).unwrap();
    // A status file that cannot be read is named, not taken for "nothing yet".
    assert!(
        text(&t).contains("\n/run/pre-nixos/storage-status"),
        "{}",
        text(&t)
    );
    std::fs::write(
        state.join("storage-status"),
        "STATE=running\nDETAIL=\nVERSION=0.1.0\nUPDATED=2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, [Input::Tick]).unwrap();
    assert!(
        text(&t).starts_with(
            "pre-nixos · lan 52:54:00:12:34:56 no address · sshd not started:\n  \
             no-authorized-key\nstorage: running ·"
        ),
        "{}",
        text(&t)
    );
}

/// `d` writes a diagnose bundle and shows what `pre-nixos diagnose` prints; a swap
/// size the planner cannot read is a message and no re-plan.
#[test]
fn diagnose_and_a_bad_swap_size() {
    let dir = tempfile::tempdir().unwrap();
    let host = FakeHost::new(dir.path());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let mut t = Terminal::new(TestBackend::new(132, 43)).unwrap();
    let mut a = app();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("d")).unwrap();
    let s = text(&t);
    assert!(s.contains("┌ diagnose"), "{s}");
    assert!(s.contains("/var/log/pre-nixos/diagnose/"), "{s}");
    assert!(dir.path().join("var/log/pre-nixos/diagnose").is_dir());
    let before = a.plan.clone();
    run_loop(&ctx, &mut t, &mut a, UNICODE, None, keys("\x1bs12X\n")).unwrap();
    assert!(
        a.message[0].starts_with("swap size \"12X\": "),
        "{:?}",
        a.message
    );
    assert_eq!(a.plan, before);
}
