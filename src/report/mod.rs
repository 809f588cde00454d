//! The collector report: at each state change (network up with address and host keys;
//! storage final) one JSON document is POSTed to the operator's collector, so a fleet
//! of machines booted from one image tells someone which machine got which address,
//! which host keys, and how its storage came out (`docs/fleet.md` has the schema).
//!
//! Configured by `/etc/pre-nixos/report.conf` (`URL=`, `CA_FILE=`, `TOKEN_FILE=`,
//! `TIMEOUT=`; what `services.pre-nixos.report.*` writes) and the kernel command line
//! (`pre-nixos.report=URL`, `pre-nixos.report-ca=`, `pre-nixos.report-token=`,
//! `pre-nixos.report-timeout=`), which wins. Without a URL nothing is sent.
//!
//! Delivery runs on its own thread ([`run`]) fed by [`Reporter::send`]: it never blocks
//! SSH, storage or the boot. Each report is retried with exponential backoff and jitter
//! ([`Backoff`]) until it is delivered or its time is up (default 10 min from the
//! report, [`DEFAULT_TIMEOUT`]); each attempt is bounded by curl's `--max-time`. The
//! outcome is in `report-status` in the state directory (`REPORT=delivered|retrying|
//! failed`, the last error, the attempts) and in the journal; a failed report never
//! changes `STATE`. Every report carries an idempotency key (the SHA256 of the document
//! without the key, which names the boot), the same on every retry, so a collector can
//! drop duplicates.
//!
//! Transport: the image's `curl`, run through the host like every other program (one
//! [`Cmd`]: the fake host records it, a dry run shows it), not an HTTP crate: no TLS
//! stack is compiled into the binary, curl uses the image's CA bundle (NixOS's
//! `security.pki`) and `--cacert` for a private CA, and the bearer token goes in a
//! header file (`-H @file`, mode 0600) so it never appears in argv, `ps` or the log.
//! HTTPS is verified by default (`--proto =https`); plain HTTP only when the URL says
//! `http://`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::host::{Cmd, Host};
use crate::kcmdline::ReportSwitches;
use crate::network::NetworkReport;
use crate::state::status;

/// Bumped whenever the report document changes incompatibly.
pub const REPORT_SCHEMA_VERSION: u32 = 1;
/// What `services.pre-nixos.report.*` writes into the image.
pub const CONF_FILE: &str = "/etc/pre-nixos/report.conf";
/// The delivery state, in the state directory.
pub const REPORT_STATUS: &str = "report-status";
/// How long one report is retried unless `TIMEOUT=`/`pre-nixos.report-timeout=` says.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// The longest a single attempt may take (curl's `--max-time`).
pub const ATTEMPT_MAX: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT_SECS: u64 = 10;
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The `Authorization:` header file curl reads with `-H @file` (0600, state directory).
const AUTH_HEADER: &str = "report-auth-header";
/// The generated NixOS stubs the storage stage leaves for `nixos-install`.
const STUBS: [(&str, &str); 2] = [
    (
        "hardware-disk.nix",
        "/mnt/etc/nixos/pre-generated/hardware-disk.nix",
    ),
    (
        "network-lan.nix",
        "/mnt/etc/nixos/pre-generated/network-lan.nix",
    ),
];

/// Where and how to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub url: String,
    pub ca_file: Option<String>,
    pub token_file: Option<String>,
    /// How long one report is retried.
    pub timeout: Duration,
}

impl Config {
    /// The image's `report.conf` with the kernel command line over it; `Ok(None)` when
    /// no URL is configured, `Err` when the configuration is unusable (logged by the
    /// caller; the boot goes on without a report).
    pub fn resolve(host: &dyn Host, cmdline: &ReportSwitches) -> Result<Option<Config>, String> {
        let file = match host.read_to_string(Path::new(CONF_FILE)) {
            Ok(text) => parse_conf(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ReportSwitches::default(),
            Err(e) => return Err(format!("reading {CONF_FILE}: {e}")),
        };
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let Some(url) = pick(&cmdline.url, &file.url) else {
            return Ok(None);
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!(
                "report URL {url:?} is neither https:// nor http://; not reporting"
            ));
        }
        Ok(Some(Config {
            url,
            ca_file: pick(&cmdline.ca_file, &file.ca_file),
            token_file: pick(&cmdline.token_file, &file.token_file),
            timeout: Duration::from_secs(
                cmdline
                    .timeout_secs
                    .or(file.timeout_secs)
                    .unwrap_or(DEFAULT_TIMEOUT.as_secs()),
            ),
        }))
    }
}

/// `report.conf`: `KEY=VALUE` lines (`URL`, `CA_FILE`, `TOKEN_FILE`, `TIMEOUT` in
/// seconds), `#` comments; an unknown key is an error naming it.
pub fn parse_conf(text: &str) -> Result<ReportSwitches, String> {
    let mut o = ReportSwitches::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("{CONF_FILE} line {}: {line:?}", n + 1);
        let (k, v) = line.split_once('=').ok_or_else(bad)?;
        let v = v.trim().trim_matches('"').to_owned();
        let v = (!v.is_empty()).then_some(v);
        match k.trim() {
            "URL" => o.url = v,
            "CA_FILE" => o.ca_file = v,
            "TOKEN_FILE" => o.token_file = v,
            "TIMEOUT" => {
                o.timeout_secs = match v {
                    None => None,
                    Some(s) => Some(
                        s.parse()
                            .map_err(|_| format!("{}: TIMEOUT is a number of seconds", bad()))?,
                    ),
                }
            }
            _ => {
                return Err(format!(
                    "{}: unknown key (URL, CA_FILE, TOKEN_FILE, TIMEOUT)",
                    bad()
                ))
            }
        }
    }
    Ok(o)
}

/// The state changes that are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The LAN has its address and sshd its host keys (or why not).
    NetworkUp,
    /// `storage-status` holds its final state.
    StorageFinal,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::NetworkUp => "network-up",
            Event::StorageFinal => "storage-final",
        }
    }
}

/// One report, built when its event happened and sent unchanged on every retry.
#[derive(Debug, Clone)]
pub struct Report {
    pub event: Event,
    pub key: String,
    pub body: String,
    /// When the event happened: the report's retry time counts from here, so the
    /// storage-final report is never held up past its own timeout by an earlier one.
    pub queued: std::time::Instant,
}

/// Builds the report for `event` from the machine's state now: identity, boot id, LAN,
/// host keys, `storage-status`, the plan, the generated stubs.
pub fn build(host: &dyn Host, state_dir: &Path, event: Event, net: &NetworkReport) -> Report {
    let read = |p: &Path| host.read_to_string(p).ok();
    let storage_text = read(&state_dir.join(status::STORAGE_STATUS));
    let storage = storage_text
        .as_deref()
        .and_then(|t| status::StorageStatus::parse(status::STORAGE_STATUS, t).ok());
    let plan_text = read(&state_dir.join(status::STORAGE_PLAN));
    let plan = plan_text
        .as_deref()
        .and_then(|t| crate::render::json::plan_from_json(t).ok());
    let summary = plan.as_ref().map(|p| {
        let mut out = Vec::new();
        let _ = crate::render::summary::write_summary(p, &mut out);
        String::from_utf8_lossy(&out).into_owned()
    });
    let mut files = serde_json::Map::new();
    for (name, path) in STUBS {
        if let Some(text) = read(Path::new(path)) {
            files.insert(name.to_owned(), Value::String(text));
        }
    }
    let keys: Vec<Value> = net
        .host_keys
        .iter()
        .map(|k| {
            json!({
                "type": k.key_type,
                "public_key": format!("{} {}", k.key_type, k.blob),
                "fingerprint": k.fingerprint,
                "fingerprint_line": k.fingerprint_line(),
            })
        })
        .collect();
    let known_hosts: Vec<String> = match &net.lan_ipv4 {
        Some(ip) => net
            .host_keys
            .iter()
            .map(|k| k.known_hosts_line(ip))
            .collect(),
        None => Vec::new(),
    };
    let mut doc = json!({
        "schema_version": REPORT_SCHEMA_VERSION,
        "event": event.as_str(),
        "tool": { "name": "pre-nixos", "version": env!("CARGO_PKG_VERSION") },
        "generated_at": status::now_rfc3339(host),
        "boot_id": read(Path::new("/proc/sys/kernel/random/boot_id")).map(|s| s.trim().to_owned()),
        "machine": crate::inventory::identity::read_identity(host),
        "lan": {
            "iface": net.lan_iface,
            "mac": net.lan_mac,
            "ipv4": net.lan_ipv4,
        },
        "ssh": {
            "status": net.ssh,
            "host_keys": keys,
            "known_hosts": known_hosts,
        },
        "storage": {
            "status": storage,
            "status_file": storage_text,
        },
        "plan": {
            "digest": plan_text.as_deref().map(sha256_hex),
            "inventory_digest": plan.as_ref().map(|p| p.inventory_digest.clone()),
            "summary": summary,
        },
        "files": files,
    });
    // The key names this document (and through boot_id, this boot): the same on every
    // retry, different for the next event or the next boot.
    let key = format!("{}-{}", event.as_str(), &sha256_hex(&canonical(&doc))[..32]);
    doc["idempotency_key"] = Value::String(key.clone());
    Report {
        event,
        key,
        body: canonical(&doc),
        queued: host.now(),
    }
}

/// JSON with sorted keys (serde_json's map is a BTreeMap), one line.
fn canonical(v: &Value) -> String {
    serde_json::to_string(v).expect("a Value always serializes")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Exponential backoff with jitter: attempt n waits between half and all of
/// `min(BACKOFF_CAP, BACKOFF_BASE · 2ⁿ)`. The jitter comes from a xorshift seeded by the
/// caller, so a schedule is reproducible (tests) and machines booted together spread out
/// (production seeds with the boot id).
#[derive(Debug, Clone)]
pub struct Backoff {
    state: u64,
    attempt: u32,
}

impl Backoff {
    pub fn new(seed: u64) -> Self {
        // xorshift must not start at 0; any other seed is its own schedule.
        let state = seed ^ 0x9e37_79b9_7f4a_7c15;
        Backoff {
            state: if state == 0 { 1 } else { state },
            attempt: 0,
        }
    }

    /// The wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let full = BACKOFF_BASE
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(BACKOFF_CAP);
        self.attempt += 1;
        // xorshift64
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let frac = (self.state % 1000) as u32; // 0‰ ..= 999‰
        full / 2 + (full / 2) * frac / 1000
    }

    /// Starts the schedule over (a new report).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The POST of one report: `curl` reading the body from stdin.
pub fn curl_cmd(
    cfg: &Config,
    auth_header: Option<&Path>,
    report: &Report,
    max_time: Duration,
) -> Cmd {
    let secs = max_time.as_secs().max(1);
    // Plain HTTP only when the URL says so; never a redirect to another scheme.
    let proto = if cfg.url.starts_with("http://") {
        "=http"
    } else {
        "=https"
    };
    let mut argv: Vec<String> = vec![
        "curl".into(),
        "--silent".into(),
        "--show-error".into(),
        "--fail".into(),
        "--proto".into(),
        proto.into(),
        "--proto-redir".into(),
        proto.into(),
        "--connect-timeout".into(),
        CONNECT_TIMEOUT_SECS.min(secs).to_string(),
        "--max-time".into(),
        secs.to_string(),
        "--request".into(),
        "POST".into(),
        "--header".into(),
        "Content-Type: application/json".into(),
        "--header".into(),
        format!("Idempotency-Key: {}", report.key),
    ];
    if let Some(ca) = &cfg.ca_file {
        argv.extend(["--cacert".into(), ca.clone()]);
    }
    if let Some(h) = auth_header {
        // The token stays in the file: argv shows only its path.
        argv.extend(["--header".into(), format!("@{}", h.display())]);
    }
    argv.extend([
        "--data-binary".into(),
        "@-".into(),
        "--output".into(),
        "/dev/null".into(),
        cfg.url.clone(),
    ]);
    Cmd::new(
        format!("reporting {} to {}", report.event.as_str(), cfg.url),
        argv,
    )
    .stdin(report.body.clone().into_bytes())
    .timeout(Duration::from_secs(secs + 5))
}

/// `report-status`: how delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatus {
    /// `pending`, `retrying`, `delivered` or `failed`.
    pub report: String,
    pub url: String,
    /// Events delivered, in order.
    pub delivered: Vec<String>,
    /// Events given up on.
    pub failed: Vec<String>,
    /// The event being (or last) worked on, and its attempts so far.
    pub event: Option<String>,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub updated: String,
}

impl ReportStatus {
    pub fn to_file_text(&self) -> String {
        status::render_pairs(&[
            ("REPORT", self.report.clone()),
            ("URL", self.url.clone()),
            ("DELIVERED", self.delivered.join(" ")),
            ("FAILED", self.failed.join(" ")),
            ("EVENT", self.event.clone().unwrap_or_default()),
            ("ATTEMPTS", self.attempts.to_string()),
            ("LAST_ERROR", self.last_error.clone().unwrap_or_default()),
            ("UPDATED", self.updated.clone()),
        ])
    }

    pub fn parse(path: &str, text: &str) -> Result<Self, status::StatusError> {
        let kv = status::parse_pairs(path, text)?;
        let get = |k: &str| {
            kv.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let words = |k: &str| {
            get(k)
                .map(|v| v.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default()
        };
        Ok(ReportStatus {
            report: get("REPORT").ok_or_else(|| status::StatusError::Corrupt {
                path: path.to_owned(),
                problem: "no REPORT= line".into(),
            })?,
            url: get("URL").unwrap_or_default(),
            delivered: words("DELIVERED"),
            failed: words("FAILED"),
            event: get("EVENT"),
            attempts: get("ATTEMPTS").and_then(|a| a.parse().ok()).unwrap_or(0),
            last_error: get("LAST_ERROR"),
            updated: get("UPDATED").unwrap_or_default(),
        })
    }

    /// One line for `status`.
    pub fn line(&self) -> String {
        let mut s = format!("{} to {}", self.report, self.url);
        if !self.delivered.is_empty() {
            s += &format!("; delivered {}", self.delivered.join(", "));
        }
        if !self.failed.is_empty() {
            s += &format!("; gave up on {}", self.failed.join(", "));
        }
        if self.report != "delivered" {
            if let Some(e) = &self.event {
                s += &format!("; {e}: {} attempt(s)", self.attempts);
            }
            if let Some(e) = &self.last_error {
                s += &format!("; last error: {e}");
            }
        }
        s
    }
}

/// Reads `report-status`; `Ok(None)` when nothing reported (no collector configured).
pub fn read_status(
    host: &dyn Host,
    state_dir: &Path,
) -> Result<Option<ReportStatus>, status::StatusError> {
    let path = state_dir.join(REPORT_STATUS);
    let shown = path.display().to_string();
    match host.read_to_string(&path) {
        Ok(text) => ReportStatus::parse(&shown, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(status::StatusError::Io {
            path: shown,
            source,
        }),
    }
}

fn write_status(host: &dyn Host, state_dir: &Path, st: &mut ReportStatus) {
    st.updated = status::now_rfc3339(host);
    if let Err(e) = host.write_atomic(
        &state_dir.join(REPORT_STATUS),
        st.to_file_text().as_bytes(),
        0o644,
    ) {
        tracing::warn!(error = %e, "writing report-status");
    }
}

/// The boot flow's handle on the reporter thread: builds each report when its event
/// happens and queues it. Sending never blocks.
pub struct Reporter<'a> {
    host: &'a dyn Host,
    state_dir: PathBuf,
    tx: Sender<Report>,
}

impl<'a> Reporter<'a> {
    pub fn new(host: &'a dyn Host, state_dir: &Path, tx: Sender<Report>) -> Self {
        Reporter {
            host,
            state_dir: state_dir.to_owned(),
            tx,
        }
    }

    pub fn send(&self, event: Event, net: &NetworkReport) {
        let report = build(self.host, &self.state_dir, event, net);
        tracing::info!(event = event.as_str(), key = %report.key, "report queued");
        // The thread is gone only after a panic in it; the boot goes on regardless.
        let _ = self.tx.send(report);
    }
}

/// The seed of the backoff jitter: the boot id, so machines booted together spread out.
pub fn jitter_seed(host: &dyn Host) -> u64 {
    let id = host
        .read_to_string(Path::new("/proc/sys/kernel/random/boot_id"))
        .unwrap_or_default();
    let h = Sha256::digest(id.as_bytes());
    u64::from_le_bytes(h[..8].try_into().expect("8 bytes"))
}

/// The reporter thread: delivers every queued report in order until the queue is
/// closed (the boot flow is over) and drained. Each report is retried until
/// `cfg.timeout` after its event (at least one attempt each), so the wait at the end of
/// the boot is bounded by one timeout (plus one attempt) after storage is final.
pub fn run(host: &dyn Host, state_dir: &Path, cfg: &Config, rx: Receiver<Report>, seed: u64) {
    let mut st = ReportStatus {
        report: "pending".into(),
        url: cfg.url.clone(),
        delivered: Vec::new(),
        failed: Vec::new(),
        event: None,
        attempts: 0,
        last_error: None,
        updated: String::new(),
    };
    write_status(host, state_dir, &mut st);
    let auth = match auth_header(host, state_dir, cfg) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "report not sent");
            st.report = "failed".into();
            st.last_error = Some(e);
            write_status(host, state_dir, &mut st);
            return;
        }
    };
    let mut backoff = Backoff::new(seed);
    while let Ok(report) = rx.recv() {
        backoff.reset();
        deliver(
            host,
            state_dir,
            cfg,
            auth.as_deref(),
            &report,
            &mut backoff,
            &mut st,
        );
    }
    if auth.is_some() {
        let _ = host.remove_file(&state_dir.join(AUTH_HEADER));
    }
}

/// `Authorization: Bearer <token>` into a 0600 file curl reads with `-H @file`.
fn auth_header(host: &dyn Host, state_dir: &Path, cfg: &Config) -> Result<Option<PathBuf>, String> {
    let Some(tf) = &cfg.token_file else {
        return Ok(None);
    };
    let token = host
        .read_to_string(Path::new(tf))
        .map_err(|e| format!("reading the report token {tf}: {e}"))?;
    let token = token.trim();
    if token.is_empty() || token.contains(['\n', '\r']) {
        return Err(format!("the report token {tf} is empty or not one line"));
    }
    let p = state_dir.join(AUTH_HEADER);
    host.write_atomic(
        &p,
        format!("Authorization: Bearer {token}\n").as_bytes(),
        0o600,
    )
    .map_err(|e| e.to_string())?;
    Ok(Some(host.path(&p)))
}

fn deliver(
    host: &dyn Host,
    state_dir: &Path,
    cfg: &Config,
    auth: Option<&Path>,
    report: &Report,
    backoff: &mut Backoff,
    st: &mut ReportStatus,
) {
    let event = report.event.as_str();
    let deadline = report.queued + cfg.timeout;
    st.event = Some(event.to_owned());
    st.attempts = 0;
    loop {
        st.attempts += 1;
        let left = deadline.saturating_duration_since(host.now());
        let cmd = curl_cmd(cfg, auth, report, left.min(ATTEMPT_MAX));
        match host.run(&cmd) {
            Ok(_) => {
                tracing::info!(event, attempts = st.attempts, url = %cfg.url, key = %report.key, "report delivered");
                st.delivered.push(event.to_owned());
                st.report = if st.failed.is_empty() {
                    "delivered"
                } else {
                    "failed"
                }
                .into();
                write_status(host, state_dir, st);
                return;
            }
            Err(e) => {
                let err = crate::text::one_line(&e.to_string());
                let wait = backoff.next_delay();
                let give_up =
                    crate::host::interrupt::interrupted() || host.now() + wait >= deadline;
                st.last_error = Some(err.clone());
                if give_up {
                    tracing::error!(event, attempts = st.attempts, url = %cfg.url, error = %err,
                        "report not delivered; giving up (the boot is not affected)");
                    st.failed.push(event.to_owned());
                    st.report = "failed".into();
                    write_status(host, state_dir, st);
                    return;
                }
                tracing::warn!(event, attempt = st.attempts, retry_in_ms = wait.as_millis() as u64,
                    error = %err, "report not delivered; retrying");
                st.report = "retrying".into();
                write_status(host, state_dir, st);
                sleep_unless_interrupted(host, wait);
            }
        }
    }
}

/// Sleeps in steps of at most a second, so a SIGTERM ends the wait.
fn sleep_unless_interrupted(host: &dyn Host, d: Duration) {
    let end = host.now() + d;
    loop {
        let left = end.saturating_duration_since(host.now());
        if left.is_zero() || crate::host::interrupt::interrupted() {
            return;
        }
        host.sleep(left.min(Duration::from_secs(1)));
    }
}

#[cfg(test)]
mod tests;
