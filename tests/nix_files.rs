//! Offline checks of the Nix side with Debian's `nix-instantiate` (no nixpkgs, no
//! network): every `.nix` file in the repository parses, the key rules of the module
//! (`nixos/keys.nix`) behave, and `nixos/module.nix` evaluated against the stub lib in
//! `tests/nix/eval-module.nix` produces the unit wiring that cannot deadlock.
//!
//! What this cannot prove: that nixpkgs' module system accepts the definitions when
//! merged with the rest of NixOS, and that the ISO builds. Those need Nix with its
//! binary cache (`nix flake check`, `nix build .#iso`).
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
fn eval_module(settings: &str) -> Result<Value, String> {
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
        ],
    )
    .map(|s| serde_json::from_str(&s).expect("nix-instantiate printed JSON"))
}

/// The content of a `mkIf`/`mkForce` marker, checking its kind.
fn unwrap_marker<'a>(v: &'a Value, kind: &str) -> &'a Value {
    assert_eq!(v["_type"], kind, "expected a {kind} marker: {v}");
    &v["content"]
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
    ] {
        let o = options
            .get(name)
            .unwrap_or_else(|| panic!("option {name} missing"));
        assert_eq!(o["documented"], true, "{name}: {o}");
    }
    assert_eq!(options["mode"]["type"], "nullOr enum");
    assert_eq!(options["authorizedKeys"]["type"], "listOf str");
    assert_eq!(options["authorizedKeysFiles"]["type"], "listOf path");
    // Disabled by default: the whole config is behind mkIf false.
    assert_eq!(m["config"]["condition"], false);
}

#[test]
fn the_module_wires_units_that_cannot_deadlock() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; mode = \"careful\"; \
         swapSize = \"16G\"; executor = \"native\"; extraArgs = [ \"--carrier-timeout\" \"60%\" ]; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let c = unwrap_marker(&m["config"], "if");
    assert_eq!(m["config"]["condition"], true);

    let svc = &c["systemd"]["services"]["pre-nixos"];
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
    let exec = svc["serviceConfig"]["ExecStart"].as_array().unwrap();
    assert_eq!(exec[0], "", "the packaged ExecStart must be reset first");
    let line = exec[1].as_str().unwrap();
    assert!(line.contains("/bin/pre-nixos\" \"boot\""), "{line}");
    for arg in [
        "\"--mode\" \"careful\"",
        "\"--swap-size\" \"16G\"",
        "\"--executor\" \"native\"",
        "\"--carrier-timeout\" \"60%%\"",
    ] {
        assert!(line.contains(arg), "{arg} missing in {line}");
    }
    assert!(
        svc["environment"]["NIX_PATH"]
            .as_str()
            .unwrap()
            .starts_with("nixpkgs=/nix/store/"),
        "{svc}"
    );
    assert_eq!(c["systemd"]["packages"].as_array().unwrap().len(), 1);

    // sshd: enabled, wanted by nothing (forced), no ordering on pre-nixos.
    let sshd = &c["systemd"]["services"]["sshd"];
    assert_eq!(
        unwrap_marker(&sshd["wantedBy"], "override"),
        &serde_json::json!([])
    );
    assert_eq!(sshd["wantedBy"]["priority"], 50);
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
    let ssh = &c["services"]["openssh"];
    assert_eq!(ssh["enable"], true);
    assert_eq!(
        ssh["hostKeys"],
        serde_json::json!([{ "type": "ed25519", "path": "/etc/ssh/ssh_host_ed25519_key" }])
    );
    assert_eq!(
        unwrap_marker(&ssh["settings"]["PasswordAuthentication"], "override"),
        false
    );

    // networkd on, DHCP catch-all and NetworkManager off.
    assert_eq!(c["systemd"]["network"]["enable"], true);
    assert_eq!(c["networking"]["useNetworkd"], true);
    assert_eq!(c["networking"]["useDHCP"], false);
    assert_eq!(
        unwrap_marker(&c["networking"]["networkmanager"]["enable"], "override"),
        false
    );

    assert_eq!(
        c["environment"]["etc"]["pre-nixos/authorized_keys"]["text"],
        format!("{ED25519}\n")
    );
}

#[test]
fn the_module_passes_no_mode_when_unset() {
    let m = eval_module(&format!(
        "{{ enable = true; authorizedKeys = [ {} ]; }}",
        nix_string(ED25519)
    ))
    .unwrap();
    let c = unwrap_marker(&m["config"], "if");
    let line = c["systemd"]["services"]["pre-nixos"]["serviceConfig"]["ExecStart"][1]
        .as_str()
        .unwrap();
    // Leaves pre-nixos.mode= / pre-nixos.swap= on the kernel command line in charge.
    assert!(line.ends_with("/bin/pre-nixos\" \"boot\""), "{line}");
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
        ("{ enable = true; frobnicate = true; }", "frobnicate"),
    ] {
        let err = eval_module(settings).expect_err(settings);
        assert!(err.contains(needle), "{settings}: {err}");
    }
}

#[test]
fn the_flake_pins_its_inputs_and_exposes_the_documented_outputs() {
    let driver = repo().join("tests/nix/flake-outputs.nix");
    let out = nix_instantiate(
        "evaluating the flake outputs with stand-in inputs",
        &["--eval", "--strict", "--json", driver.to_str().unwrap()],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let f: Value = serde_json::from_str(&out).unwrap();

    // disko's CLI changed across releases; the executor is written against v1.13.0.
    assert_eq!(
        f["inputs"]["disko"]["url"],
        "github:nix-community/disko/v1.13.0"
    );
    assert_eq!(
        f["inputs"]["disko"]["inputs"]["nixpkgs"]["follows"], "nixpkgs",
        "one nixpkgs in the image, not two"
    );
    let nixpkgs = f["inputs"]["nixpkgs"]["url"].as_str().unwrap();
    assert!(
        nixpkgs.starts_with("github:NixOS/nixpkgs/nixos-"),
        "{nixpkgs}"
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
    assert_eq!(
        packages["iso"]["modules"],
        serde_json::json!(["module", "iso.nix"])
    );
    assert_eq!(packages["iso"]["specialArgs"], serde_json::json!(["disko"]));
    assert_eq!(
        f["nixosModules"],
        serde_json::json!(["default", "pre-nixos"])
    );
    assert_eq!(f["moduleFile"], "module.nix");
    assert_eq!(f["moduleImportsFunction"], true);
    assert_eq!(
        f["nixosConfigurations"],
        serde_json::json!(["pre-installer"])
    );
    assert_eq!(f["checks"]["boot"]["stub"], "nixos-test");
    assert_eq!(f["checks"]["boot"]["name"], "pre-nixos-boot");
}

fn eval_iso(iso_file: &Path) -> Value {
    let driver = repo().join("tests/nix/eval-iso.nix");
    let out = nix_instantiate(
        "evaluating nixos/iso.nix against the stub lib",
        &[
            "--eval",
            "--strict",
            "--json",
            driver.to_str().unwrap(),
            "--arg",
            "isoFile",
            iso_file.to_str().unwrap(),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_iso_has_a_serial_console_a_root_shell_and_a_banner() {
    let iso = eval_iso(&repo().join("nixos/iso.nix"));
    assert_eq!(
        iso["imports"][0]
            .as_str()
            .unwrap()
            .rsplit_once("/modules/")
            .unwrap()
            .1,
        "installer/cd-dvd/installation-cd-minimal.nix"
    );
    assert_eq!(iso["services"]["pre-nixos"]["enable"], true);
    // Serial last, so /dev/console (where the announcement goes) is the serial line.
    assert_eq!(
        iso["boot"]["kernelParams"],
        serde_json::json!(["console=tty0", "console=ttyS0,115200n8"])
    );
    assert_eq!(
        unwrap_marker(&iso["services"]["getty"]["autologinUser"], "override"),
        "root"
    );
    let help = unwrap_marker(&iso["services"]["getty"]["helpLine"], "override")
        .as_str()
        .unwrap();
    assert!(help.contains("\\4{lan}"), "{help}");
    assert!(help.contains("/run/pre-nixos/storage-status"), "{help}");
    assert_eq!(
        iso["environment"]["etc"]["issue.d/pre-nixos.issue"]["source"],
        "/run/pre-nixos/storage-status"
    );
    // md and dm for provisioning; disko from the pinned input and <nixpkgs> for it.
    assert_eq!(iso["boot"]["swraid"]["enable"], true);
    let modules = iso["boot"]["kernelModules"].as_array().unwrap();
    assert!(modules.contains(&Value::from("dm-snapshot")), "{modules:?}");
    assert!(iso["environment"]["systemPackages"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({ "stub": "disko-v1.13.0" })));
    assert!(iso["nix"]["nixPath"][0]
        .as_str()
        .unwrap()
        .starts_with("nixpkgs=/nix/store/"));
    // This repository ships keys/ without a key: the ISO builds with the warning.
    assert_eq!(
        iso["services"]["pre-nixos"]["authorizedKeysFiles"],
        serde_json::json!([])
    );
}

#[test]
fn the_iso_takes_every_pub_file_in_keys() {
    // A copy of the real iso.nix in a tree of its own, with keys/ beside nixos/.
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("nixos")).unwrap();
    std::fs::create_dir_all(tree.path().join("keys")).unwrap();
    let iso_copy = tree.path().join("nixos/iso.nix");
    std::fs::copy(repo().join("nixos/iso.nix"), &iso_copy).unwrap();
    std::fs::write(tree.path().join("keys/op.pub"), format!("{ED25519}\n")).unwrap();
    std::fs::write(tree.path().join("keys/backup.pub"), format!("{RSA}\n")).unwrap();
    std::fs::write(tree.path().join("keys/README.md"), "not a key\n").unwrap();
    let iso = eval_iso(&iso_copy);
    assert_eq!(
        iso["services"]["pre-nixos"]["authorizedKeysFiles"],
        serde_json::json!(["backup.pub", "op.pub"])
    );
}
