//! The one list of runtime tools, `share/runtime-tools.tsv`, against the code: every
//! external program that `src/` runs is on the list, and every entry names the nixpkgs
//! attribute (the package's wrapper PATH, `nixos/package.nix`) and the Debian package
//! (the VM guest) that provide it. A program the code starts but no image carries fails
//! here, by name, before it fails at boot with exit 127.
//!
//! How programs are found: `src/` is read as Rust tokens (comments dropped, string
//! literals kept), wherever its files live, and a string is a program when it is
//! - the first element of the argv given to `Cmd::new(what, [...])`,
//! - the first element of any list literal (`[..]`, `vec![..]`, `&[..]`, a slice
//!   pattern) whose other elements include a `-flag` literal: argv built for a helper
//!   (`run(what, vec![s("mkfs.ext4"), s("-F"), ..])`),
//! - an element of a `const …TOOLS: &[&str]` (the tool checks' own lists).
//!
//! Unit tests (`tests.rs` files and inline `#[cfg(test)] mod … { }`) are skipped: they
//! run fakes. Not programs: pre-nixos itself and its subcommands (`diagnose` re-runs
//! the binary with `["plan", "--output", "json"]`), read from the CLI definition, and
//! the few words in [`NOT_PROGRAMS`]. What it cannot see: a program name computed at
//! run time (`[tool, ..]` with `tool` from a table); those tables are `*TOOLS`
//! constants or must name the tools as literals in an argv elsewhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// Words in argv position that start no process, with the reason.
const NOT_PROGRAMS: &[(&str, &str)] = &[(
    "write",
    "the dry-run host shows a planned file write as `write <path>`; nothing is executed",
)];

/// Listed programs that src/ does not start itself but a listed program does, so the
/// scan cannot see them: (program, who runs it).
const RUN_INDIRECTLY: &[(&str, &str)] = &[("gzip", "tar -czf (diagnose's bundle) execs gzip")];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One line of the list: program, nixpkgs attribute path, Debian package (`-`: none).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tool {
    program: String,
    nixpkgs: String,
    debian: String,
}

/// Parses the list: `#` comment lines and blank lines are ignored; every other line is
/// three tab-separated fields. Errors name the line.
fn parse_tools(text: &str) -> Result<Vec<Tool>, String> {
    let mut tools = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != 3 || fields.iter().any(|f| f.trim().is_empty() || *f != f.trim()) {
            return Err(format!(
                "line {}: want `program<TAB>nixpkgs attribute<TAB>Debian package`, got {line:?}",
                n + 1
            ));
        }
        tools.push(Tool {
            program: fields[0].to_owned(),
            nixpkgs: fields[1].to_owned(),
            debian: fields[2].to_owned(),
        });
    }
    Ok(tools)
}

fn tools() -> Vec<Tool> {
    let path = repo().join("share/runtime-tools.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    parse_tools(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Str(String),
    Ident(String),
    Punct(char),
}

/// Rust source as tokens, enough for the patterns above: identifiers, string literals
/// (plain, raw, byte) with their escapes left as written, punctuation; comments, char
/// literals, lifetimes and numbers are dropped.
fn tokenize(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            let (s, next) = plain_string(&c, i + 1);
            out.push(Tok::Str(s));
            i = next;
        } else if (ch == 'r' || ch == 'b') && raw_string_start(&c, i).is_some() {
            let (hashes, body) = raw_string_start(&c, i).unwrap();
            let mut j = body;
            let mut s = String::new();
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                s.push(c[j]);
                j += 1;
            }
            out.push(Tok::Str(s));
            i = j;
        } else if ch == 'b' && c.get(i + 1) == Some(&'"') {
            let (s, next) = plain_string(&c, i + 2);
            out.push(Tok::Str(s));
            i = next;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{..}') or a lifetime ('a): skip either.
            if c.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(c[start..i].iter().collect()));
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                i += 1;
            }
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

/// The body of `"…"` starting after the quote: (text, index after the closing quote).
fn plain_string(c: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < c.len() && c[i] != '"' {
        if c[i] == '\\' && i + 1 < c.len() {
            s.push(c[i]);
            i += 1;
        }
        s.push(c[i]);
        i += 1;
    }
    (s, i + 1)
}

/// At `r"`, `r#"`, `br"`, `br#"`: (number of #, index of the first body char).
fn raw_string_start(c: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if c[j] == 'b' {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    // Not the tail of an identifier such as `for` or `bar`.
    if i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while c.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some((hashes, j + 1))
}

/// Index of the bracket closing the one at `open`.
fn closing(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    toks.len()
}

/// Drops inline test modules: `#[cfg(test)] mod name { … }`.
fn without_test_modules(toks: Vec<Tok>) -> Vec<Tok> {
    let p = |c| Tok::Punct(c);
    let id = |s: &str| Tok::Ident(s.to_owned());
    let attr = [
        p('#'),
        p('['),
        id("cfg"),
        p('('),
        id("test"),
        p(')'),
        p(']'),
    ];
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i..].starts_with(&attr)
            && toks.get(i + 7) == Some(&id("mod"))
            && toks.get(i + 9) == Some(&p('{'))
        {
            i = closing(&toks, i + 9) + 1;
            continue;
        }
        out.push(toks[i].clone());
        i += 1;
    }
    out
}

/// The string an element starts with, when it is a literal or a literal made owned:
/// `"x"`, `"x".to_string()` / `.to_owned()` / `.into()`, `s("x")`, `String::from("x")`.
fn literal_at(toks: &[Tok], i: usize) -> Option<String> {
    match (toks.get(i), toks.get(i + 1), toks.get(i + 2)) {
        (Some(Tok::Str(s)), _, _) => Some(s.clone()),
        (Some(Tok::Ident(_)), Some(Tok::Punct('(')), Some(Tok::Str(s))) => Some(s.clone()),
        (Some(Tok::Ident(n)), Some(Tok::Punct(':')), _) if n == "String" => match toks.get(i + 5) {
            Some(Tok::Str(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The elements of the list whose `[` is at `open`: the index of each element's first
/// token (split at depth-1 commas).
fn elements(toks: &[Tok], open: usize) -> Vec<usize> {
    let close = closing(toks, open);
    let mut starts = vec![open + 1];
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().take(close).skip(open + 1) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(',') if depth == 0 => starts.push(k + 1),
            _ => {}
        }
    }
    starts.retain(|&s| s < close);
    starts
}

/// Every program named in one file's tokens, as (program, why it counts).
fn programs_in(toks: &[Tok]) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    for i in 0..toks.len() {
        // Cmd::new(what, [prog, …]) / vec![prog, …] / &[prog, …]
        if toks[i] == Tok::Ident("Cmd".into())
            && toks.get(i + 1) == Some(&Tok::Punct(':'))
            && toks.get(i + 3) == Some(&Tok::Ident("new".into()))
            && toks.get(i + 4) == Some(&Tok::Punct('('))
        {
            let args_open = i + 4;
            let args = elements(toks, args_open);
            if let Some(&second) = args.get(1) {
                let mut j = second;
                if toks.get(j) == Some(&Tok::Punct('&')) {
                    j += 1;
                }
                if toks.get(j) == Some(&Tok::Ident("vec".into()))
                    && toks.get(j + 1) == Some(&Tok::Punct('!'))
                {
                    j += 2;
                }
                if toks.get(j) == Some(&Tok::Punct('[')) {
                    if let Some(s) = elements(toks, j).first().and_then(|&e| literal_at(toks, e)) {
                        found.push((s, "argv of Cmd::new"));
                    }
                }
            }
        }
        // Any list whose first element is a literal and another one a `-flag`.
        if toks[i] == Tok::Punct('[') {
            let elems = elements(toks, i);
            if let Some(first) = elems.first().and_then(|&e| literal_at(toks, e)) {
                let has_flag = elems[1..]
                    .iter()
                    .filter_map(|&e| literal_at(toks, e))
                    .any(|s| s.starts_with('-') && s.len() > 1);
                if has_flag {
                    found.push((first, "first element of an argv with flags"));
                }
            }
        }
        // const …TOOLS: &[&str] = &[ … ];
        if toks[i] == Tok::Ident("const".into()) {
            if let Some(Tok::Ident(name)) = toks.get(i + 1) {
                if name.ends_with("TOOLS") {
                    if let Some(open) = toks[i..]
                        .iter()
                        .position(|t| *t == Tok::Punct('='))
                        .and_then(|eq| {
                            toks[i + eq..]
                                .iter()
                                .position(|t| *t == Tok::Punct('['))
                                .map(|b| i + eq + b)
                        })
                    {
                        for e in elements(toks, open) {
                            if let Some(s) = literal_at(toks, e) {
                                found.push((s, "a *TOOLS constant"));
                            }
                        }
                    }
                }
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("reading a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A program name as PATH looks it up: the literal, or the file name of an absolute
/// path. `None` for what is not a program name at all.
fn program_name(s: &str) -> Option<String> {
    let name = s.rsplit('/').next().unwrap_or(s);
    let ok = !name.is_empty()
        && name.chars().next().unwrap().is_ascii_lowercase()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._+-".contains(c));
    ok.then(|| name.to_owned())
}

/// Every program the code under `root` runs → the files and reasons that say so.
fn programs_run_by(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        if f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let toks = without_test_modules(tokenize(&text));
        let rel = f.strip_prefix(root).unwrap_or(&f).display().to_string();
        for (s, why) in programs_in(&toks) {
            if let Some(p) = program_name(&s) {
                found.entry(p).or_default().insert(format!("{rel} ({why})"));
            }
        }
    }
    // The binary re-running itself (diagnose) is not a runtime tool, nor are the
    // subcommands it is given.
    found.remove("pre-nixos");
    for sub in pre_nixos::cli::Cli::command().get_subcommands() {
        found.remove(sub.get_name());
    }
    for (word, _why) in NOT_PROGRAMS {
        found.remove(*word);
    }
    found
}

#[test]
fn every_program_the_code_runs_is_on_the_list() {
    let listed: BTreeSet<String> = tools().into_iter().map(|t| t.program).collect();
    let run = programs_run_by(&repo().join("src"));
    // The scanner must see the code at all: these are run on every boot.
    for p in [
        "sgdisk",
        "mdadm",
        "udevadm",
        "systemctl",
        "ip",
        "ethtool",
        "tar",
    ] {
        assert!(
            run.contains_key(p),
            "the scan of src/ no longer finds {p}: {run:#?}"
        );
    }
    let missing: Vec<String> = run
        .iter()
        .filter(|(p, _)| !listed.contains(*p))
        .map(|(p, why)| {
            format!(
                "{p} (run by {})",
                why.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        missing.is_empty(),
        "programs the code runs that share/runtime-tools.tsv does not list (add a line: \
         program, nixpkgs attribute, Debian package):\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn every_listed_program_is_run_by_the_code() {
    // A stale line puts a package in every image for nothing, and hides a rename.
    let run = programs_run_by(&repo().join("src"));
    let stale: Vec<String> = tools()
        .into_iter()
        .map(|t| t.program)
        .filter(|p| !run.contains_key(p) && !RUN_INDIRECTLY.iter().any(|(i, _)| i == p))
        .collect();
    assert!(
        stale.is_empty(),
        "share/runtime-tools.tsv lists programs no code in src/ runs: {stale:?}"
    );
}

#[test]
fn programs_run_indirectly_are_listed_and_their_runner_is_run() {
    let listed: BTreeSet<String> = tools().into_iter().map(|t| t.program).collect();
    let run = programs_run_by(&repo().join("src"));
    for (program, by) in RUN_INDIRECTLY {
        assert!(listed.contains(*program), "{program} ({by}) is not listed");
        let runner = by.split_whitespace().next().unwrap();
        assert!(
            run.contains_key(runner),
            "{program}: {runner} is no longer run by src/"
        );
    }
}

#[test]
fn every_listed_program_has_a_nixpkgs_attribute_and_a_debian_package() {
    let tools = tools();
    let mut seen = BTreeSet::new();
    for t in &tools {
        assert!(
            seen.insert(t.program.clone()),
            "{} is listed twice",
            t.program
        );
        assert!(
            program_name(&t.program).as_deref() == Some(t.program.as_str()),
            "{:?} is not a program name",
            t.program
        );
        // A nixpkgs attribute path: dot-separated identifiers (`gnutar`, `xorg.xset`).
        assert!(
            t.nixpkgs.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }),
            "{}: {:?} is not a nixpkgs attribute path",
            t.program,
            t.nixpkgs
        );
        assert!(
            t.debian == "-"
                || t.debian
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c)),
            "{}: {:?} is not a Debian package name",
            t.program,
            t.debian
        );
    }
    // `-` (no Debian package) is for disko alone: it comes from the flake's pinned
    // input, and the Debian guest runs the native executor. Anything else the code runs
    // must exist in the guest, or the VM suite does not test it.
    let without_debian: Vec<&str> = tools
        .iter()
        .filter(|t| t.debian == "-")
        .map(|t| t.program.as_str())
        .collect();
    assert_eq!(without_debian, ["disko"], "programs with no Debian package");
}

#[test]
fn the_list_format_is_enforced() {
    assert_eq!(
        parse_tools("# c\n\nsgdisk\tgptfdisk\tgdisk\n").unwrap(),
        [Tool {
            program: "sgdisk".into(),
            nixpkgs: "gptfdisk".into(),
            debian: "gdisk".into()
        }]
    );
    for bad in [
        "sgdisk gptfdisk gdisk\n",
        "sgdisk\tgptfdisk\n",
        "sgdisk\tgptfdisk\tgdisk\textra\n",
        "sgdisk\t\tgdisk\n",
        "sgdisk \tgptfdisk\tgdisk\n",
    ] {
        let err = parse_tools(bad).expect_err(bad);
        assert!(err.starts_with("line 1:"), "{err}");
    }
}

#[test]
fn the_scanner_finds_programs_in_each_form_the_code_uses() {
    // Each way src/ builds an argv today, in a tree of its own, plus what must not
    // count: comments, test modules, lists of words without flags.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(
        dir.path().join("a/b/deep.rs"),
        r##"
        fn f() {
            let c = Cmd::new("reading the kernel version", ["uname", "-a"]);
            let d = Cmd::new(format!("x {}", y), vec!["dmesg"]);
            let e = Cmd::new("w", &["networkctl", "reload"]);
            let argv = vec![s("mkfs.ext4"), s("-F"), label.clone()];
            let t = vec!["udevadm".to_owned(), "trigger".to_owned(), "--action=change".to_owned()];
            let v = vec!["sshd".to_string(), "-t".into()];
            let w = [String::from("/usr/sbin/blkid"), "-p".into()];
            match argv { ["ethtool", "-P", ..] => {} _ => {} }
            let modes = ["fast", "careful"]; // no flag: not an argv
            // Cmd::new("commented out", ["notaprogram", "-x"])
            /* ["alsonot", "-y"] */
            let r = r#"["rawnot", "-z"]"#;
            let p = Cmd::new("self", [exe.as_str(), "status"]);
        }
        const REQUIRED_TOOLS: &[&str] = &["lsblk", "wipefs"];
        const MODES: &[&str] = &["careful"];
        #[cfg(test)]
        mod tests {
            fn t() { Cmd::new("fake", ["sleep", "--help"]); }
        }
        "##,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a/tests.rs"),
        "fn t() { Cmd::new(\"fake\", [\"false\", \"-x\"]); }\n",
    )
    .unwrap();
    let found: Vec<String> = programs_run_by(dir.path()).into_keys().collect();
    assert_eq!(
        found,
        [
            "blkid",
            "dmesg",
            "ethtool",
            "lsblk",
            "mkfs.ext4",
            "networkctl",
            "sshd",
            "udevadm",
            "uname",
            "wipefs"
        ]
    );
}

/// The VM guest is built from the same list: scripts/vm/build-image installs the Debian
/// package of every listed program, so a tool missing from the guest is a tool missing
/// from the list, which the tests above catch.
#[test]
fn the_vm_guest_is_built_from_the_list() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read_to_string(root.join("scripts/vm/build-image")).unwrap();
    assert!(
        script.contains("share/runtime-tools.tsv"),
        "scripts/vm/build-image no longer reads share/runtime-tools.tsv"
    );
    let pkgs_line = script
        .lines()
        .find(|l| l.starts_with("PKGS="))
        .expect("build-image sets PKGS");
    assert!(pkgs_line.contains("$TOOL_PKGS"), "{pkgs_line}");
    // What build-image's awk takes from the list: every Debian package but `-`.
    let list = std::fs::read_to_string(root.join("share/runtime-tools.tsv")).unwrap();
    let debs: std::collections::BTreeSet<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('\t').nth(2))
        .filter(|d| *d != "-")
        .collect();
    for needed in [
        "mdadm",
        "lvm2",
        "gdisk",
        "ethtool",
        "parted",
        "openssh-server",
        "tar",
    ] {
        assert!(
            debs.contains(needed),
            "{needed} not in the guest's packages"
        );
    }
}
