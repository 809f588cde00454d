//! Offline checks of the Nix side with Debian's `nix-instantiate` (no nixpkgs, no
//! network): every `.nix` file in the repository parses; the key rules of the module
//! (`nixos/keys.nix`) behave; `nixos/module.nix` evaluated against the stub lib in
//! `tests/nix/eval-module.nix` produces the unit wiring that cannot deadlock and keeps
//! image policy behind `imagePolicy.enable`; the flake's outputs and `flake.lock` pin
//! what the docs say; the image profiles (ISO, netboot) are one image with a 115200
//! serial console in every menu and take no special arguments; the package's PATH is
//! `share/runtime-tools.tsv`; clippy.toml and the docs agree with Cargo.toml's
//! rust-version.
//!
//! What this cannot prove: that nixpkgs' module system accepts the definitions when
//! merged with the rest of NixOS, and that the ISO and netboot images build. Those need
//! Nix with its binary cache (`nix flake check`, `nix build .#iso`, `.#netboot`;
//! docs/nixos.md has the table).
//!
//! Missing `nix-instantiate` fails every test here with the install hint; it never
//! skips.

use std::path::{Path, PathBuf};

use pre_nixos::host::cmd::Cmd;
use pre_nixos::host::real::RealHost;
use pre_nixos::host::Host;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs nix-instantiate with `args`; Ok(stdout) or Err(stderr). Panics when the tool
/// is missing, so a machine without it fails loudly.
fn nix_instantiate(what: &str, args: &[&str]) -> Result<String, String> {
    // Nothing here builds or copies into a store: the dummy store keeps evaluation
    // independent of /nix and of the daemon (non-root users cannot reach it).
    let cmd = Cmd::new(what, ["nix-instantiate", "--store", "dummy://"])
        .args(args.iter().copied())
        // Debian's nix.conf names a build-users group that does not exist on a
        // machine where nix-daemon was never set up; evaluation needs no builders.
        .env("NIX_CONFIG", "build-users-group =")
        .timeout(std::time::Duration::from_secs(120));
    match RealHost::new().run(&cmd) {
        Ok(out) => Ok(out.stdout),
        Err(pre_nixos::host::cmd::CmdError::NotFound { .. }) => panic!(
            "nix-instantiate is not installed: run `scripts/install-deps --all` \
             (Debian's nix-bin) to check the Nix files"
        ),
        Err(pre_nixos::host::cmd::CmdError::Failed { output, .. }) => Err(output.stderr.clone()),
        Err(e) => panic!("{e}"),
    }
}

fn nix_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("reading a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            // Build output, VM images and git internals are not sources.
            if name == "target" || name == "vm-cache" || name.starts_with('.') {
                continue;
            }
            nix_files(&path, out);
        } else if name.ends_with(".nix") {
            out.push(path);
        }
    }
}

#[test]
fn every_nix_file_in_the_repository_parses() {
    let mut files = Vec::new();
    nix_files(&repo(), &mut files);
    let rel: Vec<String> = files
        .iter()
        .map(|p| p.strip_prefix(repo()).unwrap().display().to_string())
        .collect();
    for expected in [
        "flake.nix",
        "nixos/package.nix",
        "nixos/module.nix",
        "nixos/keys.nix",
        "nixos/iso.nix",
        "nixos/image.nix",
        "nixos/netboot.nix",
        "nixos/runtime-tools.nix",
        "nixos/tests/boot.nix",
    ] {
        assert!(
            rel.iter().any(|r| r == expected),
            "{expected} missing: {rel:?}"
        );
    }
    let mut failures = Vec::new();
    for file in &files {
        let f = file.to_str().unwrap();
        if let Err(stderr) = nix_instantiate(&format!("parsing {f}"), &["--parse", f]) {
            failures.push(format!("{f}:\n{stderr}"));
        }
    }
    assert!(
        failures.is_empty(),
        "Nix files that do not parse:\n{}",
        failures.join("\n")
    );
}

#[test]
fn a_file_with_a_syntax_error_is_reported() {
    // The parse check above is only worth something if a broken file fails it.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.nix");
    std::fs::write(&bad, "{ a = 1; b = ; }\n").unwrap();
    let err = nix_instantiate("parsing a broken file", &["--parse", bad.to_str().unwrap()])
        .expect_err("a syntax error must fail --parse");
    assert!(err.contains("syntax error"), "{err}");
}

/// Evaluates `expr` (Nix) to JSON; `keys` is bound to `import nixos/keys.nix`.
fn eval_keys(expr: &str) -> Result<Value, String> {
    let keys = repo().join("nixos/keys.nix");
    let full = format!("let keys = import {}; in {expr}", keys.display());
    nix_instantiate(
        "evaluating the key rules",
        &["--eval", "--strict", "--json", "--expr", &full],
    )
    .map(|s| serde_json::from_str(&s).expect("nix-instantiate printed JSON"))
}

const ED25519: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGb0pQ0hIuVdGmYQwJ4n8S1ZpqWqz7Yc2n0oS3wV7x1K op@desk";
const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 ops";

#[test]
fn well_formed_keys_are_accepted_and_malformed_ones_rejected() {
    let cases: &[(&str, bool)] = &[
        (ED25519, true),
        (RSA, true),
        (
            "from=\"10.0.0.0/8\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA",
            true,
        ),
        (
            "restrict,command=\"uptime\",from=\"10.*,!10.1.*\" ssh-rsa AAAAB3Nz op",
            true,
        ),
        (
            r#"command="echo \"hi\"" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"#,
            true,
        ),
        ("hello ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA", false),
        (
            "from=10.0.0.0/8 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA",
            false,
        ),
        (
            "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5 key",
            true,
        ),
        ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=", true),
        ("", false),
        ("ssh-ed25519", false),
        ("ssh-ed25519 ", false),
        ("AAAAC3NzaC1lZDI1NTE5AAAAIGb0pQ0hIuVdGmYQwJ4n8S1Z", false),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", false),
        ("SHA256:3fQ0e0J4uVYq1xq5b2m2sXQ3JQe0Y0l3hQJ2k", false),
        ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", false),
        ("/home/op/.ssh/id_ed25519.pub", false),
        ("ssh-ed25519 AAAAC3Nz\nssh-rsa AAAAB3Nz", false),
    ];
    for (key, valid) in cases {
        let expr = format!("keys.isValidKey {}", serde_json::to_string(key).unwrap());
        let got = eval_keys(&expr).unwrap();
        assert_eq!(got, Value::Bool(*valid), "key {key:?}");
    }
}

fn checks(enable: bool, keys: &[&str], file_texts: &[&str]) -> Value {
    let files: Vec<String> = (0..file_texts.len())
        .map(|i| format!("/keys/k{i}.pub"))
        .collect();
    let expr = format!(
        "keys.checks {{ enable = {enable}; authorizedKeys = builtins.fromJSON {}; \
         authorizedKeysFiles = builtins.fromJSON {}; fileTexts = builtins.fromJSON {}; }}",
        nix_string(&serde_json::to_string(keys).unwrap()),
        nix_string(&serde_json::to_string(&files).unwrap()),
        nix_string(&serde_json::to_string(file_texts).unwrap()),
    );
    eval_keys(&expr).unwrap()
}

/// A Nix string literal holding `s` (JSON escapes are Nix escapes, except `$`).
fn nix_string(s: &str) -> String {
    serde_json::to_string(s).unwrap().replace('$', "\\$")
}

fn failed_messages(c: &Value) -> Vec<String> {
    c["assertions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["assertion"] == Value::Bool(false))
        .map(|a| a["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn no_key_is_a_warning_not_a_failure() {
    let c = checks(true, &[], &[]);
    assert!(failed_messages(&c).is_empty(), "{c}");
    let warnings = c["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{c}");
    let w = warnings[0].as_str().unwrap();
    assert!(w.contains("services.pre-nixos.authorizedKeys"), "{w}");
    assert!(w.contains("sshd stays off"), "{w}");
    // A file with only comments is still "no key".
    let c = checks(true, &[], &["# nobody yet\n\n"]);
    assert_eq!(c["warnings"].as_array().unwrap().len(), 1, "{c}");
    // Disabled: nothing to say.
    let c = checks(false, &[], &[]);
    assert!(c["warnings"].as_array().unwrap().is_empty(), "{c}");
}

#[test]
fn a_malformed_key_fails_naming_the_option() {
    let c = checks(true, &[ED25519, "ssh-ed25519"], &[]);
    let failed = failed_messages(&c);
    assert_eq!(failed.len(), 1, "{c}");
    assert!(
        failed[0].starts_with("services.pre-nixos.authorizedKeys:"),
        "{}",
        failed[0]
    );
    assert!(failed[0].contains("\"ssh-ed25519\""), "{}", failed[0]);
    // No warning once a good key is there.
    assert!(c["warnings"].as_array().unwrap().is_empty(), "{c}");

    let c = checks(true, &[], &[&format!("# ops\n{ED25519}\nnot a key\n")]);
    let failed = failed_messages(&c);
    assert_eq!(failed.len(), 1, "{c}");
    assert!(
        failed[0].starts_with("services.pre-nixos.authorizedKeysFiles:"),
        "{}",
        failed[0]
    );
    assert!(
        failed[0].contains("/keys/k0.pub: not a key"),
        "{}",
        failed[0]
    );
}

#[test]
fn keys_from_options_and_files_merge_without_duplicates() {
    let c = checks(true, &[ED25519], &[&format!("{RSA}\n\n# x\n{ED25519}\n")]);
    assert_eq!(c["keys"], serde_json::json!([ED25519, RSA]));
}

/// Evaluates the module against the stub lib with these option settings (a Nix
/// attrset expression).
/// Evaluates the module against the stub lib with these option settings (a Nix
/// attrset expression) on a host with `other` turned on (`{ networkmanager = true; }`).
fn eval_module_on(settings: &str, other: &str) -> Result<Value, String> {
    let driver = repo().join("tests/nix/eval-module.nix");
    nix_instantiate(
        "evaluating nixos/module.nix against the stub lib",
        &[
            "--eval",
            "--strict",
            "--json",
            driver.to_str().unwrap(),
            "--arg",
            "settings",
            settings,
            "--arg",
            "otherConfig",
            other,
        ],
    )
    .map(|s| serde_json::from_str(&s).expect("nix-instantiate printed JSON"))
}

fn eval_module(settings: &str) -> Result<Value, String> {
    eval_module_on(settings, "{ }")
}

/// The content of a `mkIf`/`mkForce` marker, checking its kind.
fn unwrap_marker<'a>(v: &'a Value, kind: &str) -> &'a Value {
    assert_eq!(v["_type"], kind, "expected a {kind} marker: {v}");
    &v["content"]
}

/// The module's config when enabled: (what it always sets, the image-policy block and
/// its condition). The shape is `mkIf enable (mkMerge [ core (mkIf policy {…}) ])`.
fn module_parts(m: &Value) -> (&Value, &Value, bool) {
    assert_eq!(m["config"]["condition"], true, "{m}");
    let merged = unwrap_marker(&m["config"], "if");
    assert_eq!(merged["_type"], "merge", "{merged}");
    let parts = merged["contents"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{merged}");
    let policy = &parts[1];
    assert_eq!(policy["_type"], "if", "{policy}");
    (
        &parts[0],
        &policy["content"],
        policy["condition"].as_bool().unwrap(),
    )
}

fn exec_start(core: &Value) -> String {
    let exec = core["systemd"]["services"]["pre-nixos"]["serviceConfig"]["ExecStart"]
        .as_array()
        .unwrap();
    assert_eq!(exec[0], "", "the packaged ExecStart must be reset first");
    exec[1].as_str().unwrap().to_owned()
}

#[test]
fn the_module_documents_every_option_with_a_type() {
    let m = eval_module("{ }").unwrap();
    let options = m["options"].as_object().unwrap();
    for name in [
        "enable",
        "package",
        "authorizedKeys",
        "authorizedKeysFiles",
        "mode",
        "swapSize",
        "executor",
        "extraArgs",
        "imagePolicy.enable",
        "report.url",
        "report.caFile",
        "report.tokenFile",
        "report.timeout",
    ] {
        let o = options
            .get(name)
            .unwrap_or_else(|| panic!("option {name} missing: {options:?}"));
        assert_eq!(o["documented"], true, "{name}: {o}");
    }
    assert_eq!(options["mode"]["type"], "nullOr enum");
    assert_eq!(options["authorizedKeys"]["type"], "listOf str");
    assert_eq!(options["authorizedKeysFiles"]["type"], "listOf path");
    assert_eq!(options["imagePolicy.enable"]["type"], "bool");
    // Disabled by default: the whole config is behind mkIf false.
    assert_eq!(m["config"]["condition"], false);
}

#[test]
fn the_report_options_write_report_conf_for_the_tool() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; report = {{ url = \"https://c.example/r\"; \
         caFile = \"/etc/pre-nixos/ca.pem\"; tokenFile = \"/run/keys/report-token\"; timeout = 120; }}; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let (core, _, _) = module_parts(&m);
    let conf = &core["environment"]["etc"]["pre-nixos/report.conf"];
    assert_eq!(conf["condition"], true, "{conf}");
    let text = conf["content"]["text"].as_str().unwrap();
    assert_eq!(
        text,
        "URL=https://c.example/r\nCA_FILE=/etc/pre-nixos/ca.pem\nTOKEN_FILE=/run/keys/report-token\nTIMEOUT=120\n"
    );
    // What the tool reads is what the module writes.
    let parsed = pre_nixos::report::parse_conf(text).unwrap();
    assert_eq!(parsed.url.as_deref(), Some("https://c.example/r"));
    assert_eq!(parsed.timeout_secs, Some(120));
    // No URL, no file; a URL that is not http(s) fails evaluation.
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let (core, _, _) = module_parts(&m);
    assert_eq!(
        core["environment"]["etc"]["pre-nixos/report.conf"]["condition"],
        false
    );
    let e = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; report.url = \"ftp://x\"; }}",
        nix_string(ED25519)
    ))
    .unwrap_err();
    assert!(e.contains("report.url"), "{e}");
}

#[test]
fn the_module_wires_units_that_cannot_deadlock() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; mode = \"careful\"; \
         swapSize = \"16G\"; executor = \"native\"; extraArgs = [ \"--carrier-timeout\" \"60%\" ]; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let (core, _, _) = module_parts(&m);

    let svc = &core["systemd"]["services"]["pre-nixos"];
    assert_eq!(svc["wantedBy"], serde_json::json!(["multi-user.target"]));
    for key in [
        "after",
        "requires",
        "wants",
        "before",
        "bindsTo",
        "requisite",
    ] {
        assert!(svc.get(key).is_none(), "pre-nixos.{key} set: {svc}");
    }
    let line = exec_start(core);
    assert!(line.contains("/bin/pre-nixos\" \"boot\""), "{line}");
    for arg in [
        "\"--mode\" \"careful\"",
        "\"--swap-size\" \"16G\"",
        "\"--executor\" \"native\"",
        "\"--carrier-timeout\" \"60%%\"",
    ] {
        assert!(line.contains(arg), "{arg} missing in {line}");
    }
    assert_eq!(core["systemd"]["packages"].as_array().unwrap().len(), 1);

    // What the tool drives is on: networkd and sshd; sshd has no ordering on pre-nixos.
    assert_eq!(core["systemd"]["network"]["enable"], true);
    assert_eq!(core["services"]["openssh"]["enable"], true);
    let sshd = &core["systemd"]["services"]["sshd"];
    for key in [
        "after",
        "requires",
        "wants",
        "before",
        "bindsTo",
        "requisite",
        "partOf",
    ] {
        assert!(sshd.get(key).is_none(), "sshd.{key} set: {sshd}");
    }
    assert_eq!(
        core["environment"]["etc"]["pre-nixos/authorized_keys"]["text"],
        format!("{ED25519}\n")
    );
}

#[test]
fn the_module_leaves_the_host_policy_alone_unless_asked() {
    let key = nix_string(ED25519);
    let m = eval_module(&format!("{{ enable = true; authorizedKeys = [ {key} ]; }}")).unwrap();
    let (core, policy, on) = module_parts(&m);
    assert!(!on, "imagePolicy is off by default");
    // Nothing the module always sets decides how the host's network or sshd logins work.
    assert!(core["networking"].is_null(), "{}", core["networking"]);
    assert!(
        core["services"]["openssh"].get("settings").is_none(),
        "{core}"
    );
    assert!(
        core["services"]["openssh"].get("hostKeys").is_none(),
        "{core}"
    );
    assert!(core["systemd"]["services"].get("sshd").is_none(), "{core}");

    // The policy block, as the images turn it on.
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {key} ]; imagePolicy.enable = true; }}"
    ))
    .unwrap();
    let (_, policy_on, on) = module_parts(&m);
    assert!(on);
    assert_eq!(policy, policy_on, "the condition changes, not the block");
    let sshd = &policy["systemd"]["services"]["sshd"];
    assert_eq!(
        unwrap_marker(&sshd["wantedBy"], "override"),
        &serde_json::json!([])
    );
    assert_eq!(sshd["wantedBy"]["priority"], 50);
    let ssh = &policy["services"]["openssh"];
    assert_eq!(
        ssh["hostKeys"],
        serde_json::json!([{ "type": "ed25519", "path": "/etc/ssh/ssh_host_ed25519_key" }])
    );
    for (key, want) in [
        ("PasswordAuthentication", Value::Bool(false)),
        ("KbdInteractiveAuthentication", Value::Bool(false)),
        ("PermitRootLogin", Value::from("prohibit-password")),
    ] {
        assert_eq!(
            unwrap_marker(&ssh["settings"][key], "override"),
            &want,
            "{key}"
        );
    }
    assert_eq!(policy["networking"]["useNetworkd"], true);
    assert_eq!(policy["networking"]["useDHCP"], false);
    assert_eq!(
        unwrap_marker(
            &policy["networking"]["networkmanager"]["enable"],
            "override"
        ),
        false
    );
}

#[test]
fn the_module_warns_when_another_network_manager_runs() {
    let key = nix_string(ED25519);
    let settings = format!("{{ enable = true; authorizedKeys = [ {key} ]; }}");
    let warnings = |m: &Value| -> Vec<String> {
        let (core, _, _) = module_parts(m);
        core["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_owned())
            .collect()
    };
    let m = eval_module_on(&settings, "{ networkmanager = true; }").unwrap();
    let w = warnings(&m);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("NetworkManager"), "{w:?}");
    assert!(w[0].contains("imagePolicy.enable"), "{w:?}");
    // No NetworkManager, or the image policy (which turns it off): nothing to say.
    assert!(warnings(&eval_module(&settings).unwrap()).is_empty());
    let with_policy =
        format!("{{ enable = true; authorizedKeys = [ {key} ]; imagePolicy.enable = true; }}");
    let m = eval_module_on(&with_policy, "{ networkmanager = true; }").unwrap();
    assert!(warnings(&m).is_empty());
}

#[test]
fn the_module_defaults_to_the_native_executor() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let (core, _, _) = module_parts(&m);
    let line = exec_start(core);
    // No --mode / --swap-size: pre-nixos.mode= / pre-nixos.swap= on the kernel command
    // line stay in charge. The executor is the proven one, explicitly.
    assert!(
        line.ends_with("/bin/pre-nixos\" \"boot\" \"--executor\" \"native\""),
        "{line}"
    );
    // No <nixpkgs> in the closure for an executor that does not evaluate it.
    let svc = &core["systemd"]["services"]["pre-nixos"];
    assert!(svc.get("environment").is_none(), "{svc}");

    // `null` leaves the choice to the tool.
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; executor = null; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let line = exec_start(module_parts(&m).0);
    assert!(line.ends_with("/bin/pre-nixos\" \"boot\""), "{line}");
}

#[test]
fn disko_gets_nixpkgs_on_its_path_when_chosen() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; executor = \"disko\"; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let (core, _, _) = module_parts(&m);
    assert!(exec_start(core).ends_with("\"--executor\" \"disko\""));
    assert_eq!(
        core["systemd"]["services"]["pre-nixos"]["environment"]["NIX_PATH"],
        "nixpkgs=/nix/store/00000000000000000000000000000000-nixpkgs"
    );
}

#[test]
fn the_module_rejects_values_of_the_wrong_type() {
    for (settings, needle) in [
        (
            "{ enable = true; mode = \"reckless\"; }",
            "services.pre-nixos.mode",
        ),
        (
            "{ enable = true; swapSize = \"lots\"; }",
            "services.pre-nixos.swapSize",
        ),
        (
            "{ enable = true; executor = \"dd\"; }",
            "services.pre-nixos.executor",
        ),
        (
            "{ enable = true; authorizedKeys = \"ssh-ed25519 AAAA\"; }",
            "services.pre-nixos.authorizedKeys",
        ),
        (
            "{ enable = true; imagePolicy.enable = \"yes\"; }",
            "services.pre-nixos.imagePolicy.enable",
        ),
        ("{ enable = true; frobnicate = true; }", "frobnicate"),
        (
            "{ enable = true; imagePolicy.strict = true; }",
            "services.pre-nixos.imagePolicy: no such option: strict",
        ),
    ] {
        let err = eval_module(settings).expect_err(settings);
        assert!(err.contains(needle), "{settings}: {err}");
    }
}

fn eval_json(what: &str, file: &str, args: &[&str]) -> Value {
    let driver = repo().join(file);
    let mut argv = vec!["--eval", "--strict", "--json", driver.to_str().unwrap()];
    argv.extend_from_slice(args);
    let out = nix_instantiate(what, &argv).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&out).unwrap()
}

/// The one `rust-version` (Cargo.toml's [package]).
fn rust_version() -> String {
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("Cargo.toml has rust-version = \"X.Y\"")
        .to_owned()
}

#[test]
fn clippy_and_the_docs_hold_the_code_to_cargo_tomls_rust_version() {
    let version = rust_version();
    let clippy = std::fs::read_to_string(repo().join("clippy.toml")).unwrap();
    let msrv = clippy
        .lines()
        .find_map(|l| l.strip_prefix("msrv = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("clippy.toml has msrv = \"X.Y\"");
    assert_eq!(
        msrv, version,
        "clippy.toml msrv and Cargo.toml rust-version differ"
    );
    // The docs say which rustc the pinned NixOS ships; it is the same number.
    let docs = std::fs::read_to_string(repo().join("docs/nixos.md")).unwrap();
    assert!(
        docs.contains(&format!("rustc {version}.")),
        "docs/nixos.md does not name rustc {version}.x"
    );
    // The gate reads it from Cargo.toml itself, never from a copy of its own.
    let gate = std::fs::read_to_string(repo().join("scripts/check-msrv")).unwrap();
    assert!(gate.contains("Cargo.toml"), "scripts/check-msrv");
    assert!(
        !gate.contains(&format!("\"{version}\"")),
        "scripts/check-msrv repeats the version"
    );
}

#[test]
fn the_flake_pins_its_inputs_and_exposes_the_documented_outputs() {
    let f = eval_json(
        "evaluating the flake outputs with stand-in inputs",
        "tests/nix/flake-outputs.nix",
        &[],
    );

    // disko's CLI changed across releases; the executor is written against v1.13.0.
    assert_eq!(
        f["inputs"]["disko"]["url"],
        "github:nix-community/disko/v1.13.0"
    );
    assert_eq!(
        f["inputs"]["disko"]["inputs"]["nixpkgs"]["follows"], "nixpkgs",
        "one nixpkgs in the image, not two"
    );
    // nixpkgs by exact revision, not by a branch that moves.
    let nixpkgs = f["inputs"]["nixpkgs"]["url"].as_str().unwrap();
    let rev = nixpkgs
        .strip_prefix("github:NixOS/nixpkgs/")
        .unwrap_or_else(|| panic!("{nixpkgs}"));
    assert!(
        rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()),
        "nixpkgs is not pinned by revision: {nixpkgs}"
    );
    assert_eq!(
        f["outputArgs"],
        serde_json::json!(["disko", "nixpkgs", "self"])
    );

    let packages = &f["packages"];
    assert!(packages["pre-nixos"]["file"]
        .as_str()
        .unwrap()
        .ends_with("nixos/package.nix"));
    assert_eq!(packages["pre-nixos"]["disko"], "disko-v1.13.0");
    assert_eq!(packages["iso"]["stub"], "iso");
    // The module and the profile, and no special arguments: what another flake gets
    // from nixosModules.iso is what this flake builds.
    let iso_modules = serde_json::json!([{
        "file": "iso.nix",
        "imports": [{ "file": "module.nix", "imports": ["module"] }, "iso.nix"]
    }]);
    assert_eq!(packages["iso"]["modules"], iso_modules);
    assert_eq!(packages["iso"]["specialArgs"], serde_json::json!([]));
    assert_eq!(
        packages["netboot"],
        serde_json::json!({
            "stub": "symlinkJoin",
            "name": "pre-nixos-netboot",
            "paths": ["kernel", "netbootRamdisk", "netbootIpxeScript"]
        })
    );
    assert_eq!(
        f["nixosModules"],
        serde_json::json!(["default", "iso", "netboot", "pre-nixos"])
    );
    assert_eq!(f["profileModules"]["iso"], iso_modules[0]);
    assert_eq!(
        f["profileModules"]["netboot"]["imports"][1], "netboot.nix",
        "{}",
        f["profileModules"]
    );
    assert_eq!(f["moduleFile"], "module.nix");
    assert_eq!(f["moduleImportsFunction"], true);
    let configs = f["nixosConfigurations"].as_object().unwrap();
    assert_eq!(
        configs.keys().collect::<Vec<_>>(),
        ["pre-installer", "pre-netboot"]
    );
    assert_eq!(configs["pre-installer"]["modules"], iso_modules);
    for c in configs.values() {
        assert_eq!(c["specialArgs"], serde_json::json!([]), "{c}");
    }
    assert_eq!(f["checks"]["boot"]["stub"], "nixos-test");
    assert_eq!(f["checks"]["boot"]["name"], "pre-nixos-boot");
}

#[test]
fn flake_lock_pins_what_flake_nix_names() {
    let f = eval_json(
        "evaluating the flake outputs with stand-in inputs",
        "tests/nix/flake-outputs.nix",
        &[],
    );
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("flake.lock")).unwrap()).unwrap();
    assert_eq!(lock["version"], 7);
    assert_eq!(lock["root"], "root");
    assert_eq!(
        lock["nodes"]["root"]["inputs"],
        serde_json::json!({ "disko": "disko", "nixpkgs": "nixpkgs" })
    );
    let url_rev = f["inputs"]["nixpkgs"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let nixpkgs = &lock["nodes"]["nixpkgs"];
    assert_eq!(nixpkgs["locked"]["rev"], url_rev.as_str());
    assert_eq!(nixpkgs["original"]["rev"], url_rev.as_str());
    let disko = &lock["nodes"]["disko"];
    assert_eq!(disko["original"]["ref"], "v1.13.0");
    // v1.13.0 is this commit; the follows keeps one nixpkgs.
    assert_eq!(
        disko["locked"]["rev"],
        "de5708739256238fb912c62f03988815db89ec9a"
    );
    assert_eq!(disko["inputs"]["nixpkgs"], serde_json::json!(["nixpkgs"]));
    for node in [nixpkgs, disko] {
        let locked = &node["locked"];
        assert_eq!(locked["type"], "github", "{node}");
        let hash = locked["narHash"].as_str().unwrap();
        assert!(
            hash.starts_with("sha256-") && hash.len() == 51 && hash.ends_with('='),
            "{hash}"
        );
        assert!(locked["lastModified"].as_u64().unwrap() > 1_700_000_000);
    }
}

fn eval_profiles(dir: &Path) -> Value {
    eval_json(
        "evaluating the image profiles against the stub lib",
        "tests/nix/eval-profiles.nix",
        &["--arg", "profileDir", dir.to_str().unwrap()],
    )
}

#[test]
fn the_profiles_take_no_special_arguments() {
    // A module NixOS can import from any flake asks only for what NixOS gives.
    for file in ["image.nix", "iso.nix", "netboot.nix"] {
        let path = repo().join("nixos").join(file);
        let args = eval_json(
            "reading a profile's arguments",
            "tests/nix/module-args.nix",
            &["--arg", "file", path.to_str().unwrap()],
        );
        for a in args.as_array().unwrap() {
            let a = a.as_str().unwrap();
            assert!(
                ["lib", "pkgs", "config", "options", "modulesPath"].contains(&a),
                "nixos/{file} asks for the special argument `{a}`"
            );
        }
    }
}

#[test]
fn the_image_has_a_serial_console_a_root_shell_a_banner_and_the_policy() {
    let p = eval_profiles(&repo().join("nixos"));
    let image = &p["image"];
    let pn = &image["services"]["pre-nixos"];
    assert_eq!(pn["enable"], true);
    assert_eq!(pn["imagePolicy"]["enable"], true);
    // No executor set: the module's default (native), the proven one.
    assert!(pn.get("executor").is_none(), "{pn}");
    // Serial last, so /dev/console (where the announcement goes) is the serial line.
    assert_eq!(
        image["boot"]["kernelParams"],
        serde_json::json!(["console=tty0", "console=ttyS0,115200n8"])
    );
    assert_eq!(
        unwrap_marker(&image["services"]["getty"]["autologinUser"], "override"),
        "root"
    );
    let help = unwrap_marker(&image["services"]["getty"]["helpLine"], "override")
        .as_str()
        .unwrap();
    assert!(help.contains("\\4{lan}"), "{help}");
    assert!(help.contains("/run/pre-nixos/storage-status"), "{help}");
    assert_eq!(
        image["environment"]["etc"]["issue.d/pre-nixos.issue"]["source"],
        "/run/pre-nixos/storage-status"
    );
    // md and dm for provisioning.
    assert_eq!(image["boot"]["swraid"]["enable"], true);
    let modules = image["boot"]["kernelModules"].as_array().unwrap();
    assert!(modules.contains(&Value::from("dm-snapshot")), "{modules:?}");
    // This repository ships keys/ without a key: the image builds with the warning.
    assert_eq!(pn["authorizedKeysFiles"], serde_json::json!([]));
}

#[test]
fn the_iso_and_netboot_are_the_same_image_on_different_media() {
    let p = eval_profiles(&repo().join("nixos"));
    let tail = |v: &Value| -> String {
        let s = v.as_str().unwrap();
        s.rsplit_once("/modules/").map_or(s, |(_, t)| t).to_owned()
    };
    let iso = &p["iso"]["imports"];
    assert_eq!(
        tail(&iso[0]),
        "installer/cd-dvd/installation-cd-minimal.nix"
    );
    assert_eq!(iso[1], "image.nix");
    let netboot = &p["netboot"]["imports"];
    assert_eq!(tail(&netboot[0]), "installer/netboot/netboot-minimal.nix");
    assert_eq!(netboot[1], "image.nix");
    // Everything else of the image lives in image.nix, not in either medium's file.
    assert_eq!(
        p["netboot"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["imports"]
    );
    for key in ["services", "boot"] {
        let iso_part = &p["iso"][key];
        assert!(
            iso_part.get("pre-nixos").is_none() && iso_part.get("kernelParams").is_none(),
            "iso.nix sets {key} itself: {iso_part}"
        );
    }
}

#[test]
fn the_uefi_menu_speaks_115200_on_serial() {
    let p = eval_profiles(&repo().join("nixos"));
    let iso = &p["iso"];
    assert_eq!(iso["overlayCount"], 1);
    let grub = &iso["grub2_efi"];
    // The same GRUB, only grub-mkimage wrapped, and what iso-image.nix reads kept.
    assert_eq!(grub["unwrapped"], "grub-2.12");
    assert_eq!(grub["grubTarget"], "x86_64-efi");
    let script = grub["script"].as_str().unwrap();
    assert!(
        script.contains(
            "makeWrapper /nix/store/00000000000000000000000000000000-grub-2.12/bin/grub-mkimage \
             $out/bin/grub-mkimage"
        ),
        "{script}"
    );
    assert!(
        script.contains(
            "--add-flags \"--config=/nix/store/00000000000000000000000000000000-pre-nixos-grub-early.cfg\""
        ),
        "{script}"
    );
    // The embedded config: the line the bare `serial` of iso-image's grub.cfg then keeps.
    let iso_text = std::fs::read_to_string(repo().join("nixos/iso.nix")).unwrap();
    assert!(
        iso_text.contains("serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"),
        "nixos/iso.nix"
    );
    // The menus boot the default entry by themselves.
    assert_eq!(
        unwrap_marker(&iso["boot"]["loader"]["timeout"], "override"),
        5
    );
}

#[test]
fn the_image_takes_every_pub_file_in_keys() {
    // Copies of the real profiles in a tree of their own, with keys/ beside nixos/.
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("nixos")).unwrap();
    std::fs::create_dir_all(tree.path().join("keys")).unwrap();
    for file in ["image.nix", "iso.nix", "netboot.nix"] {
        std::fs::copy(
            repo().join("nixos").join(file),
            tree.path().join("nixos").join(file),
        )
        .unwrap();
    }
    std::fs::write(tree.path().join("keys/op.pub"), format!("{ED25519}\n")).unwrap();
    std::fs::write(tree.path().join("keys/backup.pub"), format!("{RSA}\n")).unwrap();
    std::fs::write(tree.path().join("keys/README.md"), "not a key\n").unwrap();
    let p = eval_profiles(&tree.path().join("nixos"));
    assert_eq!(
        p["image"]["services"]["pre-nixos"]["authorizedKeysFiles"],
        serde_json::json!(["backup.pub", "op.pub"])
    );
}

/// The list as the Rust side reads it: (program, nixpkgs attribute) per line.
fn tool_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_owned(), f[1].to_owned())
        })
        .collect()
}

#[test]
fn the_package_path_is_the_runtime_tool_list() {
    let text = std::fs::read_to_string(repo().join("share/runtime-tools.tsv")).unwrap();
    let mut want: Vec<String> = Vec::new();
    for (_, attr) in tool_lines(&text) {
        if !want.contains(&attr) {
            want.push(attr);
        }
    }
    assert!(want.contains(&"ethtool".to_owned()), "{want:?}");

    let p = eval_json(
        "evaluating nixos/package.nix against stand-in packages",
        "tests/nix/eval-package.nix",
        &[],
    );
    // Every attribute of the list, once, in order: disko as the flake's pinned input.
    assert_eq!(p["runtimeTools"], serde_json::json!(want));
    assert_eq!(
        p["withoutDisko"],
        serde_json::json!(want.iter().filter(|a| *a != "disko").collect::<Vec<_>>()),
        "without a disko argument the rest is still there"
    );
    let post = p["postInstall"].as_str().unwrap();
    let path: Vec<String> = want.iter().map(|a| format!("/stub/{a}/bin")).collect();
    assert!(
        post.contains(&format!(
            "wrapProgram $out/bin/pre-nixos \\\n  --prefix PATH : {}",
            path.join(":")
        )),
        "{post}"
    );
}

#[test]
fn a_malformed_runtime_tool_line_fails_evaluation() {
    let list = repo().join("nixos/runtime-tools.nix");
    let eval = |text: &str| {
        nix_instantiate(
            "parsing a runtime-tool list",
            &[
                "--eval",
                "--strict",
                "--json",
                "--expr",
                &format!(
                    "(import {} {{ text = {}; }}).nixpkgsAttrs",
                    list.display(),
                    nix_string(text)
                ),
            ],
        )
    };
    assert_eq!(
        eval("# c\n\nsgdisk\tgptfdisk\tgdisk\nmkswap\tutil-linux\tutil-linux\nmount\tutil-linux\tmount\n")
            .unwrap()
            .trim(),
        "[\"gptfdisk\",\"util-linux\"]"
    );
    for bad in [
        "sgdisk gptfdisk gdisk\n",
        "sgdisk\tgptfdisk\n",
        "sgdisk\t\tgdisk\n",
    ] {
        let err = eval(bad).expect_err(bad);
        assert!(
            err.contains("share/runtime-tools.tsv: want"),
            "{bad:?}: {err}"
        );
    }
}

/// `tests/fixtures/authorized_keys/corpus.txt` through nixos/keys.nix: every line gets
/// the answer the runtime parser gives it (src/network/ssh.rs tests the same file), so
/// a key the image build accepts is one the boot accepts.
#[test]
fn the_shared_key_corpus_gets_the_same_answers_from_keys_nix() {
    let text =
        std::fs::read_to_string(repo().join("tests/fixtures/authorized_keys/corpus.txt")).unwrap();
    let cases: Vec<(String, String, String)> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut p = l.splitn(3, '|');
            let expect = p.next().unwrap().to_owned();
            let note = p.next().unwrap().to_owned();
            (expect, note, p.next().unwrap().replace("<CR>", "\r"))
        })
        .collect();
    assert!(cases.len() > 40);
    // The lines go in as JSON (any byte of a key line survives), each both as a
    // one-line file (keyLines: skipped or kept) and as an option string (isValidKey).
    let dir = tempfile::tempdir().unwrap();
    let lines_json = dir.path().join("lines.json");
    let lines: Vec<&str> = cases.iter().map(|c| c.2.as_str()).collect();
    std::fs::write(&lines_json, serde_json::to_string(&lines).unwrap()).unwrap();
    let got = eval_keys(&format!(
        "map (l: {{ lines = builtins.length (keys.keyLines l); valid = keys.isValidKey l; }}) \
         (builtins.fromJSON (builtins.readFile {}))",
        lines_json.display()
    ))
    .unwrap();
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), cases.len());
    let mut wrong = Vec::new();
    for ((expect, note, line), g) in cases.iter().zip(got) {
        let kept = g["lines"].as_u64().unwrap();
        let valid = g["valid"].as_bool().unwrap();
        let answer = match (kept, valid) {
            (0, _) => "skip",
            (1, true) => "key",
            (1, false) => "refuse",
            _ => "split",
        };
        if answer != expect {
            wrong.push(format!(
                "{note}: expected {expect}, keys.nix says {answer}: {line:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The two lists of key types are one list.
    let nix_types = eval_keys("keys.keyTypes").unwrap();
    let nix_types: Vec<&str> = nix_types
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(nix_types, pre_nixos::network::ssh::KEY_TYPES);
}
