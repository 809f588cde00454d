//! `pre-nixos tui`: the storage plan on a terminal — review it as a tree, adjust mode
//! and swap, mark the disks that hold data for wiping, confirm, apply.
//!
//! - [`model`]: the state and what each key does (pure; keystroke tests drive it);
//! - [`view`]: renders the state (pure; the snapshot goldens come from it);
//! - [`term`]: raw mode and its restoration on every way out;
//! - this file: the event loop, which carries out what the model asks through the
//!   host — re-plan, save, load, rescan, status, diagnose, apply.
//!
//! The apply is the one `pre-nixos apply` makes: [`Request::explicit`] into
//! [`provision`], with the progress lines sent to the screen instead of stderr. The
//! lock, the status file and the actions log are provision's, as for `apply`.
//! Events come from an iterator ([`Input`]): crossterm's in production, a script in
//! the tests.

pub mod model;
pub mod term;
pub mod view;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ratatui::backend::Backend;
use ratatui::Terminal;

use crate::context::Ctx;
use crate::inventory::Inventory;
use crate::kcmdline::WipeMethod;
use crate::plan::{Plan, PlanOptions};
use crate::state::status;
use crate::storage::env::{Env, Note};
use crate::storage::teardown::WipeMethods;
use crate::storage::{provision, Request};

use model::{Action, App, Consent, Key, Screen};
use view::Look;

/// One event for the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Key(Key),
    /// The terminal changed size: redraw.
    Resize,
    /// About a second passed: read the state files again.
    Tick,
}

/// Keys from a string, for scripts: `\n` is Enter, `\x1b` Esc, `\x7f` Backspace,
/// `\t` Tab.
pub fn keys(s: &str) -> Vec<Input> {
    s.chars()
        .map(|c| {
            Input::Key(match c {
                '\n' => Key::Enter,
                '\x1b' => Key::Esc,
                '\x7f' => Key::Backspace,
                '\t' => Key::Tab,
                c => Key::Char(c),
            })
        })
        .collect()
}

/// Reads the machine into a fresh [`App`]: inventory (this machine's, or a saved one,
/// which is then for review only), plan, detection, state files.
pub fn load(ctx: &Ctx, options: PlanOptions, saved: Option<Inventory>) -> anyhow::Result<App> {
    let review_only = saved.is_some();
    let inventory = match saved {
        Some(inv) => inv,
        None => crate::inventory::scan(ctx.host, &ctx.boot).context("reading the inventory")?,
    };
    let plan = crate::plan::plan(&inventory, &options).map_err(|e| e.to_string());
    let mut app = App::new(inventory, options, plan);
    if review_only {
        app.review_only = true;
        app.plan_source = "saved inventory".into();
    }
    detect(ctx, &mut app);
    refresh(ctx, &mut app);
    Ok(app)
}

/// What detection finds on the plan's disks now.
fn detect(ctx: &Ctx, app: &mut App) {
    app.detection.clear();
    detect_new(ctx, app);
}

/// Detection for the planned disks not examined yet (a re-plan may take a disk the
/// last plan left out; the others were read moments ago).
fn detect_new(ctx: &Ctx, app: &mut App) {
    let Ok(plan) = &app.plan else {
        return;
    };
    let new: Vec<_> = plan
        .layout
        .disks
        .iter()
        .filter(|d| !app.detection.contains_key(&d.stable_path))
        .cloned()
        .collect();
    if new.is_empty() {
        return;
    }
    match crate::storage::detect::detect(ctx.host, &new) {
        Ok(d) => {
            app.detection
                .extend(d.disks.into_iter().map(|r| (r.stable_path.clone(), r)));
        }
        Err(e) => app.message.push(format!("detection failed: {e:#}")),
    }
}

/// The header's state files, read again (a boot may still be running).
fn refresh(ctx: &Ctx, app: &mut App) {
    app.state_problems.clear();
    app.network = status::read_network(ctx.host, ctx.state_dir()).unwrap_or_else(|e| {
        app.state_problems.push(e.to_string());
        None
    });
    app.storage = status::read_storage(ctx.host, ctx.state_dir()).unwrap_or_else(|e| {
        app.state_problems.push(e.to_string());
        None
    });
}

/// `pre-nixos tui` on this process's terminal.
pub fn run(ctx: &Ctx, options: PlanOptions, saved: Option<Inventory>) -> anyhow::Result<()> {
    let mut app = load(ctx, options, saved)?;
    let look = term::look();
    let guard = term::Guard::enter().context("putting the terminal into raw mode")?;
    // Progress and warnings written to stderr would land in the middle of the screen:
    // while the TUI is up they go to a file in the state directory.
    let stderr = StderrToFile::open(ctx);
    let mut terminal = Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))
        .context("opening the terminal")?;
    let result = run_loop(
        ctx,
        &mut terminal,
        &mut app,
        look,
        None,
        CrosstermEvents::new(),
    );
    drop(stderr);
    drop(guard);
    result?;
    if term::stop_requested() {
        anyhow::bail!("stopped by a signal (SIGTERM, SIGINT or SIGHUP); the terminal was restored");
    }
    Ok(())
}

/// The loop: draw, take the next event, let the model handle it, carry out its
/// action. Ends on `q` or when the events end. `tools_path` is the `PATH` the apply
/// looks its tools up in (`None`: this process's, as for `apply`).
pub fn run_loop<B: Backend + Send>(
    ctx: &Ctx,
    terminal: &mut Terminal<B>,
    app: &mut App,
    look: Look,
    tools_path: Option<&str>,
    events: impl IntoIterator<Item = Input>,
) -> anyhow::Result<()> {
    let draw = |t: &mut Terminal<B>, a: &App| -> anyhow::Result<()> {
        t.draw(|f| view::render(a, look, f))
            .map(|_| ())
            .context("drawing the screen")
    };
    draw(terminal, app)?;
    for ev in events {
        match ev {
            Input::Tick => refresh(ctx, app),
            Input::Resize => {
                terminal.autoresize().context("resizing")?;
            }
            Input::Key(k) => match app.key(k) {
                Action::None => {}
                Action::Quit => return Ok(()),
                Action::Replan(o) => {
                    let plan = crate::plan::plan(&app.inventory, &o).map_err(|e| e.to_string());
                    let source = if app.review_only {
                        "saved inventory"
                    } else {
                        "planned here"
                    };
                    app.set_plan(o, plan, source);
                    detect_new(ctx, app);
                }
                Action::Save => save(ctx, app),
                Action::Load => load_plan(ctx, app),
                Action::Rescan => match load(
                    ctx,
                    app.options.clone(),
                    app.review_only.then(|| app.inventory.clone()),
                ) {
                    Ok(fresh) => {
                        *app = fresh;
                        app.message = vec!["read the disks again".into()];
                    }
                    Err(e) => app.message = vec![format!("{e:#}")],
                },
                Action::Status => status_view(ctx, app),
                Action::Diagnose => diagnose_view(ctx, app),
                Action::Apply(consent) => apply(ctx, terminal, app, look, tools_path, consent),
            },
        }
        draw(terminal, app)?;
    }
    Ok(())
}

fn save(ctx: &Ctx, app: &mut App) {
    let Ok(plan) = &app.plan else {
        app.message = vec!["there is no plan to save".into()];
        return;
    };
    let p = ctx.state_file(status::STORAGE_PLAN);
    app.message = vec![match ctx.host.write_atomic(
        &p,
        crate::render::json::plan_to_json(plan).as_bytes(),
        0o644,
    ) {
        Ok(()) => format!("saved the plan to {}", p.display()),
        Err(e) => format!("saving the plan to {}: {e}", p.display()),
    }];
}

fn load_plan(ctx: &Ctx, app: &mut App) {
    let p = ctx.state_file(status::STORAGE_PLAN);
    match read_plan(ctx, &p) {
        Ok(plan) => {
            let opts = plan.options.clone();
            app.set_plan(opts, Ok(plan), &format!("loaded from {}", p.display()));
            detect(ctx, app);
        }
        Err(e) => app.message = vec![format!("{e:#}")],
    }
}

/// A saved plan, checked as `apply --plan` checks one: it parses, has this schema
/// version, and is a plan the planner could have made.
fn read_plan(ctx: &Ctx, p: &Path) -> anyhow::Result<Plan> {
    let text = ctx
        .host
        .read_to_string(p)
        .with_context(|| format!("reading the plan file {}", p.display()))?;
    let plan = crate::render::json::plan_from_json(&text)
        .map_err(|e| anyhow::anyhow!("the plan file {} is not a valid plan: {e}", p.display()))?;
    if plan.schema_version != crate::plan::PLAN_SCHEMA_VERSION {
        anyhow::bail!(
            "the plan file {}: schema_version {} is not the supported {}",
            p.display(),
            plan.schema_version,
            crate::plan::PLAN_SCHEMA_VERSION
        );
    }
    let problems = crate::plan::validate::problems(&plan);
    if !problems.is_empty() {
        anyhow::bail!(
            "the plan file {} is not a plan pre-nixos makes: {}",
            p.display(),
            problems.join("; ")
        );
    }
    // A loaded plan may come from another machine: it goes through the same
    // never-a-target rules as `apply --plan` before the operator can apply it.
    crate::storage::targets::refuse_never_targets(ctx, &plan, &plan.options)?;
    Ok(plan)
}

fn text_screen(app: &mut App, title: &str, bytes: &[u8]) {
    app.screen = Screen::Text {
        title: title.into(),
        lines: String::from_utf8_lossy(bytes)
            .lines()
            .map(str::to_owned)
            .collect(),
        scroll: 0,
    };
}

fn status_view(ctx: &Ctx, app: &mut App) {
    let report = crate::debug::status::gather_with(ctx, crate::debug::status::ReadBack::Disks);
    let mut out = Vec::new();
    let _ = crate::debug::status::write_human_width(&report, 78, &mut out);
    text_screen(app, "status", &out);
}

fn diagnose_view(ctx: &Ctx, app: &mut App) {
    let self_exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pre-nixos".to_owned());
    let opts = crate::debug::diagnose::Options {
        out: crate::debug::diagnose::DEFAULT_OUT.into(),
        self_exe,
        name: None,
    };
    let mut out = Vec::new();
    match crate::debug::diagnose::collect(ctx, &opts) {
        Ok(b) => {
            let _ = crate::debug::diagnose::write_outcome_width(ctx.host, &b, 78, &mut out);
        }
        Err(e) => out = format!("diagnose: {e:#}").into_bytes(),
    }
    text_screen(app, "diagnose", &out);
}

/// The apply, as `pre-nixos apply` runs it, with the progress drawn as it comes.
fn apply<B: Backend + Send>(
    ctx: &Ctx,
    terminal: &mut Terminal<B>,
    app: &mut App,
    look: Look,
    tools_path: Option<&str>,
    consent: Consent,
) {
    let Ok(plan) = app.plan.clone() else {
        return;
    };
    let request = Request::explicit(
        &plan,
        crate::storage::exec::ExecutorKind::default(),
        consent.wipe,
        WipeMethods {
            default: WipeMethod::Signatures,
            per_disk: consent.methods,
        },
        &ctx.boot,
    );
    let screen = std::sync::Mutex::new((&mut *terminal, &mut *app));
    let sink = |n: Note| {
        let mut s = screen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (t, a) = &mut *s;
        match n {
            Note::Begin(l) | Note::Say(l) => a.progress_line(l.to_owned()),
            Note::End(l) => {
                a.progress.pop();
                a.progress_line(l.to_owned());
            }
        }
        let _ = t.draw(|f| view::render(a, look, f));
    };
    let mut env = Env::new(ctx.host)
        .with_jobs(crate::storage::env::default_jobs())
        .with_sink(&sink);
    if let Some(p) = tools_path {
        env = env.with_path(p);
    }
    let outcome = provision(ctx, &env, &request);
    drop(env);
    let (_, app) = screen
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    app.outcome = Some(match outcome {
        Ok(o) => {
            app.applied_once = o.status.state == status::State::Applied;
            let verify = if o.status.state == status::State::Applied {
                "; verify: the disks match the plan"
            } else {
                ""
            };
            format!(
                "storage: {}/{}{}{verify}",
                o.status.state,
                o.status.detail,
                o.status
                    .error
                    .as_deref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )
        }
        Err(e) => format!("apply: error: {e:#}"),
    });
    refresh(ctx, app);
    detect(ctx, app);
}

/// crossterm's events as [`Input`]s, with a [`Input::Tick`] every second, ending when a
/// stop was requested (SIGTERM, SIGHUP).
struct CrosstermEvents {
    last_tick: Instant,
}

impl CrosstermEvents {
    fn new() -> Self {
        CrosstermEvents {
            last_tick: Instant::now(),
        }
    }
}

const TICK: Duration = Duration::from_secs(1);

impl Iterator for CrosstermEvents {
    type Item = Input;

    fn next(&mut self) -> Option<Input> {
        use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
        loop {
            if term::stop_requested() {
                return None;
            }
            if self.last_tick.elapsed() >= TICK {
                self.last_tick = Instant::now();
                return Some(Input::Tick);
            }
            // A short poll, so a signal's flag is seen quickly.
            match event::poll(Duration::from_millis(200)) {
                Ok(false) => continue,
                Err(_) => return None,
                Ok(true) => {}
            }
            // "Readable" may be the end of the terminal: read would never return.
            if term::terminal_gone() {
                return None;
            }
            let ev = match event::read() {
                Ok(e) => e,
                Err(_) => return None,
            };
            let k = match ev {
                Event::Resize(..) => return Some(Input::Resize),
                Event::Key(k) if k.kind != KeyEventKind::Release => k,
                _ => continue,
            };
            if k.modifiers.contains(KeyModifiers::CONTROL)
                && matches!(k.code, KeyCode::Char('c') | KeyCode::Char('d'))
            {
                return Some(Input::Key(Key::Char('q')));
            }
            let key = match k.code {
                KeyCode::Char(c) => Key::Char(c),
                KeyCode::Up => Key::Up,
                KeyCode::Down => Key::Down,
                KeyCode::Left => Key::Left,
                KeyCode::Right => Key::Right,
                KeyCode::Enter => Key::Enter,
                KeyCode::Esc => Key::Esc,
                KeyCode::Backspace => Key::Backspace,
                KeyCode::Tab => Key::Tab,
                _ => continue,
            };
            return Some(Input::Key(key));
        }
    }
}

/// fd 2 pointed at `<state dir>/tui.log` while it lives, then back.
struct StderrToFile {
    saved: Option<std::os::fd::OwnedFd>,
}

impl StderrToFile {
    fn open(ctx: &Ctx) -> StderrToFile {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        // Before any boot wrote there (a TUI started by hand), the directory may be
        // missing; the apply would make it anyway.
        let _ = ctx.host.create_dir_all(ctx.state_dir(), 0o755);
        let path = ctx.host.path(&ctx.state_file("tui.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        let Ok(file) = file else {
            return StderrToFile { saved: None };
        };
        // SAFETY: dup and dup2 on descriptors this process owns.
        unsafe {
            let saved = libc::dup(2);
            if saved < 0 || libc::dup2(file.as_raw_fd(), 2) < 0 {
                return StderrToFile { saved: None };
            }
            StderrToFile {
                saved: Some(OwnedFd::from_raw_fd(saved)),
            }
        }
    }
}

impl Drop for StderrToFile {
    fn drop(&mut self) {
        use std::os::fd::AsRawFd;
        if let Some(s) = &self.saved {
            // SAFETY: restores fd 2 from the descriptor saved above.
            unsafe {
                libc::dup2(s.as_raw_fd(), 2);
            }
        }
    }
}
