//! `pre-nixos diagnose`: every piece of evidence in one bundle — a timestamped
//! directory and a `.tar.gz` next to it — and a one-line verdict on screen.
//!
//! What the predecessor's operators collected by hand, session after session
//! (`systemctl list-jobs`, `systemctl status`, the unit's journal, the status files,
//! the plan, `detect-storage`), plus the storage and network views (lsblk, mdadm,
//! LVM, ip, networkctl, sshd -T, the kernel log). Each item is one command or one
//! file; every command runs through [`Host::run`] with a timeout, so a hung `lvs`
//! costs its timeout and no more. A missing tool, a failed or timed-out command or
//! a missing file is recorded in `index.json` / `INDEX.txt` (item, command, exit,
//! duration, error) and never stops the collection. The tool's own views (inventory,
//! detection, plan, status) come from running this binary's subcommands as child
//! processes, so a bug or hang in one of them is bounded and recorded like any other.
//!
//! The bundle is written under the host root like every other target-system path;
//! the default is `/var/log/pre-nixos/diagnose/`. Files are 0600 and the directory
//! 0700: the journal and sshd's configuration are not for everyone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::cli::DiagnoseArgs;
use crate::context::Ctx;
use crate::host::{Cmd, CmdError, CmdOutput, Host};
use crate::report;
use crate::status;

/// Where bundles go unless `--out` says otherwise (a target-system path).
pub const DEFAULT_OUT: &str = "/var/log/pre-nixos/diagnose";

/// Where `logging` appends its JSON lines.
pub const ACTIONS_LOG: &str = "/var/log/pre-nixos/actions.log";

/// Where the actions log is: `PRE_NIXOS_ACTIONS_LOG` (the logging override), else
/// [`ACTIONS_LOG`].
pub fn actions_log_path() -> PathBuf {
    std::env::var_os("PRE_NIXOS_ACTIONS_LOG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(ACTIONS_LOG))
}

/// Lines of `actions.log` kept (the end of it).
pub const ACTIONS_LOG_LINES: usize = 5000;

/// Kernel messages kept.
pub const KERNEL_LINES: usize = 200;

/// One system command (lsblk, mdadm, LVM, ip, systemctl…).
pub const SYSTEM_TIMEOUT: Duration = Duration::from_secs(10);
/// journalctl over a whole boot can be slow on a busy machine.
pub const JOURNAL_TIMEOUT: Duration = Duration::from_secs(30);
/// This binary's own subcommands (inventory probes every disk).
pub const SELF_TIMEOUT: Duration = Duration::from_secs(60);
/// Packing the bundle.
pub const TAR_TIMEOUT: Duration = Duration::from_secs(60);

/// Bumped whenever the JSON shape of `index.json` changes incompatibly.
pub const INDEX_SCHEMA_VERSION: u32 = 1;

/// How collecting one item went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    /// Ran and exited with a status that is not success for it.
    Failed,
    TimedOut,
    /// The program is not installed.
    NotFound,
    /// The file does not exist.
    Missing,
    /// Anything else (unreadable file, spawn error, write error).
    Error,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed-out",
            Outcome::NotFound => "not-found",
            Outcome::Missing => "missing",
            Outcome::Error => "error",
        }
    }
}

/// One line of the bundle's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Stable name of the item (`lsblk`, `journal`, `network-file`).
    pub item: String,
    /// File in the bundle, relative to its directory; `None` when nothing was written.
    pub file: Option<String>,
    /// The command line, or the path read.
    pub source: String,
    pub outcome: Outcome,
    /// Exit status of a command that ran to the end.
    pub exit: Option<i32>,
    pub duration_ms: u64,
    pub error: Option<String>,
}

/// `index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub schema_version: u32,
    pub version: String,
    /// UTC, RFC 3339.
    pub created: String,
    pub verdict: String,
    pub entries: Vec<IndexEntry>,
}

/// What [`collect`] made.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The bundle directory (target-system path).
    pub dir: PathBuf,
    /// The `.tar.gz` next to it, when packing worked (target-system path).
    pub archive: Option<PathBuf>,
    pub index: Index,
}

/// How [`collect`] runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory the bundle directory is made in (target-system path).
    pub out: PathBuf,
    /// How to run this binary's own subcommands (argv[0]).
    pub self_exe: String,
    /// The bundle directory's name; `None` = `pre-nixos-diagnose-<host>-<UTC time>`.
    pub name: Option<String>,
}

/// `pre-nixos diagnose [--out DIR]`.
pub fn command(ctx: &Ctx, args: &DiagnoseArgs) -> anyhow::Result<u8> {
    let out = match &args.out {
        // A relative --out means relative to where the operator stands, not to `/`.
        Some(p) if p.is_relative() => std::env::current_dir()
            .context("finding the current directory for a relative --out")?
            .join(p),
        Some(p) => p.clone(),
        None => PathBuf::from(DEFAULT_OUT),
    };
    let self_exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "pre-nixos".to_owned());
    let bundle = collect(
        ctx,
        &Options {
            out,
            self_exe,
            name: None,
        },
    )?;
    let mut stdout = std::io::stdout().lock();
    write_outcome(ctx.host, &bundle, &mut stdout)?;
    Ok(crate::error::EXIT_OK)
}

/// Prints the verdict, what could not be collected, and where the bundle is.
pub fn write_outcome(host: &dyn Host, b: &Bundle, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", b.index.verdict)?;
    let bad: Vec<&IndexEntry> = b
        .index
        .entries
        .iter()
        .filter(|e| e.outcome != Outcome::Ok)
        .collect();
    if !bad.is_empty() {
        let names: Vec<String> = bad
            .iter()
            .map(|e| format!("{} ({})", e.item, e.outcome.as_str()))
            .collect();
        writeln!(
            out,
            "not collected or failed: {} of {} items: {} (details in INDEX.txt)",
            bad.len(),
            b.index.entries.len(),
            names.join(", ")
        )?;
    }
    writeln!(out, "bundle directory: {}", host.path(&b.dir).display())?;
    match &b.archive {
        Some(a) => writeln!(out, "bundle: {}", host.path(a).display())?,
        None => writeln!(
            out,
            "bundle: no .tar.gz (packing failed, see INDEX.txt); hand over the directory"
        )?,
    }
    Ok(())
}

/// Collects the whole bundle. Fails only when the bundle directory cannot be made.
pub fn collect(ctx: &Ctx, opts: &Options) -> anyhow::Result<Bundle> {
    let host = ctx.host;
    let created = status::now_rfc3339();
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => default_name(host),
    };
    let dir = unique_dir(host, &opts.out.join(&name));
    host.create_dir_all(&dir, 0o700).map_err(|e| {
        anyhow::anyhow!(
            "creating the bundle directory {}: {e}; run as root, or choose another place with --out DIR",
            host.path(&dir).display()
        )
    })?;
    tracing::info!(bundle = %dir.display(), "collecting diagnostics");

    let mut c = Collector {
        host,
        dir: dir.clone(),
        entries: Vec::new(),
    };
    c.text(
        "version",
        "version.txt",
        "built in",
        version_text(&opts.self_exe),
    );
    c.cmd(
        "uname",
        "uname.txt",
        Cmd::new("reading the kernel version", ["uname", "-a"]),
    );

    // Boot options: what the kernel was given, and how pre-nixos reads it.
    match c.file(
        "cmdline",
        "proc-cmdline.txt",
        Path::new("/proc/cmdline"),
        None,
    ) {
        Some(cmdline) => {
            let opts = crate::kcmdline::parse(&cmdline);
            c.json(
                "boot-options",
                "boot-options.json",
                "kcmdline::parse",
                &opts,
            );
        }
        None => c.record(IndexEntry {
            item: "boot-options".into(),
            file: None,
            source: "kcmdline::parse".into(),
            outcome: Outcome::Missing,
            exit: None,
            duration_ms: 0,
            error: Some("/proc/cmdline could not be read".into()),
        }),
    }

    // The state directory and the actions log as boot left them — before this
    // binary's own subcommands below add their lines to the log.
    let sd = ctx.state_dir();
    c.file(
        "storage-status",
        "state/storage-status",
        &sd.join(status::STORAGE_STATUS),
        None,
    );
    c.file(
        "network-status",
        "state/network-status",
        &sd.join(status::NETWORK_STATUS),
        None,
    );
    c.file(
        "storage-plan",
        "state/storage-plan.json",
        &sd.join(status::STORAGE_PLAN),
        None,
    );
    c.file(
        "actions-log",
        "actions.log",
        &actions_log_path(),
        Some(ACTIONS_LOG_LINES),
    );

    // The verdict's view: the status files and systemd, without reading disks back.
    let light = report::gather(ctx, false);
    let sshd_unit = light
        .sshd
        .unit
        .clone()
        .unwrap_or_else(|| "sshd.service".to_owned());

    // pre-nixos's own view, each as a bounded child process.
    let state_dir = ctx.state_dir().display().to_string();
    let root = host.root().display().to_string();
    let own = |what: &str, sub: &[&str]| {
        let mut cmd = Cmd::new(what, [opts.self_exe.as_str()])
            .args(sub.iter().copied())
            .args(["--state-dir", state_dir.as_str()])
            // Plain log lines in the .stderr files, not terminal colours.
            .env("NO_COLOR", "1")
            .timeout(SELF_TIMEOUT);
        if host.root() != Path::new("/") {
            cmd = cmd.args(["--root", root.as_str()]);
        }
        cmd
    };
    c.cmd(
        "inventory",
        "inventory.json",
        own("listing disks and NICs", &["inventory", "--json"]),
    );
    c.cmd(
        "detect-storage",
        "detect-storage.json",
        // 0 = existing storage, 1 = all clean: both are answers, not failures.
        own("checking the planned disks", &["detect-storage", "--json"]).ok_codes(&[0, 1]),
    );
    // An error also exits 1; only the JSON tells "all clean" from a failure.
    c.demand_output();
    c.cmd(
        "plan",
        "plan.json",
        own("planning this machine", &["plan", "--output", "json"]),
    );
    c.cmd(
        "disko-config",
        "disko-config.nix",
        own("rendering the disko config", &["plan", "--output", "disko"]),
    );
    c.cmd(
        "status",
        "status.json",
        // 2 = a state file is corrupt: the JSON still says which.
        own("reporting the status", &["status", "--json"]).ok_codes(&[0, 2]),
    );
    let mut status_text = Vec::new();
    let _ = report::write_human(&light, &mut status_text);
    c.text(
        "status-text",
        "status.txt",
        "report::write_human",
        String::from_utf8_lossy(&status_text).into_owned(),
    );

    // systemd: jobs, units, the journal of this boot.
    c.cmd(
        "list-jobs",
        "systemctl-list-jobs.txt",
        Cmd::new(
            "listing pending systemd jobs",
            ["systemctl", "list-jobs", "--no-pager"],
        ),
    );
    for (item, file, unit) in [
        (
            "unit-pre-nixos",
            "systemctl-status-pre-nixos.txt",
            report::UNIT,
        ),
        ("unit-sshd", "systemctl-status-sshd.txt", sshd_unit.as_str()),
        (
            "unit-networkd",
            "systemctl-status-systemd-networkd.txt",
            "systemd-networkd.service",
        ),
    ] {
        c.cmd(
            item,
            file,
            Cmd::new(
                format!("asking systemd about {unit}"),
                [
                    "systemctl",
                    "status",
                    "--no-pager",
                    "--full",
                    "--lines=50",
                    unit,
                ],
            )
            // systemctl status: 3 = not active, which is worth seeing, not a failure.
            .ok_codes(&[0, 3]),
        );
    }
    let journal_units = [
        "-u",
        report::UNIT,
        "-u",
        sshd_unit.as_str(),
        "-u",
        "systemd-networkd.service",
    ];
    c.cmd(
        "journal",
        "journal.json",
        Cmd::new(
            "reading this boot's journal of pre-nixos, sshd and networkd",
            ["journalctl", "-b", "--no-pager", "-o", "json"],
        )
        .args(journal_units)
        .timeout(JOURNAL_TIMEOUT),
    );
    c.cmd(
        "journal-text",
        "journal.txt",
        Cmd::new(
            "reading this boot's journal of pre-nixos, sshd and networkd",
            ["journalctl", "-b", "--no-pager", "-o", "short-precise"],
        )
        .args(journal_units)
        .timeout(JOURNAL_TIMEOUT),
    );

    // Storage as the kernel, md and LVM see it.
    c.cmd(
        "lsblk",
        "lsblk.json",
        Cmd::new("listing block devices", ["lsblk", "-J", "-O"]),
    );
    c.file("mdstat", "proc-mdstat.txt", Path::new("/proc/mdstat"), None);
    c.cmd(
        "mdadm-scan",
        "mdadm-detail-scan.txt",
        Cmd::new("listing md arrays", ["mdadm", "--detail", "--scan"]),
    );
    for (item, tool, what) in [
        ("lvm-pvs", "pvs", "listing LVM physical volumes"),
        ("lvm-vgs", "vgs", "listing LVM volume groups"),
        ("lvm-lvs", "lvs", "listing LVM logical volumes"),
    ] {
        let mut cmd = Cmd::new(what, [tool, "--reportformat", "json", "--units", "b"]);
        if tool == "lvs" {
            cmd = cmd.arg("-a");
        }
        c.cmd(item, &format!("lvm-{tool}.json"), cmd);
    }
    c.file(
        "mountinfo",
        "proc-self-mountinfo.txt",
        Path::new("/proc/self/mountinfo"),
        None,
    );
    c.file("swaps", "proc-swaps.txt", Path::new("/proc/swaps"), None);

    // Network and SSH.
    c.cmd(
        "ip-addr",
        "ip-addr.json",
        Cmd::new("listing addresses", ["ip", "-j", "addr"]),
    );
    c.cmd(
        "ip-link",
        "ip-link.json",
        Cmd::new("listing links", ["ip", "-j", "-d", "link"]),
    );
    c.cmd(
        "ip-route",
        "ip-route.json",
        Cmd::new("listing routes", ["ip", "-j", "route"]),
    );
    c.cmd(
        "networkctl",
        "networkctl-status.txt",
        Cmd::new(
            "asking networkd about every link",
            ["networkctl", "status", "--no-pager", "--all"],
        ),
    );
    c.network_files(Path::new("/etc/systemd/network"));
    let sshd = Cmd::new("reading the effective sshd configuration", ["sshd", "-T"]);
    c.cmd("sshd-T", "sshd-T.txt", sshd.clone());
    // Debian keeps sshd in /usr/sbin, which is not on every PATH.
    if c.last_outcome() == Some(Outcome::NotFound) && host.exists(Path::new("/usr/sbin/sshd")) {
        c.entries.pop();
        let mut sshd = sshd;
        sshd.argv[0] = "/usr/sbin/sshd".into();
        c.cmd("sshd-T", "sshd-T.txt", sshd);
    }
    c.file(
        "sshd-config",
        "etc-ssh-sshd_config",
        Path::new("/etc/ssh/sshd_config"),
        None,
    );

    // The kernel's last words.
    c.cmd(
        "kernel-journal",
        "kernel-messages.txt",
        Cmd::new(
            "reading the last kernel messages",
            [
                "journalctl",
                "-k",
                "-b",
                "--no-pager",
                "-o",
                "short-precise",
                "-n",
            ],
        )
        .arg(KERNEL_LINES.to_string())
        .timeout(JOURNAL_TIMEOUT),
    );
    c.cmd_tail(
        "dmesg",
        "dmesg.txt",
        Cmd::new("reading the kernel ring buffer", ["dmesg"]),
        Some(KERNEL_LINES),
    );

    let verdict = verdict(&light);
    let mut index = Index {
        schema_version: INDEX_SCHEMA_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created,
        verdict,
        entries: c.entries,
    };
    write_index(host, &dir, &index);

    let archive = pack(host, &dir, &mut index.entries);
    if archive.is_none() {
        // The archive's failure belongs in the index the operator will read.
        write_index(host, &dir, &index);
    }
    Ok(Bundle {
        dir,
        archive,
        index,
    })
}

/// `pre-nixos-diagnose-<hostname>-<YYYYmmddTHHMMSSZ>`.
fn default_name(host: &dyn Host) -> String {
    let hostname = host
        .read_attr(Path::new("/proc/sys/kernel/hostname"))
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into());
    let hostname: String = hostname
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let now = time::OffsetDateTime::now_utc();
    let stamp = now
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_else(|_| "now".into());
    format!("pre-nixos-diagnose-{hostname}-{stamp}")
}

/// Two runs in the same second must not share a directory.
fn unique_dir(host: &dyn Host, wanted: &Path) -> PathBuf {
    if !host.exists(wanted) {
        return wanted.to_path_buf();
    }
    let base = wanted.display().to_string();
    (2..)
        .map(|i| PathBuf::from(format!("{base}-{i}")))
        .find(|p| !host.exists(p) && !host.exists(&tar_path(p)))
        .expect("an unused name exists")
}

fn tar_path(dir: &Path) -> PathBuf {
    let mut s = dir.as_os_str().to_owned();
    s.push(".tar.gz");
    PathBuf::from(s)
}

fn version_text(self_exe: &str) -> String {
    format!(
        "pre-nixos {}\nbuild: {}\nexecutable: {}\ntarget: {}-{}\n",
        env!("CARGO_PKG_VERSION"),
        option_env!("PRE_NIXOS_BUILD_INFO").unwrap_or("not recorded"),
        self_exe,
        std::env::consts::ARCH,
        std::env::consts::OS,
    )
}

/// `sshd: active · storage: plan-only/existing-storage (sdb: partition-table) ·
/// jobs pending: none · pre-nixos.service: inactive (dead)`.
pub fn verdict(r: &report::StatusReport) -> String {
    let sshd = if r.sshd.unit.is_none() {
        match r.sshd.errors.first() {
            Some(e) => format!("unknown ({})", shorten(e, 70)),
            None => "unknown".into(),
        }
    } else {
        let mut s = r.sshd.active_state.clone().unwrap_or_else(|| "?".into());
        if r.sshd.hardened == Some(false) {
            s.push_str(", NOT hardened");
        }
        s
    };
    let storage = match &r.storage {
        Some(st) => {
            let mut s = format!("{}/{}", st.state, st.detail);
            if let Some(e) = &st.error {
                s.push_str(&format!(" ({})", shorten(e, 100)));
            }
            s
        }
        None if r.problems.is_empty() => "nothing written yet".into(),
        None => "storage-status unreadable".into(),
    };
    let jobs = if let Some(e) = &r.jobs.error {
        format!("unknown ({})", shorten(e, 70))
    } else if r.jobs.jobs.is_empty() {
        "none".into()
    } else {
        r.jobs
            .jobs
            .iter()
            .map(|j| format!("{} {} {}", j.unit, j.job_type, j.state))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut v = format!(
        "sshd: {sshd} · storage: {storage} · jobs pending: {jobs} · {}: {}",
        report::UNIT,
        shorten(&report::unit_summary(&r.unit), 80)
    );
    for p in &r.problems {
        v.push_str(&format!(" · PROBLEM: {} {}", p.file, p.problem));
    }
    v
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn write_index(host: &dyn Host, dir: &Path, index: &Index) {
    let mut json = serde_json::to_string_pretty(index).unwrap_or_default();
    json.push('\n');
    if let Err(e) = host.write_atomic(&dir.join("index.json"), json.as_bytes(), 0o600) {
        tracing::warn!(file = "index.json", error = %e, "writing the bundle index failed");
    }
    if let Err(e) = host.write_atomic(&dir.join("INDEX.txt"), index_text(index).as_bytes(), 0o600) {
        tracing::warn!(file = "INDEX.txt", error = %e, "writing the bundle index failed");
    }
}

/// `INDEX.txt`: the index as a table for people.
pub fn index_text(index: &Index) -> String {
    let mut s = format!(
        "pre-nixos {} diagnose bundle, created {}\n{}\n\n",
        index.version, index.created, index.verdict
    );
    s.push_str(&format!(
        "{:<16} {:<10} {:>5} {:>8}  {:<40} {}\n",
        "ITEM", "OUTCOME", "EXIT", "MS", "FILE", "SOURCE"
    ));
    for e in &index.entries {
        s.push_str(&format!(
            "{:<16} {:<10} {:>5} {:>8}  {:<40} {}\n",
            e.item,
            e.outcome.as_str(),
            e.exit.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
            e.duration_ms,
            e.file.as_deref().unwrap_or("-"),
            e.source
        ));
        if let Some(err) = &e.error {
            s.push_str(&format!("{:<16} error: {}\n", "", err));
        }
    }
    s
}

/// Packs the directory next to itself with `tar czf`; records the attempt.
fn pack(host: &dyn Host, dir: &Path, entries: &mut Vec<IndexEntry>) -> Option<PathBuf> {
    let archive = tar_path(dir);
    let real_dir = host.path(dir);
    let parent = real_dir.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = real_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cmd = Cmd::new(format!("packing {}", real_dir.display()), ["tar", "-czf"])
        .arg(host.path(&archive).display().to_string())
        .args(["-C".to_owned(), parent.display().to_string(), name])
        .timeout(TAR_TIMEOUT)
        .quiet();
    let start = host.now();
    let result = host.run(&cmd);
    let duration_ms = host.now().duration_since(start).as_millis() as u64;
    match result {
        Ok(out) => {
            restrict(&host.path(&archive));
            let _ = out;
            Some(archive)
        }
        Err(e) => {
            entries.push(entry_for_error(
                "archive",
                None,
                cmd.display(),
                &e,
                duration_ms,
            ));
            None
        }
    }
}

/// The archive holds the same secrets as the directory.
fn restrict(real: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if real.exists() {
        let _ = std::fs::set_permissions(real, std::fs::Permissions::from_mode(0o600));
    }
}

fn entry_for_error(
    item: &str,
    file: Option<String>,
    source: String,
    e: &CmdError,
    duration_ms: u64,
) -> IndexEntry {
    let (outcome, exit) = match e {
        CmdError::NotFound { .. } => (Outcome::NotFound, None),
        CmdError::TimedOut { .. } => (Outcome::TimedOut, None),
        CmdError::Failed { output, .. } => (Outcome::Failed, output.status),
        CmdError::Spawn { .. } | CmdError::Interrupted { .. } => (Outcome::Error, None),
    };
    IndexEntry {
        item: item.to_owned(),
        file,
        source,
        outcome,
        exit,
        duration_ms,
        error: Some(e.one_line()),
    }
}

/// Runs items and files into the bundle directory, recording each.
struct Collector<'a> {
    host: &'a dyn Host,
    dir: PathBuf,
    entries: Vec<IndexEntry>,
}

impl Collector<'_> {
    /// Turns the last entry into a failure when its command exited non-zero and
    /// printed nothing (an exit status that is an answer only with output).
    fn demand_output(&mut self) {
        let Some(e) = self.entries.last_mut() else {
            return;
        };
        if e.outcome != Outcome::Ok || e.exit == Some(0) {
            return;
        }
        let empty = match &e.file {
            Some(f) => self
                .host
                .read_to_string(&self.dir.join(f))
                .map(|t| t.trim().is_empty())
                .unwrap_or(true),
            None => true,
        };
        if empty {
            e.outcome = Outcome::Failed;
            e.error = Some(format!(
                "exited {} without printing anything (see {}.stderr)",
                e.exit.map(|c| c.to_string()).unwrap_or_else(|| "?".into()),
                e.file.as_deref().unwrap_or("the index")
            ));
        }
    }

    fn last_outcome(&self) -> Option<Outcome> {
        self.entries.last().map(|e| e.outcome)
    }

    fn record(&mut self, e: IndexEntry) {
        tracing::debug!(
            item = %e.item,
            outcome = e.outcome.as_str(),
            exit = e.exit.unwrap_or(-1),
            duration_ms = e.duration_ms,
            "diagnose item"
        );
        self.entries.push(e);
    }

    /// Writes one bundle file; `Err` is one line for the index.
    fn write(&self, file: &str, data: &[u8]) -> Result<(), String> {
        let path = self.dir.join(file);
        self.host
            .write_atomic(&path, data, 0o600)
            .map_err(|e| e.to_string())
    }

    fn cmd(&mut self, item: &str, file: &str, cmd: Cmd) {
        self.cmd_tail(item, file, cmd, None)
    }

    /// Runs `cmd` (with [`SYSTEM_TIMEOUT`] unless it has its own) and writes its
    /// stdout to `file` — also when it failed, since partial output is evidence —
    /// and its stderr, when any, to `file.stderr`.
    fn cmd_tail(&mut self, item: &str, file: &str, mut cmd: Cmd, keep_lines: Option<usize>) {
        if cmd.timeout.is_none() {
            cmd = cmd.timeout(SYSTEM_TIMEOUT);
        }
        // The index records every command; the screen is for the verdict.
        cmd = cmd.quiet();
        let start = self.host.now();
        let result = self.host.run(&cmd);
        let duration_ms = self.host.now().duration_since(start).as_millis() as u64;
        let output: Option<CmdOutput> = match &result {
            Ok(out) => Some(out.clone()),
            Err(CmdError::Failed { output, .. }) => Some((**output).clone()),
            Err(_) => None,
        };
        let mut written = None;
        let mut write_error = None;
        if let Some(out) = &output {
            if result.is_ok() || !out.stdout.is_empty() {
                let text = match keep_lines {
                    Some(n) => last_lines(&out.stdout, n),
                    None => out.stdout.clone(),
                };
                match self.write(file, text.as_bytes()) {
                    Ok(()) => written = Some(file.to_owned()),
                    Err(e) => write_error = Some(e),
                }
            }
            if !out.stderr.trim().is_empty() {
                if let Err(e) = self.write(&format!("{file}.stderr"), out.stderr.as_bytes()) {
                    write_error.get_or_insert(e);
                }
            }
        }
        let entry = match &result {
            Ok(out) => IndexEntry {
                item: item.to_owned(),
                file: written,
                source: cmd.display(),
                outcome: if write_error.is_some() {
                    Outcome::Error
                } else {
                    Outcome::Ok
                },
                exit: out.status,
                duration_ms,
                error: write_error,
            },
            Err(e) => {
                let mut entry = entry_for_error(item, written, cmd.display(), e, duration_ms);
                if let Some(w) = write_error {
                    entry.error = Some(format!("{}; {w}", entry.error.unwrap_or_default()));
                }
                entry
            }
        };
        self.record(entry);
    }

    /// Copies a file of the target system (its last `keep_lines` lines when given).
    /// Returns its text when it could be read.
    fn file(
        &mut self,
        item: &str,
        file: &str,
        path: &Path,
        keep_lines: Option<usize>,
    ) -> Option<String> {
        let source = path.display().to_string();
        let (outcome, error, text, written) = match self.host.read_to_string(path) {
            Ok(text) => {
                let kept = match keep_lines {
                    Some(n) => last_lines(&text, n),
                    None => text.clone(),
                };
                match self.write(file, kept.as_bytes()) {
                    Ok(()) => (Outcome::Ok, None, Some(text), Some(file.to_owned())),
                    Err(e) => (Outcome::Error, Some(e), Some(text), None),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                Outcome::Missing,
                Some(format!("{source} does not exist")),
                None,
                None,
            ),
            Err(e) => (
                Outcome::Error,
                Some(format!("reading {source}: {e}")),
                None,
                None,
            ),
        };
        self.record(IndexEntry {
            item: item.to_owned(),
            file: written,
            source,
            outcome,
            exit: None,
            duration_ms: 0,
            error,
        });
        text
    }

    fn text(&mut self, item: &str, file: &str, source: &str, text: String) {
        let (outcome, error, written) = match self.write(file, text.as_bytes()) {
            Ok(()) => (Outcome::Ok, None, Some(file.to_owned())),
            Err(e) => (Outcome::Error, Some(e), None),
        };
        self.record(IndexEntry {
            item: item.to_owned(),
            file: written,
            source: source.to_owned(),
            outcome,
            exit: None,
            duration_ms: 0,
            error,
        });
    }

    fn json<T: Serialize>(&mut self, item: &str, file: &str, source: &str, value: &T) {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        self.text(item, file, source, text);
    }

    /// The `.link`/`.network`/`.netdev` files networkd reads from `/etc` — where
    /// `pre-nixos network` writes `10-lan.link` and `20-lan.network`.
    fn network_files(&mut self, dir: &Path) {
        let names = match self.host.read_dir_names(dir) {
            Ok(n) => n,
            Err(e) => {
                let missing = e.kind() == std::io::ErrorKind::NotFound;
                self.record(IndexEntry {
                    item: "network-files".into(),
                    file: None,
                    source: dir.display().to_string(),
                    outcome: if missing {
                        Outcome::Missing
                    } else {
                        Outcome::Error
                    },
                    exit: None,
                    duration_ms: 0,
                    error: Some(if missing {
                        format!("{} does not exist", dir.display())
                    } else {
                        format!("listing {}: {e}", dir.display())
                    }),
                });
                return;
            }
        };
        let wanted: Vec<String> = names
            .into_iter()
            .filter(|n| n.ends_with(".link") || n.ends_with(".network") || n.ends_with(".netdev"))
            .collect();
        if wanted.is_empty() {
            self.record(IndexEntry {
                item: "network-files".into(),
                file: None,
                source: dir.display().to_string(),
                outcome: Outcome::Missing,
                exit: None,
                duration_ms: 0,
                error: Some(format!(
                    "no .link, .network or .netdev file in {}",
                    dir.display()
                )),
            });
        }
        for name in wanted {
            self.file(
                "network-file",
                &format!("etc-systemd-network/{name}"),
                &dir.join(&name),
                None,
            );
        }
    }
}

/// The last `n` lines of `text`.
pub fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(n);
    let mut s = lines[start..].join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(last_lines("a\nb\n", 5), "a\nb\n");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("sdb: partition-table", 100), "sdb: partition-table");
        assert_eq!(shorten("äöü", 2), "äö…");
    }
}
