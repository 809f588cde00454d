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

pub const DEFAULT_KEYS: &str = "/etc/pre-nixos/authorized_keys";
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";
const ROOT_SSH: &str = "/root/.ssh";
const CANDIDATE: &str = "/etc/ssh/.sshd_config.pre-nixos-candidate";

/// The hardened settings, first in the file: sshd keeps the first value it reads
/// for each keyword, and a keyword after a `Match` line would only apply inside it.
pub const HARDENED: &[(&str, &str)] = &[
    ("PermitRootLogin", "prohibit-password"),
    ("PasswordAuthentication", "no"),
    ("KbdInteractiveAuthentication", "no"),
    ("ChallengeResponseAuthentication", "no"),
    ("AuthenticationMethods", "publickey"),
];
const BEGIN: &str = "# BEGIN pre-nixos hardening (first value wins in sshd; keep above any Match)";
const END: &str = "# END pre-nixos hardening";

/// The key types OpenSSH accepts in authorized_keys, plain and as certificates. The
/// same list, and every other rule of a key line, is in `nixos/keys.nix` (the image
/// build checks keys with it); `tests/fixtures/authorized_keys/corpus.txt` holds both
/// to the same answers. `ssh-dss` is not here: OpenSSH refuses DSA keys, so an image
/// carrying only one would boot with nobody able to log in.
pub const KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-rsa-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
];

/// The options sshd(8) knows (AUTHORIZED_KEYS FILE FORMAT). sshd ignores a line with
/// an option it does not know, so such a line is refused here (and in keys.nix).
pub const OPTION_NAMES: &[&str] = &[
    "agent-forwarding",
    "cert-authority",
    "command",
    "environment",
    "expiry-time",
    "from",
    "no-agent-forwarding",
    "no-port-forwarding",
    "no-pty",
    "no-touch-required",
    "no-user-rc",
    "no-X11-forwarding",
    "permitlisten",
    "permitopen",
    "port-forwarding",
    "principals",
    "pty",
    "restrict",
    "tunnel",
    "user-rc",
    "verify-required",
    "X11-forwarding",
];

/// One public key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_type: String,
    pub blob: String,
    /// The whole line as given (options and comment kept).
    pub line: String,
}

/// Parses an authorized_keys file. Every non-blank, non-comment line must be a
/// key (options allowed) whose base64 blob decodes and names the same key type;
/// an empty file or one bad line refuses the whole file (a half-installed key
/// file would lock the operator out without saying why).
pub fn parse_authorized_keys(text: &str) -> Result<Vec<PublicKey>, String> {
    let mut keys = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if let Some(key) = parse_key_line(raw).map_err(|e| format!("line {}: {e}", i + 1))? {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        return Err("no key in it".into());
    }
    Ok(keys)
}

/// One line of an authorized_keys file: `[options ]<type> <base64>[ comment]`.
/// `Ok(None)` for a blank line or a comment. A trailing CR (a file saved with CRLF
/// endings) is dropped, as sshd does. Options are comma-separated words, each
/// `name` or `name="value"`; inside the quotes spaces, commas and `\"` are part of
/// the value, so `command="echo ssh-ed25519 hi"` is one option, not a key.
pub fn parse_key_line(raw: &str) -> Result<Option<PublicKey>, String> {
    let line = raw.strip_suffix('\r').unwrap_or(raw).trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let first = line.split_whitespace().next().unwrap_or_default();
    if first.starts_with("ssh-dss") {
        return Err(DSA_REFUSED.to_owned());
    }
    let rest = if KEY_TYPES.contains(&first) {
        line
    } else {
        let end = options_end(line)?;
        check_options(&line[..end])?;
        line[end..].trim_start()
    };
    let mut toks = rest.split_whitespace();
    let key_type = toks.next().unwrap_or_default();
    if !KEY_TYPES.contains(&key_type) {
        return Err(if key_type.starts_with("ssh-dss") {
            DSA_REFUSED.to_owned()
        } else {
            "no known key type (expected e.g. ssh-ed25519 AAAA…)".to_owned()
        });
    }
    let blob = toks
        .next()
        .ok_or_else(|| format!("{key_type} without key data"))?;
    let bytes = base64_decode(blob).ok_or("key data is not base64")?;
    if blob_key_type(&bytes).as_deref() != Some(key_type) {
        return Err(format!("key data does not hold a {key_type} key"));
    }
    Ok(Some(PublicKey {
        key_type: key_type.to_owned(),
        blob: blob.to_owned(),
        line: line.to_owned(),
    }))
}

const DSA_REFUSED: &str =
    "ssh-dss (DSA) keys are refused by OpenSSH; use an ed25519 key (ssh-keygen -t ed25519)";

/// The byte offset where the options field ends: the first blank outside quotes.
fn options_end(line: &str) -> Result<usize, String> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ' ' | '\t' if !quoted => return Ok(i),
            _ => {}
        }
    }
    Err(if quoted {
        "an option value's quote is not closed".to_owned()
    } else {
        "options but no key after them".to_owned()
    })
}

/// Every comma-separated option is one sshd knows, bare or with a quoted value.
fn check_options(field: &str) -> Result<(), String> {
    let mut opts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in field.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                opts.push(&field[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    opts.push(&field[start..]);
    for opt in opts {
        let (name, value) = match opt.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (opt, None),
        };
        if !OPTION_NAMES.contains(&name) {
            return Err(format!(
                "no known key type (expected e.g. ssh-ed25519 AAAA…), and `{name}` is not \
                 an option sshd knows"
            ));
        }
        if let Some(v) = value {
            if v.len() < 2 || !v.starts_with('"') || !v.ends_with('"') {
                return Err(format!(
                    "option `{name}`: its value must be in double quotes"
                ));
            }
        }
    }
    Ok(())
}

fn blob_key_type(b: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(b.get(0..4)?.try_into().ok()?) as usize;
    String::from_utf8(b.get(4..4 + len)?.to_vec()).ok()
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

/// Appends the keys `existing` lacks (same type and blob = same key), keeping every
/// line already there, so operator-added keys survive re-runs.
pub fn merge_keys(existing: &str, keys: &[PublicKey]) -> String {
    let have: Vec<(String, String)> = existing
        .lines()
        .filter_map(|l| parse_authorized_keys(l).ok())
        .flatten()
        .map(|k| (k.key_type, k.blob))
        .collect();
    let mut out = existing.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let mut added: Vec<(String, String)> = Vec::new();
    for k in keys {
        let id = (k.key_type.clone(), k.blob.clone());
        if !have.contains(&id) && !added.contains(&id) {
            out.push_str(&k.line);
            out.push('\n');
            added.push(id);
        }
    }
    out
}

/// Builds the hardened `sshd_config` from the current one: our block first, then
/// the original text with our block of an earlier run removed, every top-level
/// repeat of our keywords commented out (it would be ignored anyway, and a reader
/// should not be misled), and every weakening value of them inside `Match` blocks
/// commented out too (a `Match` can re-enable passwords for its connections).
pub fn harden_config(orig: &str) -> String {
    let mut out = String::new();
    out.push_str(BEGIN);
    out.push('\n');
    for (k, v) in HARDENED {
        out.push_str(&format!("{k} {v}\n"));
    }
    out.push_str(END);
    out.push('\n');
    let mut in_ours = false;
    let mut in_match = false;
    for line in orig.lines() {
        let t = line.trim();
        if t == BEGIN {
            in_ours = true;
            continue;
        }
        if in_ours {
            if t == END {
                in_ours = false;
            }
            continue;
        }
        let mut words = t
            .split(|c: char| c.is_whitespace() || c == '=')
            .filter(|w| !w.is_empty());
        let key = words.next().unwrap_or("");
        let value = words.collect::<Vec<_>>().join(" ").to_ascii_lowercase();
        if key.eq_ignore_ascii_case("match") {
            in_match = true;
        }
        let ours = HARDENED.iter().any(|(k, _)| k.eq_ignore_ascii_case(key));
        let weakening = value.split([' ', ',']).any(|v| {
            matches!(v, "yes" | "password" | "keyboard-interactive" | "any")
                || v.starts_with("keyboard-interactive:")
        });
        if ours && !t.starts_with('#') && (!in_match || weakening) {
            out.push_str("# pre-nixos: ");
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

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

/// How long the stage watches a queued sshd start before reporting it.
pub const ACTIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Polls `systemctl is-active <unit>` (a query, never a job) until sshd is active,
/// has failed, or `timeout` passes. Returns the `SSH=` value: `ready`, or why not.
pub fn wait_active(host: &dyn Host, unit: &str, timeout: Duration) -> String {
    let start = host.now();
    loop {
        // --no-block is meaningless for a query but keeps every systemctl call
        // uniformly non-blocking (a test pins that).
        let cmd = Cmd::new(
            format!("asking whether {unit} is active"),
            ["systemctl", "is-active", "--no-block", unit],
        )
        .ok_codes(&[0, 1, 2, 3, 4])
        .timeout(Duration::from_secs(5));
        let last = match host.run(&cmd) {
            Ok(out) => {
                let state = out.stdout.trim();
                if state == "active" || (state.is_empty() && out.status == Some(0)) {
                    return "ready".into();
                }
                if state == "failed" {
                    return format!("not started: {unit} failed; see journalctl -u {unit}");
                }
                if state.is_empty() {
                    "in an unknown state".to_owned()
                } else {
                    state.to_owned()
                }
            }
            Err(e) => e.to_string(),
        };
        if host.now().duration_since(start) >= timeout {
            return format!(
                "start queued but {unit} is {last} after {} s; see journalctl -u {unit}",
                timeout.as_secs()
            );
        }
        host.sleep(Duration::from_millis(500));
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
                        .nth(n - 1)
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

/// Keywords that are one setting under two names across OpenSSH versions (< 8.7 calls
/// it ChallengeResponseAuthentication); `sshd -T` prints only one of each pair.
const SAME_SETTING: &[(&str, &str)] = &[(
    "KbdInteractiveAuthentication",
    "ChallengeResponseAuthentication",
)];

/// Values `sshd -T` prints for a hardened value: it spells prohibit-password by its
/// old name.
fn printed_as(value: &str) -> Vec<&str> {
    match value {
        "prohibit-password" => vec!["prohibit-password", "without-password"],
        v => vec![v],
    }
}

/// What in `sshd -T` output differs from [`HARDENED`], the settings [`harden_config`]
/// writes: one line per setting, empty when sshd runs hardened.
pub fn hardening_problems(sshd_t: &str) -> Vec<String> {
    let mut values: std::collections::BTreeMap<String, String> = Default::default();
    for line in sshd_t.lines() {
        let mut parts = line.trim().splitn(2, char::is_whitespace);
        if let (Some(k), Some(v)) = (parts.next(), parts.next()) {
            // sshd -T prints each keyword once; keep the first if it ever repeats.
            values
                .entry(k.to_ascii_lowercase())
                .or_insert_with(|| v.trim().to_ascii_lowercase());
        }
    }
    let mut problems = Vec::new();
    for (keyword, wanted) in HARDENED {
        let key = keyword.to_ascii_lowercase();
        if let Some((new, old)) = SAME_SETTING
            .iter()
            .find(|(n, o)| n == keyword || o == keyword)
        {
            let (new, old) = (new.to_ascii_lowercase(), old.to_ascii_lowercase());
            let printed = if values.contains_key(&new) || !values.contains_key(&old) {
                new
            } else {
                old
            };
            if key != printed {
                continue;
            }
        }
        match values.get(&key) {
            Some(v) if printed_as(wanted).contains(&v.as_str()) => {}
            Some(v) => problems.push(format!("{key} is {v}, expected {wanted}")),
            None => problems.push(format!(
                "{key} is not in `sshd -T` output, expected {wanted}"
            )),
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/authorized_keys/corpus.txt`: (expect, note, line), `<CR>`
    /// replaced by a carriage return. nixos/keys.nix is run on the same file
    /// (tests/nix_files.rs).
    fn corpus() -> Vec<(String, String, String)> {
        include_str!("../../tests/fixtures/authorized_keys/corpus.txt")
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
