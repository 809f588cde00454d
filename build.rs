//! Records the git commit the binary is built from, for `--version` and the diagnose
//! bundle: `PRE_NIXOS_GIT_COMMIT` when the builder sets it (the Nix package does: its
//! sandbox has no `.git`), else `git rev-parse` in the source tree, else `unknown`.

fn main() {
    println!("cargo:rerun-if-env-changed=PRE_NIXOS_GIT_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = std::env::var("PRE_NIXOS_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=PRE_NIXOS_COMMIT={}", commit.trim());
}

/// `git rev-parse --short=12 HEAD`, with `-dirty` when the tree has changes; `None`
/// without git or outside a repository.
// The build script runs before host::Cmd exists; it is the one place a raw Command
// is the only way.
#[allow(clippy::disallowed_types)]
fn git_commit() -> Option<String> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = run(&["rev-parse", "--short=12", "HEAD"]).filter(|h| !h.is_empty())?;
    let dirty =
        run(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}
