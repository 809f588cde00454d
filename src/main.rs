//! `pre-nixos`: logging, parse, run, exit code.

use std::process::ExitCode;

use clap::Parser;

use pre_nixos::cli::{Cli, Command};
use pre_nixos::context::Ctx;
use pre_nixos::error::exit_code_for;
use pre_nixos::host::real::RealHost;
use pre_nixos::{apply, boot, detect, diagnose, docs, inventory, logging, network, render, report};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let _ = e.print();
            return ExitCode::from(code as u8);
        }
    };
    if let Err(msg) = cli.check() {
        eprintln!("pre-nixos: error: {msg}");
        return ExitCode::from(2);
    }
    let _log_guard = logging::init(cli.global.verbose, &cli.global.state_dir);
    let host = match &cli.global.root {
        Some(root) => RealHost::with_root(root),
        None => RealHost::new(),
    };
    let ctx = Ctx::new(&host, cli.global.state_dir.clone());
    // SIGTERM/SIGINT end the run through its failure path (boot: STATE=failed, ERROR=
    // interrupted …) after killing the running command's process group (host::interrupt).
    if let Err(e) = pre_nixos::host::interrupt::install() {
        tracing::warn!(error = %e, "installing the SIGTERM handler; an interrupted run may leave STATE=running");
    }
    let result = match cli.command {
        None if cli.plan_only => render::plan_command(&ctx, &cli.plan_args),
        None => {
            eprintln!(
                "pre-nixos: no command given; try `pre-nixos --plan-only` or `pre-nixos --help`"
            );
            Ok(2)
        }
        Some(Command::Boot(a)) => boot::run(&ctx, &a),
        Some(Command::Plan(a)) => render::plan_command(&ctx, &a),
        Some(Command::Inventory(a)) => inventory::command(&ctx, &a),
        Some(Command::DetectStorage(a)) => detect::command(&ctx, &a),
        Some(Command::Apply(a)) => apply::command(&ctx, &a),
        Some(Command::Network(a)) => network::command(&ctx, &a),
        Some(Command::Status(a)) => report::command(&ctx, &a),
        Some(Command::Diagnose(a)) => diagnose::command(&ctx, &a),
        Some(Command::Completions { shell }) => docs::completions(shell),
        Some(Command::Man) => docs::man_page(),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // The structured event is for the journal and the actions log; stderr gets
            // the human line below, once.
            tracing::error!(target: logging::OUTCOME_TARGET, error = %format!("{err:#}"), "pre-nixos failed");
            eprintln!("pre-nixos: error: {err:#}");
            ExitCode::from(exit_code_for(&err))
        }
    }
}
