#!/usr/bin/env python3
"""The VM suite's report collector (issue 16), on the host's loopback only.

  collector.py serve PORT DIR [--tls CERT KEY] [--token TOKEN] [--down-for SEC]
      HTTP(S) server on 127.0.0.1:PORT storing each POST as DIR/<n>-<event>.json and its
      headers as DIR/<n>-<event>.headers; 401 when --token is given and the bearer token
      differs. --down-for SEC: do not listen until SEC seconds after the first connection
      attempt the relay saw (DIR/relay.log), so the guest's first tries are refused.
  collector.py relay PORT DIR
      What QEMU's guestfwd runs per guest connection (cmd:): joins stdin/stdout to
      127.0.0.1:PORT; a refused connection is logged in DIR/relay.log and closes the
      guest's connection. The guest reaches the host only this way.
  collector.py check DIR BDIR MAC
      Both reports in DIR match the guest's readings in BDIR (storage-status,
      network-status, plan.json, the generated .nix files, the DMI UUID) and the host's
      ssh-keyscan fingerprints (BDIR/keyscan-fp).
"""
import json
import os
import select
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def log_line(d, text):
    with open(os.path.join(d, "relay.log"), "a") as f:
        f.write(f"{time.time():.3f} {text}\n")


def cmd_relay(port, d):
    try:
        s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    except OSError as e:
        log_line(d, f"refused {e}")
        return 0
    log_line(d, "connected")
    s.settimeout(None)
    # fds 0 and 1 are QEMU's end of the guest connection (one socket, or a pair).
    open_in = True
    while True:
        r, _, _ = select.select([s] + ([0] if open_in else []), [], [], 60)
        if not r:
            return 0
        if 0 in r:
            data = os.read(0, 65536)
            if not data:
                open_in = False
                s.shutdown(socket.SHUT_WR)
            else:
                s.sendall(data)
        if s in r:
            data = s.recv(65536)
            if not data:
                return 0
            while data:
                data = data[os.write(1, data):]


def cmd_serve(port, d, args):
    tls = token = None
    down_for = 0.0
    i = 0
    while i < len(args):
        if args[i] == "--tls":
            tls = (args[i + 1], args[i + 2])
            i += 3
        elif args[i] == "--token":
            token = args[i + 1]
            i += 2
        elif args[i] == "--down-for":
            down_for = float(args[i + 1])
            i += 2
        else:
            sys.exit(f"unknown argument {args[i]}")
    os.makedirs(d, exist_ok=True)
    if down_for:
        relay = os.path.join(d, "relay.log")
        while not (os.path.exists(relay) and "refused" in open(relay).read()):
            time.sleep(0.2)
        time.sleep(down_for)
    count = [0]

    class H(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self.send_response(401)
                self.end_headers()
                return
            try:
                event = json.loads(body).get("event", "unknown")
            except ValueError:
                event = "not-json"
            count[0] += 1
            base = os.path.join(d, f"{count[0]:03d}-{event}")
            with open(base + ".json", "wb") as f:
                f.write(body)
            with open(base + ".headers", "w") as f:
                f.write("".join(f"{k}: {v}\n" for k, v in self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *a):
            sys.stderr.write("collector: " + (fmt % a) + "\n")

    srv = HTTPServer(("127.0.0.1", int(port)), H)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    open(os.path.join(d, "listening"), "w").write(f"{time.time():.3f}\n")
    srv.serve_forever()


def latest(d, event):
    names = sorted(n for n in os.listdir(d) if n.endswith(f"-{event}.json"))
    if not names:
        sys.exit(f"no {event} report in {d}")
    base = os.path.join(d, names[-1][: -len(".json")])
    body = json.load(open(base + ".json"))
    headers = dict(
        line.rstrip("\n").split(": ", 1) for line in open(base + ".headers") if ": " in line
    )
    return body, headers


def read(path):
    try:
        return open(path).read()
    except OSError:
        return ""


def cmd_check(d, bdir, mac):
    """Both reports arrived and say what the guest's own files and the host's ssh-keyscan say."""
    problems = []

    def want(what, got, expected):
        if got != expected:
            problems.append(f"{what}: report has {got!r}, expected {expected!r}")

    scanned = sorted(l.split()[1] for l in read(os.path.join(bdir, "keyscan-fp")).splitlines() if l.strip())
    if not scanned:
        problems.append("ssh-keyscan from the host found no key")
    status_keys = ""
    for line in read(os.path.join(bdir, "network-status")).splitlines():
        if line.startswith("SSH_HOST_KEYS="):
            status_keys = line
    want("network-status SSH_HOST_KEYS fingerprints", sorted(w for w in status_keys.replace("'", " ").split() if w.startswith("SHA256:")), scanned)
    uuid = read(os.path.join(bdir, "dmi-uuid")).strip().lower() or None
    for event in ("network-up", "storage-final"):
        body, headers = latest(d, event)
        want(f"{event} schema_version", body.get("schema_version"), 1)
        want(f"{event} Idempotency-Key header", headers.get("Idempotency-Key"), body.get("idempotency_key"))
        want(f"{event} lan.mac", body["lan"]["mac"], mac)
        want(f"{event} lan.ipv4", body["lan"]["ipv4"], "10.0.2.15")
        want(f"{event} machine.uuid", (body.get("machine") or {}).get("uuid"), uuid)
        fps = sorted(k["fingerprint"] for k in body["ssh"]["host_keys"])
        want(f"{event} host key fingerprints (vs ssh-keyscan)", fps, scanned)
        want(f"{event} known_hosts lines", len(body["ssh"]["known_hosts"]), len(scanned))
    body, _ = latest(d, "storage-final")
    want("storage-final storage-status", body["storage"]["status_file"], read(os.path.join(bdir, "storage-status")))
    want("storage-final hardware-disk.nix", body["files"].get("hardware-disk.nix"), read(os.path.join(bdir, "hardware-disk.nix")))
    want("storage-final network-lan.nix", body["files"].get("network-lan.nix"), read(os.path.join(bdir, "network-lan.nix")))
    import hashlib
    want("storage-final plan digest", body["plan"]["digest"], hashlib.sha256(read(os.path.join(bdir, "plan.json")).encode()).hexdigest())
    if problems:
        sys.exit("\n".join(problems))
    print(f"both reports match; host keys {scanned}")


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "check":
        return cmd_check(*sys.argv[2:5])
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    cmd, port, d = sys.argv[1:4]
    if cmd == "relay":
        return cmd_relay(port, d)
    if cmd == "serve":
        return cmd_serve(port, d, sys.argv[4:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
