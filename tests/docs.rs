//! Drift check for the generated docs: the committed completions and man page must be
//! exactly what the clap definition generates now (like coreos-installer's docs check).
//! `UPDATE_DOCS=1 cargo test --test docs` rewrites them after a CLI change.

use std::path::Path;

#[test]
fn committed_completions_and_man_page_match_the_cli() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1");
    let mut drifted = Vec::new();
    for (rel, fresh) in pre_nixos::cmd::docs::generated_files().expect("rendering the man page") {
        let path = root.join(&rel);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        match std::fs::read(&path) {
            Ok(committed) if committed == fresh => {}
            Ok(_) => drifted.push(format!("{rel} differs from what the CLI generates")),
            Err(e) => drifted.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        drifted.is_empty(),
        "generated docs are out of date:\n  {}\nrun `UPDATE_DOCS=1 cargo test --test docs` and commit share/",
        drifted.join("\n  ")
    );
}

#[test]
fn man_page_carries_the_exit_code_table() {
    let man = String::from_utf8(pre_nixos::cmd::docs::man_page_roff().unwrap()).unwrap();
    // roff escapes '-' as '\-'; compare line by line on the unescaped words.
    let man = man.replace("\\-", "-");
    for line in pre_nixos::cli::EXIT_CODES_HELP.lines() {
        assert!(man.contains(line.trim()), "man page lacks {line:?}");
    }
}

#[test]
fn readme_quotes_the_help_exit_code_table() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(
        readme.contains(pre_nixos::cli::EXIT_CODES_HELP),
        "README.md does not quote cli::EXIT_CODES_HELP verbatim; update its Exit codes section"
    );
}

#[test]
fn completions_know_every_visible_subcommand() {
    let bash = String::from_utf8(pre_nixos::cmd::docs::completion_script(
        clap_complete::Shell::Bash,
    ))
    .unwrap();
    for sub in [
        "boot",
        "plan",
        "inventory",
        "detect-storage",
        "apply",
        "network",
        "status",
        "diagnose",
    ] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
}

#[test]
fn exit_code_page_quotes_the_help_table() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/exit-codes.md"))
            .expect("reading docs/exit-codes.md");
    assert!(
        page.contains(pre_nixos::cli::EXIT_CODES_HELP),
        "docs/exit-codes.md does not quote cli::EXIT_CODES_HELP verbatim; update the page"
    );
}

/// The README tells an operator what comes after each outcome, with the paths the code
/// really writes.
#[test]
fn readme_says_what_to_do_after_success_and_after_failure() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = |title: &str| -> String {
        let start = readme
            .find(&format!("\n## {title}\n"))
            .unwrap_or_else(|| panic!("README has no `## {title}` section"));
        let body = &readme[start + title.len() + 5..];
        body[..body.find("\n## ").unwrap_or(body.len())].to_owned()
    };
    let after = section("After success");
    for needle in [
        format!("{}/", pre_nixos::storage::STUB_DIR),
        "hardware-disk.nix".to_owned(),
        "network-lan.nix".to_owned(),
        "nixos-generate-config --root /mnt --no-filesystems".to_owned(),
        "nixos-install".to_owned(),
    ] {
        assert!(after.contains(&needle), "After success lacks {needle:?}");
    }
    let fails = section("When it fails");
    for needle in [
        "pre-nixos apply --dry-run",
        "pre-nixos apply --wipe",
        "pre-nixos.wipe=",
        "pre-nixos diagnose",
        "corrupt",
    ] {
        assert!(fails.contains(needle), "When it fails lacks {needle:?}");
    }
}
