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

/// One page per visible subcommand, each with every option of that subcommand and the
/// sections clap cannot write; and the main page's SEE ALSO names pages that exist.
#[test]
fn every_subcommand_has_a_man_page_with_every_option() {
    use clap::CommandFactory;
    let pages = pre_nixos::cmd::docs::man_pages().unwrap();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    let mut cmd = pre_nixos::cli::Cli::command().disable_help_subcommand(true);
    cmd.build();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("pre-nixos-{}.1", sub.get_name());
        let (_, page) = pages
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no {name} among {names:?}"));
        let page = String::from_utf8(page.clone()).unwrap().replace("\\-", "-");
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                assert!(page.contains(&format!("--{long}")), "{name} lacks --{long}");
            }
        }
        for section in [
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
            "PRE_NIXOS_LOG",
            "PRE_NIXOS_ACTIONS_LOG",
            "PRE_NIXOS_STATE_DIR",
        ] {
            assert!(page.contains(section), "{name} lacks {section}");
        }
    }
    let main = String::from_utf8(pages[0].1.clone())
        .unwrap()
        .replace("\\-", "-");
    assert_eq!(pages[0].0, "pre-nixos.1");
    assert!(main.contains("KERNEL PARAMETERS") && main.contains("pre-nixos.wipe="));
    for n in &names[1..] {
        let referenced = format!("{}(1)", n.trim_end_matches(".1"));
        assert!(
            main.contains(&referenced),
            "pre-nixos.1 does not point at {referenced}"
        );
    }
}

/// The README's links stay inside the repository, and the rules page it points at says
/// every rule a reader needs (the planner's table, the boot policy, the exit codes).
#[test]
fn readme_links_the_rules_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        !readme.contains("](../"),
        "the README links outside the repository"
    );
    assert!(
        readme.contains("](docs/spec.md)"),
        "the README does not link docs/spec.md"
    );
    let spec = std::fs::read_to_string(root.join("docs/spec.md")).unwrap();
    for needle in [
        "RAID10",
        "`applied` / `already-provisioned`",
        "pre-nixos.wipe=all",
        "its permanent MAC",
        "`schema_version`",
        "never below 1 GiB",
    ] {
        assert!(spec.contains(needle), "docs/spec.md lacks {needle:?}");
    }
}
