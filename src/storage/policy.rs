//! The boot policy (SPEC §3.2): one enum, one variant per row of the table, chosen by
//! a pure function of what detection found, what verify read back, the wipe switch
//! and the kernel command line.
//!
//! Refusal is an outcome, not an error: the plan-only variants are ordinary results
//! (exit 0) whose message names the switch that lifts them. Precedence, safest first:
//! an explicit `pre-nixos.plan-only=1`; a detection failure; all disks clean; the
//! disks already carrying exactly this plan (a reboot of a provisioned machine — this
//! wins over a wipe switch left on the command line, so a second boot never re-wipes);
//! a wipe switch naming every dirty disk; an apply of this very plan that was cut short
//! (every dirty disk carries this plan's in-progress marker and nothing but this plan's
//! names: [`crate::storage::resume`]), redone; otherwise existing storage, untouched.

use serde::Serialize;

use crate::kcmdline::{BootOptions, WipeSpec};
use crate::plan::PlannedDisk;
use crate::state::status::State;
use crate::storage::detect::Detection;
use crate::storage::resume;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Policy {
    /// All planned disks clean: apply, verify, mount. `applied/auto-applied`.
    AutoApply,
    /// The disks already carry exactly this plan: verify and mount, change nothing but
    /// the marker of disks still saying "apply in progress". `applied/already-provisioned`.
    AlreadyProvisioned {
        /// Stable paths of planned disks still carrying this plan's in-progress marker:
        /// an apply cut after verify and before the done marker. They get the done
        /// marker, so a finished (perhaps installed) layout is never redone unasked.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        unfinished: Vec<String>,
    },
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
    /// An apply of this plan was cut short on these disks (and holds nothing else):
    /// tear them down as a wipe switch would, then apply. `applied/resumed`.
    Resume {
        /// Stable paths of the planned disks the cut apply left something on.
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
            Policy::AutoApply
            | Policy::AlreadyProvisioned { .. }
            | Policy::WipeAndApply { .. }
            | Policy::Resume { .. } => State::Applied,
            Policy::ExistingStorage { .. }
            | Policy::PlanOnlyRequested
            | Policy::DetectionError { .. } => State::PlanOnly,
            Policy::Failed { .. } => State::Failed,
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Policy::AutoApply => "auto-applied".into(),
            Policy::AlreadyProvisioned { .. } => "already-provisioned".into(),
            Policy::ExistingStorage { .. } => "existing-storage".into(),
            Policy::PlanOnlyRequested => "requested".into(),
            Policy::WipeAndApply { .. } => "wiped-and-applied".into(),
            Policy::Resume { .. } => "resumed".into(),
            Policy::DetectionError { .. } => "detection-error".into(),
            Policy::Failed { step, .. } => step.clone(),
        }
    }

    /// Whether this outcome writes to disks.
    pub fn writes(&self) -> bool {
        match self {
            Policy::AutoApply | Policy::WipeAndApply { .. } | Policy::Resume { .. } => true,
            Policy::ExistingStorage { wiped, .. } => !wiped.is_empty(),
            _ => false,
        }
    }

    /// What the operator reads: for refusals, which switch lifts them.
    pub fn message(&self) -> String {
        match self {
            Policy::AutoApply => "all planned disks are clean: applying the plan".into(),
            Policy::AlreadyProvisioned { unfinished } if unfinished.is_empty() => {
                "the disks already carry this plan's layout: mounting it, changing nothing".into()
            }
            Policy::AlreadyProvisioned { unfinished } => format!(
                "the disks already carry this plan's layout: mounting it; an apply was cut \
                 after verify, the finished marker goes on {}",
                unfinished.join(", ")
            ),
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
            Policy::Resume { disks } => format!(
                "an apply of this plan was cut short on {} (in-progress marker, nothing but this \
                 plan's names): tearing it down, then applying again",
                disks.join(", ")
            ),
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
    /// This plan's markers and names, for resuming a cut apply.
    pub resume: &'a resume::Expected,
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
        let unfinished = det
            .disks
            .iter()
            .filter(|d| {
                d.ptuuid
                    .as_deref()
                    .is_some_and(|g| g.eq_ignore_ascii_case(&i.resume.markers.in_progress))
            })
            .map(|d| d.stable_path.clone())
            .collect();
        return Policy::AlreadyProvisioned { unfinished };
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
    // After the wipe switch: an operator who names the disks gets the wipe asked for.
    let found: Vec<resume::Found> = dirty.iter().map(|d| d.found()).collect();
    match resume::check(i.resume, &found) {
        Ok(disks) => return Policy::Resume { disks },
        Err(why) => tracing::info!(why = %why, "not resuming"),
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
                    ptuuid: None,
                    names: vec![],
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
            resume: &resume::Expected::for_layout(&plan.layout),
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
        assert_eq!(
            p,
            Policy::AlreadyProvisioned {
                unfinished: Vec::new()
            }
        );
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
            resume: &resume::Expected::for_layout(&plan.layout),
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

    /// A cut between verify and the done marker: the layout reads back as this plan's,
    /// so nothing is redone, and the disks still saying "in progress" (this plan's
    /// marker, not another's, not the done one) are the ones to mark finished.
    #[test]
    fn already_provisioned_names_the_disks_a_cut_left_in_progress() {
        let plan = testkit::ssd_and_hdd_pair();
        let e = resume::Expected::for_layout(&plan.layout);
        let other = resume::Markers::for_layout(&testkit::disko_applied_plan().layout);
        let mut det = detection(&plan, &[0, 1, 2], None);
        det.disks[0].ptuuid = Some(e.markers.done.clone());
        det.disks[1].ptuuid = Some(e.markers.in_progress.to_uppercase());
        det.disks[2].ptuuid = Some(other.in_progress.clone());
        let p = decide(&Inputs {
            disks: &plan.layout.disks,
            detection: Ok(&det),
            provisioned: Some(true),
            boot: &BootOptions::default(),
            wipe: None,
            resume: &e,
        });
        assert_eq!(
            p,
            Policy::AlreadyProvisioned {
                unfinished: vec![plan.layout.disks[1].stable_path.clone()]
            }
        );
        assert_eq!(row(&p), ("applied".into(), "already-provisioned".into()));
        assert!(p.message().contains(&plan.layout.disks[1].stable_path));
    }

    /// A detection of `plan` after a cut apply: every disk partitioned by this plan
    /// (its marker, its partlabels), the arrays created, nothing else yet.
    fn cut_apply(plan: &crate::plan::Plan) -> Detection {
        let e = resume::Expected::for_layout(&plan.layout);
        let mut det = detection(plan, &[0, 1, 2], None);
        for (r, d) in det.disks.iter_mut().zip(&plan.layout.disks) {
            r.ptuuid = Some(e.markers.in_progress.clone());
            for p in &d.partitions {
                r.reasons.push(format!(
                    "partition:{}",
                    p.device.trim_start_matches("/dev/")
                ));
                r.names.push(resume::partlabel_name(&p.partlabel));
                if let crate::plan::PartitionRole::RaidMember { array } = &p.role {
                    r.names.push(resume::md_name(&format!("any:{array}")));
                    r.reasons.push("holder:md127".into());
                }
            }
        }
        det
    }

    fn decide_on(plan: &crate::plan::Plan, det: &Detection, wipe: Option<&WipeSpec>) -> Policy {
        decide(&Inputs {
            disks: &plan.layout.disks,
            detection: Ok(det),
            provisioned: Some(false),
            boot: &BootOptions::default(),
            wipe,
            resume: &resume::Expected::for_layout(&plan.layout),
        })
    }

    #[test]
    fn row_resumed_when_every_dirty_disk_holds_only_this_plans_cut_apply() {
        let plan = testkit::ssd_and_hdd_pair();
        let det = cut_apply(&plan);
        let p = decide_on(&plan, &det, None);
        let all: Vec<String> = plan
            .layout
            .disks
            .iter()
            .map(|d| d.stable_path.clone())
            .collect();
        assert_eq!(p, Policy::Resume { disks: all.clone() });
        assert_eq!(row(&p), ("applied".into(), "resumed".into()));
        assert!(p.writes());
        // Further along: filesystems of this plan, its LVs, mounted under /mnt, swap on.
        let mut further = det.clone();
        further.disks[0].names.extend([
            resume::fs_name("vfat", "EFI"),
            resume::dm_name("main-slash"),
            resume::fs_name("ext4", "slash"),
            resume::LVM_PV.to_owned(),
        ]);
        further.disks[0].reasons.push("mounted:/mnt".into());
        further.disks[1].reasons.push("swap".into());
        assert!(matches!(
            decide_on(&plan, &further, None),
            Policy::Resume { .. }
        ));
        // A disk the cut run had not reached yet is clean, and is left out of the teardown.
        let mut first_only = det.clone();
        for r in &mut first_only.disks[1..] {
            *r = DiskReport {
                ptuuid: None,
                names: vec![],
                reasons: vec![],
                ..r.clone()
            };
        }
        assert_eq!(
            decide_on(&plan, &first_only, None),
            Policy::Resume {
                disks: all[..1].to_vec()
            }
        );
        // A wipe switch naming the disks is obeyed as such.
        assert_eq!(
            decide_on(&plan, &det, Some(&WipeSpec::All)),
            Policy::WipeAndApply { disks: all }
        );
    }

    #[test]
    fn anything_but_this_plans_cut_apply_is_refused_as_before() {
        let plan = testkit::ssd_and_hdd_pair();
        let e = resume::Expected::for_layout(&plan.layout);
        let mut other = plan.clone();
        other.layout.disks[2].size_bytes -= 1 << 30;
        let other_marker = resume::Expected::for_layout(&other.layout)
            .markers
            .in_progress;
        type Edit = Box<dyn Fn(&mut Detection)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "another plan's marker",
                Box::new(move |d| d.disks[1].ptuuid = Some(other_marker.clone())),
            ),
            (
                "this plan's done marker",
                Box::new(move |d| d.disks[1].ptuuid = Some(e.markers.done.clone())),
            ),
            (
                "one disk without a marker",
                Box::new(|d| {
                    d.disks[2].ptuuid = Some("9c882443-6f2b-497e-8f1a-ef375c4241db".into());
                }),
            ),
            ("no GUID at all", Box::new(|d| d.disks[2].ptuuid = None)),
            (
                "a foreign filesystem label",
                Box::new(|d| d.disks[1].names.push(resume::fs_name("ext4", "olddata"))),
            ),
            (
                "a foreign partlabel",
                Box::new(|d| d.disks[0].names.push(resume::partlabel_name("data"))),
            ),
            (
                "a foreign array name",
                Box::new(|d| d.disks[1].names.push(resume::md_name("otherhost:swap"))),
            ),
            (
                "a foreign LV",
                Box::new(|d| d.disks[0].names.push(resume::dm_name("oldvg-home"))),
            ),
            (
                "an unreadable partition",
                Box::new(|d| d.disks[0].names.push(resume::unreadable_name("sda2"))),
            ),
            (
                "a signature on the whole disk",
                Box::new(|d| d.disks[0].names.push("signature:linux_raid_member".into())),
            ),
            (
                "a mount outside /mnt",
                Box::new(|d| d.disks[0].reasons.push("mounted:/srv".into())),
            ),
            (
                "data without a signature",
                Box::new(|d| d.disks[2].reasons.push("unknown-data".into())),
            ),
        ];
        for (what, edit) in cases {
            let mut det = cut_apply(&plan);
            edit(&mut det);
            let p = decide_on(&plan, &det, None);
            assert_eq!(
                row(&p),
                ("plan-only".into(), "existing-storage".into()),
                "{what}: {p:?}"
            );
            assert!(!p.writes(), "{what}");
        }
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
