#!/usr/bin/env python3
"""The VM suite's judge: reads what a boot left in its directory (the guest's report, the
journal, the console log, independent readings of the disks) and decides one question per
call. Exit 0 = yes; otherwise it prints what was expected and what was found.

  judge.py status BDIR STATE DETAIL        storage-status has this STATE and DETAIL
  judge.py samples BDIR FINAL-STATE        every content of storage-status seen during boot
                                           parsed, none was written in place
  judge.py status-json BDIR                `pre-nixos status --json` agrees with storage-status
  judge.py sshd-before-storage-end BDIR    sshd started before the storage stage ended
  judge.py announce BDIR yes|no            the console carries the announce line
  judge.py boot-while-storage BDIR WORK SSH  multi-user.target reached within a few seconds of
                                           sshd (SSH=yes) and before the storage stage ended
                                           (WORK=yes: storage did real work)
  judge.py no-start-job BDIR               no "A start job is running" line for pre-nixos on
                                           the console
  judge.py layout BDIR [SCENARIO]          independent readings match storage-plan.json, and
                                           the scenario's own expectations (expectations.py)
                                           hold on the readings
  judge.py figures SDIR NAME BASH-ASSOC    one JSON line of figures for the scenario
  judge.py table FIGURES.jsonl...          the figures table printed at the end of a run
"""
import base64
import json
import os
import re
import sys

import expectations

GPT_TYPES = {
    "EF00": "c12a7328-f81f-11d2-ba4b-00a0c93ec93b",
    "FD00": "a19d880f-05fc-4d3b-a006-743f0f84911e",
    "8E00": "e6d6d379-f507-44c2-a23c-238f2a3df928",
    "8300": "0fc63daf-8483-4772-8e79-3d69d8477de4",
    "8200": "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f",
}
STATES = {"running", "applied", "plan-only", "failed"}
KEY_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def read(path, default=None):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        if default is None:
            raise SystemExit(f"missing {path}")
        return default


def unquote(v):
    """Shell-sourceable value: 'single quoted' with '\\'' escapes, or bare."""
    if v.startswith("'"):
        out, i = [], 0
        while i < len(v):
            if v[i] == "'":
                j = v.index("'", i + 1)  # ValueError = unterminated quote
                out.append(v[i + 1 : j])
                i = j + 1
            elif v.startswith("\\'", i):
                out.append("'")
                i += 2
            else:
                raise ValueError(f"unexpected text after a quote: {v[i:]!r}")
        return "".join(out)
    if any(c in v for c in " \t\"$`\\;&|<>()"):
        raise ValueError(f"bare value needs quoting: {v!r}")
    return v


def parse_status(text):
    """storage-status: KEY=VALUE lines, each complete, newline-terminated, STATE known."""
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline (cut short?)")
    kv = {}
    for line in text.splitlines():
        if "=" not in line:
            raise ValueError(f"line without '=': {line!r}")
        k, v = line.split("=", 1)
        if not KEY_RE.match(k):
            raise ValueError(f"bad key {k!r}")
        kv[k] = unquote(v)
    for k in ("STATE", "DETAIL", "VERSION", "UPDATED"):
        if k not in kv:
            raise ValueError(f"no {k}= line")
    if kv["STATE"] not in STATES:
        raise ValueError(f"unknown STATE={kv['STATE']}")
    return kv


def journal_lines(bdir):
    for name in ("journal-final.txt", "journal.txt", "journal-qga.txt"):
        p = os.path.join(bdir, name)
        if os.path.exists(p) and os.path.getsize(p) > 0:
            return read(p).splitlines()
    return []


MONO_RE = re.compile(r"^\[\s*([0-9]+\.[0-9]+)\]\s+\S+\s+([^:]+):\s?(.*)$")


def journal(bdir):
    """(seconds since boot, identifier[pid], message) for each journal line."""
    out = []
    for line in journal_lines(bdir):
        m = MONO_RE.match(line)
        if m:
            out.append((float(m.group(1)), m.group(2), m.group(3)))
    return out


def samples(bdir):
    """[(uptime, text)] in the order the guest watcher saw them."""
    out = []
    for line in read(os.path.join(bdir, "results.txt"), "").splitlines():
        if line.startswith("SAMPLE "):
            parts = line.split(" ")
            text = base64.b64decode(parts[3]).decode(errors="replace") if len(parts) > 3 else ""
            out.append((float(parts[2]), text))
    return out


def storage_times(bdir):
    """(start, end): first STATE=running sample and first final sample, seconds since boot."""
    start = end = None
    for t, text in samples(bdir):
        try:
            st = parse_status(text)["STATE"]
        except ValueError:
            continue
        if st == "running" and start is None:
            start = t
        if st != "running" and end is None:
            end = t
    return start, end


# ------------------------------------------------------------------ simple judgements
def cmd_status(bdir, state, detail):
    text = read(os.path.join(bdir, "storage-status"), "")
    try:
        kv = parse_status(text)
    except ValueError as e:
        sys.exit(f"storage-status unreadable: {e}\n{text}")
    got = (kv["STATE"], kv["DETAIL"])
    if state == "failed":
        # DETAIL names the failed step: checked when the scenario names it, not with "-".
        if kv["STATE"] != "failed" or detail not in ("-", kv["DETAIL"]):
            sys.exit(f"expected STATE=failed DETAIL={detail}, found STATE={got[0]} DETAIL={got[1]}"
                     + (f" ERROR={kv['ERROR']}" if "ERROR" in kv else ""))
    elif got != (state, detail):
        sys.exit(f"expected STATE={state} DETAIL={detail}, found STATE={got[0]} DETAIL={got[1]}"
                 + (f" ERROR={kv['ERROR']}" if "ERROR" in kv else ""))
    print(f"STATE={got[0]} DETAIL={got[1]}")


def cmd_samples(bdir, final_state):
    ss = samples(bdir)
    if not ss:
        sys.exit("the guest watcher never saw /run/pre-nixos/storage-status")
    problems, states = [], []
    for t, text in ss:
        try:
            states.append(parse_status(text)["STATE"])
        except ValueError as e:
            problems.append(f"at {t:.2f}s: {e}: {text!r}")
    events = [l[6:] for l in read(os.path.join(bdir, "results.txt"), "").splitlines() if l.startswith("EVENT ")]
    for ev in events:
        parts = ev.split(" ", 1)
        if len(parts) == 2 and parts[1] in ("storage-status", "network-status"):
            kinds = set(parts[0].split(","))
            if kinds & {"MODIFY", "CLOSE_WRITE", "CREATE"}:
                problems.append(f"written in place: inotify {ev}")
    if final_state != "running" and states and states[-1] != final_state:
        problems.append(f"last content seen has STATE={states[-1]}, expected {final_state}")
    if problems:
        sys.exit("\n".join(problems))
    print(f"{len(ss)} distinct contents ({' -> '.join(states)}), {len(events)} inotify events, all whole")


def find_key(obj, names):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in names and isinstance(v, str):
                return v
        for v in obj.values():
            r = find_key(v, names)
            if r is not None:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = find_key(v, names)
            if r is not None:
                return r
    return None


def cmd_status_json(bdir):
    text = read(os.path.join(bdir, "status.json"), "")
    try:
        doc = json.loads(text)
    except ValueError as e:
        err = read(os.path.join(bdir, "status.json.err"), "")
        sys.exit(f"pre-nixos status --json did not print JSON ({e}): {text[:300]!r} {err[:300]!r}")
    kv = parse_status(read(os.path.join(bdir, "storage-status")))
    st = find_key(doc, {"state", "STATE"})
    if st != kv["STATE"]:
        sys.exit(f"status --json says state={st!r}, storage-status says {kv['STATE']}")
    print(f"state={st}")


def cmd_sshd_before(bdir):
    started = [t for t, who, msg in journal(bdir)
               if who.startswith("systemd[1]") and re.match(r"Started (ssh|sshd)\.service", msg)]
    start, end = storage_times(bdir)
    if not started:
        sys.exit("no 'Started ssh.service' in the journal")
    if end is None:
        sys.exit("the storage stage never ended (no final storage-status seen)")
    if started[0] >= end:
        sys.exit(f"sshd started at {started[0]:.2f}s, after the storage stage ended at {end:.2f}s")
    print(f"sshd started at {started[0]:.2f}s, storage {start if start is not None else '-'}s -> {end:.2f}s")


def multi_user_s(bdir):
    """When the boot reached multi-user.target (seconds since boot, the journal's clock)."""
    for line in read(os.path.join(bdir, "results.txt"), "").splitlines():
        if line.startswith("MULTI_USER_US "):
            v = line.split(" ", 1)[1].strip()
            return int(v) / 1e6 if v.isdigit() and int(v) > 0 else None
    return None


def sshd_started(bdir):
    ts = [t for t, who, msg in journal(bdir)
          if who.startswith("systemd[1]") and re.match(r"Started (ssh|sshd)\.service", msg)]
    return ts[0] if ts else None


# "Within a few seconds of SSH": the boot may finish before sshd is up (pre-nixos' start
# job ends at exec, the LAN comes after), never later than this after it.
MULTI_USER_AFTER_SSHD_MAX_S = 5.0


def cmd_boot_while_storage(bdir, work, ssh):
    """multi-user.target was reached, within a few seconds of sshd, and (when the storage
    stage did real work) before that stage ended."""
    mu = multi_user_s(bdir)
    if mu is None:
        sys.exit("multi-user.target was never reached (no ActiveEnterTimestampMonotonic)")
    start, end = storage_times(bdir)
    sshd = sshd_started(bdir)
    problems = []
    if ssh == "yes":
        if sshd is None:
            problems.append("no 'Started ssh.service' in the journal")
        elif mu > sshd + MULTI_USER_AFTER_SSHD_MAX_S:
            problems.append(f"multi-user.target at {mu:.2f}s, more than {MULTI_USER_AFTER_SSHD_MAX_S:.0f} s "
                            f"after sshd started at {sshd:.2f}s")
    if work == "yes":
        if end is None:
            problems.append("the storage stage never ended (no final storage-status seen)")
        elif mu >= end:
            problems.append(f"multi-user.target at {mu:.2f}s, not before the storage stage ended at {end:.2f}s: "
                            "the boot waited for storage")
    if problems:
        sys.exit("\n".join(problems))
    print(f"multi-user.target at {mu:.2f}s, sshd {sshd if sshd is not None else '-'}s, "
          f"storage {start if start is not None else '-'}s -> {end if end is not None else '-'}s")


START_JOB_RE = re.compile(r"A (start|stop) job is running for .*")


def cmd_no_start_job(bdir):
    """No systemd "A start job is running for <pre-nixos>" line was drawn on the console."""
    con = ANSI_RE.sub("", read(os.path.join(bdir, "console.log"), "").replace("\r", "\n"))
    ours = [m.group(0) for m in START_JOB_RE.finditer(con)
            if "pre-nixos" in m.group(0) or "provisioning" in m.group(0)]
    if ours:
        sys.exit(f"{len(ours)} job lines for pre-nixos on the console, e.g. {ours[0]!r}")
    others = len(START_JOB_RE.findall(con))
    print(f"none for pre-nixos ({others} for other units)")


ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# `ssh root@<ip>` may carry a note when sshd was started but not seen listening within the
# stage's bound: `ssh root@<ip> (sshd started, not confirmed: …)`.
ANNOUNCE_RE = re.compile(r"pre-nixos [0-9][^ :]*: lan (\S+) \S+ ssh root@(\S+)(?: \(.*\))? \S+ storage (\S+)")


def cmd_announce(bdir, ssh):
    con = ANSI_RE.sub("", read(os.path.join(bdir, "console.log"), "").replace("\r", ""))
    if ssh == "yes":
        m = ANNOUNCE_RE.findall(con)
        if not m:
            sys.exit("no 'pre-nixos <version>: lan <ip> — ssh root@<ip> — storage <STATE>/<DETAIL>' on the console")
        print("; ".join(" ".join(x) for x in m))
    else:
        m = re.findall(r"pre-nixos [0-9][^ :]*: .*", con)
        if not m:
            sys.exit("no 'pre-nixos <version>: ...' line on the console")
        print("; ".join(m))


# ------------------------------------------------------------------ layout
class Readings:
    """The disks as the guest's own tools see them, independent of pre-nixos."""

    def __init__(self, bdir):
        self.bdir = bdir
        self.nodes = {}  # kname -> lsblk node (+ parents)
        lsblk = json.loads(read(os.path.join(bdir, "lsblk.json")))

        def walk(n, parent):
            node = self.nodes.setdefault(n["kname"], dict(n, parents=[]))
            if parent:
                node["parents"].append(parent["kname"])
            for c in n.get("children", []) or []:
                walk(c, n)

        for n in lsblk["blockdevices"]:
            walk(n, None)
        self.md = {}  # md name -> fields
        cur = None
        for line in read(os.path.join(bdir, "mdadm.txt"), "").splitlines():
            if line.startswith("== "):
                _, link, real = line.split(" ")
                cur = {"link": link, "dev": real}
                self.md[real] = cur
            elif "=" in line and cur is not None:
                k, v = line.split("=", 1)
                cur[k] = v
        self.md_by_name = {}
        for real, f in self.md.items():
            name = f.get("MD_DEVNAME") or f.get("MD_NAME", "").split(":")[-1]
            f["members"] = [v for k, v in f.items() if k.startswith("MD_DEVICE_") and k.endswith("_DEV")]
            self.md_by_name[name] = f

        def lvm(name, key):
            try:
                return json.loads(read(os.path.join(bdir, name)))["report"][0][key]
            except (ValueError, KeyError, IndexError, SystemExit):
                return []

        self.lvs = lvm("lvs.json", "lv")
        self.vgs = {v["vg_name"]: v for v in lvm("vgs.json", "vg")}
        self.pvs = lvm("pvs.json", "pv")
        self.blkid = {}
        for block in read(os.path.join(bdir, "blkid.txt"), "").split("\n\n"):
            kv = dict(l.split("=", 1) for l in block.splitlines() if "=" in l)
            if "DEVNAME" in kv:
                self.blkid[kv["DEVNAME"]] = kv
        self.mounts = {}
        try:
            fm = json.loads(read(os.path.join(bdir, "findmnt.json")))

            def mwalk(n):
                self.mounts[n["target"]] = n
                for c in n.get("children", []) or []:
                    mwalk(c)

            for n in fm["filesystems"]:
                mwalk(n)
        except (ValueError, KeyError):
            pass
        self.modes = {}
        for line in read(os.path.join(bdir, "modes.txt"), "").splitlines():
            mode, path = line.split(" ", 1)
            self.modes[path] = int(mode, 8)
        self.tune = {}
        cur = None
        for line in read(os.path.join(bdir, "tune2fs.txt"), "").splitlines():
            if line.startswith("== "):
                cur = self.tune.setdefault(line[3:], {})
            elif ":" in line and cur is not None:
                k, v = line.split(":", 1)
                cur[k.strip()] = v.strip()
        self.swaps = [l.split()[0] for l in read(os.path.join(bdir, "swaps.txt"), "").splitlines()[1:] if l.strip()]

    # helpers
    def disk_of(self, kname):
        """The whole disks under a device (through partitions, md, dm)."""
        n = self.nodes.get(kname)
        if n is None:
            return set()
        if n["type"] == "disk":
            return {kname}
        out = set()
        for p in n["parents"]:
            out |= self.disk_of(p)
        return out

    def serial_of(self, kname):
        return (self.nodes.get(kname) or {}).get("serial")

    def kname_of_path(self, path):
        for k, n in self.nodes.items():
            if n.get("path") == path or "/dev/" + k == path:
                return k
        return None

    def by_partlabel(self, label):
        return [k for k, n in self.nodes.items() if n["type"] == "part" and n.get("partlabel") == label]

    def mount_at(self, target):
        return self.mounts.get(target)

    def lv(self, vg, name):
        for l in self.lvs:
            if l["vg_name"] == vg and l["lv_name"] == name:
                return l
        return None

    def fs_of(self, dev):
        kn = self.kname_of_path(dev) or os.path.basename(dev)
        for k, v in self.blkid.items():
            if k == dev or os.path.basename(k) == kn:
                return v
        return {}

    def dm_kname(self, vg, lv):
        name = vg.replace("-", "--") + "-" + lv.replace("-", "--")
        for k, n in self.nodes.items():
            if n["type"] == "lvm" and n["name"] == name:
                return k
        return None

    def vg_serials(self, vg):
        out = set()
        for pv in self.pvs:
            if pv["vg_name"] == vg:
                k = self.kname_of_path(pv["pv_name"]) or os.path.basename(os.path.realpath(pv["pv_name"]))
                out |= {self.serial_of(d) for d in self.disk_of(k)}
        return out

    def md_level(self, name):
        f = self.md_by_name.get(name)
        return f.get("MD_LEVEL") if f else None

    def md_serials(self, name):
        f = self.md_by_name.get(name)
        if not f:
            return set()
        return {self.serial_of(d) for m in f["members"] for d in self.disk_of(os.path.basename(m))}

    def disks_touched(self):
        """Disks carrying a partition table, a signature or a holder."""
        out = set()
        for k, n in self.nodes.items():
            if n["type"] == "disk" and (n.get("children") or n.get("fstype")):
                out.add(n.get("serial") or k)
        return out


def has_option(shown, wanted):
    """Is the mount option `wanted` in effect, given the options the kernel shows?"""
    opts = shown.split(",")
    if wanted.startswith("umask="):  # vfat shows umask=X as fmask=X,dmask=X
        v = wanted.split("=", 1)[1]
        return wanted in opts or (f"fmask={v}" in opts and f"dmask={v}" in opts)
    return wanted in opts


def cmd_layout(bdir, scenario=None):
    r = Readings(bdir)
    problems, notes = [], []
    plan_text = read(os.path.join(bdir, "plan.json"), "")
    try:
        plan = json.loads(plan_text)
    except ValueError as e:
        sys.exit(f"storage-plan.json unreadable: {e}: {plan_text[:200]!r}")
    layout = plan.get("layout", plan)

    # Disks and partitions.
    part_of_label = {}
    for d in layout["disks"]:
        want = d.get("serial")
        cands = [k for k, n in r.nodes.items() if n["type"] == "disk" and (n.get("serial") == want if want else k == d["name"])]
        if len(cands) != 1:
            problems.append(f"planned disk {d['stable_path']} (serial {want}): {len(cands)} matching disks")
            continue
        dk = cands[0]
        if r.nodes[dk]["size"] != d["size_bytes"]:
            problems.append(f"disk {dk}: size {r.nodes[dk]['size']}, plan says {d['size_bytes']}")
        parts = {n.get("partlabel"): k for k, n in r.nodes.items() if n["type"] == "part" and dk in n["parents"]}
        if len(parts) != len(d["partitions"]):
            problems.append(f"disk {dk}: {len(parts)} partitions ({sorted(filter(None, parts))}), plan has {len(d['partitions'])}")
        for p in d["partitions"]:
            k = parts.get(p["partlabel"])
            if not k:
                problems.append(f"disk {dk}: no partition labelled {p['partlabel']}")
                continue
            part_of_label[p["partlabel"]] = k
            n = r.nodes[k]
            # lsblk 2.38 has no PARTN column: the kernel name ends in the number.
            partn = re.search(r"([0-9]+)$", k).group(1)
            if partn != str(p["number"]):
                problems.append(f"{k}: partition number {partn}, plan {p['number']}")
            if (n.get("parttype") or "").lower() != GPT_TYPES.get(p["type_code"], "?"):
                problems.append(f"{k}: type {n.get('parttype')}, plan {p['type_code']}")
            if p.get("size_bytes") and n["size"] != p["size_bytes"]:
                problems.append(f"{k}: size {n['size']}, plan {p['size_bytes']}")
            role = p["role"]
            if role["kind"] == "esp":
                fs = r.fs_of("/dev/" + k)
                if fs.get("TYPE") != "vfat" or fs.get("LABEL") != role["label"]:
                    problems.append(f"{k}: ESP is {fs.get('TYPE')} labelled {fs.get('LABEL')}, plan vfat {role['label']}")
                if role.get("mountpoint"):
                    m = r.mount_at("/mnt" + role["mountpoint"])
                    if not m or os.path.basename(m["source"]) != k:
                        problems.append(f"ESP {k} not mounted at /mnt{role['mountpoint']} ({m})")
                    else:
                        for o in role.get("mount_options", []):
                            if not has_option(m["options"], o):
                                problems.append(f"/mnt{role['mountpoint']}: option {o} missing ({m['options']})")
        notes.append(f"{dk}: {len(d['partitions'])} partitions")

    # md arrays.
    planned_md = {a["name"] for a in layout["arrays"]}
    for a in layout["arrays"]:
        f = r.md_by_name.get(a["name"])
        if not f:
            problems.append(f"no md array {a['name']} (found {sorted(r.md_by_name)})")
            continue
        if f.get("MD_LEVEL") != a["level"]:
            problems.append(f"md {a['name']}: level {f.get('MD_LEVEL')}, plan {a['level']}")
        if f.get("MD_METADATA") != a.get("metadata", "1.2"):
            problems.append(f"md {a['name']}: metadata {f.get('MD_METADATA')}")
        got = sorted(r.nodes.get(os.path.basename(m), {}).get("partlabel") or m for m in f["members"])
        want = sorted(os.path.basename(m) for m in a["members"])
        if got != want:
            problems.append(f"md {a['name']}: members {got}, plan {want}")
        notes.append(f"md {a['name']} {f.get('MD_LEVEL')} x{len(got)}")
    for name in r.md_by_name:
        if name not in planned_md:
            problems.append(f"md array {name} exists but is not in the plan")

    # VGs, PVs, LVs, filesystems, mounts.
    planned_mounts = set()
    for vg in layout["vgs"]:
        g = r.vgs.get(vg["name"])
        if not g:
            problems.append(f"no VG {vg['name']} (found {sorted(r.vgs)})")
            continue
        if int(g["vg_extent_size"]) != vg["extent_bytes"]:
            problems.append(f"VG {vg['name']}: extent size {g['vg_extent_size']}")
        if int(g["vg_extent_count"]) != vg["extents"]:
            notes.append(f"VG {vg['name']}: {g['vg_extent_count']} extents, plan predicted {vg['extents']}")
        want_pvs = sorted(os.path.basename(p) for p in vg["pvs"])
        got_pvs = []
        for pv in r.pvs:
            if pv["vg_name"] != vg["name"]:
                continue
            k = r.kname_of_path(pv["pv_name"]) or os.path.basename(pv["pv_name"])
            n = r.nodes.get(k, {})
            if n.get("type", "").startswith("raid"):
                f = r.md.get("/dev/" + k, {})
                got_pvs.append(f.get("MD_DEVNAME") or os.path.basename(f.get("link", k)))
            else:
                got_pvs.append(n.get("partlabel") or k)
        if sorted(got_pvs) != want_pvs:
            problems.append(f"VG {vg['name']}: PVs {sorted(got_pvs)}, plan {want_pvs}")
        used = 0
        planned_lvs = {l["name"] for l in vg["lvs"]}
        for l in r.lvs:
            if l["vg_name"] == vg["name"] and l["lv_name"] not in planned_lvs:
                problems.append(f"LV {vg['name']}/{l['lv_name']} exists but is not in the plan")
        for lv in vg["lvs"]:
            got = r.lv(vg["name"], lv["name"])
            if not got:
                problems.append(f"no LV {vg['name']}/{lv['name']}")
                continue
            used += lv["extents"]
            if int(got["lv_size"]) != lv["size_bytes"] or lv["size_bytes"] != lv["extents"] * vg["extent_bytes"]:
                problems.append(f"LV {vg['name']}/{lv['name']}: {got['lv_size']} bytes, plan {lv['size_bytes']} ({lv['extents']} extents)")
            k = r.dm_kname(vg["name"], lv["name"])
            path = r.nodes[k]["path"] if k else None  # /dev/mapper/<vg>-<lv>
            fs = r.blkid.get(path, {}) if k else {}
            c = lv["content"]
            if c["kind"] == "swap":
                if fs.get("TYPE") != "swap" or fs.get("LABEL") != c["label"]:
                    problems.append(f"LV {vg['name']}/{lv['name']}: {fs.get('TYPE')} labelled {fs.get('LABEL')}, plan swap {c['label']}")
                continue
            if fs.get("TYPE") != "ext4" or fs.get("LABEL") != c["label"]:
                problems.append(f"LV {vg['name']}/{lv['name']}: {fs.get('TYPE')} labelled {fs.get('LABEL')}, plan ext4 {c['label']}")
            target = "/mnt" + (c["mountpoint"] if c["mountpoint"] != "/" else "")
            planned_mounts.add(target)
            m = r.mount_at(target)
            if not m or m["source"] != path:
                problems.append(f"{target}: not mounted from {vg['name']}/{lv['name']} ({m and m['source']})")
            else:
                for o in c.get("mount_options", []):
                    if not has_option(m["options"], o):
                        problems.append(f"{target}: mount option {o} missing ({m['options']})")
            if c.get("mode") is not None and r.modes.get(target) != c["mode"]:
                problems.append(f"{target}: mode {oct(r.modes.get(target) or 0)}, plan {oct(c['mode'])}")
            if c.get("bytes_per_inode"):
                t = r.tune.get(path, {})
                try:
                    ratio = int(t["Block count"]) * int(t["Block size"]) / int(t["Inode count"])
                    if abs(ratio - c["bytes_per_inode"]) > c["bytes_per_inode"] * 0.05:
                        problems.append(f"{target}: {ratio:.0f} bytes per inode, plan {c['bytes_per_inode']}")
                except (KeyError, ValueError, ZeroDivisionError):
                    problems.append(f"{target}: no tune2fs reading ({t})")
        if used > vg["extents"] - 2 and vg["lvs"]:
            problems.append(f"VG {vg['name']}: LVs use {used} of {vg['extents']} extents (the last two must stay free)")
        notes.append(f"VG {vg['name']}: {len(vg['lvs'])} LVs")
    for name in r.vgs:
        if name not in {v["name"] for v in layout["vgs"]}:
            problems.append(f"VG {name} exists but is not in the plan")
    for esp in (p for d in layout["disks"] for p in d["partitions"] if p["role"]["kind"] == "esp" and p["role"].get("mountpoint")):
        planned_mounts.add("/mnt" + esp["role"]["mountpoint"])
    for t in r.mounts:
        if (t == "/mnt" or t.startswith("/mnt/")) and t not in planned_mounts:
            problems.append(f"{t} is mounted but not in the plan")

    # The scenario's own expectations (scripts/vm/expectations.py), evaluated on the readings.
    if scenario:
        if scenario not in expectations.EXPECT:
            sys.exit(f"expectations.py has no expectations for scenario {scenario}")
        for desc, cond in expectations.EXPECT[scenario]:
            try:
                ok = bool(cond(r, layout))
            except (KeyError, TypeError, AttributeError) as e:
                ok, desc = False, f"{desc} (could not evaluate: {e!r})"
            (notes if ok else problems).append(("ok: " if ok else "expected: ") + desc)
    print("\n".join(notes))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)


# ------------------------------------------------------------------ figures
def systemd_span(text):
    """'1min 20.188s' / '812ms' / '3.230s' -> seconds."""
    total = 0.0
    for num, unit in re.findall(r"([0-9.]+)(min|ms|us|s|h)", text):
        total += float(num) * {"h": 3600, "min": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def cmd_figures(sdir, name, assoc):
    fig = {"scenario": name}
    for k, v in re.findall(r'\[([a-z0-9_]+)\]="([^"]*)"', assoc):
        try:
            fig[k] = float(v)
        except ValueError:
            fig[k] = v
    boots = sorted(d for d in os.listdir(sdir) if re.match(r"boot[0-9]+$", d))
    # The figures are those of the last boot (the one the scenario is about).
    if boots:
        b = os.path.join(sdir, boots[-1])
        res = read(os.path.join(b, "results.txt"), "")
        m = re.search(r"multi-user\.target reached after (.+?) in userspace", res)
        k = re.search(r"Startup finished in (.+?) \(kernel\)", res)
        if m:
            fig["boot_to_multi_user_s"] = round(systemd_span(m.group(1)) + (systemd_span(k.group(1)) if k else 0), 2)
        ssh = read(os.path.join(b, "ssh-reachable"), "").strip()
        if ssh:
            fig["boot_to_ssh_s"] = float(ssh)
        j = journal(b)
        lease = [t for t, who, msg in j if "DHCPv4 address" in msg]
        if lease:
            fig["lease_s"] = lease[0]
        # Lease -> banner on the host's clock alone: when the guest agent first showed an
        # IPv4 address, and when the first banner came (probes start only then).
        seen = read(os.path.join(b, "lease-seen"), "").split()
        if seen:
            fig["lease_seen_host_s"] = float(seen[0])
            fig["lease_seen_polls"] = int(seen[2])
            # The address was there at the agent's first answer: the lease came earlier.
            fig["lease_seen_upper_bound"] = seen[0] == seen[1]
            if ssh:
                fig["lease_to_ssh_s"] = round(float(ssh) - float(seen[0]), 2)
        floor = read(os.path.join(b, "banner-floor"), "").strip()
        if floor:
            fig["banner_floor_s"] = float(floor)
        sshd = sshd_started(b)
        if sshd is not None:
            fig["sshd_started_s"] = sshd
        mu = multi_user_s(b)
        if mu is not None:
            fig["multi_user_s"] = round(mu, 2)
        start, end = storage_times(b)
        if start is not None and end is not None:
            fig["storage_start_s"], fig["storage_end_s"] = start, end
            fig["storage_s"] = round(end - start, 2)
        cmds, waits = [], []
        for line in read(os.path.join(b, "actions.log"), "").splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            flat = dict(e.get("fields", {}), **{k: v for k, v in e.items() if k != "fields"})
            if "duration_ms" in flat and "command" in flat:
                cmds.append({"command": str(flat["command"])[:120], "exit": flat.get("exit"), "ms": flat["duration_ms"]})
            # The storage steps' waits for the node the next step needs (src/storage/env.rs).
            elif "waited_ms" in flat and "device" in flat:
                waits.append({"device": str(flat["device"]), "ms": flat["waited_ms"]})
        fig["commands"] = cmds
        fig["node_waits"] = waits
    print(json.dumps(fig, sort_keys=True))


def cmd_table(files):
    rows = []
    for f in files:
        for line in read(f, "").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                pass
    # sshd, multi-user and storage end: seconds since boot on the guest's clock.
    cols = [("scenario", "scn"), ("scenario_s", "total s"), ("sshd_started_s", "sshd s"),
            ("multi_user_s", "multi-user s"), ("storage_end_s", "storage end s"),
            ("boot_to_ssh_s", "ssh s"), ("lease_to_ssh_s", "lease->ssh s"), ("storage_s", "storage s"),
            ("rss_mib", "RSS MiB")]
    print("  ".join(f"{h:>12}" for _, h in cols) + "  slowest commands")
    for r in rows:
        slow = sorted(r.get("commands", []), key=lambda c: -c["ms"])[:2]
        cells = [f"{r.get(k, '-')!s:>12}" for k, _ in cols]
        print("  ".join(cells) + "  " + "; ".join(f"{c['command'].split()[0]} {c['ms']}ms" for c in slow))


def main():
    a = sys.argv[1:]
    if not a:
        raise SystemExit(__doc__)
    cmd, args = a[0], a[1:]
    {
        "status": lambda: cmd_status(*args),
        "samples": lambda: cmd_samples(*args),
        "status-json": lambda: cmd_status_json(*args),
        "sshd-before-storage-end": lambda: cmd_sshd_before(*args),
        "announce": lambda: cmd_announce(*args),
        "boot-while-storage": lambda: cmd_boot_while_storage(*args),
        "no-start-job": lambda: cmd_no_start_job(*args),
        "layout": lambda: cmd_layout(*args),
        "figures": lambda: cmd_figures(*args),
        "table": lambda: cmd_table(args),
    }.get(cmd, lambda: (_ for _ in ()).throw(SystemExit(__doc__)))()


if __name__ == "__main__":
    main()
