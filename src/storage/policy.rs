//! The boot policy (SPEC §3.2): one enum, one variant per row of the table, chosen by
//! a pure function of what detection found, what verify read back, the wipe switch
//! and the kernel command line.
//!
//! Refusal is an outcome, not an error: the plan-only variants are ordinary results
//! (exit 0) whose message names the switch that lifts them. Precedence, safest first:
//! an explicit `pre-nixos.plan-only=1`; a detection failure; all disks clean; the
//! disks already carrying exactly this plan (a reboot of a provisioned machine — this
//! wins over a wipe switch left on the command line, so a second boot never re-wipes);
//! a wipe switch naming every dirty disk; otherwise existing storage, untouched.

use serde::Serialize;

use crate::kcmdline::{BootOptions, WipeSpec};
use crate::plan::PlannedDisk;
use crate::state::status::State;
use crate::storage::detect::Detection;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Policy {
    /// All planned disks clean: apply, verify, mount. `applied/auto-applied`.
    AutoApply,
    /// The disks already carry exactly this plan: verify and mount, change nothing.
    /// `applied/already-provisioned`.
    AlreadyProvisioned,
    /// Something is on a planned disk and no switch names it. `plan-only/existing-storage`.
    ExistingStorage {
        /// `sdb (HDD0001): partition-table, signature:ext4` per dirty disk not named.
        disks: Vec<String>,
        /// The serials a wipe switch would have to name; empty when one of the disks
        /// has no serial (then only `all` names it).
        serials: Vec<String>,
        /// Stable paths of planned disks the wipe switch does name: the operator allowed
        /// wiping them, so they are torn down even though the plan cannot be applied
        /// while the others hold data. Empty without a switch.
        wiped: Vec<String>,
    },
    /// `pre-nixos.plan-only=1`. `plan-only/requested`.
    PlanOnlyRequested,
    /// A wipe switch names the dirty disks: tear down those, then apply.
    /// `applied/wiped-and-applied`.
    WipeAndApply {
        /// Stable paths of the planned disks to tear down (named by the switch).
        disks: Vec<String>,
    },
    /// Detection could not examine every disk. `plan-only/detection-error`.
    DetectionError { error: String },
    /// A step failed (also: a wipe switch naming a serial that is not here).
    /// `failed/<step>`.
    Failed { step: String, error: String },
}

impl Policy {
    pub fn state(&self) -> State {
        match self {
            Policy::AutoApply | Policy::AlreadyProvisioned | Policy::WipeAndApply { .. } => {
                State::Applied
            }
            Policy::ExistingStorage { .. }
            | Policy::PlanOnlyRequested
            | Policy::DetectionError { .. } => State::PlanOnly,
            Policy::Failed { .. } => State::Failed,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Policy::AutoApply => "auto-applied".into(),
            Policy::AlreadyProvisioned => "already-provisioned".into(),
            Policy::ExistingStorage { .. } => "existing-storage".into(),
            Policy::PlanOnlyRequested => "requested".into(),
            Policy::WipeAndApply { .. } => "wiped-and-applied".into(),
            Policy::DetectionError { .. } => "detection-error".into(),
            Policy::Failed { step, .. } => step.clone(),
        }
    }

    /// Whether this outcome writes to disks.
    pub fn writes(&self) -> bool {
        match self {
            Policy::AutoApply | Policy::WipeAndApply { .. } => true,
            Policy::ExistingStorage { wiped, .. } => !wiped.is_empty(),
            _ => false,
        }
    }

    /// What the operator reads: for refusals, which switch lifts them.
    pub fn message(&self) -> String {
        match self {
            Policy::AutoApply => "all planned disks are clean: applying the plan".into(),
            Policy::AlreadyProvisioned => {
                "the disks already carry this plan's layout: mounting it, changing nothing".into()
            }
            // A disk without a serial can only be named by `all`.
            Policy::ExistingStorage {
                disks,
                serials,
                wiped,
            } => {
                let switch = wipe_advice(serials);
                let wiped = if wiped.is_empty() {
                    String::new()
                } else {
                    format!(
                        " The disks the wipe switch names were wiped: {}.",
                        wiped.join(", ")
                    )
                };
                format!(
                    "existing storage left untouched: {}. To wipe and apply, {switch}.{wiped}",
                    disks.join("; ")
                )
            }
            Policy::PlanOnlyRequested => {
                "pre-nixos.plan-only=1 is on the kernel command line: plan written, nothing changed"
                    .into()
            }
            Policy::WipeAndApply { disks } => {
                format!("wipe switch names {}: tearing down, then applying", disks.join(", "))
            }
            Policy::DetectionError { error } => format!(
                "storage detection failed, nothing changed: {error}. Run `pre-nixos detect-storage` \
                 for details"
            ),
            Policy::Failed { step, error } => format!("{step} failed: {error}"),
        }
    }
}

/// The switch that lifts an existing-storage refusal for disks with these serials: the
/// one wording the status file, `status` and the console use. A disk without a serial
/// can only be named by `all`, so an empty list offers `all` alone.
pub fn wipe_advice(serials: &[String]) -> String {
    if serials.is_empty() {
        "boot with pre-nixos.wipe=all, or run `pre-nixos apply --wipe all`".to_owned()
    } else {
        let list = serials.join(",");
        format!(
            "boot with pre-nixos.wipe={list} (or pre-nixos.wipe=all), or run \
             `pre-nixos apply --wipe {list}`"
        )
    }
}

/// Checks a wipe switch against the planned disks before anything happens: every
/// serial it names must be one of them. Returns the stable paths it names.
pub fn wipe_targets(wipe: &WipeSpec, disks: &[PlannedDisk]) -> Result<Vec<String>, String> {
    match wipe {
        WipeSpec::All => Ok(disks.iter().map(|d| d.stable_path.clone()).collect()),
        WipeSpec::Serials(serials) => {
            let present: Vec<&str> = disks.iter().filter_map(|d| d.serial.as_deref()).collect();
            let missing: Vec<&str> = serials
                .iter()
                .map(String::as_str)
                .filter(|s| !present.contains(s))
                .collect();
            if !missing.is_empty() {
                return Err(format!(
                    "the wipe switch names serial {} which is not a planned disk of this machine \
                     (planned disks: {}); nothing was touched",
                    missing.join(", "),
                    if present.is_empty() {
                        "none with a serial".to_owned()
                    } else {
                        present.join(", ")
                    }
                ));
            }
            // Placeholder and cloned serials exist (`0000000000`, two disks of one
            // batch): a serial is a name for one disk or for none, never a group.
            let shared: Vec<String> = serials
                .iter()
                .filter_map(|s| {
                    let holders: Vec<&str> = disks
                        .iter()
                        .filter(|d| d.serial.as_deref() == Some(s.as_str()))
                        .map(|d| d.stable_path.as_str())
                        .collect();
                    (holders.len() > 1).then(|| format!("{s} ({})", holders.join(", ")))
                })
                .collect();
            if !shared.is_empty() {
                return Err(format!(
                    "the wipe switch names serial {} which more than one planned disk carries; \
                     a serial must name one disk, so nothing was touched: use \
                     pre-nixos.wipe=all (or `apply --wipe all`), or wipe those disks by hand",
                    shared.join(", ")
                ));
            }
            Ok(disks
                .iter()
                .filter(|d| d.serial.as_ref().is_some_and(|s| serials.contains(s)))
                .map(|d| d.stable_path.clone())
                .collect())
        }
    }
}

/// Parses `--wipe all|S1,S2`.
pub fn parse_wipe_arg(s: &str) -> Result<WipeSpec, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("all") {
        return Ok(WipeSpec::All);
    }
    let serials: Vec<String> = t
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if serials.is_empty() {
        return Err(format!(
            "--wipe {s:?}: expected `all` or disk serials separated by commas"
        ));
    }
    Ok(WipeSpec::Serials(serials))
}

/// Inputs of the decision.
pub struct Inputs<'a> {
    pub disks: &'a [PlannedDisk],
    /// `Err` when detection could not run at all.
    pub detection: Result<&'a Detection, String>,
    /// `Some(true)` when verify read the disks back as exactly this plan
    /// (structure; mounts are made afterwards).
    pub provisioned: Option<bool>,
    pub boot: &'a BootOptions,
    /// The wipe switch in force (`--wipe` wins over the kernel command line).
    pub wipe: Option<&'a WipeSpec>,
}

/// The policy table of SPEC §3.2, as a pure function.
pub fn decide(i: &Inputs) -> Policy {
    if i.boot.plan_only {
        return Policy::PlanOnlyRequested;
    }
    let targets = match i.wipe.map(|w| wipe_targets(w, i.disks)) {
        Some(Err(e)) => {
            return Policy::Failed {
                step: "wipe-switch".into(),
                error: e,
            }
        }
        Some(Ok(t)) => t,
        None => Vec::new(),
    };
    let det = match &i.detection {
        Err(e) => return Policy::DetectionError { error: e.clone() },
        Ok(d) if d.failed() => return Policy::DetectionError { error: d.summary() },
        Ok(d) => d,
    };
    if det.all_clean() {
        return Policy::AutoApply;
    }
    if i.provisioned == Some(true) {
        return Policy::AlreadyProvisioned;
    }
    let dirty = det.dirty();
    let not_named: Vec<&&crate::storage::detect::DiskReport> = dirty
        .iter()
        .filter(|d| !targets.contains(&d.stable_path))
        .collect();
    if not_named.is_empty() {
        // Every named planned disk is torn down, not only the dirty ones: a disk
        // that looks clean can still carry a stale stack's remains (a stopped array's
        // member partition table was zapped, its superblock was not).
        return Policy::WipeAndApply { disks: targets };
    }
    Policy::ExistingStorage {
        disks: not_named.iter().map(|d| d.describe()).collect(),
        serials: if not_named.iter().all(|d| d.serial.is_some()) {
            not_named.iter().filter_map(|d| d.serial.clone()).collect()
        } else {
            Vec::new()
        },
        wiped: targets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::detect::DiskReport;
    use crate::testkit;

    fn detection(plan: &crate::plan::Plan, dirty: &[usize], error: Option<usize>) -> Detection {
        Detection {
            disks: plan
                .layout
                .disks
                .iter()
                .enumerate()
                .map(|(i, d)| DiskReport {
                    key: d.key.clone(),
                    stable_path: d.stable_path.clone(),
                    name: Some(d.name.clone()),
                    serial: d.serial.clone(),
                    reasons: if dirty.contains(&i) {
                        vec!["partition-table".into()]
                    } else {
                        vec![]
                    },
                    error: (error == Some(i)).then(|| "vanished".to_owned()),
                })
                .collect(),
        }
    }

    struct Case {
        dirty: &'static [usize],
        error: Option<usize>,
        run_failed: bool,
        provisioned: Option<bool>,
        plan_only: bool,
        wipe: Option<WipeSpec>,
    }

    const BASE: Case = Case {
        dirty: &[],
        error: None,
        run_failed: false,
        provisioned: None,
        plan_only: false,
        wipe: None,
    };

    fn run(c: Case) -> Policy {
        let plan = testkit::ssd_and_hdd_pair();
        let det = detection(&plan, c.dirty, c.error);
        let boot = BootOptions {
            plan_only: c.plan_only,
            ..Default::default()
        };
        decide(&Inputs {
            disks: &plan.layout.disks,
            detection: if c.run_failed {
                Err("reading /proc/self/mountinfo: permission denied".into())
            } else {
                Ok(&det)
            },
            provisioned: c.provisioned,
            boot: &boot,
            wipe: c.wipe.as_ref(),
        })
    }

    fn row(p: &Policy) -> (String, String) {
        (p.state().to_string(), p.detail())
    }

    #[test]
    fn row_all_clean_applies() {
        let p = run(BASE);
        assert_eq!(p, Policy::AutoApply);
        assert_eq!(row(&p), ("applied".into(), "auto-applied".into()));
        assert!(p.writes());
    }

    #[test]
    fn row_already_provisioned() {
        let p = run(Case {
            dirty: &[0, 1, 2],
            provisioned: Some(true),
            ..BASE
        });
        assert_eq!(row(&p), ("applied".into(), "already-provisioned".into()));
        assert!(!p.writes());
        // A wipe switch left on the command line never re-wipes our own layout.
        let p = run(Case {
            dirty: &[0, 1, 2],
            provisioned: Some(true),
            wipe: Some(WipeSpec::All),
            ..BASE
        });
        assert_eq!(p, Policy::AlreadyProvisioned);
    }

    #[test]
    fn row_existing_storage_names_the_switch() {
        let p = run(Case {
            dirty: &[1],
            provisioned: Some(false),
            ..BASE
        });
        assert_eq!(row(&p), ("plan-only".into(), "existing-storage".into()));
        assert!(!p.writes());
        let m = p.message();
        assert!(m.contains("pre-nixos.wipe=HDDA"), "{m}");
        assert!(m.contains("--wipe HDDA"), "{m}");
        assert!(m.contains("sdb (HDDA): partition-table"), "{m}");
    }

    #[test]
    fn a_disk_without_serial_can_only_be_named_by_all() {
        let p = Policy::ExistingStorage {
            disks: vec!["sdb (no serial): partition-table".into()],
            serials: vec![],
            wiped: vec![],
        };
        let m = p.message();
        assert!(m.contains("pre-nixos.wipe=all"), "{m}");
        assert!(!m.contains("wipe=,"), "{m}");
    }

    #[test]
    fn row_plan_only_requested_wins_over_everything() {
        for c in [
            BASE,
            Case {
                dirty: &[0],
                wipe: Some(WipeSpec::All),
                ..BASE
            },
            Case {
                run_failed: true,
                ..BASE
            },
        ] {
            let p = run(Case {
                plan_only: true,
                ..c
            });
            assert_eq!(row(&p), ("plan-only".into(), "requested".into()));
        }
    }

    #[test]
    fn row_wipe_switch_tears_down_named_disks_only() {
        let p = run(Case {
            dirty: &[1, 2],
            provisioned: Some(false),
            wipe: Some(WipeSpec::Serials(vec!["HDDA".into(), "HDDB".into()])),
            ..BASE
        });
        assert_eq!(row(&p), ("applied".into(), "wiped-and-applied".into()));
        let plan = testkit::ssd_and_hdd_pair();
        assert_eq!(
            p,
            Policy::WipeAndApply {
                disks: vec![
                    plan.layout.disks[1].stable_path.clone(),
                    plan.layout.disks[2].stable_path.clone()
                ]
            }
        );
        // A dirty disk the switch does not name stays untouched and blocks the
        // apply; the disk it names is still wiped, as the operator allowed.
        let p = run(Case {
            dirty: &[1, 2],
            wipe: Some(WipeSpec::Serials(vec!["HDDA".into()])),
            ..BASE
        });
        assert_eq!(row(&p), ("plan-only".into(), "existing-storage".into()));
        assert!(p.writes());
        match &p {
            Policy::ExistingStorage { serials, wiped, .. } => {
                assert_eq!(serials, &["HDDB"]);
                assert_eq!(wiped, &[plan.layout.disks[1].stable_path.clone()]);
            }
            other => panic!("{other:?}"),
        }
        let m = p.message();
        assert!(m.contains("pre-nixos.wipe=HDDB"), "{m}");
        assert!(m.contains("were wiped"), "{m}");
    }

    #[test]
    fn row_detection_error_changes_nothing() {
        let p = run(Case {
            error: Some(2),
            ..BASE
        });
        assert_eq!(row(&p), ("plan-only".into(), "detection-error".into()));
        assert!(p.message().contains("vanished"));
        let p = run(Case {
            run_failed: true,
            ..BASE
        });
        assert_eq!(row(&p), ("plan-only".into(), "detection-error".into()));
    }

    #[test]
    fn row_failed_unknown_wipe_serial_before_anything() {
        let p = run(Case {
            dirty: &[1],
            wipe: Some(WipeSpec::Serials(vec!["NOPE".into()])),
            ..BASE
        });
        assert_eq!(row(&p), ("failed".into(), "wipe-switch".into()));
        assert!(p.message().contains("NOPE"), "{}", p.message());
        assert!(!p.writes());
    }

    #[test]
    fn a_serial_two_planned_disks_carry_is_refused_before_anything() {
        let mut plan = testkit::ssd_and_hdd_pair();
        plan.layout.disks[2].serial = plan.layout.disks[1].serial.clone();
        let shared = plan.layout.disks[1].serial.clone().unwrap();
        let e =
            wipe_targets(&WipeSpec::Serials(vec![shared.clone()]), &plan.layout.disks).unwrap_err();
        assert!(e.contains(&shared), "{e}");
        assert!(e.contains(&plan.layout.disks[1].stable_path), "{e}");
        assert!(e.contains(&plan.layout.disks[2].stable_path), "{e}");
        assert!(e.contains("nothing was touched"), "{e}");
        // The decision fails at the wipe switch, so no disk is written.
        let det = detection(&plan, &[1, 2], None);
        let wipe = WipeSpec::Serials(vec![shared]);
        let p = decide(&Inputs {
            disks: &plan.layout.disks,
            detection: Ok(&det),
            provisioned: Some(false),
            boot: &BootOptions::default(),
            wipe: Some(&wipe),
        });
        assert_eq!(row(&p), ("failed".into(), "wipe-switch".into()));
        assert!(!p.writes());
        // `all` still names both, and a serial only one disk carries still works.
        assert_eq!(
            wipe_targets(&WipeSpec::All, &plan.layout.disks)
                .unwrap()
                .len(),
            3
        );
        let only = plan.layout.disks[0].serial.clone().unwrap();
        assert_eq!(
            wipe_targets(&WipeSpec::Serials(vec![only]), &plan.layout.disks).unwrap(),
            vec![plan.layout.disks[0].stable_path.clone()]
        );
    }

    #[test]
    fn wipe_argument_parses() {
        assert_eq!(parse_wipe_arg("all"), Ok(WipeSpec::All));
        assert_eq!(
            parse_wipe_arg("S1, S2"),
            Ok(WipeSpec::Serials(vec!["S1".into(), "S2".into()]))
        );
        assert!(parse_wipe_arg(" , ").is_err());
    }
}
