//! Network: choose the LAN, make it `lan`, DHCP with networkd, then sshd,
//! `network-status` and the first announce line (SPEC §4).
//!
//! [`boot_stage`] reads top to bottom as the pipeline: sshd → (at boot) wait for udev
//! to finish with the network devices → scan → bring links up → wait for a link →
//! choose → `.link`/`.network` files → live rename → networkd reload → wait for the
//! lease → `network-status` → announce. It never
//! fails and never returns early: every problem is logged and lands in the
//! [`NetworkReport`], because storage runs after it whatever happens here.
//! `pre-nixos network --dry-run` runs the very same stage against a
//! [`crate::host::dryrun::DryRunHost`] and prints what it would have done.

pub mod address;
pub mod announce;
pub mod carrier;
pub mod choose;
pub mod links;
pub mod rename;
pub mod ssh;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::context::Ctx;
use crate::host::{dryrun, Host};
use crate::inventory::nics::scan_nics;
use crate::inventory::Nic;
use crate::kcmdline::BootOptions;
use crate::state::status::{self, NetworkStatus};

use choose::{Choice, LAN};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Seconds to wait for a carrier unless the operator says otherwise.
pub const CARRIER_TIMEOUT_DEFAULT: u64 = 30;

/// What the operator may choose about the network stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// How long to wait for a carrier on any candidate NIC.
    pub carrier_timeout: Duration,
    /// Root's authorized keys to install (default [`ssh::DEFAULT_KEYS`]).
    pub authorized_keys: Option<std::path::PathBuf>,
    /// Use the NIC with this MAC as the LAN (overrides `pre-nixos.lan=`).
    pub lan: Option<String>,
    /// At boot: how long to wait for udev to finish with the network devices before
    /// the NIC scan (driver loaded, interface renamed). `None` (the `network` command,
    /// run once the system is up): scan at once.
    pub nic_udev_timeout: Option<Duration>,
}

/// A hand-built `Options` (tests, other callers) gets the command line's defaults, never
/// a zero carrier deadline.
impl Default for Options {
    fn default() -> Self {
        Options {
            carrier_timeout: Duration::from_secs(CARRIER_TIMEOUT_DEFAULT),
            authorized_keys: None,
            lan: None,
            nic_udev_timeout: None,
        }
    }
}

/// What the network half of `boot` achieved, for the status file and the announce line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkReport {
    pub lan_iface: Option<String>,
    pub lan_mac: Option<String>,
    /// `lan_mac` is the NIC's permanent address (else its current one, which the
    /// installed system's `.link` must match with `MACAddress=`).
    pub lan_mac_permanent: bool,
    pub lan_ipv4: Option<String>,
    /// `ready` (listening on port 22), or why sshd is not up or not known to be.
    pub ssh: String,
    /// sshd's start was queued with the hardened config and root's keys: the announce
    /// carries `ssh root@<ip>` whether or not it was seen listening yet.
    pub ssh_started: bool,
    /// sshd's host keys, read once sshd is up (empty before, or without sshd).
    pub host_keys: Vec<ssh::hostkeys::HostKey>,
    pub warnings: Vec<String>,
}

/// What the stage saw and decided (printed by `--dry-run`, logged otherwise).
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub nics: Vec<Nic>,
    pub wait: String,
    pub choice: String,
    pub announce: String,
}

/// The network half of `pre-nixos boot`: sshd, choose the LAN, `lan` files, DHCP,
/// `network-status`, first announce. Never fails the boot: problems land in the report.
pub fn boot_stage(ctx: &Ctx, opts: &Options, boot: &BootOptions) -> NetworkReport {
    run_stage(ctx.host, ctx.state_dir(), opts, boot).0
}

fn warn(r: &mut NetworkReport, msg: String) {
    tracing::warn!(message = %msg);
    r.warnings.push(msg);
}

/// The stage on any host (the real one, or the dry-run recorder).
///
/// Long on purpose: the network pipeline top to bottom (sshd, udev wait, scan, links up,
/// carrier wait, choose, files, rename, reload, lease, status, announce), each step a call.
pub fn run_stage(
    host: &dyn Host,
    state_dir: &Path,
    opts: &Options,
    boot: &BootOptions,
) -> (NetworkReport, Trace) {
    let mut r = NetworkReport::default();
    let mut t = Trace::default();
    let override_mac = opts.lan.clone().or_else(|| boot.lan_mac.clone());

    // 0. sshd: keys, hardened config, queued start. First of all: nothing it needs
    // depends on the NIC, the carrier or the lease (it listens on every address), so
    // SSH answers the moment an address lands.
    let ssh = ssh::setup(host, opts.authorized_keys.as_deref());
    r.ssh = ssh.status.clone();

    // 1. Scan, bring every candidate up, wait for a link. At boot, udev may still be
    // loading a NIC driver or renaming `eth0` to its stable name: a list taken before
    // that holds a name about to vanish.
    if let Some(deadline) = opts.nic_udev_timeout {
        let ready = crate::inventory::ready::wait_for_nics(host, deadline);
        if ready.pending.is_empty() {
            tracing::info!(
                waited_ms = ready.waited.as_millis() as u64,
                "udev is done with the network devices"
            );
        } else {
            tracing::warn!(
                waited_ms = ready.waited.as_millis() as u64,
                pending = %ready.pending.join(" "),
                "udev has not finished with these network devices; scanning what is there"
            );
        }
    }
    let nics = scan_nics(host).unwrap_or_else(|e| {
        warn(&mut r, format!("scanning NICs failed: {e:#}"));
        Vec::new()
    });
    for w in carrier::bring_up(host, &nics) {
        warn(&mut r, w);
    }
    let timeout = opts.carrier_timeout;
    let nics = match carrier::wait_for_link(host, timeout, override_mac.as_deref()) {
        Ok(w) => {
            tracing::info!(waited_ms = w.waited.as_millis() as u64, why = %w.why, "carrier wait over");
            t.wait = format!("{} (after {} ms)", w.why, w.waited.as_millis());
            w.nics
        }
        Err(e) => {
            warn(&mut r, format!("rescanning NICs failed: {e:#}"));
            nics
        }
    };
    for n in &nics {
        tracing::info!(device = %n.name, mac = %n.perm_mac, driver = n.driver.as_deref().unwrap_or("-"),
            score = %choose::score(n), excluded = n.excluded.as_deref().unwrap_or("-"), "NIC");
    }
    t.nics = nics.clone();

    // 2. Choose and make it `lan`.
    let mut warnings = Vec::new();
    let choice = choose::choose(&nics, override_mac.as_deref(), &mut warnings);
    for w in warnings {
        warn(&mut r, w);
    }
    configure_lan(host, &choice, &mut r, &mut t);

    // 3. The lease. A dry run renamed nothing and started no DHCP client: there is
    // no lease to wait for, and nothing to warn about.
    if r.lan_iface.is_some() && !host.changes_are_real() {
        tracing::info!(
            "would wait up to {} s for a DHCP lease on lan",
            address::LEASE_TIMEOUT.as_secs()
        );
    } else if r.lan_iface.is_some() && !host.exists(&Path::new("/sys/class/net").join(LAN)) {
        // The rename was made but `lan` is gone again: udev raced us (a dry run, which
        // renames nothing, was handled above).
        warn(
            &mut r,
            "no interface called lan exists now; not waiting for a lease".into(),
        );
    } else if r.lan_iface.is_some() {
        r.lan_ipv4 = address::wait_for_ipv4(host, LAN, address::LEASE_TIMEOUT);
        if r.lan_ipv4.is_none() {
            warn(&mut r, format!(
                "lan has no IPv4 address after {} s: is there a DHCP server on its segment? (journalctl -u systemd-networkd)",
                address::LEASE_TIMEOUT.as_secs()
            ));
        }
    }

    // 4. Is sshd up? Judged by its listening socket (two file reads a time, which a
    // loaded machine cannot time out), bounded in total. In a dry run the start was
    // only recorded: the live sshd's sockets would report on a start that never
    // happened.
    r.ssh_started = ssh.started;
    if ssh.started && host.changes_are_real() {
        r.ssh = match ssh::listen::wait_listening(
            host,
            ssh::listen::SSH_PORT,
            ssh::listen::LISTEN_TIMEOUT,
        ) {
            ssh::listen::Listening::Yes { waited } => {
                tracing::info!(
                    waited_ms = waited.as_millis() as u64,
                    port = ssh::listen::SSH_PORT,
                    "sshd listens"
                );
                "ready".into()
            }
            ssh::listen::Listening::Unknown { waited, why } => {
                let s = not_confirmed(&why, waited, &ssh.unit);
                tracing::warn!(unit = %ssh.unit, "sshd {s}");
                s
            }
        };
    } else if ssh.started {
        r.ssh = format!(
            "would be started (a reload-or-restart of {} would be queued)",
            ssh.unit
        );
    }

    // 5. The host keys sshd made on its start, for a verifiable first login; 6.
    // network-status.
    publish(host, state_dir, &mut r);
    // The network stage alone says nothing about storage it has not touched.
    t.announce = if host.changes_are_real() {
        announce_line(&r)
    } else {
        announce_line_with_storage(&r, "not part of this dry run")
    };
    announce::announce(host, &with_host_key_lines(&t.announce, &r));
    (r, t)
}

/// `SSH=` when the bound passed with nothing listening: sshd's start was queued, but
/// whether it is up is not known.
fn not_confirmed(why: &str, waited: std::time::Duration, unit: &str) -> String {
    format!(
        "started, not confirmed: {why} after {} s; see journalctl -u {unit}",
        waited.as_secs()
    )
}

/// Host keys (once sshd is up), `known_hosts`, the login banner and `network-status`
/// from the report.
fn publish(host: &dyn Host, state_dir: &Path, r: &mut NetworkReport) {
    if r.ssh == "ready" {
        r.host_keys = ssh::hostkeys::read_host_keys(host);
        if r.host_keys.is_empty() {
            tracing::warn!("sshd is up but no host key was found in /etc/ssh/ssh_host_*_key.pub");
        }
        publish_host_keys(host, state_dir, r);
    }

    let st = NetworkStatus {
        lan_iface: r.lan_iface.clone(),
        lan_mac: r.lan_mac.clone(),
        lan_ipv4: r.lan_ipv4.clone(),
        ssh: r.ssh.clone(),
        ssh_host_keys: r
            .host_keys
            .iter()
            .map(ssh::hostkeys::HostKey::fingerprint_line)
            .collect(),
        updated: status::now_rfc3339(host),
    };
    if let Err(e) = status::write_network(host, state_dir, &st) {
        warn(r, e.to_string());
    }
}

/// At the end of the boot, when sshd was started but not seen listening within the
/// stage's bound: one more look at the sockets (no wait). Listening now, the report
/// says `ready`, and the host keys and `network-status` follow.
pub fn recheck_ssh(host: &dyn Host, state_dir: &Path, r: &mut NetworkReport) {
    if !r.ssh_started || r.ssh == "ready" || !host.changes_are_real() {
        return;
    }
    if ssh::listen::is_listening(host, ssh::listen::SSH_PORT) == Ok(true) {
        tracing::info!(port = ssh::listen::SSH_PORT, "sshd listens now");
        r.ssh = "ready".into();
        publish(host, state_dir, r);
    }
}

/// The `known_hosts` file in the state directory (when the address is known) and the
/// login banner (`/run/issue.d`, shown by agetty above the console login): both carry
/// the host keys, so the operator can check the first SSH login.
fn publish_host_keys(host: &dyn Host, state_dir: &Path, r: &mut NetworkReport) {
    if r.host_keys.is_empty() {
        return;
    }
    if let Some(ip) = &r.lan_ipv4 {
        let text: String = r
            .host_keys
            .iter()
            .map(|k| k.known_hosts_line(ip) + "\n")
            .collect();
        if let Err(e) = host.write_atomic(&state_dir.join(KNOWN_HOSTS), text.as_bytes(), 0o644) {
            warn(r, e.to_string());
        }
    }
    let mut banner = String::from(
        "pre-nixos: sshd host keys (compare with ssh-keyscan before the first login):\n",
    );
    for l in host_key_lines(r) {
        banner.push_str(&l);
        banner.push('\n');
    }
    if let Err(e) = host.write_atomic(Path::new(ISSUE_FILE), banner.as_bytes(), 0o644) {
        warn(r, e.to_string());
    }
}

/// `known_hosts` lines for the LAN address, in the state directory.
pub const KNOWN_HOSTS: &str = "known_hosts";
/// The login banner fragment agetty shows above the console login prompt.
pub const ISSUE_FILE: &str = "/run/issue.d/50-pre-nixos.issue";

/// One console line per host key: `pre-nixos: host key 256 SHA256:… root@nixos (ED25519)`.
pub fn host_key_lines(r: &NetworkReport) -> Vec<String> {
    r.host_keys
        .iter()
        .map(|k| format!("pre-nixos: host key {}", k.fingerprint_line()))
        .collect()
}

/// The announce line followed by the host key lines, as one console write.
pub fn with_host_key_lines(line: &str, r: &NetworkReport) -> String {
    let mut out = line.to_owned();
    for l in host_key_lines(r) {
        out.push_str("\r\n");
        out.push_str(&l);
    }
    out
}

/// How a change is logged: done on a host whose changes are real, in the conditional
/// on the dry-run host (which recorded the change instead of making it).
pub(crate) fn said(host: &dyn Host, done: &'static str, would: &'static str) -> &'static str {
    if host.changes_are_real() {
        done
    } else {
        would
    }
}

/// `pre-nixos <version>: lan <ip> — ssh root@<ip> — storage running`, or what is
/// missing in place of the address and the SSH part.
pub fn announce_line(r: &NetworkReport) -> String {
    announce_line_with_storage(r, "running")
}

/// The announce line with the storage result (`applied/auto-applied`): the one
/// wording for the first line (storage still running) and the final one.
pub fn announce_line_with_storage(r: &NetworkReport, storage: &str) -> String {
    let lan = match (&r.lan_iface, &r.lan_ipv4) {
        (_, Some(ip)) => format!("lan {ip}"),
        (Some(_), None) => "lan up, no address yet".to_string(),
        (None, None) => "no lan (no link on any NIC; DHCP on every Ethernet port)".to_string(),
    };
    let ssh = match (r.ssh.as_str(), &r.lan_ipv4) {
        ("ready", Some(ip)) => format!("ssh root@{ip}"),
        ("ready", None) => "ssh ready".to_string(),
        (why, Some(ip)) if r.ssh_started => format!("ssh root@{ip} (sshd {why})"),
        (why, _) => format!("ssh {why}"),
    };
    format!("pre-nixos {VERSION}: {lan} — {ssh} — storage {storage}")
}

/// Files, rename and networkd reload for the choice.
fn configure_lan(host: &dyn Host, choice: &Choice, r: &mut NetworkReport, t: &mut Trace) {
    let dir = links::network_dir(host);
    let mut changed = false;
    let mut write = |r: &mut NetworkReport, name: &str, text: &str| match links::write_if_changed(
        host,
        &dir.join(name),
        text,
        0o644,
    ) {
        Ok(c) => changed |= c,
        Err(e) => warn(
            r,
            format!("writing {} failed: {e}", dir.join(name).display()),
        ),
    };
    match choice {
        Choice::Chosen { nic, reason } => {
            tracing::info!(device = %nic.name, mac = %nic.perm_mac, reason = %reason, "LAN chosen");
            t.choice = format!("{} ({}): {reason}", nic.name, nic.perm_mac);
            write(r, links::LINK_FILE, &links::render_link(nic));
            write(r, links::NETWORK_FILE, &links::render_network());
            let catchall = dir.join(links::CATCHALL_FILE);
            if host.exists(&catchall) {
                // A LAN exists now: DHCP on every other port is no longer wanted.
                match host.remove_file(&catchall) {
                    Ok(()) => changed = true,
                    Err(e) => warn(r, format!("removing {} failed: {e}", catchall.display())),
                }
            }
            match rename::make_lan(host, nic) {
                Ok(rename::Renamed::AlreadyLan) => {
                    tracing::info!(device = LAN, "already lan; left as it is");
                }
                Ok(rename::Renamed::From(old)) => {
                    tracing::info!(device = %old, new_name = LAN, "{}", said(host, "renamed", "would rename"));
                    changed = true;
                }
                Ok(rename::Renamed::Vanished(n)) => {
                    warn(r, format!(
                        "{n} ({}) disappeared between the scan and the rename; 10-lan.link renames it to lan if it comes back",
                        nic.perm_mac
                    ));
                    reload(host, changed, r);
                    return;
                }
                Err(e) => {
                    warn(r, format!("making {} the lan failed: {e}", nic.name));
                    reload(host, changed, r);
                    return;
                }
            }
            reload(host, changed, r);
            r.lan_iface = Some(LAN.into());
            r.lan_mac = Some(nic.perm_mac.clone());
            r.lan_mac_permanent = nic.perm_mac_known;
        }
        Choice::NoLink { candidates } => {
            t.choice = format!(
                "none: no link on {}; catch-all DHCP on every physical Ethernet NIC",
                candidates.join(", ")
            );
            warn(r, format!(
                "no carrier on any candidate NIC ({}) within the deadline: check the cables; DHCP stays on for every physical Ethernet NIC ({})",
                candidates.join(", "),
                dir.join(links::CATCHALL_FILE).display()
            ));
            write(r, links::CATCHALL_FILE, &links::render_catchall());
            reload(host, changed, r);
        }
        Choice::NoCandidate => {
            t.choice = "none: no physical Ethernet NIC".into();
            warn(
                r,
                "no physical Ethernet NIC found: no LAN, no SSH from the network".into(),
            );
        }
    }
}

fn reload(host: &dyn Host, changed: bool, r: &mut NetworkReport) {
    if !changed {
        return;
    }
    if let Err(e) = links::reload_networkd(host) {
        warn(r, format!("reloading systemd-networkd failed: {e}"));
    }
}

/// The `--dry-run` listing: every NIC with score and exclusion, the choice, then
/// every change in order.
pub fn write_preview(
    out: &mut dyn Write,
    report: &NetworkReport,
    trace: &Trace,
    actions: &[dryrun::Action],
) -> std::io::Result<()> {
    writeln!(out, "NICs:")?;
    if trace.nics.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for n in &trace.nics {
        let what = match &n.excluded {
            Some(why) => format!("excluded: {why}"),
            None => format!("candidate: {}", choose::score(n)),
        };
        writeln!(
            out,
            "  {:<16} {}  driver={:<12} {what}",
            n.name,
            n.perm_mac,
            n.driver.as_deref().unwrap_or("-")
        )?;
    }
    writeln!(out, "wait: {}", trace.wait)?;
    writeln!(out, "chosen: {}", trace.choice)?;
    writeln!(out, "ssh: {}", report.ssh)?;
    for w in &report.warnings {
        writeln!(out, "warning: {w}")?;
    }
    writeln!(out, "would do:")?;
    for a in actions {
        writeln!(out, "  {}", a.to_string().trim_end())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
