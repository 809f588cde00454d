//! `pre-nixos status`: one screen (or JSON) on what happened and why — storage state,
//! the plan one line per VG, the verify diff, the LAN, sshd, pending systemd jobs and
//! the `pre-nixos` unit.
//!
//! Everything is gathered into one [`StatusReport`] first (machine output first), then
//! rendered for people from that value. Every probe is bounded: each command runs
//! through [`Host::run`] with a timeout, and a missing `systemctl` or `sshd` becomes a
//! line in the report, never a failure. The only outcome that changes the exit code is
//! a state file that exists but cannot be read or parsed (or a plan that
//! `storage-status` names but that is gone): exit 2, naming the file. `diagnose` reuses
//! the probes ([`sshd_probe`], [`jobs_probe`], [`unit_probe`]).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::error::{EXIT_OK, EXIT_USAGE};
use crate::plan::Plan;
use crate::state::status::{self, NetworkStatus, State, StatusError, StorageStatus};
use crate::units::human_binary;

mod human;
mod plan_view;
mod probes;

pub use crate::host::systemctl::{parse_list_jobs, parse_show_blocks, Job};
pub use human::*;
pub use plan_view::*;
use plan_view::{read_plan, verify_report};
pub use probes::*;

/// Bumped whenever the JSON shape of [`StatusReport`] changes incompatibly.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// How long one `systemctl` or `sshd -T` call may take before it is abandoned.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The unit `pre-nixos boot` runs in.
pub const UNIT: &str = "pre-nixos.service";

/// sshd's unit is `sshd.service` on NixOS and `ssh.service` on Debian (where
/// `sshd.service` is only an alias); the sockets cover socket activation.
pub const SSHD_UNITS: [&str; 4] = ["sshd.service", "ssh.service", "sshd.socket", "ssh.socket"];

/// Differences shown on screen before "… N more" (JSON always has all of them).
const MAX_SHOWN_DIFFERENCES: usize = 20;

/// Everything `pre-nixos status` knows, in the order it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub schema_version: u32,
    /// Version of the `pre-nixos` that made this report.
    pub version: String,
    pub state_dir: String,
    /// Neither `storage-status` nor `network-status` exists: `boot` has not got far
    /// enough to write either (or never ran).
    pub nothing_run_yet: bool,
    /// `storage-status`, when it exists and parses.
    pub storage: Option<StorageStatus>,
    pub plan: PlanReport,
    pub verify: VerifyReport,
    /// `network-status`, when it exists and parses.
    pub network: Option<NetworkStatus>,
    pub sshd: SshdReport,
    /// `report-status`: the collector report's delivery, when one is configured.
    #[serde(default)]
    pub report: Option<crate::report::ReportStatus>,
    pub jobs: JobsReport,
    pub unit: UnitReport,
    /// State files that exist but are unreadable or corrupt, or that another file
    /// names but that are missing. Non-empty means exit 2.
    pub problems: Vec<FileProblem>,
    /// What the operator can do next, when there is something to do.
    pub next: Option<String>,
}

/// A state file that is wrong, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProblem {
    pub file: String,
    pub problem: String,
    /// What the operator can do about it.
    pub hint: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The `storage-plan.json` read (from `PLAN=` or the state directory).
    pub path: Option<String>,
    /// One entry per VG, in plan order.
    pub vgs: Vec<VgLine>,
    /// Devices and disks the plan leaves out, with the reason.
    pub excluded: Vec<String>,
    /// Why there is no plan to show (`none written yet`, `unreadable`).
    pub missing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VgLine {
    pub name: String,
    pub size_bytes: u64,
    /// `RAID1 /dev/md/swap on sdb, sdc` or `sda2`.
    pub backing: String,
    /// `slash 50.0 GiB /`, `swap 32.0 GiB swap`.
    pub lvs: Vec<String>,
}

impl VgLine {
    /// `main  476.9 GiB on RAID0 /dev/md/main (sda, sdb): slash 50.0 GiB /, home 16.0 GiB /home`.
    pub fn line(&self) -> String {
        let lvs = if self.lvs.is_empty() {
            "no LVs (left for the operator)".to_owned()
        } else {
            self.lvs.join(", ")
        };
        format!(
            "{:<8} {:>10} on {}: {}",
            self.name,
            human_binary(self.size_bytes),
            self.backing,
            lvs
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum VerifyReport {
    /// Verify was not attempted, and why.
    Skipped { reason: String },
    /// The disks carry exactly the plan's layout.
    Matches,
    Differs {
        differences: Vec<crate::storage::verify::Difference>,
    },
    /// Reading the disks back failed.
    Error { message: String },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshdReport {
    /// The loaded sshd unit (`sshd.service`, `ssh.service`), when one exists.
    pub unit: Option<String>,
    pub active_state: Option<String>,
    pub sub_state: Option<String>,
    /// A loaded socket unit that can start sshd on demand, and its state.
    pub socket: Option<String>,
    pub socket_state: Option<String>,
    /// `None` when `sshd -T` could not tell.
    pub hardened: Option<bool>,
    /// Each hardened setting that is not as SPEC §4.3 wants it.
    pub hardening_problems: Vec<String>,
    /// Why a probe could not answer (systemctl or sshd missing, failed, timed out).
    pub errors: Vec<String>,
}

impl SshdReport {
    pub fn is_active(&self) -> bool {
        self.active_state.as_deref() == Some("active")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsReport {
    pub jobs: Vec<Job>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitReport {
    pub unit: String,
    pub load_state: Option<String>,
    pub active_state: Option<String>,
    pub sub_state: Option<String>,
    pub result: Option<String>,
    pub exec_main_status: Option<String>,
    pub error: Option<String>,
}

impl UnitReport {
    /// The boot flow's process is still running: `activating` while its start job runs,
    /// `active (running)` once the unit (Type=exec) is started and storage goes on;
    /// `active (exited)` is a finished run.
    pub fn still_running(&self) -> bool {
        match self.active_state.as_deref() {
            Some("activating") => true,
            Some("active") => self.sub_state.as_deref() == Some("running"),
            _ => false,
        }
    }
}

/// 2 when a state file is unreadable or corrupt, else 0 (whatever the storage state:
/// the report itself succeeded).
pub fn exit_code(report: &StatusReport) -> u8 {
    if report.problems.is_empty() {
        EXIT_OK
    } else {
        EXIT_USAGE
    }
}

/// Whether the report reads the disks back against the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBack {
    /// Verify: lsblk, mdadm, LVM, blkid (each bounded, but a wedged disk holds each
    /// one to its timeout).
    Disks,
    /// No command touches a disk; the verify line says why (the reason given here).
    Skip(&'static str),
}

/// Why `status --brief` shows no verify result.
pub const BRIEF_REASON: &str = "--brief (`pre-nixos status` reads the disks back)";

/// Gathers the whole report. `with_verify` reads the disks back (lsblk, mdadm, LVM);
/// `diagnose` leaves that to its own bounded commands.
pub fn gather(ctx: &Ctx, with_verify: bool) -> StatusReport {
    gather_with(
        ctx,
        if with_verify {
            ReadBack::Disks
        } else {
            ReadBack::Skip("not requested")
        },
    )
}

/// [`gather`] with the read-back spelled out: the state files, the plan file, sshd and
/// systemd are always read; the disks only with [`ReadBack::Disks`].
pub fn gather_with(ctx: &Ctx, read_back: ReadBack) -> StatusReport {
    let host = ctx.host;
    let state_dir = ctx.state_dir();
    let shown_dir = state_dir.display().to_string();
    let mut problems = Vec::new();

    let storage = match status::read_storage(host, state_dir) {
        Ok(s) => s,
        Err(e) => {
            problems.push(status_problem(&e));
            None
        }
    };
    let network = match status::read_network(host, state_dir) {
        Ok(n) => n,
        Err(e) => {
            problems.push(status_problem(&e));
            None
        }
    };
    let collector = match crate::report::read_status(host, state_dir) {
        Ok(r) => r,
        Err(e) => {
            problems.push(status_problem(&e));
            None
        }
    };
    let storage_file_exists = host.exists(&state_dir.join(status::STORAGE_STATUS));
    let network_file_exists = host.exists(&state_dir.join(status::NETWORK_STATUS));
    let nothing_run_yet = !storage_file_exists && !network_file_exists;

    let (plan, plan_report) = read_plan(host, state_dir, storage.as_ref(), &mut problems);
    let verify = verify_report(host, storage.as_ref(), plan.as_ref(), read_back);

    let mut report = StatusReport {
        schema_version: STATUS_SCHEMA_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        state_dir: shown_dir,
        nothing_run_yet,
        storage,
        plan: plan_report,
        verify,
        network,
        sshd: sshd_probe(host),
        report: collector,
        jobs: jobs_probe(host),
        unit: unit_probe(host),
        problems,
        next: None,
    };
    report.next = next_step(&report, plan.as_ref());
    report
}

/// The one thing to do next, from the storage state (SPEC: a refusal names the
/// switch that lifts it; a failure says where the evidence is).
pub fn next_step(r: &StatusReport, plan: Option<&Plan>) -> Option<String> {
    const EVIDENCE: &str =
        "`journalctl -b -u pre-nixos` shows each step; `pre-nixos diagnose` collects everything into one file";
    if !r.problems.is_empty() {
        return Some(
            "fix or remove the file named on the PROBLEM line, then run `pre-nixos status` again"
                .into(),
        );
    }
    let unit_active = r.unit.active_state.as_deref();
    let Some(s) = &r.storage else {
        return match unit_active {
            Some("activating") | Some("active") => {
                Some("pre-nixos.service is still starting; run `pre-nixos status` again".into())
            }
            Some("failed") => Some(format!(
                "pre-nixos.service failed before writing any status: {EVIDENCE}"
            )),
            _ => Some(
                "nothing has run: `systemctl start pre-nixos` runs the boot flow, \
                 `pre-nixos plan` only shows the plan"
                    .into(),
            ),
        };
    };
    match (s.state, s.detail.as_str()) {
        (State::Applied, _) => None,
        (State::Running, _) if r.unit.still_running() => {
            Some("storage is being set up; run `pre-nixos status` again".into())
        }
        // systemd could not tell whether the run is still going.
        (State::Running, _) if unit_active.is_none() => Some(
            "storage-status says running: either it is still being set up or the run stopped; \
             `systemctl status pre-nixos` tells which"
                .into(),
        ),
        (State::Running, _) => Some(format!(
            "the run stopped without a result: {EVIDENCE}; `systemctl restart pre-nixos` runs it again"
        )),
        (State::PlanOnly, "existing-storage") => {
            // Every planned disk's serial: wiping a clean disk loses nothing, so naming
            // them all lifts the refusal whichever of them hold data.
            let serials = plan_serials(plan);
            Some(format!(
                "nothing was changed because the disks hold data; to review the plan and \
                 choose disk by disk on this terminal: `pre-nixos tui`; to use them anyway, \
                 DESTROYING what is on them, {}",
                crate::storage::policy::wipe_advice(&serials)
            ))
        }
        (State::PlanOnly, "requested") => Some(
            "pre-nixos.plan-only=1 was given, so nothing was changed; `pre-nixos apply` applies \
             the plan, `pre-nixos tui` reviews and adjusts it first"
                .into(),
        ),
        (State::PlanOnly, "detection-error") => Some(
            "the disks could not be checked, so nothing was changed; \
             `pre-nixos detect-storage --json` shows what could not be read"
                .into(),
        ),
        (State::PlanOnly, _) => None,
        (State::Failed, _) => {
            // A failed attempt may have left partitions, arrays or LVM behind, so a new
            // one needs the wipe switch; the dry run first shows what it would run.
            let serials = plan_serials(plan);
            Some(format!(
                "storage setup failed: {EVIDENCE}. To retry once the cause is fixed: first \
                 `pre-nixos apply --dry-run` (what a new attempt would run; changes nothing), \
                 then, DESTROYING what is on the planned disks (the failed attempt's leftovers \
                 included), {}",
                crate::storage::policy::wipe_advice(&serials)
            ))
        }
    }
}

/// The serials of every planned disk (none without a plan): what a wipe switch names.
fn plan_serials(plan: Option<&Plan>) -> Vec<String> {
    plan.map(|p| {
        p.layout
            .disks
            .iter()
            .filter_map(|d| d.serial.clone())
            .collect()
    })
    .unwrap_or_default()
}

fn status_problem(e: &StatusError) -> FileProblem {
    match e {
        StatusError::Io { path, source } => FileProblem {
            file: path.clone(),
            problem: format!("cannot be read: {source}"),
            hint: "check its permissions (status needs to read it; run as root)".into(),
        },
        StatusError::Corrupt { path, problem } => FileProblem {
            file: path.clone(),
            problem: format!("is corrupt: {problem}"),
            // Not "restart the unit": a new boot flow on disks a run may have half
            // written is a decision, made after looking.
            hint: "pre-nixos replaces it atomically, so something else wrote it; look at it, \
                   then `pre-nixos detect-storage` shows what the disks hold and \
                   `pre-nixos apply --dry-run` what a new run would do (a new run rewrites \
                   the file)"
                .into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::ssh::hardening_problems;
    use std::path::Path;

    use human::left_out_line;

    fn bare_report() -> StatusReport {
        StatusReport {
            schema_version: STATUS_SCHEMA_VERSION,
            version: "0.1.0".into(),
            state_dir: "/run/pre-nixos".into(),
            nothing_run_yet: false,
            storage: None,
            plan: PlanReport {
                path: None,
                vgs: vec![],
                excluded: vec![],
                missing: None,
            },
            verify: VerifyReport::Matches,
            network: None,
            sshd: SshdReport::default(),
            report: None,
            jobs: JobsReport::default(),
            unit: UnitReport::default(),
            problems: vec![],
            next: None,
        }
    }

    #[test]
    fn verify_differences_are_listed_and_capped() {
        let mut r = bare_report();
        let d = |i: usize| crate::storage::verify::Difference {
            subject: format!("vg main lv lv{i}"),
            expected: "50.0 GiB".into(),
            found: "missing".into(),
        };
        r.storage = Some(StorageStatus {
            state: State::Applied,
            detail: "auto-applied".into(),
            plan: None,
            disks: vec![],
            error: None,
            version: String::new(),
            updated: String::new(),
        });
        r.verify = VerifyReport::Differs {
            differences: (0..25).map(d).collect(),
        };
        let mut out = Vec::new();
        write_human(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("verify:   25 difference(s) from the plan:\n"),
            "{text}"
        );
        assert!(text.contains("          vg main lv lv0: expected 50.0 GiB, found missing\n"));
        assert!(text.contains("lv19:"), "{text}");
        assert!(!text.contains("lv20:"), "{text}");
        assert!(
            text.contains("… 5 more (pre-nixos status --json lists all)"),
            "{text}"
        );

        // Before anything was applied the difference is expected, and said so.
        r.storage.as_mut().unwrap().state = State::PlanOnly;
        r.verify = VerifyReport::Differs {
            differences: vec![d(0)],
        };
        let mut out = Vec::new();
        write_human(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        // wrapped at 80 columns, under its value
        assert!(
            text.contains("verify:   1 difference(s) from the plan (the plan was not applied, so the disks\n          are expected to differ):"),
            "{text}"
        );
        r.verify = VerifyReport::Error {
            message: "lvs gave no answer within 10 s".into(),
        };
        let mut out = Vec::new();
        write_human(&r, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("verify:   could not read disks: lvs gave no answer within 10 s\n"));
    }

    /// Real output from a Debian 12 guest (tests/fixtures/systemd/README.md).
    fn capture(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/systemd")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn debian_show_output_of_the_sshd_units_parses() {
        let blocks = parse_show_blocks(&capture("debian12-show-sshd-active.txt"));
        // sshd.service is Debian's alias of ssh.service: both blocks say ssh.service.
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0]["Id"], "ssh.service");
        assert_eq!(blocks[0]["ActiveState"], "active");
        assert_eq!(blocks[2]["Id"], "sshd.socket");
        assert_eq!(blocks[2]["LoadState"], "not-found");
        assert_eq!(blocks[3]["Id"], "ssh.socket");
        let inactive = parse_show_blocks(&capture("debian12-show-sshd-inactive.txt"));
        assert_eq!(inactive[0]["SubState"], "dead");
    }

    #[test]
    fn debian_show_output_of_a_unit_parses() {
        let b = &parse_show_blocks(&capture("debian12-show-pre-nixos-failed.txt"))[0];
        assert_eq!(
            (
                b["LoadState"].as_str(),
                b["ActiveState"].as_str(),
                b["Result"].as_str(),
                b["ExecMainStatus"].as_str()
            ),
            ("loaded", "failed", "exit-code", "1")
        );
        let b = &parse_show_blocks(&capture("debian12-show-not-found.txt"))[0];
        assert_eq!(b["LoadState"], "not-found");
    }

    #[test]
    fn stock_debian_sshd_t_is_not_hardened() {
        assert_eq!(
            hardening_problems(&capture("debian12-sshd-T.txt")),
            vec![
                "passwordauthentication is yes, expected no".to_owned(),
                "authenticationmethods is any, expected publickey".to_owned()
            ]
        );
        // The same output with every setting `ssh` writes is hardened.
        let hardened = capture("debian12-sshd-T.txt")
            .replace("passwordauthentication yes", "passwordauthentication no")
            .replace(
                "authenticationmethods any",
                "authenticationmethods publickey",
            );
        assert!(hardening_problems(&hardened).is_empty());
    }

    #[test]
    fn exclusions_are_grouped_by_reason() {
        let ex: Vec<String> = [
            "loop0: loop device",
            "sdc: USB-attached (ID_BUS=usb)",
            "loop1: loop device",
        ]
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
        assert_eq!(
            left_out_line(&ex).as_deref(),
            Some("loop0 loop1 (loop device); sdc (USB-attached (ID_BUS=usb))")
        );
        assert_eq!(left_out_line(&[]), None);
    }

    #[test]
    fn hardened_sshd_t_output_has_no_problems() {
        let text = "port 22\npermitrootlogin without-password\npasswordauthentication no\n\
                    kbdinteractiveauthentication no\npubkeyauthentication yes\n\
                    authenticationmethods publickey\n";
        assert!(hardening_problems(text).is_empty());
    }

    #[test]
    fn debian_default_sshd_is_not_hardened() {
        // What `sshd -T` prints on a stock Debian 12 (OpenSSH 9.2).
        let text = "permitrootlogin without-password\npasswordauthentication yes\n\
                    kbdinteractiveauthentication no\nauthenticationmethods publickey\n";
        assert_eq!(
            hardening_problems(text),
            vec!["passwordauthentication is yes, expected no".to_owned()]
        );
    }

    #[test]
    fn old_openssh_keyword_is_accepted() {
        let text = "permitrootlogin prohibit-password\npasswordauthentication no\n\
                    challengeresponseauthentication yes\nauthenticationmethods publickey\n";
        assert_eq!(
            hardening_problems(text),
            vec!["challengeresponseauthentication is yes, expected no".to_owned()]
        );
        assert_eq!(hardening_problems("").len(), 4);
    }

    #[test]
    fn list_jobs_lines_parse() {
        let text = "  1 multi-user.target start waiting\n500 sshd.service      start waiting\n\
                    69 pre-nixos.service start running\n";
        let jobs = parse_list_jobs(text);
        assert_eq!(jobs.len(), 3);
        assert_eq!(
            jobs[1],
            Job {
                id: 500,
                unit: "sshd.service".into(),
                job_type: "start".into(),
                state: "waiting".into()
            }
        );
        assert!(parse_list_jobs("").is_empty());
        assert!(parse_list_jobs("No jobs running.\n").is_empty());
    }

    #[test]
    fn show_blocks_split_on_blank_lines() {
        let text = "Id=ssh.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n\
                    Id=ssh.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n\
                    Id=sshd.socket\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n";
        let b = parse_show_blocks(text);
        assert_eq!(b.len(), 3);
        assert_eq!(b[2]["LoadState"], "not-found");
    }
}
