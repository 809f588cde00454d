//! What the bundle holds: the table of evidence items, in the order they are collected.
//! Each row is data (an item name, a bundle file and where it comes from); the collector
//! runs every row the same way. To add evidence, add a row here.

use std::path::{Path, PathBuf};

use super::SELF_TIMEOUT;
use super::{actions_log_path, Options, ACTIONS_LOG_LINES, JOURNAL_TIMEOUT, KERNEL_LINES};
use crate::context::Ctx;
use crate::debug::status as report;
use crate::host::Cmd;
use crate::state::status;

/// One item of the bundle.
pub(super) enum Evidence {
    /// Text this binary computed.
    Text {
        item: &'static str,
        file: &'static str,
        source: &'static str,
        text: String,
    },
    /// A file of the target system (its last `tail` lines when given).
    File {
        item: &'static str,
        file: String,
        path: PathBuf,
        tail: Option<usize>,
    },
    /// A command's stdout into `file`, its stderr into `file.stderr`.
    Run {
        item: &'static str,
        file: String,
        cmd: Cmd,
        /// Keep only the last lines of stdout.
        tail: Option<usize>,
        /// What output it must print to count as collected.
        demand: Demand,
        /// Where the program lives when it is not on `PATH` (Debian keeps sshd in
        /// /usr/sbin, which is not on every PATH).
        fallback: Option<&'static str>,
    },
    /// A value as JSON, written only when the item it was read from was collected.
    Derived {
        item: &'static str,
        file: &'static str,
        source: &'static str,
        value: serde_json::Value,
        from: &'static str,
    },
    /// The `.link`/`.network`/`.netdev` files networkd reads from a directory.
    NetworkFiles(PathBuf),
}

/// What a command must print for its item to be `ok`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Demand {
    /// Its exit status says it all.
    Nothing,
    /// An exit status that is an answer only with output: non-zero and silent is a
    /// failure (`detect-storage` exits 1 both for "all clean" and for an error).
    OutputOnNonZero,
    /// A journal read: exit 0 with no entry (journald not running, not persistent, or
    /// the units never logged) is no evidence, and is marked so.
    Entries,
}

fn file(item: &'static str, file: &str, path: impl Into<PathBuf>) -> Evidence {
    Evidence::File {
        item,
        file: file.to_owned(),
        path: path.into(),
        tail: None,
    }
}

fn run(item: &'static str, file: &str, cmd: Cmd) -> Evidence {
    Evidence::Run {
        item,
        file: file.to_owned(),
        cmd,
        tail: None,
        demand: Demand::Nothing,
        fallback: None,
    }
}

/// What boot left behind, collected first: the state directory and the actions log as
/// they were, before this binary's own probes and subcommands add their lines to the log.
pub(super) fn as_boot_left_it(ctx: &Ctx, opts: &Options) -> Vec<Evidence> {
    let sd = ctx.state_dir();
    vec![
        Evidence::Text {
            item: "version",
            file: "version.txt",
            source: "built in",
            text: super::version_text(&opts.self_exe),
        },
        run(
            "uname",
            "uname.txt",
            Cmd::new("reading the kernel version", ["uname", "-a"]),
        ),
        // Boot options: what the kernel was given, and the run state's reading of it
        // (parsed once, when the run started).
        file("cmdline", "proc-cmdline.txt", "/proc/cmdline"),
        Evidence::Derived {
            item: "boot-options",
            file: "boot-options.json",
            source: "kcmdline::parse",
            value: serde_json::to_value(&ctx.boot).unwrap_or_default(),
            from: "cmdline",
        },
        // The state directory and the actions log as boot left them — before this
        // binary's own subcommands below add their lines to the log.
        file(
            "storage-status",
            "state/storage-status",
            sd.join(status::STORAGE_STATUS),
        ),
        file(
            "network-status",
            "state/network-status",
            sd.join(status::NETWORK_STATUS),
        ),
        file(
            "storage-plan",
            "state/storage-plan.json",
            sd.join(status::STORAGE_PLAN),
        ),
        Evidence::File {
            item: "actions-log",
            file: "actions.log".into(),
            path: actions_log_path(),
            tail: Some(ACTIONS_LOG_LINES),
        },
    ]
}

/// Everything else, probed now. `light` is the status report without a read-back of the
/// disks: it names the sshd unit whose status and journal are collected.
///
/// Long on purpose: it is the table itself, one row per item in bundle order.
pub(super) fn live(ctx: &Ctx, opts: &Options, light: &report::StatusReport) -> Vec<Evidence> {
    let sshd_unit = light
        .sshd
        .unit
        .clone()
        .unwrap_or_else(|| "sshd.service".to_owned());
    let own = OwnCommand::new(ctx, &opts.self_exe);
    let mut status_text = Vec::new();
    let _ = report::write_human(light, &mut status_text);
    let mut t = vec![
        // pre-nixos's own view, each as a bounded child process.
        run(
            "inventory",
            "inventory.json",
            own.cmd("listing disks and NICs", &["inventory", "--json"]),
        ),
        Evidence::Run {
            item: "detect-storage",
            file: "detect-storage.json".into(),
            // 0 = existing storage, 1 = all clean: both are answers, not failures.
            cmd: own
                .cmd("checking the planned disks", &["detect-storage", "--json"])
                .ok_codes(&[0, 1]),
            tail: None,
            // An error also exits 1; only the JSON tells "all clean" from a failure.
            demand: Demand::OutputOnNonZero,
            fallback: None,
        },
        run(
            "plan",
            "plan.json",
            own.cmd("planning this machine", &["plan", "--output", "json"]),
        ),
        run(
            "disko-config",
            "disko-config.nix",
            own.cmd("rendering the disko config", &["plan", "--output", "disko"]),
        ),
        run(
            "status",
            "status.json",
            // 2 = a state file is corrupt: the JSON still says which.
            own.cmd("reporting the status", &["status", "--json"])
                .ok_codes(&[0, 2]),
        ),
        Evidence::Text {
            item: "status-text",
            file: "status.txt",
            source: "report::write_human",
            text: String::from_utf8_lossy(&status_text).into_owned(),
        },
        // systemd: jobs, units, the journal of this boot.
        run(
            "list-jobs",
            "systemctl-list-jobs.txt",
            Cmd::new(
                "listing pending systemd jobs",
                ["systemctl", "list-jobs", "--no-pager"],
            ),
        ),
        unit_status(
            "unit-pre-nixos",
            "systemctl-status-pre-nixos.txt",
            report::UNIT,
        ),
        unit_status("unit-sshd", "systemctl-status-sshd.txt", &sshd_unit),
        unit_status(
            "unit-networkd",
            "systemctl-status-systemd-networkd.txt",
            "systemd-networkd.service",
        ),
        journal("journal", "journal.json", "json", &sshd_unit),
        journal("journal-text", "journal.txt", "short-precise", &sshd_unit),
        // Storage as the kernel, md and LVM see it.
        run(
            "lsblk",
            "lsblk.json",
            Cmd::new("listing block devices", ["lsblk", "-J", "-O"]),
        ),
        file("mdstat", "proc-mdstat.txt", "/proc/mdstat"),
        run(
            "mdadm-scan",
            "mdadm-detail-scan.txt",
            Cmd::new("listing md arrays", ["mdadm", "--detail", "--scan"]),
        ),
    ];
    for (item, tool, what) in [
        ("lvm-pvs", "pvs", "listing LVM physical volumes"),
        ("lvm-vgs", "vgs", "listing LVM volume groups"),
        ("lvm-lvs", "lvs", "listing LVM logical volumes"),
    ] {
        let mut cmd = Cmd::new(what, [tool, "--reportformat", "json", "--units", "b"]);
        if tool == "lvs" {
            cmd = cmd.arg("-a");
        }
        t.push(run(item, &format!("lvm-{tool}.json"), cmd));
    }
    t.extend([
        file(
            "mountinfo",
            "proc-self-mountinfo.txt",
            "/proc/self/mountinfo",
        ),
        file("swaps", "proc-swaps.txt", "/proc/swaps"),
        // Network and SSH.
        run(
            "ip-addr",
            "ip-addr.json",
            Cmd::new("listing addresses", ["ip", "-j", "addr"]),
        ),
        run(
            "ip-link",
            "ip-link.json",
            Cmd::new("listing links", ["ip", "-j", "-d", "link"]),
        ),
        run(
            "ip-route",
            "ip-route.json",
            Cmd::new("listing routes", ["ip", "-j", "route"]),
        ),
        run(
            "networkctl",
            "networkctl-status.txt",
            Cmd::new(
                "asking networkd about every link",
                ["networkctl", "status", "--no-pager", "--all"],
            ),
        ),
        Evidence::NetworkFiles(PathBuf::from("/etc/systemd/network")),
        Evidence::Run {
            item: "sshd-T",
            file: "sshd-T.txt".into(),
            cmd: Cmd::new("reading the effective sshd configuration", ["sshd", "-T"]),
            tail: None,
            demand: Demand::Nothing,
            fallback: Some("/usr/sbin/sshd"),
        },
        file("sshd-config", "etc-ssh-sshd_config", "/etc/ssh/sshd_config"),
        // The kernel's last words.
        needs_entries(run(
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
        )),
        Evidence::Run {
            item: "dmesg",
            file: "dmesg.txt".into(),
            cmd: Cmd::new("reading the kernel ring buffer", ["dmesg"]),
            tail: Some(KERNEL_LINES),
            demand: Demand::Nothing,
            fallback: None,
        },
    ]);
    t
}

/// `systemctl status` of one unit; 3 = not active, which is worth seeing, not a failure.
fn unit_status(item: &'static str, file: &str, unit: &str) -> Evidence {
    run(
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
        .ok_codes(&[0, 3]),
    )
}

/// This boot's journal of pre-nixos, sshd and networkd, in one output format.
fn journal(item: &'static str, file: &str, format: &str, sshd_unit: &str) -> Evidence {
    needs_entries(run(
        item,
        file,
        Cmd::new(
            "reading this boot's journal of pre-nixos, sshd and networkd",
            ["journalctl", "-b", "--no-pager", "-o", format],
        )
        .args([
            "-u",
            report::UNIT,
            "-u",
            sshd_unit,
            "-u",
            "systemd-networkd.service",
        ])
        .timeout(JOURNAL_TIMEOUT),
    ))
}

/// `e` (a command) counted as collected only when it printed a journal entry.
fn needs_entries(mut e: Evidence) -> Evidence {
    if let Evidence::Run { demand, .. } = &mut e {
        *demand = Demand::Entries;
    }
    e
}

/// This binary's own subcommands, run as bounded child processes against the same state
/// directory and root.
struct OwnCommand<'a> {
    exe: &'a str,
    state_dir: String,
    root: Option<String>,
}

impl<'a> OwnCommand<'a> {
    fn new(ctx: &Ctx, exe: &'a str) -> Self {
        let root = ctx.host.root();
        OwnCommand {
            exe,
            state_dir: ctx.state_dir().display().to_string(),
            root: (root != Path::new("/")).then(|| root.display().to_string()),
        }
    }

    fn cmd(&self, what: &str, sub: &[&str]) -> Cmd {
        let mut cmd = Cmd::new(what, [self.exe])
            .args(sub.iter().copied())
            .args(["--state-dir", self.state_dir.as_str()])
            // Plain log lines in the .stderr files, not terminal colours.
            .env("NO_COLOR", "1")
            .timeout(SELF_TIMEOUT);
        if let Some(root) = &self.root {
            cmd = cmd.args(["--root", root.as_str()]);
        }
        cmd
    }
}
