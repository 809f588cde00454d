//! Root's authorized keys: one line's rules, the same as `nixos/keys.nix` applies at
//! image build time, and the merge that keeps keys an operator added.
//!
//! Hand-made rather than the `ssh-key` crate: the image build must apply the very same
//! rules in Nix, where no Rust crate runs, and one corpus holds the two to the same
//! answers; a crate's parser would be a third rule set whose option syntax and key
//! types move with its releases. Only validity and the blob's key type are needed here,
//! so the base64 decoder below is the twenty lines it takes.

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

pub(super) fn base64_decode(s: &str) -> Option<Vec<u8>> {
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
