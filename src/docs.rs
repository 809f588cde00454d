//! Shell completions and the man page, generated from the clap definition.

use clap::CommandFactory;

use crate::cli::Cli;

pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "pre-nixos",
        &mut std::io::stdout(),
    );
    Ok(0)
}

pub fn man_page() -> anyhow::Result<u8> {
    clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
    Ok(0)
}
