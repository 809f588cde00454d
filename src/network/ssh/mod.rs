//! sshd: authorized keys, hardened sshd_config, non-blocking start (SPEC §4.3).
//!
//! Order: install root's keys (refused when the key file is missing, empty or
//! malformed — then sshd is not started at all), harden `sshd_config`, validate the
//! candidate with `sshd -t -f`, replace the live file, and queue
//! `systemctl reload-or-restart --no-block <unit>`. Nothing here waits for a
//! systemd job: the predecessor deadlocked by blocking on an sshd start ordered
//! after its own unit. `reload-or-restart` (not `enable --now`) so an sshd that is
//! already running re-reads the hardened file.
//!
//! The pure halves ([`parse_authorized_keys`], [`merge_keys`], [`harden_config`],
//! [`sshd_error_line`]) are golden-tested; [`setup`] does the I/O through the host.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::host::{Cmd, Host};

mod hardening;
pub mod hostkeys;
mod keys;
pub mod listen;

pub use hardening::*;
pub use keys::*;

pub const DEFAULT_KEYS: &str = "/etc/pre-nixos/authorized_keys";
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
const ROOT_SSH: &str = "/root/.ssh";
const CANDIDATE: &str = "/etc/ssh/.sshd_config.pre-nixos-candidate";

/// From `sshd -t` stderr (`/etc/ssh/x line 7: Bad configuration option: Foo`), the
/// line number sshd complains about.
pub fn sshd_error_line(stderr: &str) -> Option<usize> {
    let i = stderr.find(" line ")?;
    stderr[i + 6..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// Which unit runs sshd: `ssh.service` on Debian, `sshd.service` on NixOS and most
/// others. Looks for unit files where systemd keeps them; `sshd.service` when
/// nothing is found (NixOS lists its units under /etc/systemd/system).
pub fn sshd_unit(host: &dyn Host) -> &'static str {
    let dirs = [
        "/etc/systemd/system",
        "/run/systemd/system",
        "/usr/lib/systemd/system",
        "/lib/systemd/system",
    ];
    let has = |u: &str| dirs.iter().any(|d| host.exists(&Path::new(d).join(u)));
    if has("sshd.service") {
        "sshd.service"
    } else if has("ssh.service") {
        "ssh.service"
    } else {
        "sshd.service"
    }
}

/// What [`setup`] achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshOutcome {
    /// sshd's start/reload was queued with the hardened config.
    pub started: bool,
    /// `ready`, or why sshd is not up (one line, for `network-status` and consoles).
    pub status: String,
    pub unit: String,
}

fn refuse(status: String) -> SshOutcome {
    tracing::error!(reason = %status, "sshd not started");
    SshOutcome {
        started: false,
        status,
        unit: String::new(),
    }
}

/// Keys, config, validation, non-blocking start.
pub fn setup(host: &dyn Host, key_file: Option<&Path>) -> SshOutcome {
    let key_file: PathBuf = key_file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| DEFAULT_KEYS.into());
    // 1. Keys.
    let text = match host.read_to_string(&key_file) {
        Ok(t) => t,
        Err(e) => {
            return refuse(format!(
                "not started: no authorized key ({} unreadable: {e}); embed a key in the image or pass --authorized-keys",
                key_file.display()
            ))
        }
    };
    let keys = match parse_authorized_keys(&text) {
        Ok(k) => k,
        Err(e) => {
            return refuse(format!(
            "not started: key file {} refused: {e}; fix the file (one OpenSSH public key per line)",
            key_file.display()
        ))
        }
    };
    if let Err(e) = install_keys(host, &keys) {
        return refuse(format!(
            "not started: installing root's authorized_keys failed: {e}"
        ));
    }
    // 2. Config.
    if let Err(e) = harden(host) {
        return refuse(format!("not started: {e}"));
    }
    // 3. Start (or reload) without waiting for the job.
    let unit = sshd_unit(host);
    let cmd = Cmd::new(
        format!("queueing a reload-or-restart of {unit}"),
        ["systemctl", "reload-or-restart", "--no-block", unit],
    )
    .timeout(Duration::from_secs(15));
    if let Err(e) = host.run(&cmd) {
        return refuse(format!("not started: {e}"));
    }
    tracing::info!(
        unit,
        "{}",
        super::said(host, "sshd start queued", "would queue sshd start")
    );
    SshOutcome {
        started: true,
        status: "ready".into(),
        unit: unit.into(),
    }
}

fn install_keys(host: &dyn Host, keys: &[PublicKey]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = Path::new(ROOT_SSH);
    let file = dir.join("authorized_keys");
    host.create_dir_all(dir, 0o700)
        .context("creating /root/.ssh")?;
    host.set_mode(dir, 0o700)
        .context("setting /root/.ssh to 0700")?;
    let existing = host.read_to_string(&file).unwrap_or_default();
    let merged = merge_keys(&existing, keys);
    if merged != existing {
        host.write_atomic(&file, merged.as_bytes(), 0o600)?;
        tracing::info!(path = %file.display(), keys = keys.len(), "{}",
            super::said(host, "authorized keys merged", "would merge authorized keys"));
    } else {
        host.set_mode(&file, 0o600)
            .context("setting authorized_keys to 0600")?;
    }
    Ok(())
}

/// Hardens, validates and replaces `sshd_config`; the live file is untouched when
/// `sshd -t` rejects the candidate.
fn harden(host: &dyn Host) -> anyhow::Result<()> {
    use anyhow::Context;
    let live = Path::new(SSHD_CONFIG);
    let is_link = host.read_link(live).is_ok();
    let orig = host.read_to_string(live).unwrap_or_default();
    let hardened = harden_config(&orig);
    if hardened == orig && !is_link {
        tracing::info!(path = SSHD_CONFIG, "sshd_config already hardened");
        return Ok(());
    }
    // sshd -t refuses to run without its privilege separation directory.
    host.create_dir_all(Path::new("/run/sshd"), 0o755)
        .context("creating /run/sshd")?;
    let cand = Path::new(CANDIDATE);
    host.write_atomic(cand, hardened.as_bytes(), 0o644)
        .with_context(|| format!("writing the candidate {CANDIDATE}"))?;
    let real = host.path(cand);
    let check = Cmd::new(
        "validating the hardened sshd_config",
        [
            "sshd".to_string(),
            "-t".into(),
            "-f".into(),
            real.display().to_string(),
        ],
    )
    .timeout(Duration::from_secs(15));
    let result = host.run(&check);
    let _ = host.remove_file(cand);
    if let Err(e) = result {
        let stderr = match &e {
            crate::host::CmdError::Failed { output, .. } => output.stderr.clone(),
            other => other.to_string(),
        };
        // Host keys are generated by the unit's start (NixOS: sshd-pre-start); sshd
        // only checks for them after the whole file parsed, so this is a pass.
        if stderr.contains("no hostkeys available") {
            tracing::info!("sshd -t: config parsed; host keys not generated yet");
        } else {
            let at = sshd_error_line(&stderr)
                .and_then(|n| {
                    hardened
                        .lines()
                        // sshd counts lines from 1; a `line 0` from a damaged sshd must
                        // not underflow.
                        .nth(n.checked_sub(1)?)
                        .map(|l| format!(" (line {n}: `{l}`)"))
                })
                .unwrap_or_default();
            anyhow::bail!(
                "sshd -t rejected the hardened sshd_config{at}: {}; {SSHD_CONFIG} left as it was",
                stderr.trim()
            );
        }
    }
    host.write_atomic(live, hardened.as_bytes(), 0o644)?;
    tracing::info!(
        path = SSHD_CONFIG,
        replaced_symlink = is_link,
        "{}",
        super::said(host, "sshd_config hardened", "would harden sshd_config")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/authorized_keys/corpus.txt`: (expect, note, line), `<CR>`
    /// replaced by a carriage return. nixos/keys.nix is run on the same file
    /// (tests/nix_files.rs).
    fn corpus() -> Vec<(String, String, String)> {
        include_str!("../../../tests/fixtures/authorized_keys/corpus.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let mut parts = l.splitn(3, '|');
                let expect = parts.next().unwrap().to_owned();
                let note = parts.next().expect("expect|note|line").to_owned();
                let line = parts
                    .next()
                    .expect("expect|note|line")
                    .replace("<CR>", "\r");
                (expect, note, line)
            })
            .collect()
    }

    #[test]
    fn the_shared_corpus_gets_the_expected_answer_line_by_line() {
        let corpus = corpus();
        assert!(corpus.len() > 40, "{}", corpus.len());
        for (expect, note, line) in &corpus {
            let got = parse_key_line(line);
            match (expect.as_str(), &got) {
                ("key", Ok(Some(k))) => assert!(line.contains(&k.blob), "{note}"),
                ("skip", Ok(None)) | ("refuse", Err(_)) => {}
                _ => panic!("{note}: expected {expect}, got {got:?} for {line:?}"),
            }
        }
        // Every type the rules accept has a line in the corpus.
        for t in KEY_TYPES {
            assert!(
                corpus
                    .iter()
                    .any(|(e, _, l)| e == "key" && l.split_whitespace().any(|w| w == *t)),
                "no accepted corpus line of type {t}"
            );
        }
    }

    #[test]
    fn the_shared_corpus_as_one_crlf_file() {
        let corpus = corpus();
        let good: Vec<&str> = corpus
            .iter()
            .filter(|(e, _, _)| e != "refuse")
            .map(|(_, _, l)| l.as_str())
            .collect();
        let keys = parse_authorized_keys(&(good.join("\r\n") + "\r\n")).unwrap();
        assert_eq!(
            keys.len(),
            corpus.iter().filter(|(e, _, _)| e == "key").count()
        );
        assert!(keys.iter().all(|k| !k.line.ends_with('\r')));
        // One refused line refuses the whole file, naming its line number.
        for (e, note, bad) in &corpus {
            if e != "refuse" {
                continue;
            }
            let text = format!("{}\n{bad}\n", good[0]);
            let err = parse_authorized_keys(&text).unwrap_err();
            assert!(err.starts_with("line 2: "), "{note}: {err}");
        }
    }

    #[test]
    fn a_dsa_key_is_refused_with_the_fix() {
        let line = corpus()
            .into_iter()
            .find(|(_, n, _)| n.starts_with("ssh-dss:"))
            .unwrap()
            .2;
        let e = parse_key_line(&line).unwrap_err();
        assert!(
            e.contains("ssh-dss") && e.contains("ssh-keygen -t ed25519"),
            "{e}"
        );
    }

    pub(crate) const KEY_A: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC op@a";
    pub(crate) const KEY_B: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFi10QybJoSehlwZi8y0AFLRj5/a6r4zpbqz76+T09ML op@b";

    fn golden(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/golden/net/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }
    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/net/sshd/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn keys_parse_with_options_and_comments() {
        let text = format!("# embedded\n\n{KEY_A}\nfrom=\"10.0.0.0/8\",no-pty {KEY_B}\n");
        let keys = parse_authorized_keys(&text).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1].key_type, "ssh-ed25519");
        assert!(keys[1].line.starts_with("from="));
    }

    #[test]
    fn empty_and_malformed_key_files_are_refused() {
        assert_eq!(parse_authorized_keys("").unwrap_err(), "no key in it");
        assert_eq!(
            parse_authorized_keys("# only a comment\n\n").unwrap_err(),
            "no key in it"
        );
        let e = parse_authorized_keys(&format!("{KEY_A}\nhello world\n")).unwrap_err();
        assert!(e.starts_with("line 2: no known key type"), "{e}");
        let e = parse_authorized_keys("ssh-ed25519 !!!notbase64 x").unwrap_err();
        assert!(e.contains("not base64"), "{e}");
        // An RSA label on ed25519 key data.
        let e = parse_authorized_keys(&KEY_A.replacen("ssh-ed25519", "ssh-rsa", 1)).unwrap_err();
        assert!(e.contains("does not hold a ssh-rsa key"), "{e}");
        let e = parse_authorized_keys("ssh-ed25519").unwrap_err();
        assert!(e.contains("without key data"), "{e}");
    }

    #[test]
    fn keys_merge_without_duplicates_and_keep_existing_lines() {
        let new = parse_authorized_keys(&format!("{KEY_A}\n{KEY_B}\n{KEY_A}\n")).unwrap();
        // The operator's own copy of KEY_A has another comment: still the same key.
        let existing = format!("{} laptop\n# mine\n", KEY_A.rsplit_once(' ').unwrap().0);
        let merged = merge_keys(&existing, &new);
        assert_eq!(merged, format!("{existing}{KEY_B}\n"));
        assert_eq!(
            merge_keys(&merged, &new),
            merged,
            "a second merge changes nothing"
        );
        assert_eq!(merge_keys("", &new), format!("{KEY_A}\n{KEY_B}\n"));
    }

    #[test]
    fn hardened_config_from_nixos_file_with_permit_root_yes() {
        let out = harden_config(&fixture("nixos-permit-yes.conf"));
        assert_eq!(out, golden("sshd_config.nixos"));
        assert_eq!(harden_config(&out), out, "hardening twice changes nothing");
    }

    #[test]
    fn hardening_a_crlf_file_twice_changes_nothing() {
        // Found by tests/properties.rs: a lone `\r` line lost its `\r` on the second
        // pass (`lines()` strips it before `\n`).
        for orig in ["\r", "PermitRootLogin yes\r\nUsePAM yes\r\n", "a\r\n\r\nb"] {
            let once = harden_config(orig);
            assert_eq!(harden_config(&once), once, "{orig:?}");
            assert!(
                once.contains("UsePAM yes\r\n") || !orig.contains("UsePAM"),
                "{once:?}"
            );
        }
    }

    #[test]
    fn hardened_config_precedes_match_block() {
        let out = harden_config(&fixture("with-match.conf"));
        assert_eq!(out, golden("sshd_config.match"));
        let first_match = out.lines().position(|l| l.starts_with("Match")).unwrap();
        for (k, _) in HARDENED {
            let at = out.lines().position(|l| l.starts_with(k)).unwrap();
            assert!(at < first_match, "{k} must come before the Match block");
        }
        assert_eq!(harden_config(&out), out);
    }

    #[test]
    fn sshd_error_line_is_found() {
        let e = "/etc/ssh/.sshd_config.pre-nixos-candidate line 12: Bad configuration option: Bogus\n\
                 /etc/ssh/.sshd_config.pre-nixos-candidate: terminating, 1 bad configuration options\n";
        assert_eq!(sshd_error_line(e), Some(12));
        assert_eq!(sshd_error_line("no hostkeys available"), None);
    }
}
