//! The unit files under `nixos/units/`: the shape of `pre-nixos.service`, no ordering
//! or requirement that could make sshd wait for pre-nixos (or the reverse) or make
//! anything wait for network-online.target, and `systemd-analyze verify` with the
//! built binary in place of `@bindir@`.
//!
//! These are the same files the NixOS module installs (systemd.packages) and the
//! Debian VM harness copies, so this is the unit graph that boots. The NixOS-side
//! definitions (sshd wanted by nothing) are checked in `tests/nix_files.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pre_nixos::host::real::RealHost;
use pre_nixos::host::{Cmd, CmdError, Host};

/// Keys that order or pull in another unit. Any of them between sshd and pre-nixos
/// can put one start job behind the other.
const LINK_KEYS: &[&str] = &[
    "After",
    "Before",
    "Requires",
    "Requisite",
    "BindsTo",
    "PartOf",
    "Wants",
    "Upholds",
    "PropagatesReloadTo",
    "ReloadPropagatedFrom",
    "OnSuccess",
    "OnFailure",
    "WantedBy",
    "RequiredBy",
    "UpheldBy",
];

/// A unit file: (section, key) → every value, assignments split on whitespace the way
/// systemd splits unit lists.
#[derive(Debug, Default)]
struct Unit {
    name: String,
    entries: BTreeMap<(String, String), Vec<String>>,
}

impl Unit {
    fn parse(name: &str, text: &str) -> Unit {
        let mut unit = Unit {
            name: name.to_owned(),
            ..Unit::default()
        };
        let mut section = String::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = s.to_owned();
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("{name}:{}: not KEY=VALUE: {raw}", n + 1));
            let values = unit
                .entries
                .entry((section.clone(), key.trim().to_owned()))
                .or_default();
            if value.trim().is_empty() {
                values.clear(); // an empty assignment resets the list
            } else {
                values.push(value.trim().to_owned());
            }
        }
        unit
    }

    fn get(&self, section: &str, key: &str) -> Vec<String> {
        self.entries
            .get(&(section.to_owned(), key.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Every unit named by a linking key, as (key, unit name).
    fn links(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for ((_, key), values) in &self.entries {
            if LINK_KEYS.contains(&key.as_str()) {
                for v in values {
                    for u in v.split_whitespace() {
                        out.push((key.clone(), u.to_owned()));
                    }
                }
            }
        }
        out
    }
}

fn is_sshd(unit: &str) -> bool {
    let base = unit.split('.').next().unwrap_or(unit);
    let base = base.trim_end_matches('@');
    base == "sshd" || base == "ssh" || base.starts_with("sshd@") || base.starts_with("ssh@")
}

fn is_pre_nixos(unit: &str) -> bool {
    unit.starts_with("pre-nixos")
}

/// Every link that could make sshd and pre-nixos wait on each other, or anything wait
/// for network-online.target. Empty means the unit is safe.
fn deadlock_hazards(unit: &Unit) -> Vec<String> {
    let me = unit.name.as_str();
    let mut hazards = Vec::new();
    for (key, other) in unit.links() {
        if other == "network-online.target" {
            hazards.push(format!(
                "{me}: {key}={other} (waits for a lease pre-nixos makes)"
            ));
        }
        if (is_pre_nixos(me) && is_sshd(&other)) || (is_sshd(me) && is_pre_nixos(&other)) {
            hazards.push(format!(
                "{me}: {key}={other} (sshd and pre-nixos must not be linked)"
            ));
        }
        if is_sshd(me) && (key == "WantedBy" || key == "RequiredBy") {
            hazards.push(format!(
                "{me}: {key}={other} (sshd must be wanted by nothing)"
            ));
        }
    }
    hazards
}

fn units_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("nixos/units")
}

/// Every unit file and drop-in under nixos/units, with the unit name it applies to.
fn unit_files() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, owner: Option<&str>, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                // foo.service.d/*.conf are drop-ins of foo.service
                let unit = name.strip_suffix(".d").unwrap_or(&name).to_owned();
                walk(&p, Some(&unit), out);
            } else if let Some(unit) = owner {
                if name.ends_with(".conf") {
                    out.push((unit.to_owned(), p));
                }
            } else if [".service", ".socket", ".target", ".path", ".timer"]
                .iter()
                .any(|s| name.ends_with(s))
            {
                out.push((name, p));
            }
        }
    }
    let mut out = Vec::new();
    walk(&units_dir(), None, &mut out);
    out
}

fn pre_nixos_unit() -> Unit {
    let text = std::fs::read_to_string(units_dir().join("pre-nixos.service"))
        .expect("reading nixos/units/pre-nixos.service");
    Unit::parse("pre-nixos.service", &text)
}

#[test]
fn no_unit_file_links_sshd_and_pre_nixos_or_waits_for_network_online() {
    let files = unit_files();
    assert!(
        files.iter().any(|(n, _)| n == "pre-nixos.service"),
        "pre-nixos.service missing: {files:?}"
    );
    let mut hazards = Vec::new();
    for (name, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        hazards.extend(deadlock_hazards(&Unit::parse(name, &text)));
    }
    assert!(
        hazards.is_empty(),
        "deadlock hazards:\n{}",
        hazards.join("\n")
    );
}

#[test]
fn the_hazard_check_catches_each_kind_of_link() {
    // The check above must be able to fail: each of these is the predecessor's bug or
    // a variant of it.
    for (name, text) in [
        (
            "sshd.service",
            "[Unit]\nAfter=network.target pre-nixos.service\n",
        ),
        ("sshd.service.d", "[Unit]\nRequires=pre-nixos.service\n"),
        ("ssh.service", "[Unit]\nPartOf=pre-nixos.service\n"),
        ("pre-nixos.service", "[Unit]\nBefore=sshd.service\n"),
        ("pre-nixos.service", "[Unit]\nWants=ssh.service\n"),
        ("pre-nixos.service", "[Unit]\nAfter=network-online.target\n"),
        ("pre-nixos.service", "[Unit]\nWants=network-online.target\n"),
        ("sshd.service", "[Install]\nWantedBy=multi-user.target\n"),
        ("sshd@.service", "[Unit]\nAfter=pre-nixos.service\n"),
    ] {
        let unit = Unit::parse(name, text);
        assert!(!deadlock_hazards(&unit).is_empty(), "{name}: {text}");
    }
    // An empty assignment resets the list, as in systemd.
    let reset = Unit::parse("sshd.service", "[Unit]\nAfter=pre-nixos.service\nAfter=\n");
    assert!(deadlock_hazards(&reset).is_empty());
}

/// Why a unit wanted by a target would hold the boot for as long as its process runs:
/// a start job lasts until the service is "started", which for these types is the end
/// of ExecStart (oneshot), a READY=1 (notify) or the parent's exit (forking). Any
/// running job keeps the manager "starting", and a target with the implicit After= of
/// its .wants link is not reached until then. Empty means the boot does not wait.
fn holds_the_boot(unit: &Unit) -> Vec<String> {
    let me = &unit.name;
    let wanted_by_target: Vec<String> = unit
        .get("Install", "WantedBy")
        .iter()
        .chain(unit.get("Install", "RequiredBy").iter())
        .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|t| t.ends_with(".target"))
        .collect();
    let mut out = Vec::new();
    if wanted_by_target.is_empty() {
        return out;
    }
    let ty = unit.get("Service", "Type");
    // systemd's default is simple, or oneshot when there is no ExecStart.
    let ty = ty.last().map(String::as_str).unwrap_or("simple");
    if !matches!(ty, "exec" | "simple") {
        out.push(format!(
            "{me}: Type={ty} wanted by {wanted_by_target:?}: its start job lasts as long as \
             its process, and the boot waits for it"
        ));
    }
    for key in ["Before", "RequiredBy"] {
        for v in unit.get("Unit", key) {
            for t in v.split_whitespace() {
                if t == "multi-user.target" || t == "default.target" {
                    out.push(format!("{me}: {key}={t}"));
                }
            }
        }
    }
    out
}

#[test]
fn pre_nixos_starts_at_exec_so_the_boot_reaches_multi_user_while_storage_runs() {
    let u = pre_nixos_unit();
    assert_eq!(u.get("Service", "Type"), ["exec"]);
    assert_eq!(u.get("Service", "RemainAfterExit"), ["yes"]);
    assert_eq!(u.get("Service", "ExecStart"), ["@bindir@/pre-nixos boot"]);
    assert_eq!(u.get("Install", "WantedBy"), ["multi-user.target"]);
    let held = holds_the_boot(&u);
    assert!(held.is_empty(), "{}", held.join("\n"));
    // The bound on the flow is RuntimeMaxSec= (TimeoutStartSec= only covers the exec
    // with Type=exec); SIGTERM goes to the main process so it can write its final state.
    assert!(
        u.get("Service", "TimeoutStartSec").is_empty(),
        "TimeoutStartSec= bounds only the exec of a Type=exec unit; the bound is RuntimeMaxSec="
    );
    assert_eq!(u.get("Service", "KillMode"), ["mixed"]);
    assert!(runtime_bound(&u) > Duration::from_secs(60));
    let after: Vec<String> = u
        .get("Unit", "After")
        .iter()
        .flat_map(|v| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for needed in ["systemd-udevd.service", "systemd-udev-trigger.service"] {
        assert!(
            after.iter().any(|a| a == needed),
            "After= lacks {needed}: {after:?}"
        );
    }
    // Requirements are limited to udevd: anything else it requires could fail it or
    // hold it back.
    for (key, other) in u.links() {
        if key == "Requires" || key == "BindsTo" || key == "Requisite" {
            panic!("pre-nixos.service {key}={other}: it must start whatever else failed");
        }
        if key == "Wants" {
            assert_eq!(other, "systemd-udevd.service", "unexpected Wants={other}");
        }
    }
}

#[test]
fn the_boot_hold_check_catches_a_oneshot_notify_or_forking_unit_wanted_by_a_target() {
    // The check above must be able to fail: the shape issue 11 replaced, and variants.
    for text in [
        "[Service]\nType=oneshot\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
        "[Service]\nType=notify\n[Install]\nWantedBy=multi-user.target\n",
        "[Service]\nType=forking\n[Install]\nRequiredBy=default.target\n",
        "[Unit]\nBefore=multi-user.target\n[Service]\nType=exec\n[Install]\nWantedBy=multi-user.target\n",
    ] {
        let unit = Unit::parse("pre-nixos.service", text);
        assert!(!holds_the_boot(&unit).is_empty(), "{text}");
    }
    let fine = "[Service]\nType=exec\n[Install]\nWantedBy=multi-user.target\n";
    assert!(holds_the_boot(&Unit::parse("pre-nixos.service", fine)).is_empty());
}

/// A systemd time span as the unit spells it ("45min", "30s", "1h 5min", "90").
fn systemd_span(text: &str) -> Duration {
    let mut total = 0f64;
    for part in text.split_whitespace() {
        let digits: String = part
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let unit = &part[digits.len()..];
        let n: f64 = digits
            .parse()
            .unwrap_or_else(|_| panic!("time span {text:?}"));
        total += n * match unit {
            "" | "s" | "sec" => 1.0,
            "ms" => 1e-3,
            "min" | "m" => 60.0,
            "h" | "hr" => 3600.0,
            other => panic!("time span {text:?}: unit {other:?}"),
        };
    }
    Duration::from_secs_f64(total)
}

fn runtime_bound(u: &Unit) -> Duration {
    let v = u.get("Service", "RuntimeMaxSec");
    systemd_span(v.last().expect("pre-nixos.service has no RuntimeMaxSec="))
}

/// Every `Duration::from_secs(<literal>)` / `from_millis(<literal>)` in src/, as
/// (file:line, duration): the command timeouts, waits and polls the tool can spend.
fn literal_durations_in_src() -> Vec<(String, Duration)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for (n, line) in text.lines().enumerate() {
            for (ctor, scale) in [
                ("Duration::from_secs(", 1000u64),
                ("Duration::from_millis(", 1),
            ] {
                let mut rest = line;
                while let Some(i) = rest.find(ctor) {
                    rest = &rest[i + ctor.len()..];
                    let arg = &rest[..rest.find(')').unwrap_or(rest.len())];
                    // Only literal products such as `40 * 60`; a variable is not a bound.
                    let value: Option<u64> = arg
                        .split('*')
                        .map(|t| t.trim().replace('_', "").parse::<u64>().ok())
                        .product();
                    if let Some(v) = value {
                        let at = format!("{}:{}", f.display(), n + 1);
                        out.push((at, Duration::from_millis(v * scale)));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_units_bound_exceeds_every_timeout_in_the_tool() {
    let bound = runtime_bound(&pre_nixos_unit());
    let found = literal_durations_in_src();
    // The scan must see the longest one, disko's whole run.
    assert!(
        found
            .iter()
            .any(|(_, d)| *d == pre_nixos::storage::exec::disko::DISKO_TIMEOUT),
        "the scan did not find DISKO_TIMEOUT: {found:?}"
    );
    let over: Vec<_> = found.iter().filter(|(_, d)| *d >= bound).collect();
    assert!(
        over.is_empty(),
        "timeouts not below RuntimeMaxSec={bound:?}: a command would outlive the unit: {over:?}"
    );
    assert!(pre_nixos::storage::exec::disko::DISKO_TIMEOUT < bound);
    assert_eq!(systemd_span("1h 5min"), Duration::from_secs(3900));
}

/// Writes pre-nixos.service with @bindir@ → `bindir` into a fresh directory and runs
/// `systemd-analyze verify` on it; Ok(()) or Err(what it said).
fn verify_with_bindir(bindir: &Path) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(units_dir().join("pre-nixos.service")).unwrap();
    let unit = dir.path().join("pre-nixos.service");
    std::fs::write(&unit, text.replace("@bindir@", bindir.to_str().unwrap())).unwrap();
    let cmd = Cmd::new(
        "verifying pre-nixos.service",
        ["systemd-analyze", "verify", "--man=no"],
    )
    .arg(unit.to_str().unwrap())
    .timeout(std::time::Duration::from_secs(120));
    let out = match RealHost::new().run(&cmd) {
        Ok(out) => out,
        Err(CmdError::NotFound { .. }) => panic!(
            "systemd-analyze is not installed: run `scripts/install-deps --all` \
             (it comes with systemd) to verify the unit files"
        ),
        Err(CmdError::Failed { output, .. }) => return Err(output.stderr.clone()),
        Err(e) => return Err(e.to_string()),
    };
    // verify exits 0 on warnings such as unknown keys or bad dependencies ("…,
    // ignoring"); any complaint about our file is an error here.
    let ours: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("pre-nixos"))
        .collect();
    if ours.is_empty() {
        Ok(())
    } else {
        Err(ours.join("\n"))
    }
}

#[test]
fn systemd_analyze_verifies_the_unit_with_the_built_binary() {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_pre-nixos"));
    verify_with_bindir(bin.parent().unwrap()).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn systemd_analyze_rejects_a_unit_whose_binary_is_missing() {
    // The verify above must be able to fail.
    let err = verify_with_bindir(Path::new("/nonexistent/pre-nixos-bin"))
        .expect_err("a missing ExecStart binary must fail verify");
    assert!(err.contains("not executable"), "{err}");
}
