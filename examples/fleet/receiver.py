#!/usr/bin/env python3
"""A collector for pre-nixos reports: stores each POSTed JSON per machine (docs/fleet.md).

  python3 receiver.py [PORT] [DIR]      (default 8080, ./reports; plain HTTP: put it behind
                                          a TLS proxy, or use the ssl module, for https://)

Writes DIR/<machine>/<event>.json (the latest report of each event), a known_hosts line
file, and the generated hardware-disk.nix / network-lan.nix under hosts/<machine>/, ready
for the example flake. <machine> is the DMI serial, else the DMI UUID, else the LAN MAC.
A retried report carries the same Idempotency-Key: it overwrites the same file, so
duplicates are harmless.
"""
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
DIR = sys.argv[2] if len(sys.argv) > 2 else "reports"


def machine_name(doc):
    m = doc.get("machine") or {}
    raw = m.get("serial") or m.get("uuid") or (doc.get("lan") or {}).get("mac") or "unknown"
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            doc = json.loads(body)
            assert doc.get("schema_version") == 1
        except (ValueError, AssertionError):
            self.send_response(400)
            self.end_headers()
            return
        name = machine_name(doc)
        d = os.path.join(DIR, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"{doc['event']}.json"), "wb") as f:
            f.write(body)
        with open(os.path.join(d, "known_hosts"), "w") as f:
            f.write("".join(line + "\n" for line in doc["ssh"]["known_hosts"]))
        for fname, text in (doc.get("files") or {}).items():
            h = os.path.join("hosts", name)
            os.makedirs(h, exist_ok=True)
            with open(os.path.join(h, fname), "w") as f:
                f.write(text)
        print(f"{name}: {doc['event']} from {doc['lan']['ipv4']} ({doc['idempotency_key']})")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


HTTPServer(("", PORT), Receiver).serve_forever()
