//! The disko executor: the same plan as a disko configuration, run by disko.
//!
//! Writes `/var/log/pre-nixos/disko-config.nix` and the plan JSON beside it, asks
//! `disko --help` once which generation is installed — current ones take
//! `--mode destroy,format,mount --yes-wipe-all-disks` (without the flag they prompt),
//! old ones (≤ 1.9) only know `--mode disko` — and runs it with
//! `--root-mountpoint /mnt`, streaming its output into the log. A missing `disko` is
//! an error, never a silent success; and since disko can exit 0 having wiped nothing,
//! the caller verifies by reading the disks back afterwards.

use std::cell::RefCell;
use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context};

use crate::host::{Cmd, CmdError};
use crate::plan::{LvContent, Plan};

use super::Executor;
use crate::plan::naming::{target_path, TARGET};
use crate::storage::env::{Env, StepError};

pub const CONFIG_PATH: &str = "/var/log/pre-nixos/disko-config.nix";
pub const PLAN_COPY_PATH: &str = "/var/log/pre-nixos/storage-plan.json";
/// disko builds its scripts with nix before running them, then partitions, creates the
/// arrays and filesystems; md resync runs in the background. Well below the unit's
/// RuntimeMaxSec=45min (nixos/units/pre-nixos.service), so a hung disko fails with its
/// own message, not with the unit's bound.
pub const DISKO_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Building the scripts alone (`--dry-run`): everything is in the store or it fails.
pub const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// disko ≥ 1.10: `--mode destroy,format,mount`, with `--yes-wipe-all-disks` when offered.
    Current { yes_flag: bool },
    /// disko ≤ 1.9: `--mode disko`.
    Legacy,
}

/// Decides the generation from `disko --help` output.
pub fn generation_from_help(help: &str) -> Generation {
    if help.contains("destroy,format,mount") {
        Generation::Current {
            yes_flag: help.contains("--yes-wipe-all-disks"),
        }
    } else {
        Generation::Legacy
    }
}

/// The disko command line for a generation.
pub fn disko_command(g: Generation, config: &str) -> Cmd {
    let mut argv = vec!["disko".to_owned(), "--mode".to_owned()];
    match g {
        Generation::Current { yes_flag } => {
            argv.push("destroy,format,mount".into());
            if yes_flag {
                argv.push("--yes-wipe-all-disks".into());
            }
        }
        Generation::Legacy => argv.push("disko".into()),
    }
    argv.extend([
        "--root-mountpoint".to_owned(),
        TARGET.to_owned(),
        config.to_owned(),
    ]);
    Cmd::new("running disko", argv)
        .timeout(DISKO_TIMEOUT)
        .stream()
}

/// The same disko command with `--dry-run`: disko builds the scripts and prints their
/// path instead of running them (every generation has the flag).
pub fn build_only(mut cmd: Cmd) -> Cmd {
    cmd.argv.insert(1, "--dry-run".to_owned());
    cmd.what = "building disko's scripts (nothing is run)".to_owned();
    cmd
}

#[derive(Default)]
pub struct Disko {
    /// Probed once per process.
    generation: RefCell<Option<Generation>>,
}

impl Disko {
    fn probe(&self, env: &Env) -> anyhow::Result<Generation> {
        if let Some(g) = *self.generation.borrow() {
            return Ok(g);
        }
        let cmd = Cmd::new("asking disko which modes it has", ["disko", "--help"])
            .timeout(Duration::from_secs(60))
            .ok_codes(&[0, 1]);
        let out = match env.host.run(&cmd) {
            Ok(o) => o,
            Err(e @ CmdError::NotFound { .. }) => {
                return Err(anyhow!(e)).context("disko is not installed: use --executor native")
            }
            Err(e) => return Err(e.into()),
        };
        let g = generation_from_help(&format!("{}\n{}", out.stdout, out.stderr));
        tracing::info!(generation = ?g, "disko generation");
        *self.generation.borrow_mut() = Some(g);
        Ok(g)
    }
}

impl Executor for Disko {
    fn name(&self) -> &'static str {
        "disko"
    }

    fn required_tools(&self, plan: &Plan) -> Vec<&'static str> {
        let mut t = vec!["disko"];
        if has_modes(plan) {
            t.push("chmod");
        }
        t
    }

    /// disko builds its scripts with Nix before it runs them (`--dry-run` builds and
    /// stops there). On an image without their build closure and without a binary cache
    /// that build fails; finding out here, before the teardown, means a disk is never
    /// left half-applied by a disko that could not start.
    fn preflight(&self, env: &Env, plan: &Plan) -> anyhow::Result<()> {
        write_config(env, plan)?;
        let g = self.probe(env)?;
        let cmd =
            with_nix_path(build_only(disko_command(g, CONFIG_PATH))).timeout(PREFLIGHT_TIMEOUT);
        env.run(&cmd).map(|_| ()).map_err(|e| {
            anyhow!(
                "disko cannot build its scripts on this machine: {e:#}. The image must carry \
                 their build closure (or reach a binary cache); otherwise use the native \
                 executor (the default, `--executor native`). No disk was touched"
            )
        })
    }

    fn step_count(&self, plan: &Plan) -> usize {
        3 + usize::from(has_modes(plan))
    }

    fn apply(&self, env: &Env, plan: &Plan) -> Result<(), StepError> {
        env.step("disko-config", &format!("writing {CONFIG_PATH}"), || {
            write_config(env, plan)
        })?;
        let generation = RefCell::new(None);
        env.step("disko", "asking disko which modes it has", || {
            *generation.borrow_mut() = Some(self.probe(env)?);
            Ok(())
        })?;
        let g = generation.into_inner().unwrap_or(Generation::Legacy);
        let cmd = with_nix_path(disko_command(g, CONFIG_PATH));
        env.step("disko", &format!("running {}", cmd.display()), || {
            env.run(&cmd).map(|_| ())
        })?;
        if has_modes(plan) {
            env.step("mount", "setting the modes of mount points", || {
                for vg in &plan.layout.vgs {
                    for lv in &vg.lvs {
                        if let LvContent::Ext4 {
                            mountpoint,
                            mode: Some(mode),
                            ..
                        } = &lv.content
                        {
                            let target = target_path(mountpoint);
                            env.run(&Cmd::new(
                                format!("setting mode {mode:o} on {target}"),
                                ["chmod".to_owned(), format!("{mode:o}"), target.clone()],
                            ))?;
                        }
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// Writes the disko configuration and the plan beside it.
fn write_config(env: &Env, plan: &Plan) -> anyhow::Result<()> {
    let config = crate::render::disko::render_disko(plan);
    anyhow::ensure!(
        !config.trim().is_empty(),
        "rendering the disko configuration gave nothing"
    );
    env.host
        .write_atomic(Path::new(CONFIG_PATH), config.as_bytes(), 0o644)?;
    env.host
        .write_atomic(
            Path::new(PLAN_COPY_PATH),
            crate::render::json::plan_to_json(plan).as_bytes(),
            0o644,
        )
        .map_err(anyhow::Error::from)
}

/// The disko command with the `NIX_PATH` [`nix_path`] fills in from this process's
/// environment: the build in the preflight and the run see the same nixpkgs.
fn with_nix_path(cmd: Cmd) -> Cmd {
    match nix_path(
        std::env::var("NIX_PATH").ok().as_deref(),
        std::env::var("PRE_NIXOS_NIXPKGS").ok().as_deref(),
    ) {
        Some(p) => cmd.env("NIX_PATH", p),
        None => cmd,
    }
}

/// disko evaluates `<nixpkgs>`: when the unit gives no `NIX_PATH`, point it at the
/// nixpkgs the ISO was built from (`PRE_NIXOS_NIXPKGS`), as the module sets it.
pub fn nix_path(current: Option<&str>, nixpkgs: Option<&str>) -> Option<String> {
    match (current.filter(|c| !c.trim().is_empty()), nixpkgs) {
        (None, Some(p)) if !p.trim().is_empty() => Some(format!("nixpkgs={p}")),
        _ => None,
    }
}

fn has_modes(plan: &Plan) -> bool {
    plan.layout
        .vgs
        .iter()
        .flat_map(|v| &v.lvs)
        .any(|lv| matches!(lv.content, LvContent::Ext4 { mode: Some(_), .. }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::{FakeHost, Response};
    use crate::testkit::{self, Machine};

    const HELP_CURRENT: &str = "Usage: disko [options] disk-config.nix\n\
        Options:\n* -m, --mode mode\n  set the mode, either distroy, format, mount, unmount, format,mount or destroy,format,mount\n\
        * --yes-wipe-all-disks\n  skip the safety check for destroying partitions, useful for automation\n\
        * --root-mountpoint /some/other/mnt\n";
    const HELP_LEGACY: &str = "Usage: disko [options] disk-config.nix\n\
        * -m, --mode mode\n  set the mode, either format, mount or disko\n";

    #[test]
    fn both_generations_get_their_command_line() {
        assert_eq!(
            disko_command(generation_from_help(HELP_CURRENT), CONFIG_PATH).display(),
            "disko --mode destroy,format,mount --yes-wipe-all-disks --root-mountpoint /mnt /var/log/pre-nixos/disko-config.nix"
        );
        assert_eq!(
            disko_command(generation_from_help(HELP_LEGACY), CONFIG_PATH).display(),
            "disko --mode disko --root-mountpoint /mnt /var/log/pre-nixos/disko-config.nix"
        );
        assert!(disko_command(Generation::Legacy, "x").stream);
    }

    fn run_with_help(help: &str) -> (FakeHost, Machine, Result<(), StepError>) {
        let plan = testkit::ssd_and_hdd_pair();
        let m = Machine::for_plan(&plan);
        let host = FakeHost::new(m.root());
        host.on(&["disko", "--help"], Response::stdout(help));
        let env = Env::new(&host).with_path(testkit::TEST_PATH);
        let r = Disko::default().apply(&env, &plan);
        (host, m, r)
    }

    #[test]
    fn runs_disko_once_with_the_probed_mode_and_sets_modes() {
        let (host, m, r) = run_with_help(HELP_CURRENT);
        r.unwrap();
        assert_eq!(
            host.command_lines(),
            [
                "disko --help",
                "disko --mode destroy,format,mount --yes-wipe-all-disks --root-mountpoint /mnt /var/log/pre-nixos/disko-config.nix",
                "chmod 1777 /mnt/var/tmp",
            ]
        );
        let config = std::fs::read_to_string(m.path(CONFIG_PATH)).unwrap();
        assert_eq!(
            config,
            crate::render::disko::render_disko(&testkit::ssd_and_hdd_pair())
        );
        let plan_copy = std::fs::read_to_string(m.path(PLAN_COPY_PATH)).unwrap();
        assert_eq!(
            crate::render::json::plan_from_json(&plan_copy).unwrap(),
            testkit::ssd_and_hdd_pair()
        );
        // The long run streams its output into the log.
        assert!(host.commands()[1].stream);
    }

    #[test]
    fn an_old_disko_gets_the_legacy_mode() {
        let (host, _m, r) = run_with_help(HELP_LEGACY);
        r.unwrap();
        assert_eq!(
            host.command_lines()[1],
            "disko --mode disko --root-mountpoint /mnt /var/log/pre-nixos/disko-config.nix"
        );
    }

    #[test]
    fn a_failing_disko_stops_with_its_stderr() {
        let plan = testkit::ssd_and_hdd_pair();
        let m = Machine::for_plan(&plan);
        let host = FakeHost::new(m.root());
        host.on(&["disko", "--help"], Response::stdout(HELP_CURRENT));
        host.on(
            &["disko", "--mode"],
            Response::fail(
                1,
                "error: file 'nixpkgs' was not found in the Nix search path",
            ),
        );
        let env = Env::new(&host).with_path(testkit::TEST_PATH);
        let e = Disko::default().apply(&env, &plan).unwrap_err();
        assert_eq!(e.step, "disko");
        assert!(format!("{:#}", e.error).contains("'nixpkgs' was not found"));
        // No chmod after a failed disko.
        assert_eq!(host.commands().len(), 2);
    }

    #[test]
    fn nix_path_is_only_filled_in_when_missing() {
        assert_eq!(
            nix_path(None, Some("/nix/store/abc-source")).as_deref(),
            Some("nixpkgs=/nix/store/abc-source")
        );
        assert_eq!(
            nix_path(Some(""), Some("/x")).as_deref(),
            Some("nixpkgs=/x")
        );
        assert_eq!(nix_path(Some("nixpkgs=/y"), Some("/x")), None);
        assert_eq!(nix_path(None, None), None);
    }

    #[test]
    fn a_missing_disko_is_an_error() {
        let plan = testkit::single_nvme();
        let m = Machine::for_plan(&plan);
        let host = FakeHost::new(m.root());
        host.on(&["disko"], Response::NotFound);
        let env = Env::new(&host).with_path(testkit::TEST_PATH);
        let d = Disko::default();
        let e = d.probe(&env).unwrap_err();
        assert!(format!("{e:#}").contains("disko is not installed"), "{e:#}");
        // The up-front tool check names it too.
        let e = crate::storage::env::check_tools(&env, &d.required_tools(&plan)).unwrap_err();
        assert!(e.to_string().contains("disko not found"), "{e}");
    }
}
