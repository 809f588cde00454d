//! Shell completions and the man page, generated from the clap definition.
//!
//! The generated files are committed under `share/` (so a plain `cargo install` user
//! and the README can point at them) and the Nix package also generates them at build
//! time. `tests/docs.rs` regenerates them and fails when the committed copies drift
//! from `--help`; `UPDATE_DOCS=1 cargo test --test docs` rewrites them.

use clap::CommandFactory;

use crate::cli::Cli;

/// The shells completions are committed for.
pub const SHELLS: [clap_complete::Shell; 3] = [
    clap_complete::Shell::Bash,
    clap_complete::Shell::Zsh,
    clap_complete::Shell::Fish,
];

/// The completion script for `shell`: clap_complete's, with two of its defects mended
/// (see [`fix_bash`] and [`drop_hidden_root`]).
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pre-nixos", &mut out);
    let text = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let text = match shell {
        clap_complete::Shell::Bash => fix_bash(&text),
        _ => text,
    };
    drop_hidden_root(shell, &text).into_bytes()
}

/// clap_complete (4.6.12) names the bash dispatch states of a hyphenated binary two
/// ways: the loop over the words sets `cmd="pre__nixos__subcmd__plan"` (the binary
/// name with `-` → `__`), while the `case "${cmd}"` arms read
/// `pre__subcmd__nixos__subcmd__plan` (the whole path with `-` → `__subcmd__`). No arm
/// matches, so nothing completes after a subcommand. The dispatch spelling is the one
/// the loop produces; rename the arms to it. `pre__subcmd__nixos` occurs nowhere else.
fn fix_bash(script: &str) -> String {
    script.replace("pre__subcmd__nixos", "pre__nixos")
}

/// `--root` is hidden from `--help` (it is for fixture trees and chroots, not for
/// operators) but clap_complete offers hidden options anyway. Take it out of what is
/// offered. A `--root` the user types still parses, and bash still completes a path
/// after it (its `--root)` arm stays).
fn drop_hidden_root(shell: clap_complete::Shell, script: &str) -> String {
    match shell {
        clap_complete::Shell::Bash => script
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("opts=\"") {
                    l.replace(" --root ", " ")
                } else {
                    l.to_owned()
                }
            })
            .map(|l| l + "\n")
            .collect(),
        clap_complete::Shell::Zsh => script
            .lines()
            .filter(|l| !l.starts_with("'--root=["))
            .map(|l| l.to_owned() + "\n")
            .collect(),
        clap_complete::Shell::Fish => script
            .lines()
            .filter(|l| !(l.starts_with("complete -c pre-nixos ") && l.contains(" -l root ")))
            .map(|l| l.to_owned() + "\n")
            .collect(),
        _ => script.to_owned(),
    }
}

/// The main page, `pre-nixos(1)`, roff.
pub fn man_page_roff() -> std::io::Result<Vec<u8>> {
    Ok(man_pages()?.remove(0).1)
}

/// Every man page: `pre-nixos.1` first, then `pre-nixos-<verb>.1` for each visible
/// subcommand, as `(file name, roff)`. clap_mangen renders the name, synopsis,
/// description and every option; the sections it cannot know (EXIT STATUS,
/// ENVIRONMENT, FILES, KERNEL PARAMETERS, EXAMPLES, SEE ALSO) are added here.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    // The package version, not `--version`'s commit: the committed pages must not
    // change with every commit.
    let mut top = Cli::command()
        .disable_help_subcommand(true)
        .version(env!("CARGO_PKG_VERSION"));
    top.build();
    let verbs: Vec<clap::Command> = top
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.clone().version(env!("CARGO_PKG_VERSION")))
        .collect();
    let names: Vec<String> = std::iter::once("pre-nixos".to_owned())
        .chain(verbs.iter().map(|v| format!("pre-nixos-{}", v.get_name())))
        .collect();
    let mut pages = Vec::new();
    for (cmd, verb) in std::iter::once((top.clone(), None)).chain(verbs.into_iter().map(|v| {
        let name = v.get_name().to_owned();
        (v, Some(name))
    })) {
        let page = format!(
            "pre-nixos{}",
            verb.as_deref().map(|v| format!("-{v}")).unwrap_or_default()
        );
        let man = clap_mangen::Man::new(cmd.clone());
        let mut out = Vec::new();
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        man.render_options_section(&mut out)?;
        if verb.is_none() {
            man.render_subcommands_section(&mut out)?;
        }
        out.extend(section("EXIT STATUS", &[crate::cli::EXIT_CODES_HELP], true));
        out.extend(section(
            "ENVIRONMENT",
            &[
                "PRE_NIXOS_LOG: a tracing filter (info, debug, pre_nixos=trace) for the log; \
                 overrides -v and --quiet.",
                "PRE_NIXOS_ACTIONS_LOG: the JSON actions log (default \
                 /var/log/pre-nixos/actions.log); written only by boot, apply and network \
                 without --dry-run.",
                "PRE_NIXOS_STATE_DIR: the state directory (default /run/pre-nixos), as \
                 --state-dir.",
                "NO_COLOR: no colour in the log (with --color=auto).",
            ],
            false,
        ));
        out.extend(section(
            "FILES",
            &[
                "/run/pre-nixos/storage-status: STATE=running|applied|plan-only|failed, \
                 DETAIL=, PLAN=, DISKS=, ERROR=, VERSION=, UPDATED= (shell-sourceable).",
                "/run/pre-nixos/network-status: LAN_IFACE, LAN_MAC, LAN_IPV4, SSH.",
                "/run/pre-nixos/storage-plan.json: the plan applied or proposed.",
                "/mnt/etc/nixos/pre-generated/hardware-disk.nix, network-lan.nix: stubs for \
                 the installed system.",
                "/etc/pre-nixos/authorized_keys: root's keys for sshd.",
                "/var/log/pre-nixos/actions.log: JSON lines of every action.",
            ],
            false,
        ));
        if matches!(
            verb.as_deref(),
            None | Some("boot") | Some("plan") | Some("apply")
        ) {
            out.extend(section(
                "KERNEL PARAMETERS",
                &[
                    "pre-nixos.mode=fast|careful: stripe (fast) or mirror solid-state buckets.",
                    "pre-nixos.swap=SIZE: swap size (8G binary, 8GB decimal; at least 1G).",
                    "pre-nixos.plan-only=1: plan and record, touch no disk (boot --plan-only).",
                    "pre-nixos.wipe=all|SERIAL,...: disks that may be wiped (boot --wipe); \
                     pre-nixos-force-cleanup=1 is wipe=all.",
                    "pre-nixos.lan=MAC: the NIC to use as lan (--lan).",
                ],
                false,
            ));
        }
        out.extend(section("EXAMPLES", examples(verb.as_deref()), true));
        let see_also: Vec<String> = names
            .iter()
            .filter(|n| **n != page)
            .map(|n| format!("{n}(1)"))
            .chain(["nixos-install(8)".to_owned()])
            .collect();
        out.extend(section("SEE ALSO", &[see_also.join(", ").as_str()], false));
        man.render_version_section(&mut out)?;
        pages.push((format!("{page}.1"), out));
    }
    Ok(pages)
}

/// The EXAMPLES of one page (the main page when `verb` is `None`).
fn examples(verb: Option<&str>) -> &'static [&'static str] {
    match verb {
        None => &[
            "pre-nixos plan                 # the plan for this machine, changes nothing",
            "pre-nixos status               # what the boot did",
            "pre-nixos diagnose             # everything, into one .tar.gz",
        ],
        Some("plan") => &[
            "pre-nixos plan --wide",
            "pre-nixos plan --inventory server.json --mode careful --swap-size 16G",
            "pre-nixos plan --json > plan.json",
        ],
        Some("inventory") => &[
            "pre-nixos inventory",
            "pre-nixos inventory --json > server.json",
        ],
        Some("detect-storage") => &[
            "pre-nixos detect-storage; echo $?",
            "pre-nixos detect-storage --json=short",
        ],
        Some("apply") => &[
            "pre-nixos apply --dry-run",
            "pre-nixos apply --wipe S64GNE0R600000,WSD00001",
            "pre-nixos apply --plan plan.json --executor disko",
        ],
        Some("network") => &[
            "pre-nixos network --dry-run",
            "pre-nixos network --lan 52:54:00:12:34:56",
        ],
        Some("boot") => &["pre-nixos boot --plan-only", "pre-nixos boot --wipe all"],
        Some("status") => &["pre-nixos status", "pre-nixos status --json=short"],
        Some("diagnose") => &["pre-nixos diagnose", "pre-nixos diagnose --out /tmp --json"],
        Some(_) => &[],
    }
}

/// One roff section: each item a paragraph, or with `literal` the items as lines of
/// one no-fill block (tables, command lines).
fn section(title: &str, items: &[&str], literal: bool) -> Vec<u8> {
    let mut s = format!(".SH \"{title}\"\n");
    if literal {
        s.push_str(".nf\n");
        for item in items {
            for line in item.lines() {
                s.push_str(&roff_escape(line));
                s.push('\n');
            }
        }
        s.push_str(".fi\n");
    } else {
        for item in items {
            s.push_str(".PP\n");
            s.push_str(&roff_escape(item));
            s.push('\n');
        }
    }
    s.into_bytes()
}

/// Text as roff prints it verbatim: backslashes and hyphens escaped, and a line that
/// starts with `.` or `'` kept from being read as a request.
fn roff_escape(line: &str) -> String {
    let t = line.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

/// Every generated file, as `(path relative to the repository, contents)`:
/// `share/completions/pre-nixos.{bash,zsh,fish}` and `share/man/*.1`.
pub fn generated_files() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut files: Vec<(String, Vec<u8>)> = SHELLS
        .iter()
        .map(|&shell| {
            (
                format!("share/completions/pre-nixos.{shell}"),
                completion_script(shell),
            )
        })
        .collect();
    for (name, page) in man_pages()? {
        files.push((format!("share/man/{name}"), page));
    }
    Ok(files)
}

/// `pre-nixos completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    use std::io::Write;
    std::io::stdout().write_all(&completion_script(shell))?;
    Ok(0)
}

/// `pre-nixos man [--out DIR]`: the main page on stdout, or every page into DIR.
pub fn man_page(out: Option<&std::path::Path>) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    use std::io::Write;
    match out {
        None => std::io::stdout().write_all(&man_page_roff()?)?,
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, page) in man_pages()? {
                let p = dir.join(name);
                std::fs::write(&p, page).with_context(|| format!("writing {}", p.display()))?;
            }
        }
    }
    Ok(0)
}
