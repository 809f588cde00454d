//! The hardened `sshd_config`: the settings pre-nixos writes ([`HARDENED`]), the file
//! built from the current one ([`harden_config`]), and the check of `sshd -T` output
//! against the same table ([`hardening_problems`]), which `status` and `diagnose` use.

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
    // Split on `\n` only: `lines()` also eats a `\r` before it, so a CRLF file would
    // come out changed on every run instead of once.
    for line in orig.split_terminator('\n') {
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
