#!/usr/bin/env python3
"""QMP, qemu-guest-agent and SSH-readiness helpers for the VM suite (stdlib only).

  qmp.py qmp SOCK COMMAND [JSON-ARGS]      run one QMP command, print its return value as JSON
  qmp.py qga SOCK TIMEOUT SHELL-COMMAND    run a shell command in the guest (guest-exec), copy
                                           its stdout/stderr, exit with its status (124 on timeout)
  qmp.py qga-ping SOCK DEADLINE            wait until the guest agent answers (exit 1 if never)
  qmp.py wait-ssh PORT DEADLINE            wait until 127.0.0.1:PORT sends an SSH banner; print
                                           the seconds it took (exit 1 if never)
  qmp.py wait-lease-ssh QGA PORT DEADLINE LEASE-FILE
                                           ask the guest agent for the guest's addresses until
                                           one is IPv4 (the lease), write when (LEASE-FILE), then
                                           wait-ssh; print the banner's seconds (same zero)
  qmp.py banner-floor PORT                 seconds from connect to the SSH banner of an sshd
                                           that is already up: median of 3 connections
  qmp.py freeport                          print a free TCP port on 127.0.0.1
"""
import base64
import json
import random
import socket
import sys
import time


def connect(path, timeout):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s, s.makefile("rwb", buffering=0)


def recv(f):
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("qmp.py: connection closed")
        msg = json.loads(line)
        if "event" in msg:
            continue
        return msg


def call(f, cmd, args=None):
    req = {"execute": cmd}
    if args is not None:
        req["arguments"] = args
    f.write((json.dumps(req) + "\n").encode())
    r = recv(f)
    if "error" in r:
        raise SystemExit(f"qmp.py: {cmd}: {r['error']}")
    return r.get("return")


def qga_sync(f):
    # guest-sync-delimited: the agent answers after a 0xff byte, which flushes whatever a
    # previous, interrupted client left half-read in the channel.
    tok = random.randint(1, 2**31)
    f.write(b"\xff" + (json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": tok}}) + "\n").encode())
    while f.read(1) != b"\xff":
        pass
    while True:
        r = recv(f)
        if r.get("return") == tok:
            return


# At most PROBES probes open at once, a new one every PROBE_EVERY s while there is room, each
# given PATIENCE s for its banner. Closing every probe after 3 s, as before, left the guest's
# sshd a child per probe to fork, exec and tear down under TCG, up to MaxStartups of them,
# which starved the guest (its systemctl queries timed out) and missed banners slower than 3 s.
# A probe from before the lease may hang in slirp's SYN retries: the patience frees its slot.
PROBES = 3
PROBE_EVERY = 1.0
PATIENCE = 10.0


def wait_ssh(port, limit, t0=None, every=PROBE_EVERY):
    import select
    t0 = time.monotonic() if t0 is None else t0
    deadline, last, open_ = t0 + limit, -every, {}
    try:
        while time.monotonic() < deadline:
            now = time.monotonic()
            for c, since in list(open_.items()):
                if now - since > PATIENCE:
                    del open_[c]
                    c.close()
            if len(open_) < PROBES and now - last >= every:
                last = now
                try:
                    open_[socket.create_connection(("127.0.0.1", port), timeout=3)] = now
                except OSError:
                    pass
            if not open_:
                time.sleep(0.1)
                continue
            ready, _, _ = select.select(list(open_), [], [], 0.1)
            for c in ready:
                try:
                    data = c.recv(8)
                except OSError:
                    data = b""
                if data.startswith(b"SSH-"):
                    print(f"{time.monotonic() - t0:.2f}")
                    return
                # Closed without a banner (nothing listening in the guest yet): next probe.
                del open_[c]
                c.close()
        sys.exit(1)
    finally:
        for c in open_:
            c.close()


# After the lease a probe's SYN reaches the guest at once: nothing listening answers with a
# reset (no sshd child), so probes can come often and the banner's time is known to 0.2 s.
PROBE_EVERY_AFTER_LEASE = 0.2
LEASE_POLL = 0.2


def guest_ipv4(sock):
    """The guest's non-loopback IPv4 addresses (guest-network-get-interfaces: the agent reads
    getifaddrs itself, no process is started in the guest), or None if the agent did not
    answer."""
    try:
        s, f = connect(sock, 5)
    except OSError:
        return None
    try:
        qga_sync(f)
        ifs = call(f, "guest-network-get-interfaces")
    except (OSError, SystemExit, ValueError):
        return None
    finally:
        s.close()
    return [a["ip-address"] for i in ifs if i.get("name") != "lo"
            for a in i.get("ip-addresses", []) if a.get("ip-address-type") == "ipv4"]


def wait_lease_ssh(sock, port, limit, lease_file):
    """The host's SSH probes start once the guest has its lease. Probes made before it wait
    in slirp's SYN retries and all reach the guest when the address lands, where sshd forks a
    child for each before a fresh probe is answered: that measured the harness, not the boot.
    LEASE-FILE: `SEEN FIRST POLLS ADDR` - seconds from the start to the first answer that
    carried an IPv4 address, to the agent's first answer at all, and the number of answers;
    SEEN == FIRST means the address was already there when the agent first answered, and the
    lease time is only an upper bound."""
    t0 = time.monotonic()
    deadline, first, polls = t0 + limit, None, 0
    while time.monotonic() < deadline:
        addrs = guest_ipv4(sock)
        now = time.monotonic() - t0
        if addrs is not None:
            polls += 1
            first = now if first is None else first
            if addrs:
                with open(lease_file, "w") as out:
                    out.write(f"{now:.2f} {first:.2f} {polls} {addrs[0]}\n")
                break
        time.sleep(LEASE_POLL)
    else:
        sys.stderr.write("qmp.py: no IPv4 address in the guest before the deadline\n")
        sys.exit(1)
    wait_ssh(port, limit, t0=t0, every=PROBE_EVERY_AFTER_LEASE)


def banner_floor(port, n=3):
    """Connect to banner on an sshd that is up, one fresh connection at a time, median of n:
    what every connection costs here (sshd forks and execs a child that sends the banner,
    seconds under TCG), so lease -> banner can be read against it."""
    import statistics
    times = []
    for _ in range(n):
        t = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.settimeout(30)
            if not c.recv(8).startswith(b"SSH-"):
                raise SystemExit("qmp.py: no SSH banner")
        times.append(time.monotonic() - t)
    print(f"{statistics.median(times):.2f}")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "qmp":
        s, f = connect(sys.argv[2], 30)
        greeting = json.loads(f.readline())
        assert "QMP" in greeting, greeting
        call(f, "qmp_capabilities")
        args = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
        print(json.dumps(call(f, sys.argv[3], args)))
    elif mode == "qga":
        timeout = float(sys.argv[3])
        deadline = time.monotonic() + timeout
        s, f = connect(sys.argv[2], timeout)
        qga_sync(f)
        pid = call(f, "guest-exec", {"path": "/bin/sh", "arg": ["-c", sys.argv[4]], "capture-output": True})["pid"]
        while True:
            st = call(f, "guest-exec-status", {"pid": pid})
            if st.get("exited"):
                break
            if time.monotonic() > deadline:
                sys.stderr.write(f"qmp.py: guest command timed out after {timeout}s\n")
                sys.exit(124)
            time.sleep(0.1)
        sys.stdout.write(base64.b64decode(st.get("out-data", "")).decode(errors="replace"))
        sys.stderr.write(base64.b64decode(st.get("err-data", "")).decode(errors="replace"))
        sys.exit(st.get("exitcode", 1) if "exitcode" in st else 128 + st.get("signal", 1))
    elif mode == "qga-ping":
        deadline = time.monotonic() + float(sys.argv[3])
        while time.monotonic() < deadline:
            try:
                s, f = connect(sys.argv[2], 5)
                qga_sync(f)
                call(f, "guest-ping")
                return
            except (OSError, SystemExit, ValueError):
                time.sleep(0.5)
        sys.exit(1)
    elif mode == "wait-ssh":
        wait_ssh(int(sys.argv[2]), float(sys.argv[3]))
    elif mode == "wait-lease-ssh":
        wait_lease_ssh(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif mode == "banner-floor":
        banner_floor(int(sys.argv[2]))
    elif mode == "freeport":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
