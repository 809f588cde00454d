//! `sd_notify(3)` `STATUS=` messages, so `systemctl status pre-nixos` shows the step the
//! boot is in. Best effort: without `NOTIFY_SOCKET` (not under systemd, or the unit's
//! `NotifyAccess=` refuses us) nothing is sent, and a send that fails is ignored.
//!
//! Hand-made rather than the `sd-notify` crate: one datagram to one socket is a dozen
//! lines of std, and the crate is not in the dependency tree.

use std::os::unix::net::UnixDatagram;

/// Sends `STATUS=<text>` to the service manager, if there is one.
pub fn status(text: &str) {
    if let Some(socket) = std::env::var_os("NOTIFY_SOCKET") {
        let _ = send_status_to(&socket.to_string_lossy(), text);
    }
}

/// Sends `STATUS=<text>` to the notify socket `socket` (a path, or `@name` for an
/// abstract socket). Newlines in `text` would start another assignment; they become
/// spaces.
pub fn send_status_to(socket: &str, text: &str) -> std::io::Result<()> {
    let msg = format!("STATUS={}", text.replace('\n', " "));
    let sock = UnixDatagram::unbound()?;
    match socket.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
            sock.send_to_addr(msg.as_bytes(), &addr)?;
        }
        None => {
            sock.send_to(msg.as_bytes(), socket)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_reaches_the_socket_as_one_assignment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let server = UnixDatagram::bind(&path).unwrap();
        send_status_to(path.to_str().unwrap(), "storage: mkfs\nsecond line").unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STATUS=storage: mkfs second line");
    }
}
