//! `scripts/check-msrv` fails when it should: run on a copy of this package whose
//! recorded rust-version is older than what the locked tree needs (the situation the
//! Nix build hit with rustc 1.86), or whose clippy.toml disagrees with Cargo.toml. Both
//! stop before anything is compiled, so this costs one `cargo metadata`.
//!
//! That it passes on the real tree is `scripts/check-msrv` itself, run by `scripts/test`.

use std::path::{Path, PathBuf};

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, Host};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// A copy of the package (manifest, lock, clippy.toml, the gate, src/) with
/// rust-version and clippy's msrv set as given.
fn package_with(rust_version: &str, clippy_msrv: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.starts_with("rust-version = "))
        .expect("Cargo.toml has a rust-version line");
    std::fs::write(
        root.join("Cargo.toml"),
        manifest.replace(line, &format!("rust-version = \"{rust_version}\"")),
    )
    .unwrap();
    std::fs::copy(repo().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
    let clippy = std::fs::read_to_string(repo().join("clippy.toml")).unwrap();
    let msrv = clippy
        .lines()
        .find(|l| l.starts_with("msrv = "))
        .expect("clippy.toml has an msrv line");
    std::fs::write(
        root.join("clippy.toml"),
        clippy.replace(msrv, &format!("msrv = \"{clippy_msrv}\"")),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("scripts")).unwrap();
    std::fs::copy(
        repo().join("scripts/check-msrv"),
        root.join("scripts/check-msrv"),
    )
    .unwrap();
    copy_tree(&repo().join("src"), &root.join("src"));
    dir
}

/// Runs the gate in `root`: Ok(stdout) on exit 0, Err(stderr) otherwise.
fn gate(root: &Path) -> Result<String, String> {
    let script = root.join("scripts/check-msrv");
    let cmd = Cmd::new("running the MSRV gate", ["bash", script.to_str().unwrap()])
        // Nothing may be compiled into the real target directory from a copy.
        .env(
            "CARGO_TARGET_DIR",
            root.join("target").to_str().unwrap().to_owned(),
        )
        .timeout(std::time::Duration::from_secs(300));
    match RealHost::new().run(&cmd) {
        Ok(out) => Ok(out.stdout),
        Err(CmdError::Failed { output, .. }) => Err(output.stderr.clone()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn the_gate_names_the_locked_packages_that_need_a_newer_rustc() {
    // The locked `time` needs 1.88; the nixos-25.05 rustc was 1.86.
    let pkg = package_with("1.86", "1.86");
    let err = gate(pkg.path()).expect_err("the gate must fail for rustc 1.86");
    assert!(
        err.contains("the locked tree needs a newer rustc than 1.86.0"),
        "{err}"
    );
    assert!(err.contains("time@0.3.55 requires rustc 1.88.0"), "{err}");
    assert!(
        err.contains("CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update"),
        "{err}"
    );
    // It stopped before compiling anything.
    assert!(!pkg.path().join("target/msrv/debug").exists());
}

#[test]
fn the_gate_fails_when_clippy_toml_disagrees() {
    let version = std::fs::read_to_string(repo().join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap()
        .to_owned();
    let pkg = package_with(&version, "1.80");
    let err = gate(pkg.path()).expect_err("a clippy.toml msrv of 1.80 must fail");
    assert!(
        err.contains(&format!(
            "clippy.toml msrv is \"1.80\", Cargo.toml rust-version is \"{version}\""
        )),
        "{err}"
    );
}
