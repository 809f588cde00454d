//! What every executor and the teardown share, below all of them: the [`Env`] a step
//! runs in (host, tool `PATH`, deadlines, progress lines), [`StepError`] (the step that
//! failed and why), named waits with deadlines, the tool check and the identity guard.
//! Nothing here decides what to write.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::anyhow;

use crate::host::{Cmd, FileLock, Host, LockKind};
use crate::plan::PlannedDisk;
use crate::storage::blockdev::{self, Identity};

/// How long udev gets to settle before verify reads the disks back.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an expected device node may take to appear.
pub const NODE_DEADLINE: Duration = Duration::from_secs(60);
/// Used when `PATH` is not set (a bare systemd unit has a PATH; a chroot may not).
pub const DEFAULT_PATH: &str =
    "/run/current-system/sw/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// A failed step: its name (`DETAIL=`) and the error (`ERROR=`).
#[derive(Debug)]
pub struct StepError {
    pub step: String,
    pub error: anyhow::Error,
}

impl StepError {
    pub fn new(step: impl Into<String>, error: anyhow::Error) -> Self {
        StepError {
            step: step.into(),
            error,
        }
    }
}

/// A line for the person watching: a step that starts (`[2/9] partitioning … `), the
/// same step finished (`… done in 0.4 s`), or a message (`storage: …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note<'s> {
    Begin(&'s str),
    End(&'s str),
    Say(&'s str),
}

/// How a step's progress line is shown.
#[derive(Clone, Copy)]
pub enum Shown<'g> {
    /// The head before the step runs, the result after it, on one line.
    Live,
    /// Ran side by side with others ([`Env::run_group`]): its number comes from its
    /// place in the group, not from when a worker got to it, and its one whole line goes
    /// to `lines`, which prints the group's lines in the group's order. Printed as they
    /// finish, the numbers would come out of order (`[2/9]` before `[1/9]`) and the
    /// screen would differ from run to run.
    InGroup { slot: usize, lines: &'g GroupLines },
}

/// The lines of a group's steps, held until every earlier step of the group printed.
pub struct GroupLines {
    /// The step number before the group's first (its slot 0 is step `base + 1`).
    base: usize,
    /// The next slot to print, and the lines waiting for it.
    state: std::sync::Mutex<(usize, Vec<Option<String>>)>,
}

impl GroupLines {
    fn new(base: usize, len: usize) -> Self {
        GroupLines {
            base,
            state: std::sync::Mutex::new((0, vec![None; len])),
        }
    }

    /// Stores slot `i`'s line and prints every line now next in order; the lock is held
    /// while printing, so two workers never print in between each other.
    fn put(&self, env: &Env, i: usize, line: String) {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (next, lines) = &mut *st;
        lines[i] = Some(line);
        while let Some(l) = lines.get_mut(*next).and_then(Option::take) {
            env.say(&l);
            *next += 1;
        }
    }

    /// After the group: the lines behind a step that never started (a failure stopped
    /// the group), still in order.
    fn flush(&self, env: &Env) {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for l in st.1.iter_mut().filter_map(Option::take) {
            env.say(&l);
        }
    }
}

/// Everything an executor needs besides the plan.
pub struct Env<'a> {
    pub host: &'a dyn Host,
    /// `PATH` to look tools up in (resolved under the host root).
    pub path_var: String,
    pub settle_timeout: Duration,
    pub node_deadline: Duration,
    /// How many independent steps may run side by side ([`Env::run_group`]); 1 runs
    /// every step in turn.
    pub jobs: usize,
    progress: Progress,
    /// Where progress goes instead of stderr (the TUI draws it on its own screen).
    sink: Option<&'a (dyn Fn(Note) + Sync)>,
}

/// One worker per core: the commands that run side by side (mkfs, sgdisk) are CPU and
/// I/O bound, and more of them than cores only interleave.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl<'a> Env<'a> {
    pub fn new(host: &'a dyn Host) -> Self {
        Env {
            host,
            path_var: std::env::var("PATH")
                .ok()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PATH.to_owned()),
            settle_timeout: SETTLE_TIMEOUT,
            node_deadline: NODE_DEADLINE,
            jobs: 1,
            progress: Progress::default(),
            sink: None,
        }
    }

    /// Sends the progress lines to `sink` rather than to stderr.
    pub fn with_sink(mut self, sink: &'a (dyn Fn(Note) + Sync)) -> Self {
        self.sink = Some(sink);
        self
    }

    /// A line for the person at the terminal (progress and outcomes), not a log record.
    pub fn say(&self, line: &str) {
        match self.sink {
            Some(f) => f(Note::Say(line)),
            None => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }

    /// Lets up to `jobs` independent steps run side by side (0 counts as 1).
    pub fn with_jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    pub fn with_path(mut self, path: &str) -> Self {
        self.path_var = path.to_owned();
        self
    }

    /// Sets how many steps the progress lines count to.
    pub fn begin(&self, total: usize) {
        self.progress.total.store(total, Ordering::SeqCst);
        self.progress.done.store(0, Ordering::SeqCst);
    }

    /// Runs one named step, printing `[3/11] what … done in 1.2 s` (or `failed`).
    pub fn step(
        &self,
        key: &str,
        what: &str,
        f: impl FnOnce() -> anyhow::Result<()>,
    ) -> Result<(), StepError> {
        self.step_shown(key, what, Shown::Live, f)
    }

    /// [`Env::step`], shown as `shown` says. Steps that run side by side print one whole
    /// line each at their end, or their halves would interleave.
    pub fn step_shown(
        &self,
        key: &str,
        what: &str,
        shown: Shown,
        f: impl FnOnce() -> anyhow::Result<()>,
    ) -> Result<(), StepError> {
        crate::host::interrupt::note_step(key);
        let live = matches!(shown, Shown::Live);
        let n = match shown {
            Shown::Live => self.progress.done.fetch_add(1, Ordering::SeqCst) + 1,
            Shown::InGroup { slot, lines } => lines.base + slot + 1,
        };
        let total = self.progress.total.load(Ordering::SeqCst).max(n);
        let head = format!("[{n}/{total}] {what}");
        let mut err = std::io::stderr();
        if live {
            match self.sink {
                Some(f) => f(Note::Begin(&format!("{head} …"))),
                None => {
                    let _ = write!(err, "{head} … ");
                    let _ = err.flush();
                }
            }
        }
        let start = self.host.now();
        let result = f();
        let secs = self
            .host
            .now()
            .saturating_duration_since(start)
            .as_secs_f64();
        match &result {
            Ok(()) => {
                let tail = format!("done in {secs:.1} s");
                self.end_line(&head, &tail, shown);
                tracing::info!(
                    step = key,
                    n,
                    total,
                    duration_ms = (secs * 1000.0) as u64,
                    "{what}: done"
                );
            }
            Err(e) => {
                let tail = format!("failed after {secs:.1} s");
                self.end_line(&head, &tail, shown);
                tracing::error!(step = key, n, total, error = %format!("{e:#}"), "{what}: failed");
            }
        }
        result.map_err(|e| StepError::new(key, e))
    }

    /// The end of a step's line: the rest of a live line, or the whole line of a step
    /// that ran side by side with others (it printed no head, see [`Env::step_shown`]).
    fn end_line(&self, head: &str, tail: &str, shown: Shown) {
        let line = format!("{head} … {tail}");
        match (self.sink, shown) {
            (_, Shown::InGroup { slot, lines, .. }) => lines.put(self, slot, line),
            (Some(f), Shown::Live) => f(Note::End(&line)),
            (None, Shown::Live) => {
                let _ = writeln!(std::io::stderr(), "{tail}");
            }
        }
    }

    /// Runs a command (failure names the command and its stderr tail).
    pub fn run(&self, cmd: &Cmd) -> anyhow::Result<String> {
        Ok(self.host.run(cmd)?.stdout)
    }

    /// `udevadm settle` with its own timeout, so queued events are processed.
    pub fn settle(&self) -> anyhow::Result<()> {
        self.run(&Cmd::udev_settle(
            "waiting for udev to settle",
            self.settle_timeout,
        ))
        .map(|_| ())
    }

    /// Runs `f` on every item, up to [`Env::jobs`] at a time: for steps that have no
    /// order between them (each on its own disk or device). A dry run, or `jobs` 1, runs
    /// them in turn, so the recorded plan keeps its order. `f` gets how to show its
    /// step: [`Shown::Live`] when it runs alone, else its number and place in the group.
    ///
    /// After a failure no further item starts; those running finish (a half-made
    /// filesystem is worse than a finished one on a disk that is being given up), and
    /// the error returned is the first in the items' order. A panic in a worker is
    /// raised again here with its own message, for the caller's catch to record.
    pub fn run_group<T: Sync>(
        &self,
        items: &[T],
        f: impl Fn(&T, Shown) -> Result<(), StepError> + Sync,
    ) -> Result<(), StepError> {
        let workers = self.jobs.min(items.len());
        if workers <= 1 || !self.host.changes_are_real() {
            return items.iter().try_for_each(|i| f(i, Shown::Live));
        }
        // The group's numbers are taken up front, in the items' order.
        let base = self.progress.done.fetch_add(items.len(), Ordering::SeqCst);
        let lines = GroupLines::new(base, items.len());
        let next = AtomicUsize::new(0);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let results: Vec<std::sync::Mutex<Option<Result<(), StepError>>>> =
            items.iter().map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    s.spawn(|| loop {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(i) else { return };
                        let r = f(
                            item,
                            Shown::InGroup {
                                slot: i,
                                lines: &lines,
                            },
                        );
                        if r.is_err() {
                            stop.store(true, Ordering::SeqCst);
                        }
                        *results[i]
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                    })
                })
                .collect();
            // Joined here, not by the scope, so a worker's panic keeps its message.
            let mut panic = None;
            for h in handles {
                if let Err(p) = h.join() {
                    panic.get_or_insert(p);
                }
            }
            lines.flush(self);
            if let Some(p) = panic {
                std::panic::resume_unwind(p);
            }
        });
        for r in results {
            if let Some(Err(e)) = r
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
            {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Waits for a device node udev makes, with a deadline; a bounded poll.
    pub fn wait_for(&self, node: &str) -> anyhow::Result<()> {
        wait_for_node(self.host, node, self.node_deadline)
    }

    /// Waits, with the same deadline, until udev's `link` leads to `device`.
    pub fn wait_for_link(&self, link: &str, device: &str) -> anyhow::Result<()> {
        wait_for_link(self.host, link, device, self.node_deadline)
    }
}

#[derive(Default)]
struct Progress {
    total: AtomicUsize,
    done: AtomicUsize,
}

/// Polls until `present` holds for `node`, or `deadline`; `false` at the deadline.
fn wait_until(
    host: &dyn Host,
    node: &str,
    deadline: Duration,
    present: impl Fn(&dyn Host) -> bool,
) -> bool {
    // A stat per look: short enough that the wait ends within a few ms of udev making
    // the link (the steps' commands take 10 ms to a few s).
    let every = Duration::from_millis(10);
    let r = crate::inventory::ready::wait_from(host, host.now(), deadline, every, |h| {
        Ok(if present(h) {
            Vec::new()
        } else {
            vec![node.to_owned()]
        })
    });
    if r.pending.is_empty() {
        // Info, so the actions log holds every wait's length (the VM suite's figures
        // add them up).
        tracing::info!(
            device = node,
            waited_ms = r.waited.as_millis() as u64,
            "node present"
        );
    }
    r.pending.is_empty()
}

/// Polls for `node` until `deadline`; the error names the node and the wait.
pub fn wait_for_node(host: &dyn Host, node: &str, deadline: Duration) -> anyhow::Result<()> {
    if wait_until(host, node, deadline, |h| h.exists(Path::new(node))) {
        return Ok(());
    }
    Err(anyhow!(
        "waiting for {node}: it did not appear within {} s (udev did not create it; \
         check `udevadm monitor` and that the udev rules for md/LVM are installed)",
        deadline.as_secs()
    ))
}

/// Polls until `link` leads to the kernel node `device` (udev made it for our
/// partition), or `deadline`; the error says where the link led instead.
pub fn wait_for_link(
    host: &dyn Host,
    link: &str,
    device: &str,
    deadline: Duration,
) -> anyhow::Result<()> {
    let want = device.rsplit('/').next().unwrap_or(device);
    let leads = |h: &dyn Host| blockdev::resolve_kname(h, link).ok().flatten();
    // A dry run made no partition, so no link of its own to wait for: as with the
    // nodes the dry-run host counts as present, the wait passes at once.
    if wait_until(host, link, deadline, |h| {
        !h.changes_are_real() || leads(h).as_deref() == Some(want)
    }) {
        return Ok(());
    }
    let seen = match leads(host) {
        Some(k) => format!(
            "it leads to /dev/{k}, not {device}: a device outside the plan carries the same \
             partition name (remove it or its name, then run again)"
        ),
        None => "udev did not create it; check `udevadm monitor`".to_owned(),
    };
    Err(anyhow!(
        "waiting for {link} to lead to {device}: after {} s {seen}",
        deadline.as_secs()
    ))
}

/// Finds a program on `path_var`, looking through the host root.
pub fn find_tool(host: &dyn Host, path_var: &str, tool: &str) -> Option<PathBuf> {
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(tool))
        .find(|p| host.exists(p))
}

/// Every external program pre-nixos runs and the packages it comes from: the one list
/// that the package's wrapper PATH, the VM guest image and this check share.
const RUNTIME_TOOLS: &str = include_str!("../../share/runtime-tools.tsv");

/// `(nixpkgs attribute, Debian package)` of a program of [`RUNTIME_TOOLS`].
pub fn package_of(tool: &str) -> Option<(&'static str, &'static str)> {
    RUNTIME_TOOLS
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?, f.next()?, f.next()?))
        })
        .find(|(program, _, _)| *program == tool)
        .map(|(_, nix, deb)| (nix, deb))
}

/// Where to get a missing program, for the operator: `mdadm (nixpkgs mdadm, Debian mdadm)`.
fn where_from(tool: &str) -> String {
    match package_of(tool) {
        Some((nix, "-")) => format!("{tool} (nixpkgs {nix}; no Debian package)"),
        Some((nix, deb)) => format!("{tool} (nixpkgs {nix}, Debian {deb})"),
        None => tool.to_owned(),
    }
}

/// Every tool must be there before the first disk is touched.
pub fn check_tools(env: &Env, tools: &[&str]) -> anyhow::Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| find_tool(env.host, &env.path_var, t).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let from: Vec<String> = missing.iter().map(|t| where_from(t)).collect();
    Err(anyhow!(
        "checking tools: {} not found on PATH ({}); install {} — no disk was touched",
        missing.join(", "),
        env.path_var,
        from.join(", ")
    ))
}

/// The identity guard as every write step calls it. On a real host this is
/// [`check_identity`]: a failure stops the step before its write. In a dry run nothing
/// is written, and a plan made on another machine fails here by design; the dry run's
/// caller lists every failing check itself ([`crate::storage::identity_failures`]), so
/// the flow goes on and shows every command the plan would run.
pub fn guard_identity(host: &dyn Host, d: &PlannedDisk) -> anyhow::Result<()> {
    match check_identity(host, d) {
        Ok(_) => Ok(()),
        // Only the dry-run host answers false: no command below this one is real.
        Err(e) if !host.changes_are_real() => {
            tracing::debug!(device = %d.stable_path, error = %format!("{e:#}"), "dry run: identity check fails here; going on with the plan's names");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The kernel name behind a planned disk's stable path now. In a dry run, a disk this
/// machine does not have (a plan made elsewhere) goes on under the plan's own name so
/// the commands can be shown; on a real host a missing disk is `None`.
pub fn kname_of(host: &dyn Host, d: &PlannedDisk) -> anyhow::Result<Option<String>> {
    let k = super::blockdev::resolve_kname(host, &d.stable_path)?;
    Ok(k.or_else(|| (!host.changes_are_real()).then(|| d.name.clone())))
}

/// The identity guard: re-reads the disk behind the plan's stable path and compares
/// serial and size with the plan. Logs the identity before anything touches it.
pub fn check_identity(host: &dyn Host, d: &PlannedDisk) -> anyhow::Result<Identity> {
    let id = blockdev::read_identity(host, &d.stable_path)?.ok_or_else(|| {
        anyhow!(
            "checking the identity of {}: the disk is not present (vanished since planning, or the \
             plan was made on another machine); refusing to write",
            d.stable_path
        )
    })?;
    let mut problems = Vec::new();
    if id.size_bytes != d.size_bytes {
        problems.push(format!(
            "size {} ({} bytes) where the plan has {} ({} bytes)",
            crate::units::human_bytes(id.size_bytes),
            id.size_bytes,
            crate::units::human_bytes(d.size_bytes),
            d.size_bytes
        ));
    }
    if let Some(s) = &d.serial {
        if !id.serials.iter().any(|f| f == s) {
            problems.push(format!(
                "serial {} where the plan has {s}",
                id.serials.first().map(String::as_str).unwrap_or("none")
            ));
        }
    }
    // Without a serial, the WWN and the model the plan recorded stand in for it: the
    // stable path of such a disk is often a slot (`by-path`), which a swapped disk of
    // the same size would pass.
    let differs = |planned: &Option<String>, found: &Option<String>| {
        planned
            .as_deref()
            .is_some_and(|p| found.as_deref().map(str::trim) != Some(p.trim()))
    };
    if d.serial.is_none() {
        if differs(&d.wwn, &id.wwn) {
            problems.push(format!(
                "WWN {} where the plan has {}",
                id.wwn.as_deref().unwrap_or("none"),
                d.wwn.as_deref().unwrap_or_default()
            ));
        }
        if differs(&d.model, &id.model) {
            problems.push(format!(
                "model {} where the plan has {}",
                id.model.as_deref().unwrap_or("none"),
                d.model.as_deref().unwrap_or_default()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(anyhow!(
            "checking the identity of {}: found {}; refusing to write (was the plan made on \
             another machine, or was a disk swapped?)",
            id.describe(),
            problems.join(" and ")
        ));
    }
    tracing::info!(
        device = %id.stable_path,
        kname = %id.kname,
        serial = id.serials.first().map(String::as_str).unwrap_or(""),
        size = id.size_bytes,
        model = id.model.as_deref().unwrap_or(""),
        "disk identity confirmed"
    );
    Ok(id)
}

/// Holds a BSD lock on each whole-disk node while a pass runs: systemd-udevd (≥ 250)
/// defers its events for a disk someone holds locked, so its incremental md assembly
/// cannot bring a just-stopped array back before the members' superblocks are
/// zeroed. Our own tools do not take the lock, so they are not held up. Best effort:
/// a disk that cannot be opened is logged and left unlocked (the re-check still
/// catches anything that comes back). Explicit `close`, best-effort `Drop`.
pub struct DiskLocks {
    locks: Vec<(String, FileLock)>,
}

impl DiskLocks {
    pub fn take(host: &dyn Host, knames: &[String]) -> DiskLocks {
        let mut locks = Vec::new();
        for k in knames {
            let dev = Path::new("/dev").join(k);
            match host.lock(&dev, LockKind::Device) {
                Ok(l) => locks.push((k.clone(), l)),
                Err(e) => {
                    tracing::warn!(device = %dev.display(), error = %e, "locking the disk against udev");
                }
            }
        }
        DiskLocks { locks }
    }

    /// Releases the locks; udev then processes what it deferred. The first error wins.
    pub fn close(self) -> std::io::Result<()> {
        let mut first = Ok(());
        for (k, l) in self.locks {
            if let Err(e) = l.close() {
                tracing::warn!(device = %k, error = %e, "unlocking the disk");
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    #[test]
    fn a_missing_tool_is_named_with_the_packages_it_comes_from() {
        let dir = tempfile::tempdir().unwrap();
        let host = FakeHost::new(dir.path());
        let env = Env::new(&host).with_path("/nowhere");
        let e = check_tools(&env, &["sgdisk", "disko"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("checking tools: sgdisk, disko not found on PATH (/nowhere)"),
            "{e}"
        );
        assert!(
            e.contains("install sgdisk (nixpkgs gptfdisk, Debian gdisk), disko (nixpkgs disko; no Debian package)"),
            "{e}"
        );
        assert!(e.ends_with("no disk was touched"), "{e}");
    }

    /// Steps that run side by side finish in any order; their lines still come out
    /// numbered and printed in the group's order. Here the first step finishes last.
    #[test]
    fn a_group_prints_its_lines_in_its_own_order_whoever_finishes_first() {
        let dir = tempfile::tempdir().unwrap();
        let host = FakeHost::new(dir.path());
        let seen = std::sync::Mutex::new(Vec::<String>::new());
        let sink = |n: Note| {
            let (Note::Say(l) | Note::End(l) | Note::Begin(l)) = n;
            seen.lock().unwrap().push(l.to_owned());
        };
        let env = Env::new(&host).with_sink(&sink).with_jobs(3);
        env.begin(4);
        let finished = AtomicUsize::new(0);
        env.run_group(&[0, 1, 2], |i, shown| {
            env.step_shown("mkfs", &format!("step {i}"), shown, || {
                if *i == 0 {
                    // Bounded: the test fails on the order, not by hanging, if the
                    // other two never ran beside this one.
                    let start = std::time::Instant::now();
                    while finished.load(Ordering::SeqCst) < 2
                        && start.elapsed() < Duration::from_secs(20)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
                finished.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
        })
        .unwrap();
        env.step("verify", "step 3", || Ok(())).unwrap();
        let seen = seen.into_inner().unwrap();
        let heads: Vec<&str> = seen.iter().map(|l| &l[..l.find(" …").unwrap()]).collect();
        assert_eq!(
            heads,
            [
                "[1/4] step 0",
                "[2/4] step 1",
                "[3/4] step 2",
                "[4/4] step 3",
                "[4/4] step 3"
            ],
            "{seen:?}"
        );
        assert_eq!(finished.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn every_listed_program_has_its_packages() {
        for tool in ["mdadm", "mkfs.vfat", "udevadm", "ethtool", "tar"] {
            assert!(package_of(tool).is_some(), "{tool}");
        }
        assert_eq!(package_of("mount"), Some(("util-linux", "mount")));
        assert_eq!(package_of("no-such-tool"), None);
    }
}
