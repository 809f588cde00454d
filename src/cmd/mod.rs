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
pub mod plan;
pub mod plan_source;
pub mod status;

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
            eprintln!(
                "pre-nixos: no command given; try `pre-nixos --plan-only` or `pre-nixos --help`"
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
        Some(Command::Completions { shell }) => docs::completions(shell),
        Some(Command::Man) => docs::man_page(),
    }
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
    }
}
