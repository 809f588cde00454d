//! Property tests of every reader of text pre-nixos did not write (`/proc/cmdline`,
//! mdstat, `mdadm --detail`, lsblk and LVM JSON, mountinfo, sysfs values, udev
//! properties, `systemctl show`/`list-jobs`, `sshd -T`, authorized keys, sizes), of the
//! status file's round trip and of `harden_config`'s idempotence.
//!
//! Inputs are arbitrary strings, strings built from each format's own tokens, and real
//! captures with random edits. The seed is fixed, so a run is repeatable and a failure
//! is the same failure on every machine; `PRE_NIXOS_FUZZ_CASES=100000 cargo test --test
//! properties` runs the long mode. Crashes found this way are kept as named regression
//! tests next to the parser they hit.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use pre_nixos::kcmdline::{self, WipeSpec};
use pre_nixos::state::status::{State, StorageStatus};

fn config() -> Config {
    let cases = std::env::var("PRE_NIXOS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x5eed_2026_1207),
        failure_persistence: None,
        ..Config::default()
    }
}

fn capture(rel: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A real capture with up to 8 random edits: a character replaced, inserted or removed.
fn mutated(text: String) -> impl Strategy<Value = String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().max(1);
    prop::collection::vec((0..3u8, 0..n, any::<char>()), 0..8).prop_map(move |edits| {
        let mut c = chars.clone();
        for (op, at, ch) in edits {
            let at = at.min(c.len());
            match op {
                0 if at < c.len() => c[at] = ch,
                1 => c.insert(at, ch),
                _ if at < c.len() => {
                    c.remove(at);
                }
                _ => {}
            }
        }
        c.into_iter().collect()
    })
}

/// Strings made of a format's tokens, separators and odd characters.
fn tokens(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    let word = prop_oneof![
        4 => prop::sample::select(words).prop_map(str::to_owned),
        2 => "[ \t\n\x0b\x0c\r\"=,:-]".prop_map(|s: String| s),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-zA-Z0-9_./]{0,12}".prop_map(|s: String| s),
    ];
    prop::collection::vec(word, 0..24).prop_map(|w| w.concat())
}

const CMDLINE_WORDS: &[&str] = &[
    "pre-nixos.wipe=",
    "pre-nixos.wipe=all",
    "pre-nixos.wipe=S1,S2",
    "pre-nixos-force-cleanup=1",
    "pre-nixos-force-cleanup=0",
    "pre-nixos.plan-only=1",
    "pre-nixos.mode=careful",
    "pre-nixos.swap=8G",
    "pre-nixos.lan=52:54:00:12:34:56",
    "boot=LABEL=",
    "root=/dev/",
    "--",
    " ",
    "\"",
];

/// One wipe switch and what it leaves in force, alone.
const SWITCHES: &[(&str, Option<&str>)] = &[
    ("pre-nixos.wipe=all", Some("all")),
    ("pre-nixos.wipe=S1", Some("S1")),
    ("pre-nixos.wipe=", None),
    ("pre-nixos.wipe=S1,,S2", None),
    ("pre-nixos-force-cleanup=1", Some("all")),
    ("pre-nixos-force-cleanup=0", None),
    ("pre-nixos-force-cleanup=maybe", None),
    ("pre-nixos.wipe=\"all\"", Some("all")),
];

fn wipe_text(w: &Option<WipeSpec>) -> Option<String> {
    match w {
        None => None,
        Some(WipeSpec::All) => Some("all".into()),
        Some(WipeSpec::Serials(s)) => Some(s.join(",")),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_command_line_parser_never_panics(s in any::<String>(), t in tokens(CMDLINE_WORDS)) {
        let _ = kcmdline::parse(&s);
        let o = kcmdline::parse(&t);
        // The last wipe switch decides, and one that cannot be read wipes nothing.
        let last = kcmdline::parse_params(&t)
            .into_iter()
            .rev()
            .find(|p| p.key == "pre-nixos.wipe" || p.key == "pre-nixos-force-cleanup");
        if let Some(p) = last {
            let v = p.value.unwrap_or_default();
            let unreadable = if p.key == "pre-nixos.wipe" {
                !v.trim().eq_ignore_ascii_case("all") && v.split(',').any(|x| x.trim().is_empty())
            } else {
                !["", "1", "0", "true", "false", "yes", "no", "on", "off"].contains(&v.as_str())
            };
            if unreadable || (p.key == "pre-nixos-force-cleanup" && ["0", "false", "no", "off"].contains(&v.as_str())) {
                prop_assert_eq!(o.wipe, None, "{:?}", t);
            }
        }
    }

    #[test]
    fn the_last_wipe_switch_wins_whatever_came_before(
        picks in prop::collection::vec((0..SWITCHES.len(), "[ \t\n\x0b\x0c]{1,3}"), 1..8),
        noise in prop::collection::vec(prop::sample::select(&["quiet", "console=ttyS0", "pre-nixos.mode=fast", "x=\"a b\""][..]), 0..4),
    ) {
        let mut line = noise.join(" ");
        for (i, sep) in &picks {
            line.push_str(sep);
            line.push_str(SWITCHES[*i].0);
        }
        let last = SWITCHES[picks.last().unwrap().0].1.map(str::to_owned);
        prop_assert_eq!(wipe_text(&kcmdline::parse(&line).wipe), last, "{:?}", line);
        // Whatever follows a bare `--` is init's.
        let after = format!("{line} -- pre-nixos.wipe=all pre-nixos.plan-only=0");
        prop_assert_eq!(kcmdline::parse(&after).wipe, kcmdline::parse(&line).wipe);
    }

    #[test]
    fn block_device_readers_never_panic(
        s in any::<String>(),
        mdstat in mutated(capture("tests/fixtures/cmd-output/disko-applied/mdstat.txt")),
        detail in mutated(capture("tests/fixtures/cmd-output/disko-applied/mdadm/detail-md127.txt")),
        lsblk in mutated(capture("tests/fixtures/cmd-output/disko-applied/lsblk-O-b.json")),
        lvs in mutated(capture("tests/fixtures/cmd-output/disko-applied/lvm/lvs-all.json")),
        pvs in mutated(capture("tests/fixtures/cmd-output/disko-applied/lvm/pvs-all.json")),
        vgs in mutated(capture("tests/fixtures/cmd-output/disko-applied/lvm/vgs-all.json")),
        mountinfo in mutated(capture("tests/fixtures/cmd-output/disko-applied/mountinfo.txt")),
        swaps in mutated(capture("tests/fixtures/cmd-output/disko-applied/swaps.txt")),
    ) {
        use pre_nixos::storage::blockdev as b;
        for t in [&s, &mdstat] { let _ = b::parse_mdstat(t); }
        for t in [&s, &detail] { let _ = b::parse_mdadm_detail(t); }
        for t in [&s, &lsblk] { let _ = b::parse_lsblk(t); }
        for t in [&s, &lvs] { let _ = b::parse_lvs(t); }
        for t in [&s, &pvs] { let _ = b::parse_pvs(t); }
        for t in [&s, &vgs] { let _ = b::parse_vgs(t); let _ = b::parse_lvm_bytes(t); }
        for t in [&s, &mountinfo] {
            let _ = b::parse_mountinfo(t);
            let _ = pre_nixos::inventory::boot_medium::parse_mountinfo(t);
            let _ = pre_nixos::inventory::boot_medium::unescape(t);
            let _ = b::unescape_octal(t);
        }
        for t in [&s, &swaps] { let _ = b::parse_swaps(t); }
    }

    #[test]
    fn sysfs_udev_and_proc_readers_never_panic(s in any::<String>(), t in tokens(&["\\x", "\\x2", "\\x20", "\\0", "\\377", "\\777", ":", "MemTotal:", " kB", "ID_MODEL_ENC=", "="])) {
        use pre_nixos::inventory::{disks, nics, ram, sysfs};
        for x in [&s, &t] {
            let _ = sysfs::parse_devnum(x);
            let _ = ram::parse_meminfo(x);
            let _ = nics::parse_ethtool_perm_addr(x);
            let _ = nics::parse_carrier(x);
            let _ = nics::parse_speed(x);
            let _ = pre_nixos::host::parse_key_values(x);
            let _ = pre_nixos::network::address::parse_ipv4(x, "lan");
            let v = x.clone();
            let _ = disks::model_from(&|_| None, &|k| (k == "ID_MODEL_ENC").then(|| v.clone()));
            let _ = pre_nixos::inventory::boot_medium::unescape(x);
        }
    }

    #[test]
    fn systemd_and_sshd_readers_never_panic(
        s in any::<String>(),
        show in mutated(capture("tests/fixtures/systemd/debian12-show-sshd-active.txt")),
        sshd_t in mutated(capture("tests/fixtures/systemd/debian12-sshd-T.txt")),
        keys in mutated(capture("tests/fixtures/authorized_keys/corpus.txt")),
    ) {
        use pre_nixos::debug::status::{parse_list_jobs, parse_show_blocks};
        use pre_nixos::network::ssh;
        for t in [&s, &show] { let _ = parse_show_blocks(t); let _ = parse_list_jobs(t); }
        for t in [&s, &sshd_t] {
            let _ = ssh::hardening_problems(t);
            let _ = ssh::sshd_error_line(t);
        }
        for t in [&s, &keys] {
            let _ = ssh::parse_authorized_keys(t);
            for line in t.lines() { let _ = ssh::parse_key_line(line); }
        }
    }

    #[test]
    fn sizes_never_panic_and_plain_numbers_are_bytes(s in any::<String>(), n in any::<u64>(), suffix in "(|K|M|G|T|P|E|KB|MB|GB|TB|KiB|MiB|GiB|TiB|k|g|t)") {
        let _ = pre_nixos::units::parse_size(&s);
        let _ = pre_nixos::units::parse_size(&format!("{n}{suffix}"));
        let _ = pre_nixos::units::parse_size(&format!("{n}.{n}{suffix}"));
    }

    #[test]
    fn hardening_twice_is_hardening_once(t in tokens(&[
        "PermitRootLogin yes\n", "PasswordAuthentication yes\n", "Match User x\n", "  X11Forwarding yes\n",
        "Include /etc/ssh/sshd_config.d/*.conf\n", "# comment\n", "\n", "AuthenticationMethods any\n",
        "KbdInteractiveAuthentication yes\n", "PubkeyAuthentication no\n", "UsePAM yes\n",
    ])) {
        use pre_nixos::network::ssh::{harden_config, HARDENED};
        let once = harden_config(&t);
        let twice = harden_config(&once);
        prop_assert_eq!(&once, &twice);
        // Every setting of the table comes first, before anything of the original text
        // (sshd keeps the first value it reads), and no line of ours is added twice.
        let head: Vec<String> = HARDENED.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let first: Vec<&str> = once.lines().skip(1).take(head.len()).collect();
        prop_assert_eq!(first, head.iter().map(String::as_str).collect::<Vec<_>>());
        for line in &head {
            prop_assert_eq!(once.lines().filter(|l| l == line).count(), 1, "{}", once);
        }
    }

    #[test]
    fn the_status_file_reads_back_what_was_written(
        state in prop::sample::select(&[State::Running, State::Applied, State::PlanOnly, State::Failed][..]),
        detail in "[a-z-]{0,20}",
        plan in proptest::option::of(any::<String>()),
        disks in prop::collection::vec("[a-z0-9]{1,8}", 0..5),
        error in proptest::option::of(any::<String>()),
        version in "[0-9.a-z-]{1,12}",
        updated in "[0-9T:.Z-]{1,30}",
    ) {
        let st = StorageStatus { state, detail, plan, disks, error, version, updated };
        let text = st.to_file_text();
        let back = StorageStatus::parse("storage-status", &text);
        prop_assert!(back.is_ok(), "{:?} from {:?}", back.err(), text);
        // The file is line-based: each value is written as one line (`one_line`), and
        // that is what must come back, quotes and all.
        let flat = pre_nixos::text::one_line;
        let expected = StorageStatus {
            detail: flat(&st.detail),
            plan: st.plan.as_deref().map(flat),
            error: st.error.as_deref().map(flat),
            version: flat(&st.version),
            updated: flat(&st.updated),
            ..st
        };
        prop_assert_eq!(back.unwrap(), expected);
    }
}
