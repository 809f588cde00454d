//! sshd's host keys as an operator checks them: SHA256 fingerprints exactly as
//! `ssh-keygen -lf` prints them (`256 SHA256:… root@host (ED25519)`), and ready
//! `known_hosts` lines, so the first login need not trust an unknown key blindly.
//!
//! Read from `/etc/ssh/ssh_host_*_key.pub` once sshd is up (sshd's unit makes the
//! keys on its first start: NixOS's `sshd-pre-start`, Debian's package). The
//! fingerprint is the unpadded base64 of the SHA256 of the decoded key blob, the bit
//! count comes from the blob (RSA's modulus, ECDSA's curve). A file that does not
//! parse is skipped with a warning, never an error.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::host::Host;

const SSH_DIR: &str = "/etc/ssh";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`.
    pub key_type: String,
    /// The base64 key blob, as in the `.pub` file.
    pub blob: String,
    /// The `.pub` file's comment (`root@nixos`), if any.
    pub comment: Option<String>,
    pub bits: u32,
    /// `SHA256:` and the unpadded base64 of the blob's SHA256.
    pub fingerprint: String,
}

impl HostKey {
    /// Parses one `.pub` line: `<type> <base64>[ comment]`.
    pub fn parse(line: &str) -> Result<HostKey, String> {
        let mut toks = line.split_whitespace();
        let key_type = toks.next().ok_or("empty")?.to_owned();
        let blob = toks.next().ok_or("no key data")?.to_owned();
        let comment = {
            let rest: Vec<&str> = toks.collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        };
        let bytes = super::keys::base64_decode(&blob).ok_or("key data is not base64")?;
        let bits = key_bits(&key_type, &bytes)
            .ok_or_else(|| format!("key data does not hold a {key_type} key"))?;
        Ok(HostKey {
            fingerprint: fingerprint(&bytes),
            key_type,
            blob,
            comment,
            bits,
        })
    }

    /// `ED25519`, `ECDSA`, `RSA`: the name `ssh-keygen -l` puts in parentheses.
    pub fn type_label(&self) -> &'static str {
        match self.key_type.as_str() {
            "ssh-ed25519" => "ED25519",
            "ssh-rsa" => "RSA",
            "sk-ssh-ed25519@openssh.com" => "ED25519-SK",
            "sk-ecdsa-sha2-nistp256@openssh.com" => "ECDSA-SK",
            t if t.starts_with("ecdsa-sha2-") => "ECDSA",
            _ => "UNKNOWN",
        }
    }

    /// What `ssh-keygen -lf <file>.pub` prints for the key.
    pub fn fingerprint_line(&self) -> String {
        format!(
            "{} {} {} ({})",
            self.bits,
            self.fingerprint,
            self.comment.as_deref().unwrap_or("no comment"),
            self.type_label()
        )
    }

    /// A `known_hosts` line for `addr`: `10.0.2.15 ssh-ed25519 AAAA…`.
    pub fn known_hosts_line(&self, addr: &str) -> String {
        format!("{addr} {} {}", self.key_type, self.blob)
    }
}

/// `SHA256:` + unpadded base64 of the SHA256 of `blob`.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", base64_nopad(&Sha256::digest(blob)))
}

fn base64_nopad(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let mut b = [0u8; 3];
        b[..chunk.len()].copy_from_slice(chunk);
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The SSH wire strings of a blob (`string` = u32 length + bytes).
fn wire_strings(mut b: &[u8]) -> Option<Vec<&[u8]>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = u32::from_be_bytes(b.get(0..4)?.try_into().ok()?) as usize;
        out.push(b.get(4..4 + len)?);
        b = &b[4 + len..];
    }
    Some(out)
}

/// The key size `ssh-keygen -l` shows; `None` when the blob is not a key of that type.
fn key_bits(key_type: &str, blob: &[u8]) -> Option<u32> {
    let parts = wire_strings(blob)?;
    if parts.first()? != &key_type.as_bytes() {
        return None;
    }
    match key_type {
        "ssh-ed25519" | "sk-ssh-ed25519@openssh.com" => Some(256),
        "ssh-rsa" => {
            // string "ssh-rsa", mpint e, mpint n: the modulus's bit length.
            let n = parts.get(2)?;
            let first = n.iter().position(|&b| b != 0)?;
            let lead = 8 - n[first].leading_zeros();
            Some((n.len() - first - 1) as u32 * 8 + lead)
        }
        "ecdsa-sha2-nistp256" | "sk-ecdsa-sha2-nistp256@openssh.com" => Some(256),
        "ecdsa-sha2-nistp384" => Some(384),
        "ecdsa-sha2-nistp521" => Some(521),
        _ => None,
    }
}

/// sshd's host keys (`/etc/ssh/ssh_host_*_key.pub`), in file-name order.
pub fn read_host_keys(host: &dyn Host) -> Vec<HostKey> {
    let dir = Path::new(SSH_DIR);
    let mut keys = Vec::new();
    for name in host.read_dir_names(dir).unwrap_or_default() {
        if !(name.starts_with("ssh_host_") && name.ends_with("_key.pub")) {
            continue;
        }
        let path = dir.join(&name);
        let text = match host.read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "host key unreadable");
                continue;
            }
        };
        match HostKey::parse(text.trim()) {
            Ok(k) => keys.push(k),
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "host key skipped"),
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::real::RealHost;
    use crate::host::Cmd;

    /// Generates a key with ssh-keygen and returns (the .pub line, `ssh-keygen -lf`'s line).
    fn keygen(dir: &Path, args: &[&str], comment: &str) -> (String, String) {
        let host = RealHost::new();
        let f = dir.join(format!("k{}", args.join("_")));
        let mut argv = vec!["ssh-keygen", "-q", "-N", "", "-C", comment, "-f"];
        let fs = f.display().to_string();
        argv.push(&fs);
        argv.extend_from_slice(args);
        host.run(&Cmd::new("generating a test key", argv))
            .expect("ssh-keygen (openssh-client) is needed by this test");
        let pubf = format!("{fs}.pub");
        let out = host
            .run(&Cmd::new("fingerprinting", ["ssh-keygen", "-lf", &pubf]))
            .unwrap();
        (
            std::fs::read_to_string(&pubf).unwrap(),
            out.stdout.trim().to_owned(),
        )
    }

    #[test]
    fn fingerprints_match_ssh_keygen_for_every_host_key_type() {
        let dir = tempfile::tempdir().unwrap();
        for (args, comment) in [
            (&["-t", "ed25519"][..], "root@nixos"),
            (&["-t", "rsa", "-b", "3072"][..], "root@host with spaces"),
            (&["-t", "rsa", "-b", "1025"][..], "odd@bits"),
            (&["-t", "ecdsa", "-b", "256"][..], "e@256"),
            (&["-t", "ecdsa", "-b", "384"][..], "e@384"),
            (&["-t", "ecdsa", "-b", "521"][..], "e@521"),
        ] {
            let (line, expected) = keygen(dir.path(), args, comment);
            let k = HostKey::parse(line.trim()).unwrap();
            assert_eq!(k.fingerprint_line(), expected, "{args:?}");
        }
    }

    #[test]
    fn no_comment_reads_as_ssh_keygen_says_it() {
        let dir = tempfile::tempdir().unwrap();
        let (line, _) = keygen(dir.path(), &["-t", "ed25519"], "c");
        let bare: Vec<&str> = line.split_whitespace().take(2).collect();
        let f = dir.path().join("bare.pub");
        std::fs::write(&f, format!("{}\n", bare.join(" "))).unwrap();
        let out = RealHost::new()
            .run(&Cmd::new(
                "fingerprinting",
                [
                    "ssh-keygen".to_string(),
                    "-lf".into(),
                    f.display().to_string(),
                ],
            ))
            .unwrap();
        let k = HostKey::parse(&bare.join(" ")).unwrap();
        assert_eq!(k.fingerprint_line(), out.stdout.trim());
        assert_eq!(
            k.known_hosts_line("10.0.2.15"),
            format!("10.0.2.15 {}", bare.join(" "))
        );
    }

    #[test]
    fn host_keys_are_read_from_etc_ssh_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join("etc/ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let (line, expected) = keygen(dir.path(), &["-t", "ed25519"], "root@guest");
        std::fs::write(ssh.join("ssh_host_ed25519_key.pub"), &line).unwrap();
        std::fs::write(ssh.join("ssh_host_rsa_key.pub"), "ssh-rsa !!!\n").unwrap();
        std::fs::write(ssh.join("ssh_host_ed25519_key"), "private, never read\n").unwrap();
        std::fs::write(ssh.join("sshd_config"), "Port 22\n").unwrap();
        let keys = read_host_keys(&crate::host::fake::FakeHost::new(dir.path()));
        assert_eq!(keys.len(), 1, "{keys:?}");
        assert_eq!(keys[0].fingerprint_line(), expected);
        assert!(HostKey::parse("ssh-ed25519 AAAAB3NzaC1yc2E=").is_err());
    }
}
