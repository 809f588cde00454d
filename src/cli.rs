//! The command line (clap derive). `main` parses it and hands each subcommand to
//! one function; parsing is tested from argv arrays.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::kcmdline::WipeMethod;
use crate::network::CARRIER_TIMEOUT_DEFAULT;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (also: a plan-only outcome such as existing storage left untouched)
  1  failure (a step failed; see the message and /run/pre-nixos/storage-status)
  2  usage error, malformed input file, nothing to plan (no usable disk), or storage
     detection error
detect-storage: 0 existing storage found, 1 all planned disks clean, 2 detection failed
status: 0 report shown (whatever the storage state), 2 a state file is unreadable or corrupt
diagnose: 0 bundle written (items that could not be collected are listed in its index),
          1 the bundle directory could not be created";

/// `0.1.0 (commit 0123456789ab)`: the version and the git commit of the build
/// (`build.rs`; `unknown` when neither git nor the builder could say).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PRE_NIXOS_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "pre-nixos",
    version = VERSION,
    about = "Prepare a bare-metal server for nixos-install: plan and create its storage, bring up the LAN and SSH",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Print the storage plan for this machine and exit; changes nothing (same as `plan`;
    /// `boot --plan-only` is the kernel switch instead: it runs the boot, touching no disk).
    #[arg(long)]
    pub plan_only: bool,

    /// Options of `--plan-only`.
    #[command(flatten)]
    pub plan_args: PlanArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Root of the system to read (sysfs, procfs, /etc); for fixture trees and chroots.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "PRE_NIXOS_ROOT",
        hide = true
    )]
    pub root: Option<PathBuf>,

    /// Directory of storage-status, network-status, storage-plan.json and the lock.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "PRE_NIXOS_STATE_DIR",
        default_value = "/run/pre-nixos"
    )]
    pub state_dir: PathBuf,

    /// More log output on stderr: info (-v), debug (-vv), trace (-vvv); without it a
    /// command shows warnings and errors only (boot: info and up).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Errors only on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Colour in the log on stderr: auto (a terminal, and NO_COLOR unset), always, never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorArg {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the boot flow: LAN + SSH first, then detect, plan, apply if clean, verify, status.
    Boot(BootArgs),
    /// Print the storage plan for this machine; changes nothing.
    Plan(PlanArgs),
    /// List disks and NICs, and every excluded device with the reason.
    Inventory(InventoryArgs),
    /// Tell whether the planned disks are clean (exit 0 existing storage, 1 clean, 2 error).
    DetectStorage(DetectArgs),
    /// Create the planned layout (refuses disks that hold anything unless --wipe names them).
    Apply(ApplyArgs),
    /// Choose the LAN, rename it `lan`, enable DHCP, harden and start sshd, announce.
    Network(NetworkArgs),
    /// Show what happened: storage state, plan, verify diff, LAN, sshd, pending jobs.
    Status(StatusArgs),
    /// Collect every piece of evidence into one directory and a .tar.gz.
    Diagnose(DiagnoseArgs),
    /// Review, adjust and apply the storage plan on a terminal (serial console at 80×24).
    Tui(TuiArgs),
    /// Print shell completions.
    #[command(hide = true)]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write every page (one per subcommand) into DIR.
    #[command(hide = true)]
    Man {
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PlanOutput {
    /// One screen for people.
    #[default]
    Summary,
    /// storage-plan.json.
    Json,
    /// disko-config.nix.
    Disko,
}

/// `--json` (indented) or `--json=short` (one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum JsonStyle {
    #[default]
    Pretty,
    Short,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Fast,
    Careful,
}

impl Cli {
    /// How to log this run: `boot` is the service (info to the journal); every other
    /// verb is a person at a terminal. Only the verbs that change the machine append
    /// to the actions log.
    pub fn log_settings(&self) -> crate::logging::Settings {
        let changes = match &self.command {
            Some(Command::Boot(a)) => !a.dry_run,
            Some(Command::Apply(a)) => !a.dry_run,
            Some(Command::Network(a)) => !a.dry_run,
            // It may apply, as `apply` does.
            Some(Command::Tui(_)) => true,
            _ => false,
        };
        crate::logging::Settings {
            verbose: self.global.verbose,
            quiet: self.global.quiet,
            interactive: !matches!(&self.command, Some(Command::Boot(a)) if !a.dry_run),
            color: match self.global.color {
                ColorArg::Auto => crate::logging::Color::Auto,
                ColorArg::Always => crate::logging::Color::Always,
                ColorArg::Never => crate::logging::Color::Never,
            },
            actions_log: changes,
        }
    }

    /// The JSON style the command was asked for, if any (`plan --output json` counts):
    /// an error is then a JSON document on stdout too.
    pub fn json_style(&self) -> Option<JsonStyle> {
        let plan = |a: &PlanArgs| {
            a.json
                .or((a.output == PlanOutput::Json).then_some(JsonStyle::Pretty))
        };
        match &self.command {
            None if self.plan_only => plan(&self.plan_args),
            None => None,
            Some(Command::Plan(a)) => plan(a),
            Some(Command::Inventory(a)) => a.json,
            Some(Command::DetectStorage(a)) => a.json,
            Some(Command::Apply(a)) => a.json,
            Some(Command::Network(a)) => a.json,
            Some(Command::Status(a)) => a.json,
            Some(Command::Diagnose(a)) => a.json,
            Some(Command::Boot(_))
            | Some(Command::Tui(_))
            | Some(Command::Completions { .. })
            | Some(Command::Man { .. }) => None,
        }
    }

    /// The subcommand's name as typed (`detect-storage`), for the error prefix.
    pub fn verb(&self) -> Option<&'static str> {
        Some(match self.command.as_ref()? {
            Command::Boot(_) => "boot",
            Command::Plan(_) => "plan",
            Command::Inventory(_) => "inventory",
            Command::DetectStorage(_) => "detect-storage",
            Command::Apply(_) => "apply",
            Command::Network(_) => "network",
            Command::Status(_) => "status",
            Command::Diagnose(_) => "diagnose",
            Command::Tui(_) => "tui",
            Command::Completions { .. } => "completions",
            Command::Man { .. } => "man",
        })
    }

    /// Plan options before a subcommand (`pre-nixos --output json status`) would be
    /// silently ignored; they are a usage error instead.
    pub fn check(&self) -> Result<(), String> {
        if self.command.is_some() && (self.plan_only || self.plan_args != PlanArgs::default()) {
            return Err(
                "--plan-only and its options (--output, --inventory, --wide, --mode, --swap-size) \
                 go without a subcommand, or after `plan`"
                    .into(),
            );
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorArg {
    Native,
    Disko,
}

/// Options that shape the plan (shared by plan, apply and boot).
#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct PlanShape {
    /// fast: stripe SSD buckets; careful: mirror them. Overrides pre-nixos.mode=.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,

    /// Swap size: 8G = 8 GiB, 8GB = 8×10⁹ bytes; at least 1G, 0 = none; it must fit.
    /// Default 2 × RAM capped at 64G. Overrides pre-nixos.swap=.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub swap_size: Option<u64>,
}

#[derive(Debug, Args, Clone, Default, PartialEq, Eq)]
pub struct PlanArgs {
    /// What to print: the one-screen summary, storage-plan.json, or disko-config.nix.
    #[arg(long, value_enum, default_value_t = PlanOutput::Summary)]
    pub output: PlanOutput,

    /// The same as `--output json` (`--json=short`: on one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty",
        conflicts_with = "output"
    )]
    pub json: Option<JsonStyle>,

    /// Plan from a saved `pre-nixos inventory --json` file instead of this machine.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    /// Summary: print every line whole, each disk's /dev/disk/by-id path, the arrays on
    /// their own and every decision (by default it fits one screen: the terminal's width,
    /// 80 columns when unknown, without the paths and the logical volumes' sizing).
    #[arg(long)]
    pub wide: bool,

    #[command(flatten)]
    pub shape: PlanShape,
}

#[derive(Debug, Args, Clone, Default)]
pub struct InventoryArgs {
    /// Print schema-versioned JSON (`--json=short`: on one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DetectArgs {
    /// Print every planned disk with the reasons it is not clean, as JSON (also when
    /// detection fails: an `error` document); `--json=short`: on one line.
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,
    /// Check the disks of this plan instead of planning this machine.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

fn wipe_method_parser() -> impl clap::builder::TypedValueParser<Value = WipeMethod> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(WipeMethod::ALL.map(WipeMethod::as_str))
        .map(|s: String| WipeMethod::parse(&s).unwrap_or_default())
}

#[derive(Debug, Args, Clone, Default)]
pub struct ApplyArgs {
    /// Apply this storage-plan.json instead of planning this machine now (its mode and
    /// swap are in the file: --mode and --swap-size next to it are an error).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["mode", "swap_size"])]
    pub plan: Option<PathBuf>,

    /// native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix).
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorArg>,

    /// Disks that may be wiped: `all` or serials separated by commas.
    #[arg(long, value_name = "all|SERIAL,…")]
    pub wipe: Option<String>,

    /// How the disks --wipe names are cleaned: signatures (the default; fast), discard
    /// (blkdiscard, SSD/NVMe) or overwrite (random data over the whole disk; slow).
    #[arg(long, value_name = "METHOD", requires = "wipe", value_parser = wipe_method_parser())]
    pub wipe_method: Option<WipeMethod>,

    /// Print every command in order and change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the outcome (and a dry run's commands) as JSON (`--json=short`: one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,

    #[command(flatten)]
    pub shape: PlanShape,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TuiArgs {
    /// Review the plan of a saved inventory (`pre-nixos inventory --json`) instead of
    /// this machine; applying it is then refused.
    #[arg(long, value_name = "FILE")]
    pub inventory: Option<PathBuf>,

    #[command(flatten)]
    pub shape: PlanShape,
}

#[derive(Debug, Args, Clone, Default)]
pub struct NetworkArgs {
    /// Show NICs, scores, the choice and the files and commands; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Print the report (and a dry run's actions) as JSON (`--json=short`: one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,

    #[command(flatten)]
    pub net: NetOptions,
}

#[derive(Debug, Args, Clone)]
pub struct NetOptions {
    /// How long to wait for a carrier on any candidate NIC.
    #[arg(long, value_name = "SECONDS", default_value_t = CARRIER_TIMEOUT_DEFAULT)]
    pub carrier_timeout: u64,

    /// Root's authorized keys to install (default /etc/pre-nixos/authorized_keys).
    #[arg(long, value_name = "FILE")]
    pub authorized_keys: Option<PathBuf>,

    /// Use the NIC with this MAC as the LAN (overrides pre-nixos.lan=).
    #[arg(long, value_name = "MAC")]
    pub lan: Option<String>,
}

/// The same defaults as the command line: a hand-built `NetOptions` (tests, other
/// callers) must not get a zero carrier deadline.
impl Default for NetOptions {
    fn default() -> Self {
        NetOptions {
            carrier_timeout: CARRIER_TIMEOUT_DEFAULT,
            authorized_keys: None,
            lan: None,
        }
    }
}

#[derive(Debug, Args, Clone, Default)]
pub struct BootArgs {
    #[command(flatten)]
    pub net: NetOptions,

    /// Bring up the LAN and SSH, plan and record the plan, touch no disk: the kernel's
    /// pre-nixos.plan-only=1. (`pre-nixos --plan-only` without `boot` only prints the plan.)
    #[arg(long)]
    pub plan_only: bool,

    /// Disks that may be wiped: `all` or serials separated by commas; the kernel's
    /// pre-nixos.wipe=, which it overrides.
    #[arg(long, value_name = "all|SERIAL,…")]
    pub wipe: Option<String>,

    /// native (sgdisk, mdadm, lvm, mkfs; the default) or disko (builds its scripts with Nix).
    #[arg(long, value_enum)]
    pub executor: Option<ExecutorArg>,

    /// The whole flow (network, then storage) with nothing changed: print every file it
    /// would write and every command it would run, in order.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub shape: PlanShape,
}

#[derive(Debug, Args, Clone, Default)]
pub struct StatusArgs {
    /// The status files, sshd and systemd only: do not read the disks back (the verify
    /// step, which a wedged disk can hold for minutes). What the login shell runs.
    #[arg(long)]
    pub brief: bool,

    /// Print the report as schema-versioned JSON (`--json=short`: on one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct DiagnoseArgs {
    /// Where to put the bundle (default /var/log/pre-nixos/diagnose).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Print the verdict, the items and where the bundle went as JSON (`--json=short`:
    /// one line).
    #[arg(
        long,
        value_enum,
        value_name = "STYLE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "pretty"
    )]
    pub json: Option<JsonStyle>,
}

/// The subcommand an argv names (its first word that is one), for the prefix of a
/// parse error, which comes before there is a [`Cli`] to ask.
pub fn verb_in_argv<S: AsRef<std::ffi::OsStr>>(argv: &[S]) -> Option<String> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    argv.iter().skip(1).find_map(|a| {
        let a = a.as_ref().to_str()?;
        cmd.get_subcommands()
            .find(|s| s.get_name() == a)
            .map(|s| s.get_name().to_owned())
    })
}

/// A clap parse error in the one error shape (`pre-nixos <verb>: error: …`), its usage
/// lines kept; help and version requests are not errors and stay as clap prints them.
pub fn restyle_parse_error(err: &clap::Error, verb: Option<&str>) -> Option<String> {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = err.render().to_string();
    let body = text.strip_prefix("error: ").unwrap_or(&text);
    Some(crate::error::error_line(verb, body.trim_end()))
}

/// `--swap-size`: a size of at least 1 GiB (no token swap volumes), or 0 for no swap,
/// and no more than the planner accepts.
fn parse_size_arg(s: &str) -> Result<u64, String> {
    let b = crate::units::parse_size(s)?;
    let min = crate::plan::volumes::SWAP_MIN_BYTES;
    if b > 0 && b < min {
        return Err(format!(
            "{} is below the {} minimum swap; give at least 1G, or 0 for no swap",
            crate::units::human_binary(b),
            crate::units::human_binary(min)
        ));
    }
    if b > crate::plan::MAX_BYTES {
        return Err(format!(
            "{b} bytes is beyond the 1 PiB the planner accepts; give a real swap size such as 16G"
        ));
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_dry_run_boot_logs_like_a_person_at_a_terminal_and_appends_no_action() {
        let settings = |argv: &[&str]| Cli::try_parse_from(argv).unwrap().log_settings();
        let real = settings(&["pre-nixos", "boot"]);
        assert!(real.actions_log && !real.interactive);
        let dry = settings(&["pre-nixos", "boot", "--dry-run"]);
        assert!(!dry.actions_log && dry.interactive);
        let brief = Cli::try_parse_from(["pre-nixos", "status", "--brief"]).unwrap();
        assert!(matches!(
            brief.command,
            Some(Command::Status(StatusArgs { brief: true, .. }))
        ));
    }

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn hand_built_net_options_agree_with_the_command_line() {
        let parsed = match Cli::try_parse_from(["pre-nixos", "network"])
            .unwrap()
            .command
        {
            Some(Command::Network(a)) => a.net,
            other => panic!("{other:?}"),
        };
        assert_eq!(parsed.carrier_timeout, 30);
        assert_eq!(
            NetOptions::default().carrier_timeout,
            parsed.carrier_timeout
        );
        assert_eq!(BootArgs::default().net.carrier_timeout, 30);
    }

    #[test]
    fn plan_only_flag_takes_plan_options() {
        let cli = Cli::try_parse_from([
            "pre-nixos",
            "--plan-only",
            "--output",
            "json",
            "--mode",
            "careful",
            "--swap-size",
            "8G",
        ])
        .unwrap();
        assert!(cli.plan_only);
        assert!(cli.command.is_none());
        assert_eq!(cli.plan_args.output, PlanOutput::Json);
        assert_eq!(cli.plan_args.shape.mode, Some(ModeArg::Careful));
        assert_eq!(cli.plan_args.shape.swap_size, Some(8 << 30));
    }

    #[test]
    fn global_options_go_before_or_after_the_subcommand() {
        for argv in [
            vec!["pre-nixos", "--state-dir", "/tmp/s", "status"],
            vec!["pre-nixos", "status", "--state-dir", "/tmp/s"],
        ] {
            let cli = Cli::try_parse_from(&argv).unwrap();
            assert_eq!(cli.global.state_dir, PathBuf::from("/tmp/s"), "{argv:?}");
            assert!(cli.check().is_ok());
        }
        let cli = Cli::try_parse_from(["pre-nixos", "--output", "json", "status"]).unwrap();
        assert!(cli.check().unwrap_err().contains("after `plan`"));
    }

    #[test]
    fn plan_subcommand_parses() {
        let cli = Cli::try_parse_from(["pre-nixos", "plan", "--inventory", "x.json"]).unwrap();
        match cli.command {
            Some(Command::Plan(a)) => {
                assert_eq!(a.inventory, Some(PathBuf::from("x.json")));
                assert_eq!(a.output, PlanOutput::Summary);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for argv in [
            vec!["pre-nixos", "plan", "--output", "yaml"],
            vec!["pre-nixos", "plan", "--swap-size", "8X"],
            vec!["pre-nixos", "--frobnicate"],
            vec!["pre-nixos", "apply", "--executor", "dd"],
        ] {
            let err = Cli::try_parse_from(&argv).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{argv:?}");
        }
    }

    #[test]
    fn plan_only_options_next_to_a_subcommand_are_refused() {
        for argv in [
            vec!["pre-nixos", "--plan-only", "status"],
            vec!["pre-nixos", "--output", "json", "inventory"],
            vec!["pre-nixos", "--swap-size", "8G", "boot"],
        ] {
            let cli = Cli::try_parse_from(&argv).unwrap();
            assert!(cli.check().is_err(), "{argv:?}");
        }
        // The same options after `plan` are the subcommand's own.
        let cli = Cli::try_parse_from(["pre-nixos", "plan", "--output", "json"]).unwrap();
        assert!(cli.check().is_ok());
        // Global options mixed around a subcommand are fine.
        let cli = Cli::try_parse_from([
            "pre-nixos",
            "-v",
            "status",
            "--state-dir",
            "/tmp/s",
            "--json",
        ])
        .unwrap();
        assert!(cli.check().is_ok());
        assert!(matches!(
            cli.command,
            Some(Command::Status(StatusArgs {
                json: Some(JsonStyle::Pretty),
                brief: false,
            }))
        ));
    }

    #[test]
    fn help_shows_the_exit_code_table() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains(EXIT_CODES_HELP), "{help}");
        let long = Cli::command().render_long_help().to_string();
        assert!(long.contains(EXIT_CODES_HELP), "{long}");
    }

    #[test]
    fn shape_options_next_to_a_plan_file_are_refused() {
        for extra in [["--mode", "careful"], ["--swap-size", "8G"]] {
            let mut argv = vec!["pre-nixos", "apply", "--plan", "p.json"];
            argv.extend(extra);
            let e = Cli::try_parse_from(&argv).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{argv:?}"
            );
            assert_eq!(e.exit_code(), 2);
        }
        assert!(Cli::try_parse_from(["pre-nixos", "apply", "--mode", "careful"]).is_ok());
    }

    #[test]
    fn boot_takes_the_kernel_switches() {
        let cli =
            Cli::try_parse_from(["pre-nixos", "boot", "--plan-only", "--wipe", "all"]).unwrap();
        assert!(cli.check().is_ok());
        match cli.command {
            Some(Command::Boot(a)) => {
                assert!(a.plan_only);
                assert_eq!(a.wipe.as_deref(), Some("all"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_version_names_the_commit() {
        let v = Cli::command().render_version().to_string();
        assert!(
            v.starts_with(&format!("pre-nixos {} (commit ", env!("CARGO_PKG_VERSION"))),
            "{v}"
        );
        let commit = env!("PRE_NIXOS_COMMIT");
        assert!(!commit.is_empty() && v.contains(commit), "{v}");
    }

    #[test]
    fn apply_options_parse() {
        let cli = Cli::try_parse_from([
            "pre-nixos",
            "apply",
            "--wipe",
            "S1,S2",
            "--executor",
            "native",
            "--dry-run",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Apply(a)) => {
                assert_eq!(a.wipe.as_deref(), Some("S1,S2"));
                assert_eq!(a.executor, Some(ExecutorArg::Native));
                assert!(a.dry_run);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
