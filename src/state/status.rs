//! `storage-status` and `network-status`: shell-sourceable `KEY=VALUE` files in the
//! state directory (SPEC §3.6), replaced atomically so a reader — a shell, a test, a
//! person — never sees half a file.
//!
//! Values are single lines: newlines are folded to ` | ` on write. Values that need it
//! are single-quoted so `. /run/pre-nixos/storage-status` works in a shell.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::host::Host;

pub const STORAGE_STATUS: &str = "storage-status";
pub const NETWORK_STATUS: &str = "network-status";
pub const STORAGE_PLAN: &str = "storage-plan.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Running,
    Applied,
    PlanOnly,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Applied => "applied",
            State::PlanOnly => "plan-only",
            State::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "running" => State::Running,
            "applied" => State::Applied,
            "plan-only" => State::PlanOnly,
            "failed" => State::Failed,
            _ => return None,
        })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageStatus {
    pub state: State,
    /// `auto-applied`, `already-provisioned`, `resumed`, `existing-storage`, `requested`,
    /// `wiped-and-applied`, `detection-error`, or the failed step.
    pub detail: String,
    /// Path of `storage-plan.json`, when one was written.
    pub plan: Option<String>,
    /// Planned disks (kernel names), space separated in the file.
    pub disks: Vec<String>,
    /// One line, when failed (or the reason for plan-only).
    pub error: Option<String>,
    pub version: String,
    /// RFC 3339.
    pub updated: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatus {
    pub lan_iface: Option<String>,
    pub lan_mac: Option<String>,
    pub lan_ipv4: Option<String>,
    /// `ready`, or why not (`no-authorized-key`, `sshd-config-invalid: …`).
    pub ssh: String,
    /// sshd's host keys as `ssh-keygen -lf` prints them (`256 SHA256:… (ED25519)`);
    /// `; `-separated in the file.
    #[serde(default)]
    pub ssh_host_keys: Vec<String>,
    pub updated: String,
}

/// Why a status file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is corrupt: {problem}")]
    Corrupt { path: String, problem: String },
}

impl StorageStatus {
    pub fn to_file_text(&self) -> String {
        let mut pairs = vec![
            ("STATE", self.state.as_str().to_owned()),
            ("DETAIL", self.detail.clone()),
        ];
        if let Some(p) = &self.plan {
            pairs.push(("PLAN", p.clone()));
        }
        pairs.push(("DISKS", self.disks.join(" ")));
        if let Some(e) = &self.error {
            pairs.push(("ERROR", e.clone()));
        }
        pairs.push(("VERSION", self.version.clone()));
        pairs.push(("UPDATED", self.updated.clone()));
        render_pairs(&pairs)
    }

    pub fn parse(path: &str, text: &str) -> Result<Self, StatusError> {
        let kv = parse_pairs(path, text)?;
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let corrupt = |problem: String| StatusError::Corrupt {
            path: path.to_owned(),
            problem,
        };
        let state_text = get("STATE").ok_or_else(|| corrupt("no STATE= line".into()))?;
        let state = State::parse(&state_text).ok_or_else(|| {
            corrupt(format!(
                "STATE={state_text} is not a known state \
                 (expected running, applied, plan-only or failed)"
            ))
        })?;
        Ok(StorageStatus {
            state,
            detail: get("DETAIL").ok_or_else(|| corrupt("no DETAIL= line".into()))?,
            plan: get("PLAN"),
            disks: get("DISKS")
                .map(|d| d.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default(),
            error: get("ERROR"),
            version: get("VERSION").unwrap_or_default(),
            updated: get("UPDATED").unwrap_or_default(),
        })
    }
}

impl NetworkStatus {
    pub fn to_file_text(&self) -> String {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        render_pairs(&[
            ("LAN_IFACE", o(&self.lan_iface)),
            ("LAN_MAC", o(&self.lan_mac)),
            ("LAN_IPV4", o(&self.lan_ipv4)),
            ("SSH", self.ssh.clone()),
            ("SSH_HOST_KEYS", self.ssh_host_keys.join("; ")),
            ("UPDATED", self.updated.clone()),
        ])
    }

    pub fn parse(path: &str, text: &str) -> Result<Self, StatusError> {
        let kv = parse_pairs(path, text)?;
        let get = |k: &str| {
            kv.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        Ok(NetworkStatus {
            lan_iface: get("LAN_IFACE"),
            lan_mac: get("LAN_MAC"),
            lan_ipv4: get("LAN_IPV4"),
            ssh: get("SSH").ok_or_else(|| StatusError::Corrupt {
                path: path.to_owned(),
                problem: "no SSH= line".into(),
            })?,
            ssh_host_keys: get("SSH_HOST_KEYS")
                .map(|v| v.split("; ").map(str::to_owned).collect())
                .unwrap_or_default(),
            updated: get("UPDATED").unwrap_or_default(),
        })
    }
}

/// Writes `storage-status` atomically into `state_dir`.
pub fn write_storage(host: &dyn Host, state_dir: &Path, s: &StorageStatus) -> std::io::Result<()> {
    host.write_atomic(
        &state_dir.join(STORAGE_STATUS),
        s.to_file_text().as_bytes(),
        0o644,
    )
}

/// Writes `network-status` atomically into `state_dir`.
pub fn write_network(host: &dyn Host, state_dir: &Path, s: &NetworkStatus) -> std::io::Result<()> {
    host.write_atomic(
        &state_dir.join(NETWORK_STATUS),
        s.to_file_text().as_bytes(),
        0o644,
    )
}

/// Reads `storage-status`; `Ok(None)` when nothing has written it yet.
pub fn read_storage(
    host: &dyn Host,
    state_dir: &Path,
) -> Result<Option<StorageStatus>, StatusError> {
    read_with(host, &state_dir.join(STORAGE_STATUS), StorageStatus::parse)
}

/// Reads `network-status`; `Ok(None)` when nothing has written it yet.
pub fn read_network(
    host: &dyn Host,
    state_dir: &Path,
) -> Result<Option<NetworkStatus>, StatusError> {
    read_with(host, &state_dir.join(NETWORK_STATUS), NetworkStatus::parse)
}

fn read_with<T>(
    host: &dyn Host,
    path: &Path,
    parse: fn(&str, &str) -> Result<T, StatusError>,
) -> Result<Option<T>, StatusError> {
    let shown = path.display().to_string();
    match host.read_to_string(path) {
        Ok(text) => parse(&shown, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StatusError::Io {
            path: shown,
            source,
        }),
    }
}

/// Now as RFC 3339 UTC, for `UPDATED=`.
pub fn now_rfc3339(host: &dyn Host) -> String {
    time::OffsetDateTime::from(host.wall_clock())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn render_pairs(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(k);
        out.push('=');
        let v = crate::text::one_line(v);
        // An empty value stays bare (`ERROR=`), as `sh` reads it.
        if !v.is_empty() {
            out.push_str(&crate::text::shell_quote(&v));
        }
        out.push('\n');
    }
    out
}

pub(crate) fn parse_pairs(path: &str, text: &str) -> Result<Vec<(String, String)>, StatusError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| StatusError::Corrupt {
            path: path.to_owned(),
            problem: format!("line {} is not KEY=VALUE: {line:?}", i + 1),
        })?;
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(StatusError::Corrupt {
                path: path.to_owned(),
                problem: format!("line {} has a bad key {k:?}", i + 1),
            });
        }
        out.push((k.to_owned(), unquote(v)));
    }
    Ok(out)
}

fn unquote(v: &str) -> String {
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        v[1..v.len() - 1].replace(r"'\''", "'")
    } else {
        v.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    fn sample() -> StorageStatus {
        StorageStatus {
            state: State::Failed,
            detail: "mkfs".into(),
            plan: Some("/run/pre-nixos/storage-plan.json".into()),
            disks: vec!["sda".into(), "sdb".into()],
            error: Some("making ext4 on /dev/main/slash: mkfs.ext4 exited 1:\nit's broken".into()),
            version: "0.1.0".into(),
            updated: "2026-11-22T04:00:00Z".into(),
        }
    }

    #[test]
    fn storage_status_round_trips_and_is_one_line_per_key() {
        let s = sample();
        let text = s.to_file_text();
        assert_eq!(
            text,
            "STATE=failed\nDETAIL=mkfs\nPLAN=/run/pre-nixos/storage-plan.json\nDISKS='sda sdb'\n\
             ERROR='making ext4 on /dev/main/slash: mkfs.ext4 exited 1: | it'\\''s broken'\n\
             VERSION=0.1.0\nUPDATED=2026-11-22T04:00:00Z\n"
        );
        let back = StorageStatus::parse("x", &text).unwrap();
        assert_eq!(
            back.error.as_deref(),
            Some("making ext4 on /dev/main/slash: mkfs.ext4 exited 1: | it's broken")
        );
        assert_eq!(back.disks, s.disks);
        assert_eq!(back.state, State::Failed);
    }

    #[test]
    fn write_then_read_through_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let host = FakeHost::new(dir.path());
        let state_dir = Path::new("/run/pre-nixos");
        assert!(read_storage(&host, state_dir).unwrap().is_none());
        write_storage(&host, state_dir, &sample()).unwrap();
        let got = read_storage(&host, state_dir).unwrap().unwrap();
        assert_eq!(got.detail, "mkfs");
        assert!(dir.path().join("run/pre-nixos/storage-status").is_file());
    }

    #[test]
    fn corrupt_files_name_the_problem() {
        let err = StorageStatus::parse(
            "/run/pre-nixos/storage-status",
            "STATE=runn\x00ing\nDETAIL=x\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("/run/pre-nixos/storage-status is corrupt"),
            "{err}"
        );
        let err = StorageStatus::parse("f", "garbage\n").unwrap_err();
        assert!(err.to_string().contains("line 1 is not KEY=VALUE"), "{err}");
        let err = StorageStatus::parse("f", "DETAIL=x\n").unwrap_err();
        assert!(err.to_string().contains("no STATE="), "{err}");
    }

    #[test]
    fn network_status_round_trips() {
        let n = NetworkStatus {
            lan_iface: Some("lan".into()),
            lan_mac: Some("52:54:00:12:34:51".into()),
            lan_ipv4: None,
            ssh: "no authorized key: /etc/pre-nixos/authorized_keys is empty".into(),
            ssh_host_keys: vec![
                "256 SHA256:Xq2bWq0cGmUZDO0Pj1WyxM1Iq2Ty6W3hXJVTgs0JPD8 root@nixos (ED25519)"
                    .into(),
                "3072 SHA256:abc no comment (RSA)".into(),
            ],
            updated: "2026-11-22T04:00:00Z".into(),
        };
        let text = n.to_file_text();
        assert!(text.starts_with(
            "LAN_IFACE=lan\nLAN_MAC=52:54:00:12:34:51\nLAN_IPV4=\nSSH='no authorized key"
        ));
        assert_eq!(NetworkStatus::parse("f", &text).unwrap(), n);
    }

    #[test]
    fn a_failed_write_names_the_status_file_and_keeps_the_kind() {
        let dir = tempfile::tempdir().unwrap();
        // `/run/pre-nixos` is a file here, so its status file cannot be created.
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        std::fs::write(dir.path().join("run/pre-nixos"), "").unwrap();
        let host = FakeHost::new(dir.path());
        let raw = std::fs::create_dir_all(dir.path().join("run/pre-nixos")).unwrap_err();
        let err = write_storage(&host, Path::new("/run/pre-nixos"), &sample()).unwrap_err();
        assert_eq!(err.kind(), raw.kind());
        assert_eq!(
            err.to_string(),
            format!("replacing /run/pre-nixos/storage-status: {raw}")
        );
        let err = write_network(
            &host,
            Path::new("/run/pre-nixos"),
            &NetworkStatus {
                lan_iface: None,
                lan_mac: None,
                lan_ipv4: None,
                ssh: "starting".into(),
                ssh_host_keys: vec![],
                updated: String::new(),
            },
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("replacing /run/pre-nixos/network-status: "),
            "{err}"
        );
    }
}
