"""Each VM scenario's own expectations on the disks, read by `judge.py layout BDIR SCENARIO`
after its generic plan-versus-readings comparison. Every expectation is a description and a
predicate on the readings (`r`, a judge.Readings: the guest's own tools, not pre-nixos) and
the plan's layout; the predicates look at the readings, the plan only names the disks.

A scenario whose boots run the layout check must have an entry here: judge.py refuses a
scenario it has no expectations for, so a renamed scenario cannot pass with none.
"""


def only_disks(*serials):
    """Every planned disk is one of these; the guest root disk and the USB stick never are."""
    want = set(serials)
    return (f"planned disks are exactly {' '.join(serials)}",
            lambda r, layout: {d.get("serial") for d in layout["disks"]} == want)


def _esp_labels(r):
    return sorted(v.get("LABEL") for k, v in r.blkid.items()
                  if k.startswith("/dev/sd") and v.get("TYPE") == "vfat" and k == v["DEVNAME"])


# Scenario 3's hardware; scenario 8 boots it twice.
LAYOUT_3 = [
    only_disks("SSD0301", "HDD0301", "HDD0302"),
    ("main on the SSD", lambda r, l: r.vg_serials("main") == {"SSD0301"}),
    ("md swap is RAID1 over the two HDDs",
     lambda r, l: r.md_level("swap") == "raid1" and r.md_serials("swap") == {"HDD0301", "HDD0302"}),
    ("VG swap holds swap, var_tmp, var_log",
     lambda r, l: all(r.lv("swap", n) for n in ("swap", "var_tmp", "var_log"))),
    ("/var/tmp is mode 1777", lambda r, l: r.modes.get("/mnt/var/tmp") == 0o1777),
    ("/var/log mounted", lambda r, l: r.mount_at("/mnt/var/log") is not None),
    ("swap is not on main", lambda r, l: r.lv("main", "swap") is None),
]

# Scenarios 9 and 10: the seeded disks, once wiped and applied.
SEED = [
    only_disks("SSD0901", "HDD0901", "HDD0902", "HDD0903"),
    ("main on the SSD", lambda r, l: r.vg_serials("main") == {"SSD0901"}),
    ("md large is RAID5 over the three HDDs", lambda r, l: r.md_level("large") == "raid5"),
    ("seedvg is gone", lambda r, l: "seedvg" not in r.vgs),
]

EXPECT = {
    "1": [
        only_disks("NVME0001"),
        ("VG main on the NVMe", lambda r, l: r.vg_serials("main") == {"NVME0001"}),
        ("/ is slash on main",
         lambda r, l: r.lv("main", "slash") is not None and r.mount_at("/mnt") is not None),
        ("/home is home on main",
         lambda r, l: r.lv("main", "home") is not None and r.mount_at("/mnt/home") is not None),
        ("ESP EFI mounted at /mnt/boot",
         lambda r, l: (r.mount_at("/mnt/boot") or {}).get("fstype") == "vfat"),
        ("swap on main (2 x 1 GiB RAM fits)", lambda r, l: r.lv("main", "swap") is not None),
        ("no md array", lambda r, l: not r.md_by_name),
    ],
    "2": [
        only_disks("SSD0201", "SSD0202"),
        ("md main is RAID0 over both SSDs",
         lambda r, l: bool([a for a in l["arrays"] if a["name"] == "main"])
         and r.md_level("main") == "raid0" and r.md_serials("main") == {"SSD0201", "SSD0202"}),
        ("VG main on the RAID0", lambda r, l: r.vg_serials("main") == {"SSD0201", "SSD0202"}),
        ("/ and /home on main", lambda r, l: bool(r.lv("main", "slash") and r.lv("main", "home"))),
        ("an ESP on each SSD (EFI, EFI2)", lambda r, l: _esp_labels(r) == ["EFI", "EFI2"]),
    ],
    "3": LAYOUT_3,
    "4": [
        only_disks("SSD0401", "HDD0401", "HDD0402", "HDD0403", "HDD0404"),
        ("md large is RAID5 over the four HDDs",
         lambda r, l: r.md_level("large") == "raid5"
         and r.md_serials("large") == {"HDD0401", "HDD0402", "HDD0403", "HDD0404"}),
        ("VG large holds data (/data) and swap",
         lambda r, l: bool(r.lv("large", "data") and r.lv("large", "swap") and r.mount_at("/mnt/data"))),
        ("main on the SSD", lambda r, l: r.vg_serials("main") == {"SSD0401"}),
    ],
    "5": [
        only_disks("SSD0501", "HDD0501", "HDD0502", "HDD0503", "HDD0504", "HDD0505", "HDD0506"),
        ("md large is RAID5 over the four 8G HDDs",
         lambda r, l: r.md_level("large") == "raid5"
         and r.md_serials("large") == {"HDD0501", "HDD0502", "HDD0503", "HDD0504"}),
        ("md swap is RAID1 over the two 6G HDDs",
         lambda r, l: r.md_level("swap") == "raid1" and r.md_serials("swap") == {"HDD0505", "HDD0506"}),
        ("swap LV on VG swap",
         lambda r, l: r.lv("swap", "swap") is not None and r.lv("large", "swap") is None),
        ("data on large", lambda r, l: r.lv("large", "data") is not None),
    ],
    "6": [
        only_disks("SSD0601", "HDD0601", "HDD0602", "HDD0603"),
        ("VG large on the largest HDD", lambda r, l: r.vg_serials("large") == {"HDD0603"}),
        ("VG large_1 on the 8G HDD, no LV",
         lambda r, l: r.vg_serials("large_1") == {"HDD0602"}
         and not [x for x in r.lvs if x["vg_name"] == "large_1"]),
        ("VG large_2 on the 6G HDD, no LV",
         lambda r, l: r.vg_serials("large_2") == {"HDD0601"}
         and not [x for x in r.lvs if x["vg_name"] == "large_2"]),
        ("no md array", lambda r, l: not r.md_by_name),
    ],
    "7": [
        only_disks("HDD0701", "HDD0702", "HDD0703"),
        ("md main is RAID5 over the three HDDs",
         lambda r, l: r.md_level("main") == "raid5"
         and r.md_serials("main") == {"HDD0701", "HDD0702", "HDD0703"}),
        ("/ is slash on main",
         lambda r, l: r.lv("main", "slash") is not None
         and (r.mount_at("/mnt") or {}).get("fstype") == "ext4"),
    ],
    "8": LAYOUT_3,
    "9": SEED,
    "10": SEED,
    "11": [
        only_disks("NVME1101"),
        ("the stick is mounted at /iso",
         lambda r, l: (r.mount_at("/iso") or {}).get("source", "").startswith("/dev/sd")),
        ("the root disk vda has no partition table", lambda r, l: not r.nodes["vda"].get("children")),
    ],
    "12": [only_disks("NVME1201")],
    "13": [only_disks("NVME1301")],
    "14": [only_disks("NVME1401")],
    "15": [only_disks("NVME1501")],
    "16": [only_disks("SSD1601", "HDD1601", "HDD1602")],
    "18": [only_disks("SSD1801", "HDD1801", "HDD1802")],
}
