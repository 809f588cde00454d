//! Shell completion through the shells themselves: bash sources the committed script
//! (which `tests/docs.rs` holds equal to what the binary generates), is given the words
//! of a command line as bash's programmable completion would give them, and what it
//! puts in COMPREPLY is compared with the words an operator must be offered.

use std::path::Path;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, Host};

fn script(shell: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("share/completions/pre-nixos.{shell}"))
}

/// What bash offers for `words`, the last one being the word under the cursor.
fn complete(words: &[&str]) -> Vec<String> {
    assert!(words.len() >= 2);
    let quoted: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect();
    let cword = words.len() - 1;
    // The completion function is called as bash calls it: $1 the command, $2 the
    // word being completed, $3 the word before it.
    let program = format!(
        "source '{script}' || exit 90\n\
         COMP_WORDS=({words})\n\
         COMP_CWORD={cword}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _pre__nixos pre-nixos \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script("bash").display(),
        words = quoted.join(" "),
    );
    let out = RealHost::new()
        .run(&Cmd::new(
            "completing through bash",
            ["bash", "--norc", "--noprofile", "-c", &program],
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut offered: Vec<String> = out
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    offered.sort();
    offered
}

fn sorted(words: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = words.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn values_of_a_subcommand_option_complete() {
    assert_eq!(
        complete(&["pre-nixos", "plan", "--output", ""]),
        sorted(&["summary", "json", "disko"])
    );
    assert_eq!(
        complete(&["pre-nixos", "plan", "--output", "j"]),
        sorted(&["json"])
    );
    assert_eq!(
        complete(&["pre-nixos", "apply", "--executor", ""]),
        sorted(&["native", "disko"])
    );
    assert_eq!(
        complete(&["pre-nixos", "apply", "--dry-run", "--mode", "c"]),
        sorted(&["careful"])
    );
}

#[test]
fn options_of_a_subcommand_complete() {
    let offered = complete(&["pre-nixos", "apply", "--"]);
    for want in [
        "--wipe",
        "--wipe-method",
        "--dry-run",
        "--plan",
        "--executor",
        "--mode",
        "--swap-size",
        "--state-dir",
    ] {
        assert!(
            offered.contains(&want.to_owned()),
            "{want} not offered: {offered:?}"
        );
    }
    // Only apply's: nothing of network's or plan's.
    assert!(
        !offered.contains(&"--authorized-keys".to_owned()),
        "{offered:?}"
    );
    assert!(!offered.contains(&"--output".to_owned()), "{offered:?}");
    assert_eq!(
        complete(&["pre-nixos", "apply", "--w"]),
        sorted(&["--wipe", "--wipe-method"])
    );
    // A hyphenated subcommand, after a global option and its value.
    assert_eq!(
        complete(&[
            "pre-nixos",
            "--state-dir",
            "/tmp/st",
            "detect-storage",
            "--j"
        ]),
        sorted(&["--json"])
    );
    assert_eq!(
        complete(&["pre-nixos", "network", "--authorized-k"]),
        sorted(&["--authorized-keys"])
    );
}

#[test]
fn subcommands_complete_and_hidden_root_is_not_offered() {
    let offered = complete(&["pre-nixos", ""]);
    for want in [
        "boot",
        "plan",
        "inventory",
        "detect-storage",
        "apply",
        "network",
        "status",
        "diagnose",
    ] {
        assert!(
            offered.contains(&want.to_owned()),
            "{want} not offered: {offered:?}"
        );
    }
    for words in [
        &["pre-nixos", "--"][..],
        &["pre-nixos", "apply", "--"][..],
        &["pre-nixos", "status", "--"][..],
    ] {
        let offered = complete(words);
        assert!(!offered.is_empty(), "{words:?}");
        assert!(
            !offered.contains(&"--root".to_owned()),
            "{words:?}: {offered:?}"
        );
    }
    // The other shells' scripts do not offer it either.
    let zsh = std::fs::read_to_string(script("zsh")).unwrap();
    assert!(!zsh.contains("'--root="), "zsh offers --root");
    let fish = std::fs::read_to_string(script("fish")).unwrap();
    assert!(!fish.contains(" -l root "), "fish offers --root");
}
