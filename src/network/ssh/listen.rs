//! Is sshd up? Judged by what a client needs: a TCP socket listening on port 22,
//! read from `/proc/net/tcp` and `/proc/net/tcp6` through the host (so a fixture root
//! stands in for the kernel in tests).
//!
//! Reading two small files cannot time out the way a `systemctl is-active` call can
//! on a loaded machine (under emulation each such call took seconds, and four of them
//! used up the old 20 s bound before sshd was judged). The wait is bounded in total by
//! the host's clock; when it passes without a listener the answer is "not known", and
//! the caller still prints the `ssh root@…` line, saying so.

use std::path::Path;
use std::time::Duration;

use crate::host::Host;

/// The port sshd listens on (the hardened config does not move it).
pub const SSH_PORT: u16 = 22;
/// How long the stage watches for the listener after the lease, in total.
pub const LISTEN_TIMEOUT: Duration = Duration::from_secs(20);
/// Between two reads of the socket tables.
const POLL: Duration = Duration::from_millis(200);
/// `TCP_LISTEN` in the kernel's `st` column.
const LISTEN_STATE: &str = "0A";
const TABLES: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// The local ports of the listening sockets in one `/proc/net/tcp{,6}` table.
/// Lines that do not parse (the header among them) are skipped.
pub fn listening_ports(table: &str) -> Vec<u16> {
    table
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let _sl = f.next()?;
            let local = f.next()?;
            let _remote = f.next()?;
            let state = f.next()?;
            if state != LISTEN_STATE {
                return None;
            }
            let (_, port) = local.rsplit_once(':')?;
            u16::from_str_radix(port, 16).ok()
        })
        .collect()
}

/// Whether something listens on `port` (IPv4 or IPv6); `Err` when neither table could
/// be read (no procfs: the answer is not known).
pub fn is_listening(host: &dyn Host, port: u16) -> Result<bool, String> {
    let mut errors = Vec::new();
    let mut read_any = false;
    for t in TABLES {
        match host.read_to_string(Path::new(t)) {
            Ok(text) => {
                read_any = true;
                if listening_ports(&text).contains(&port) {
                    return Ok(true);
                }
            }
            Err(e) => errors.push(format!("{t}: {e}")),
        }
    }
    if read_any {
        Ok(false)
    } else {
        Err(errors.join("; "))
    }
}

/// What [`wait_listening`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// A socket listens on the port.
    Yes { waited: Duration },
    /// None did within the bound, or the tables could not be read: sshd's state is not
    /// known (it may still be generating host keys, or have failed).
    Unknown { waited: Duration, why: String },
}

/// Reads the socket tables until something listens on `port` or `timeout` has passed
/// (at least one read, however short the bound).
pub fn wait_listening(host: &dyn Host, port: u16, timeout: Duration) -> Listening {
    let start = host.now();
    loop {
        let seen = is_listening(host, port);
        let waited = host.now().saturating_duration_since(start);
        match seen {
            Ok(true) => return Listening::Yes { waited },
            Ok(false) if waited >= timeout => {
                return Listening::Unknown {
                    waited,
                    why: format!("nothing listens on port {port}"),
                }
            }
            Err(e) if waited >= timeout => {
                return Listening::Unknown {
                    waited,
                    why: format!("the socket tables are unreadable ({e})"),
                }
            }
            _ => host.sleep(POLL.min(timeout - waited)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/tests/fixtures/net/proc-net/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    /// A root whose /proc/net holds the named captures (`None`: the file is absent).
    fn root_with(tcp: Option<&str>, tcp6: Option<&str>) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("proc/net")).unwrap();
        for (file, capture) in [("tcp", tcp), ("tcp6", tcp6)] {
            if let Some(c) = capture {
                std::fs::write(d.path().join("proc/net").join(file), fixture(c)).unwrap();
            }
        }
        d
    }

    #[test]
    fn the_captured_tables_parse() {
        assert_eq!(listening_ports(&fixture("sshd-tcp")), [5355, 22]);
        assert_eq!(listening_ports(&fixture("sshd-tcp6")), [22]);
        assert_eq!(listening_ports(&fixture("no-sshd-tcp")), [5355]);
        assert!(listening_ports(&fixture("no-sshd-tcp6")).is_empty());
        // Port 22 in use by a connection, but nothing listening: not up.
        assert!(listening_ports(&fixture("established-22-tcp")).is_empty());
        assert!(listening_ports("").is_empty());
        assert!(listening_ports("garbage\n   0: x").is_empty());
    }

    #[test]
    fn a_listener_on_either_family_is_sshd_up_at_once() {
        for (tcp, tcp6) in [
            ("sshd-tcp", "sshd-tcp6"),
            ("sshd-v6-only-tcp", "sshd-v6-only-tcp6"),
        ] {
            let d = root_with(Some(tcp), Some(tcp6));
            let host = FakeHost::new(d.path());
            assert_eq!(is_listening(&host, SSH_PORT), Ok(true), "{tcp}");
            assert_eq!(
                wait_listening(&host, SSH_PORT, LISTEN_TIMEOUT),
                Listening::Yes {
                    waited: Duration::ZERO
                }
            );
        }
        // Without IPv6 in the kernel there is no tcp6 file.
        let d = root_with(Some("sshd-tcp"), None);
        assert_eq!(is_listening(&FakeHost::new(d.path()), SSH_PORT), Ok(true));
    }

    #[test]
    fn no_listener_waits_the_bound_and_no_longer_then_is_unknown() {
        let d = root_with(Some("established-22-tcp"), Some("no-sshd-tcp6"));
        let host = FakeHost::new(d.path());
        let start = host.now();
        let got = wait_listening(&host, SSH_PORT, LISTEN_TIMEOUT);
        let waited = host.now().duration_since(start);
        assert_eq!(waited, LISTEN_TIMEOUT, "the bound is the whole wait");
        assert_eq!(
            got,
            Listening::Unknown {
                waited: LISTEN_TIMEOUT,
                why: "nothing listens on port 22".into()
            }
        );
    }

    #[test]
    fn unreadable_tables_are_unknown_after_the_bound() {
        let d = root_with(None, None);
        let host = FakeHost::new(d.path());
        match wait_listening(&host, SSH_PORT, Duration::from_secs(2)) {
            Listening::Unknown { waited, why } => {
                assert_eq!(waited, Duration::from_secs(2));
                assert!(why.starts_with("the socket tables are unreadable"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
