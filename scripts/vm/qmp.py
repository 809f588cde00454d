#!/usr/bin/env python3
"""QMP, qemu-guest-agent and SSH-readiness helpers for the VM suite (stdlib only).

  qmp.py qmp SOCK COMMAND [JSON-ARGS]      run one QMP command, print its return value as JSON
  qmp.py qga SOCK TIMEOUT SHELL-COMMAND    run a shell command in the guest (guest-exec), copy
                                           its stdout/stderr, exit with its status (124 on timeout)
  qmp.py qga-ping SOCK DEADLINE            wait until the guest agent answers (exit 1 if never)
  qmp.py wait-ssh PORT DEADLINE            wait until 127.0.0.1:PORT sends an SSH banner; print
                                           the seconds it took (exit 1 if never)
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
        port, t0 = int(sys.argv[2]), time.monotonic()
        deadline = t0 + float(sys.argv[3])
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=3) as c:
                    c.settimeout(3)
                    if c.recv(8).startswith(b"SSH-"):
                        print(f"{time.monotonic() - t0:.2f}")
                        return
            except OSError:
                pass
            time.sleep(0.5)
        sys.exit(1)
    elif mode == "freeport":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            print(s.getsockname()[1])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
