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

/// The man page, roff.
pub fn man_page_roff() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

/// Every generated file, as `(path relative to the repository, contents)`:
/// `share/completions/pre-nixos.{bash,zsh,fish}` and `share/man/pre-nixos.1`.
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
    files.push(("share/man/pre-nixos.1".into(), man_page_roff()?));
    Ok(files)
}

/// `pre-nixos completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    use std::io::Write;
    std::io::stdout().write_all(&completion_script(shell))?;
    Ok(0)
}

/// `pre-nixos man`.
pub fn man_page() -> anyhow::Result<u8> {
    use std::io::Write;
    std::io::stdout().write_all(&man_page_roff()?)?;
    Ok(0)
}
