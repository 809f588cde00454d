//! `pre-nixos`: logging, parse, run, exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use pre_nixos::cli::Cli;
use pre_nixos::cli::JsonStyle;
use pre_nixos::context::Ctx;
use pre_nixos::error::{error_code, exit_code_for, print_error};
use pre_nixos::host::real::RealHost;
use pre_nixos::{cmd, logging};

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            match pre_nixos::cli::restyle_parse_error(
                &e,
                pre_nixos::cli::verb_in_argv(&argv).as_deref(),
            ) {
                Some(line) => {
                    // a closed stderr loses the line, never panics
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                    // a script that asked for JSON gets a document even for a bad argv
                    let short = argv.iter().any(|a| a == "--json=short");
                    if short || argv.iter().any(|a| a == "--json") {
                        let style = if short {
                            JsonStyle::Short
                        } else {
                            JsonStyle::Pretty
                        };
                        let message = line
                            .split_once(": error: ")
                            .map_or(line.as_str(), |(_, m)| m);
                        json_error(
                            style,
                            "usage",
                            code as u8,
                            message.lines().next().unwrap_or(""),
                        );
                    }
                }
                None => {
                    let _ = e.print();
                }
            }
            return ExitCode::from(code as u8);
        }
    };
    let verb = cli.verb();
    let json = cli.json_style();
    if let Err(msg) = cli
        .check()
        .and_then(|()| cmd::resolve_relative_paths(&mut cli, std::env::current_dir))
    {
        print_error(verb, &msg);
        if let Some(style) = json {
            json_error(style, "usage", 2, &msg);
        }
        return ExitCode::from(2);
    }
    let _log_guard = logging::init_with(cli.log_settings());
    let host = match &cli.global.root {
        Some(root) => RealHost::with_root(root),
        None => RealHost::new(),
    };
    // The kernel command line is read and parsed here, once, for the whole run.
    let ctx = Ctx::new(&host, cli.global.state_dir.clone());
    // SIGTERM/SIGINT end the run through its failure path (boot: STATE=failed, ERROR=
    // interrupted …) after killing the running command's process group (host::interrupt).
    if let Err(e) = pre_nixos::host::interrupt::install() {
        tracing::warn!(error = %e, "installing the SIGTERM handler; an interrupted run may leave STATE=running");
    }
    let result = cmd::dispatch(&ctx, cli);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            // The structured event is for the journal and the actions log; stderr gets
            // the human line below, once.
            tracing::error!(target: logging::OUTCOME_TARGET, error = %format!("{err:#}"), "pre-nixos failed");
            print_error(verb, &format!("{err:#}"));
            let code = exit_code_for(&err);
            if let Some(style) = json {
                json_error(style, error_code(&err), code, &format!("{err:#}"));
            }
            ExitCode::from(code)
        }
    }
}

/// An error as the JSON document on stdout that `--json` promises (the human line is on
/// stderr already). A stdout that cannot be written loses it; the exit code stays.
fn json_error(style: JsonStyle, code: &str, exit: u8, message: &str) {
    let doc = cmd::output::error_document(code, exit, message);
    let _ = cmd::output::write(&mut std::io::stdout().lock(), doc, style);
}
