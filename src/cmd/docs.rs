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

/// The completion script for `shell`.
pub fn completion_script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pre-nixos", &mut out);
    out
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
