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

mod collector;
mod evidence;
mod index;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::context::Ctx;
use crate::debug::status as report;
use crate::host::{Cmd, Host};
use crate::state::status;

pub use collector::last_lines;
use collector::Collector;
use index::{entry_for_error, write_index};
pub use index::{index_text, verdict, Index, IndexEntry, Outcome, INDEX_SCHEMA_VERSION};

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

/// Prints the verdict, what could not be collected, and where the bundle is, wrapped
/// at 80 columns.
pub fn write_outcome(host: &dyn Host, b: &Bundle, out: &mut dyn Write) -> std::io::Result<()> {
    write_outcome_width(host, b, crate::render::wrap::DEFAULT_WIDTH, out)
}

/// [`write_outcome`] wrapped at `width` columns (words kept whole, continuation lines
/// indented).
pub fn write_outcome_width(
    host: &dyn Host,
    b: &Bundle,
    width: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut text = Vec::new();
    write_outcome_lines(host, b, &mut text)?;
    for line in String::from_utf8_lossy(&text).lines() {
        crate::render::wrap::write_wrapped(out, width, 2, line)?;
    }
    Ok(())
}

fn write_outcome_lines(host: &dyn Host, b: &Bundle, out: &mut dyn Write) -> std::io::Result<()> {
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

/// Collects the whole bundle: every row of the evidence table, in one loop, then the
/// index and the archive. Fails only when the bundle directory cannot be made.
pub fn collect(ctx: &Ctx, opts: &Options) -> anyhow::Result<Bundle> {
    let host = ctx.host;
    let created = status::now_rfc3339(host);
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
    for item in evidence::as_boot_left_it(ctx, opts) {
        c.collect(item);
    }
    // The verdict's view: the status files and systemd, without reading disks back.
    let light = report::gather(ctx, false);
    for item in evidence::live(ctx, opts, &light) {
        c.collect(item);
    }

    let mut index = Index {
        schema_version: INDEX_SCHEMA_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        created,
        verdict: verdict(&light),
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
    let now = time::OffsetDateTime::from(host.wall_clock());
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

pub(super) fn version_text(self_exe: &str) -> String {
    format!(
        "pre-nixos {}\ncommit: {}\nbuild: {}\nexecutable: {}\ntarget: {}-{}\n",
        env!("CARGO_PKG_VERSION"),
        env!("PRE_NIXOS_COMMIT"),
        option_env!("PRE_NIXOS_BUILD_INFO").unwrap_or("not recorded"),
        self_exe,
        std::env::consts::ARCH,
        std::env::consts::OS,
    )
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
            let _ = out;
            // The archive holds the same secrets as the directory.
            if host.exists(&archive) {
                let _ = host.set_mode(&archive, 0o600);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use index::shorten;

    #[test]
    fn last_lines_keeps_the_end() {
        assert_eq!(last_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(last_lines("a\nb\n", 5), "a\nb\n");
        assert_eq!(last_lines("", 5), "");
    }

    #[test]
    fn shorten_cuts_on_characters() {
        assert_eq!(shorten("sdb: partition-table", 100), "sdb: partition-table");
        assert_eq!(shorten("äöü", 2), "äö …");
        // between words where there is a space to cut at
        let s = shorten(
            "the storage stage failed: mdadm exited 1: no such device",
            30,
        );
        assert_eq!(s, "the storage stage failed …");
    }
}
