//! The verb handlers: one per subcommand. Each turns the parsed arguments into the plain
//! option structs of the stages, calls them, and prints the result. Stages never see a
//! clap type; nothing below imports this module.

pub mod apply;
pub mod boot;
pub mod detect;
pub mod diagnose;
pub mod docs;
pub mod inventory;
pub mod network;
pub mod output;
pub mod plan;
pub mod plan_source;
pub mod status;
pub mod tui;

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{Cli, Command, ExecutorArg, ModeArg, NetOptions, PlanShape};
use crate::context::Ctx;
use crate::kcmdline::BootOptions;
use crate::plan::{Mode, PlanOptions};
use crate::storage::exec::ExecutorKind;

/// Runs the subcommand `cli` names; the exit code, or an error for `main` to print.
pub fn dispatch(ctx: &Ctx, cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        None if cli.plan_only => plan::run(ctx, &cli.plan_args),
        None => {
            crate::error::print_error(
                None,
                "no command given; try `pre-nixos plan` or `pre-nixos --help`",
            );
            Ok(crate::error::EXIT_USAGE)
        }
        Some(Command::Boot(a)) => boot::run(ctx, &a),
        Some(Command::Plan(a)) => plan::run(ctx, &a),
        Some(Command::Inventory(a)) => inventory::run(ctx, &a),
        Some(Command::DetectStorage(a)) => detect::run(ctx, &a),
        Some(Command::Apply(a)) => apply::run(ctx, &a),
        Some(Command::Network(a)) => network::run(ctx, &a),
        Some(Command::Status(a)) => status::run(ctx, &a),
        Some(Command::Diagnose(a)) => diagnose::run(ctx, &a),
        Some(Command::Tui(a)) => tui::run(ctx, &a),
        Some(Command::Completions { shell }) => docs::completions(shell),
        Some(Command::Man { out }) => docs::man_page(out.as_deref()),
    }
}

/// Every path option of the command line (`PRE_NIXOS_STATE_DIR` and `PRE_NIXOS_ROOT`
/// included: clap folds them into the same fields), to make absolute.
fn path_options(cli: &mut Cli) -> Vec<&mut PathBuf> {
    let mut paths: Vec<&mut PathBuf> = vec![&mut cli.global.state_dir];
    paths.extend(cli.global.root.as_mut());
    paths.extend(cli.plan_args.inventory.as_mut());
    let more = match &mut cli.command {
        Some(Command::Boot(a)) => a.net.authorized_keys.as_mut(),
        Some(Command::Plan(a)) => a.inventory.as_mut(),
        Some(Command::DetectStorage(a)) => a.plan.as_mut(),
        Some(Command::Apply(a)) => a.plan.as_mut(),
        Some(Command::Network(a)) => a.net.authorized_keys.as_mut(),
        Some(Command::Diagnose(a)) => a.out.as_mut(),
        Some(Command::Tui(a)) => a.inventory.as_mut(),
        Some(Command::Inventory(_))
        | Some(Command::Status(_))
        | Some(Command::Completions { .. })
        | Some(Command::Man { .. })
        | None => None,
    };
    paths.extend(more);
    paths
}

/// Makes every relative path option absolute from the current directory (`cwd` is
/// asked only when there is one: a deleted working directory must not break
/// `pre-nixos status`).
///
/// Why here and not in the host: `Host::path` reads every path as a path of the target
/// system and joins it under the host root, so a relative `--state-dir st1` would land
/// in `/st1`. The operator meant the directory they stand in; only argument handling
/// knows that.
pub fn resolve_relative_paths(
    cli: &mut Cli,
    cwd: impl FnOnce() -> std::io::Result<PathBuf>,
) -> Result<(), String> {
    let relative: Vec<&mut PathBuf> = path_options(cli)
        .into_iter()
        .filter(|p| p.is_relative())
        .collect();
    let Some(first) = relative.first() else {
        return Ok(());
    };
    let cwd = cwd().map_err(|e| {
        format!(
            "finding the current directory for the relative path {}: {e}; give it as an \
             absolute path",
            first.display()
        )
    })?;
    for p in relative {
        *p = cwd.join(&*p);
    }
    Ok(())
}

/// Plan options: the command line wins over the kernel command line, which wins over
/// the defaults.
pub fn plan_options(shape: Option<&PlanShape>, boot: &BootOptions) -> PlanOptions {
    PlanOptions {
        mode: shape
            .and_then(|s| s.mode)
            .map(mode)
            .or(boot.mode)
            .unwrap_or_default(),
        swap_size_bytes: shape.and_then(|s| s.swap_size).or(boot.swap_size_bytes),
    }
}

/// A `--swap-size` the plan cannot give in full is an error naming the limit (the same
/// request from `pre-nixos.swap=` is only a warning at the top of the summary: a boot
/// must not stop for it).
pub fn check_swap_request(
    shape: Option<&PlanShape>,
    plan: &crate::plan::Plan,
) -> Result<(), crate::error::UsageError> {
    if shape.and_then(|s| s.swap_size).is_none() {
        return Ok(());
    }
    let Some((asked, got, why)) = crate::plan::volumes::swap_shortfall(plan) else {
        return Ok(());
    };
    let fix = if got > 0 {
        format!("give at most --swap-size {}M", got >> 20)
    } else {
        "give a smaller --swap-size, or leave it out for the default".to_owned()
    };
    Err(crate::error::UsageError::new(format!(
        "--swap-size {} does not fit this machine ({why}); {fix}",
        crate::units::human_binary(asked)
    )))
}

fn mode(m: ModeArg) -> Mode {
    match m {
        ModeArg::Fast => Mode::Fast,
        ModeArg::Careful => Mode::Careful,
    }
}

pub fn executor_kind(e: ExecutorArg) -> ExecutorKind {
    match e {
        ExecutorArg::Native => ExecutorKind::Native,
        ExecutorArg::Disko => ExecutorKind::Disko,
    }
}

pub fn net_options(n: &NetOptions) -> crate::network::Options {
    crate::network::Options {
        carrier_timeout: Duration::from_secs(n.carrier_timeout),
        authorized_keys: n.authorized_keys.clone(),
        lan: n.lan.clone(),
        nic_udev_timeout: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn resolved(argv: &[&str]) -> Cli {
        let mut cli = Cli::try_parse_from(argv).unwrap();
        resolve_relative_paths(&mut cli, || Ok(PathBuf::from("/home/op"))).unwrap();
        cli
    }

    #[test]
    fn every_relative_path_option_is_made_absolute_from_the_cwd() {
        let cli = resolved(&[
            "pre-nixos",
            "--state-dir",
            "st",
            "network",
            "--authorized-keys",
            "k.pub",
        ]);
        assert_eq!(cli.global.state_dir, PathBuf::from("/home/op/st"));
        match cli.command {
            Some(Command::Network(a)) => {
                assert_eq!(a.net.authorized_keys, Some("/home/op/k.pub".into()));
            }
            other => panic!("{other:?}"),
        }
        let cli = resolved(&["pre-nixos", "boot", "--authorized-keys", "../k.pub"]);
        match cli.command {
            Some(Command::Boot(a)) => {
                assert_eq!(a.net.authorized_keys, Some("/home/op/../k.pub".into()));
            }
            other => panic!("{other:?}"),
        }
        let cli = resolved(&["pre-nixos", "apply", "--plan", "p.json"]);
        assert!(
            matches!(cli.command, Some(Command::Apply(a)) if a.plan == Some("/home/op/p.json".into()))
        );
        let cli = resolved(&["pre-nixos", "detect-storage", "--plan", "p.json"]);
        assert!(
            matches!(cli.command, Some(Command::DetectStorage(a)) if a.plan == Some("/home/op/p.json".into()))
        );
        let cli = resolved(&["pre-nixos", "plan", "--inventory", "i.json"]);
        assert!(
            matches!(cli.command, Some(Command::Plan(a)) if a.inventory == Some("/home/op/i.json".into()))
        );
        let cli = resolved(&["pre-nixos", "--plan-only", "--inventory", "i.json"]);
        assert_eq!(cli.plan_args.inventory, Some("/home/op/i.json".into()));
        let cli = resolved(&["pre-nixos", "diagnose", "--out", "d"]);
        assert!(
            matches!(cli.command, Some(Command::Diagnose(a)) if a.out == Some("/home/op/d".into()))
        );
        let cli = resolved(&["pre-nixos", "--root", "fx", "status"]);
        assert_eq!(cli.global.root, Some("/home/op/fx".into()));
    }

    #[test]
    fn absolute_paths_stay_and_need_no_cwd() {
        let mut cli =
            Cli::try_parse_from(["pre-nixos", "status", "--state-dir", "/srv/st"]).unwrap();
        resolve_relative_paths(&mut cli, || Err(std::io::Error::other("cwd deleted"))).unwrap();
        assert_eq!(cli.global.state_dir, PathBuf::from("/srv/st"));
        // A relative path with no current directory is an error naming the path.
        let mut cli = Cli::try_parse_from(["pre-nixos", "status", "--state-dir", "st"]).unwrap();
        let e = resolve_relative_paths(&mut cli, || Err(std::io::Error::other("cwd deleted")))
            .unwrap_err();
        assert!(e.contains("relative path st: cwd deleted"), "{e}");
    }
}
