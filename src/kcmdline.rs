//! Kernel command line (`/proc/cmdline`) → boot options, parsed with nom (SPEC §7).
//!
//! The command line is split the way the kernel splits it: parameters separated by
//! whitespace, double quotes protecting whitespace anywhere in a parameter
//! (`pre-nixos.wipe="S1, S2"`, `"key=a b"`), the first `=` separating key and value.
//! Only `pre-nixos.*` keys, the predecessor's `pre-nixos-force-cleanup` and the boot
//! medium (`boot=`, `root=`) are read; every other key belongs to someone else and is
//! ignored. An unknown `pre-nixos` key or a malformed value is a warning, never an
//! error: a typo on a console must not stop a machine from booting. Where a value is
//! malformed the safe reading wins: a wipe switch that cannot be read wipes nothing, a
//! plan-only switch that cannot be read is plan-only, and a command line that cannot
//! be read at all (unreadable, not UTF-8) makes the whole boot plan-only.

use std::path::Path;

use nom::branch::alt;
use nom::bytes::complete::{is_not, take_while, take_while1};
use nom::character::complete::char;
use nom::combinator::map;
use nom::multi::many1;
use nom::sequence::{delimited, preceded};
use nom::IResult;

use crate::host::Host;
use crate::plan::options::Mode;

/// Which disks a wipe switch names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WipeSpec {
    All,
    Serials(Vec<String>),
}

/// How a disk a wipe switch names is cleaned before the layout is written. Every method
/// first tears down what is on the disk and wipes its signatures (the stacks on it must
/// go whatever the method); `discard` and `overwrite` then treat the whole device.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WipeMethod {
    /// Signatures and partition tables erased (`wipefs`, `sgdisk --zap-all`, the edges
    /// zeroed): fast, the data stays readable to forensic tools.
    #[default]
    Signatures,
    /// `blkdiscard` of the whole device: the SSD/NVMe forgets every block. Refused on a
    /// device that does not support discard.
    Discard,
    /// Random data over the whole device (`shred -n 1`): slow, works on any disk.
    Overwrite,
}

impl WipeMethod {
    pub const ALL: [WipeMethod; 3] = [
        WipeMethod::Signatures,
        WipeMethod::Discard,
        WipeMethod::Overwrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WipeMethod::Signatures => "signatures",
            WipeMethod::Discard => "discard",
            WipeMethod::Overwrite => "overwrite",
        }
    }

    pub fn parse(v: &str) -> Result<WipeMethod, String> {
        WipeMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(v.trim()))
            .ok_or_else(|| {
                format!("unknown wipe method {v:?}, expected signatures, discard or overwrite")
            })
    }
}

impl std::fmt::Display for WipeMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `pre-nixos.*` options found on the kernel command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BootOptions {
    pub mode: Option<Mode>,
    pub plan_only: bool,
    pub wipe: Option<WipeSpec>,
    /// `pre-nixos.wipe-method=`: how the disks the wipe switch names are cleaned.
    #[serde(default)]
    pub wipe_method: Option<WipeMethod>,
    pub lan_mac: Option<String>,
    pub swap_size_bytes: Option<u64>,
    /// `boot=LABEL=…` / `boot=UUID=…` (the boot medium, never a target).
    pub boot_device: Option<String>,
    /// Unknown `pre-nixos.*` keys and malformed values, each a warning.
    pub warnings: Vec<String>,
    /// `root=LABEL=…` / `root=UUID=…` / `root=/dev/…`: the device the live system was
    /// started from (the NixOS ISO names its own volume this way), never a target.
    #[serde(default)]
    pub root_device: Option<String>,
    /// `pre-nixos.report=URL`, `.report-ca=PATH`, `.report-token=PATH`,
    /// `.report-timeout=SECONDS`: the collector report (`src/report`).
    #[serde(default)]
    pub report: ReportSwitches,
}

/// The collector switches of the command line; each overrides the image's
/// `/etc/pre-nixos/report.conf` (what `services.pre-nixos.report.*` writes).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportSwitches {
    pub url: Option<String>,
    pub ca_file: Option<String>,
    pub token_file: Option<String>,
    pub timeout_secs: Option<u64>,
}

/// One parameter: the key and, when there was an `=`, the value (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub key: String,
    pub value: Option<String>,
}

/// A double-quoted run; an unterminated quote runs to the end of the line, as in the
/// kernel's own `next_arg`.
fn quoted(input: &str) -> IResult<&str, &str> {
    alt((
        delimited(char('"'), take_while(|c| c != '"'), char('"')),
        preceded(char('"'), take_while(|c| c != '"')),
    ))(input)
}

/// The kernel's separators: `isspace()` in lib/ctype.c, ASCII only (a non-breaking
/// space is part of a parameter there, so it is here).
const SEPARATORS: &str = " \t\n\x0b\x0c\r";

fn is_separator(c: char) -> bool {
    SEPARATORS.contains(c)
}

fn unquoted(input: &str) -> IResult<&str, &str> {
    is_not(" \t\n\x0b\x0c\r\"")(input)
}

/// One whitespace-free (outside quotes) parameter, quotes removed.
fn param(input: &str) -> IResult<&str, String> {
    map(many1(alt((quoted, unquoted))), |parts| parts.concat())(input)
}

fn space(input: &str) -> IResult<&str, &str> {
    take_while1(is_separator)(input)
}

/// Splits a command line into parameters, in order, up to a bare `--`: what follows it
/// is init's, not the kernel's (`parse_args` stops there), so it is never read.
pub fn parse_params(cmdline: &str) -> Vec<Param> {
    let mut rest = cmdline;
    let mut out = Vec::new();
    loop {
        if let Ok((r, _)) = space(rest) {
            rest = r;
        }
        if rest.is_empty() {
            break;
        }
        match param(rest) {
            Ok((r, p)) => {
                rest = r;
                let (key, value) = match p.split_once('=') {
                    Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                    None if p == "--" => break,
                    None => (p, None),
                };
                out.push(Param { key, value });
            }
            // Cannot happen (every non-space character starts a parameter), but a
            // parser must never loop forever on input it did not expect.
            Err(_) => break,
        }
    }
    out
}

/// Parses a whole kernel command line. Later parameters override earlier ones, as
/// for the kernel; `pre-nixos-force-cleanup` is a wipe switch like any other, so a
/// later `pre-nixos.wipe=S1` or `pre-nixos-force-cleanup=0` narrows or cancels it.
pub fn parse(cmdline: &str) -> BootOptions {
    let mut o = BootOptions::default();
    for Param { key, value } in parse_params(cmdline) {
        let shown = match &value {
            Some(v) => format!("{key}={v}"),
            None => key.clone(),
        };
        let v = value.as_deref().unwrap_or("");
        match key.as_str() {
            "pre-nixos.mode" => match v {
                "fast" => o.mode = Some(Mode::Fast),
                "careful" => o.mode = Some(Mode::Careful),
                _ => o.warnings.push(format!(
                    "{shown}: unknown mode {v:?}, expected fast or careful; ignored"
                )),
            },
            "pre-nixos.plan-only" => match flag(value.as_deref()) {
                Some(b) => o.plan_only = b,
                // Someone asked for something about plan-only; the reading that
                // touches no disk is the one to take.
                None => {
                    o.plan_only = true;
                    o.warnings.push(format!(
                        "{shown}: expected pre-nixos.plan-only=1 or =0; taken as plan-only"
                    ));
                }
            },
            "pre-nixos.wipe" => match parse_wipe(v) {
                Ok(w) => o.wipe = Some(w),
                // An empty or malformed list cancels any earlier switch: a typo must
                // never leave an earlier `wipe=all` in force.
                Err(e) => {
                    o.wipe = None;
                    o.warnings
                        .push(format!("{shown}: {e}; no disk will be wiped"));
                }
            },
            "pre-nixos.wipe-method" => match WipeMethod::parse(v) {
                Ok(m) => o.wipe_method = Some(m),
                // The method that destroys least of what it was not asked to is the
                // safe reading of a typo.
                Err(e) => {
                    o.wipe_method = None;
                    o.warnings
                        .push(format!("{shown}: {e}; wiping signatures only"));
                }
            },
            "pre-nixos-force-cleanup" => match flag(value.as_deref()) {
                // The predecessor's switch: `=1` is `pre-nixos.wipe=all`.
                Some(true) => o.wipe = Some(WipeSpec::All),
                Some(false) => o.wipe = None,
                None => {
                    o.wipe = None;
                    o.warnings.push(format!(
                        "{shown}: expected pre-nixos-force-cleanup=1 or =0; no disk will be wiped"
                    ));
                }
            },
            "pre-nixos.lan" => match normalize_mac(v) {
                Some(mac) => o.lan_mac = Some(mac),
                None => o.warnings.push(format!(
                    "{shown}: not a MAC address (expected 52:54:00:12:34:56); ignored"
                )),
            },
            "pre-nixos.swap" => match crate::units::parse_size(v) {
                Ok(b) => o.swap_size_bytes = Some(b),
                Err(e) => o.warnings.push(format!("{shown}: {e}; ignored")),
            },
            "pre-nixos.report" if !v.is_empty() => o.report.url = Some(v.to_owned()),
            "pre-nixos.report-ca" if v.starts_with('/') => o.report.ca_file = Some(v.to_owned()),
            "pre-nixos.report-token" if v.starts_with('/') => {
                o.report.token_file = Some(v.to_owned());
            }
            "pre-nixos.report-timeout" => match v.parse::<u64>() {
                Ok(n) if n > 0 => o.report.timeout_secs = Some(n),
                _ => o.warnings.push(format!(
                    "{shown}: expected a number of seconds (pre-nixos.report-timeout=600); ignored"
                )),
            },
            "boot" => match device_spec(v) {
                Some(d) => o.boot_device = Some(d),
                None => o.warnings.push(format!(
                    "{shown}: expected boot=LABEL=<label> or boot=UUID=<uuid>; ignored"
                )),
            },
            // Someone else's key; read only to know which device not to touch, so a
            // form we do not understand (`root=tmpfs`, `root=fstab`) is not a warning.
            "root" => {
                if let Some(d) = device_spec(v).or_else(|| dev_path(v)) {
                    o.root_device = Some(d);
                }
            }
            k if k.starts_with("pre-nixos") => o.warnings.push(format!(
                "{shown}: unknown pre-nixos option; known: pre-nixos.mode, pre-nixos.plan-only, \
                 pre-nixos.wipe, pre-nixos.wipe-method, pre-nixos-force-cleanup, pre-nixos.lan, pre-nixos.swap, \
                 pre-nixos.report (URL), pre-nixos.report-ca, pre-nixos.report-token (absolute \
                 paths), pre-nixos.report-timeout; ignored"
            )),
            _ => {}
        }
    }
    o
}

/// Reads and parses `/proc/cmdline`, logging each warning. A command line that cannot
/// be read, or is not UTF-8 (`read_to_string` says `InvalidData`), gives the defaults
/// with plan-only on, never an error: whatever switches it held, none of them can be
/// trusted to say "apply" or "wipe".
pub fn read(host: &dyn Host) -> BootOptions {
    let path = Path::new("/proc/cmdline");
    let o = match host.read_to_string(path) {
        Ok(text) => parse(&text),
        Err(e) => BootOptions {
            plan_only: true,
            warnings: vec![format!(
                "reading /proc/cmdline: {e}; every switch at its default, storage plan-only"
            )],
            ..BootOptions::default()
        },
    };
    for w in &o.warnings {
        tracing::warn!(file = "/proc/cmdline", "kernel command line: {w}");
    }
    o
}

/// `1`/`0` (and the usual spellings); a bare key means "on".
fn flag(v: Option<&str>) -> Option<bool> {
    match v {
        None => Some(true),
        Some("1" | "true" | "yes" | "on") => Some(true),
        Some("0" | "false" | "no" | "off") => Some(false),
        Some(_) => None,
    }
}

fn parse_wipe(v: &str) -> Result<WipeSpec, String> {
    if v.trim().eq_ignore_ascii_case("all") {
        return Ok(WipeSpec::All);
    }
    let serials: Vec<String> = v.split(',').map(|s| s.trim().to_owned()).collect();
    if serials.iter().any(String::is_empty) {
        return Err(format!(
            "expected all or a comma-separated list of disk serials, got {v:?}"
        ));
    }
    Ok(WipeSpec::Serials(serials))
}

/// `aa:bb:cc:dd:ee:ff` (or with `-`), returned lowercase with colons.
pub fn normalize_mac(v: &str) -> Option<String> {
    let parts: Vec<&str> = v.split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then(|| parts.join(":").to_ascii_lowercase())
}

/// `LABEL=x` / `UUID=x` / `PARTUUID=x` / `PARTLABEL=x` with a non-empty value.
fn device_spec(v: &str) -> Option<String> {
    let (kind, val) = v.split_once('=')?;
    matches!(kind, "LABEL" | "UUID" | "PARTUUID" | "PARTLABEL")
        .then_some(())
        .filter(|_| !val.is_empty())
        .map(|_| v.to_owned())
}

fn dev_path(v: &str) -> Option<String> {
    (v.starts_with("/dev/") && v.len() > 5).then(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Vec<(String, Option<String>)> {
        parse_params(s)
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect()
    }

    #[test]
    fn splits_on_whitespace_and_honours_quotes() {
        assert_eq!(
            params("  a=1\tb \"c=x y\" d=\"p q\"r e=\n"),
            vec![
                ("a".into(), Some("1".into())),
                ("b".into(), None),
                ("c".into(), Some("x y".into())),
                ("d".into(), Some("p qr".into())),
                ("e".into(), Some("".into())),
            ]
        );
        // An unterminated quote runs to the end, like the kernel's next_arg.
        assert_eq!(
            params("x=\"open ended"),
            vec![("x".into(), Some("open ended".into()))]
        );
        assert!(params("   ").is_empty());
    }

    #[test]
    fn reads_every_known_key() {
        let o = parse(
            "BOOT_IMAGE=/boot/bzImage pre-nixos.mode=careful pre-nixos.plan-only=1 \
             pre-nixos.wipe=\"SSD0001,HDD0002\" pre-nixos.wipe-method=discard \
             pre-nixos.lan=52:54:00:AB:cd:01 \
             pre-nixos.swap=8G boot=LABEL=NIXOS_ISO root=LABEL=nixos-minimal",
        );
        assert_eq!(
            o,
            BootOptions {
                mode: Some(Mode::Careful),
                plan_only: true,
                wipe: Some(WipeSpec::Serials(vec!["SSD0001".into(), "HDD0002".into()])),
                wipe_method: Some(WipeMethod::Discard),
                lan_mac: Some("52:54:00:ab:cd:01".into()),
                swap_size_bytes: Some(8 * crate::units::GIB),
                boot_device: Some("LABEL=NIXOS_ISO".into()),
                warnings: vec![],
                root_device: Some("LABEL=nixos-minimal".into()),
                report: ReportSwitches::default(),
            }
        );
    }

    #[test]
    fn reads_the_collector_report_keys() {
        let o = parse(
            "pre-nixos.report=https://collector.example:8443/report?site=a \
             pre-nixos.report-ca=/etc/pre-nixos/ca.pem pre-nixos.report-token=/run/t \
             pre-nixos.report-timeout=30",
        );
        assert_eq!(
            o.report,
            ReportSwitches {
                url: Some("https://collector.example:8443/report?site=a".into()),
                ca_file: Some("/etc/pre-nixos/ca.pem".into()),
                token_file: Some("/run/t".into()),
                timeout_secs: Some(30),
            }
        );
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
        let o = parse("pre-nixos.report-timeout=soon pre-nixos.report-ca=ca.pem");
        assert_eq!(o.report, ReportSwitches::default());
        assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
    }

    #[test]
    fn quoted_serial_list_keeps_spaces_out() {
        let o = parse("pre-nixos.wipe=\"S1, S2 ,S3\"");
        assert_eq!(
            o.wipe,
            Some(WipeSpec::Serials(vec![
                "S1".into(),
                "S2".into(),
                "S3".into()
            ]))
        );
        assert!(o.warnings.is_empty());
        assert_eq!(parse("pre-nixos.wipe=ALL").wipe, Some(WipeSpec::All));
    }

    #[test]
    fn force_cleanup_is_a_wipe_switch_the_last_one_wins() {
        let all = Some(WipeSpec::All);
        let s1 = Some(WipeSpec::Serials(vec!["S1".into()]));
        assert_eq!(parse("pre-nixos-force-cleanup=1").wipe, all);
        assert_eq!(parse("pre-nixos-force-cleanup").wipe, all);
        assert_eq!(
            parse("pre-nixos.wipe=S1 pre-nixos-force-cleanup=1").wipe,
            all
        );
        assert_eq!(
            parse("pre-nixos-force-cleanup=1 pre-nixos.wipe=S1").wipe,
            s1
        );
        assert_eq!(
            parse("pre-nixos-force-cleanup=0 pre-nixos.wipe=S1").wipe,
            s1
        );
        // `=0` after `wipe=all` (or `=1`) cancels it.
        assert_eq!(
            parse("pre-nixos.wipe=all pre-nixos-force-cleanup=0").wipe,
            None
        );
        assert_eq!(
            parse("pre-nixos-force-cleanup=1 pre-nixos-force-cleanup=0").wipe,
            None
        );
        // A value that is neither: no wipe, with a warning.
        let o = parse("pre-nixos.wipe=all pre-nixos-force-cleanup=maybe");
        assert_eq!(o.wipe, None);
        assert!(
            o.warnings[0].contains("no disk will be wiped"),
            "{:?}",
            o.warnings
        );
    }

    #[test]
    fn an_empty_or_malformed_wipe_cancels_an_earlier_one() {
        for line in [
            "pre-nixos.wipe=all pre-nixos.wipe=",
            "pre-nixos.wipe=all pre-nixos.wipe",
            "pre-nixos.wipe=all pre-nixos.wipe=S1,,S2",
            "pre-nixos.wipe=all pre-nixos.wipe=\"\"",
            "pre-nixos.wipe=all pre-nixos.wipe=\" , \"",
        ] {
            let o = parse(line);
            assert_eq!(o.wipe, None, "{line}");
            assert_eq!(o.warnings.len(), 1, "{line}: {:?}", o.warnings);
        }
        // A well-formed later list narrows an earlier `all`.
        assert_eq!(
            parse("pre-nixos.wipe=all pre-nixos.wipe=S2").wipe,
            Some(WipeSpec::Serials(vec!["S2".into()]))
        );
    }

    #[test]
    fn the_wipe_method_is_read_and_a_typo_falls_back_to_signatures() {
        for (line, want) in [
            ("pre-nixos.wipe-method=discard", Some(WipeMethod::Discard)),
            (
                "pre-nixos.wipe-method=Overwrite",
                Some(WipeMethod::Overwrite),
            ),
            (
                "pre-nixos.wipe-method=signatures",
                Some(WipeMethod::Signatures),
            ),
            (
                "pre-nixos.wipe-method=overwrite pre-nixos.wipe-method=shred",
                None,
            ),
            ("console=ttyS0", None),
        ] {
            let o = parse(line);
            assert_eq!(o.wipe_method, want, "{line}");
            assert_eq!(
                o.warnings.len(),
                usize::from(line.contains("shred")),
                "{line}"
            );
        }
        assert!(parse("pre-nixos.wipe-method=x").warnings[0].contains("wiping signatures only"));
    }

    #[test]
    fn a_malformed_plan_only_is_plan_only() {
        let o = parse("pre-nixos.plan-only=maybe");
        assert!(o.plan_only);
        assert!(
            o.warnings[0].contains("taken as plan-only"),
            "{:?}",
            o.warnings
        );
        assert!(!parse("pre-nixos.plan-only=1 pre-nixos.plan-only=0").plan_only);
    }

    #[test]
    fn vertical_tab_and_form_feed_separate_but_unicode_spaces_do_not() {
        assert_eq!(
            params("a=1\x0bb=2\x0cc=3\r\nd"),
            vec![
                ("a".into(), Some("1".into())),
                ("b".into(), Some("2".into())),
                ("c".into(), Some("3".into())),
                ("d".into(), None),
            ]
        );
        // The kernel splits on ASCII whitespace only.
        assert_eq!(
            params("a=1\u{a0}b=2 c"),
            vec![("a".into(), Some("1\u{a0}b=2".into())), ("c".into(), None)]
        );
        // A leading non-ASCII space is part of the first parameter too.
        assert_eq!(params("\u{2003}x"), vec![("\u{2003}x".into(), None)]);
    }

    #[test]
    fn nothing_after_a_bare_double_dash_is_read() {
        let o = parse("quiet pre-nixos.mode=careful -- pre-nixos.wipe=all pre-nixos.mode=fast");
        assert_eq!(o.wipe, None);
        assert_eq!(o.mode, Some(Mode::Careful));
        assert!(o.warnings.is_empty());
        assert_eq!(params("a -- b").len(), 1);
        // `--=x` and a quoted `"--"` with a value are parameters like any other.
        assert_eq!(params("--=x b").len(), 2);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_warnings() {
        let o = parse(
            "pre-nixos.mdoe=fast pre-nixos.mode=turbo pre-nixos.plan-only=maybe \
             pre-nixos.wipe=S1,,S2 pre-nixos.lan=52:54:00:12:34 pre-nixos.swap=lots \
             boot=/dev/sr0 quiet foo.bar=1",
        );
        assert_eq!(o.mode, None);
        // The safe readings: plan-only that cannot be read is on, a wipe list is off.
        assert!(o.plan_only);
        assert_eq!(o.wipe, None);
        assert_eq!(o.lan_mac, None);
        assert_eq!(o.swap_size_bytes, None);
        assert_eq!(o.boot_device, None);
        let starts: Vec<&str> = o
            .warnings
            .iter()
            .map(|w| w.split(':').next().unwrap())
            .collect();
        assert_eq!(
            starts,
            vec![
                "pre-nixos.mdoe=fast",
                "pre-nixos.mode=turbo",
                "pre-nixos.plan-only=maybe",
                "pre-nixos.wipe=S1,,S2",
                "pre-nixos.lan=52",
                "pre-nixos.swap=lots",
                "boot=/dev/sr0",
            ]
        );
        assert!(o.warnings[0].contains("unknown pre-nixos option"));
        assert!(o.warnings[1].contains("expected fast or careful"));
    }

    #[test]
    fn later_parameters_win_and_bare_flags_are_on() {
        let o = parse("pre-nixos.mode=careful pre-nixos.mode=fast pre-nixos.plan-only");
        assert_eq!(o.mode, Some(Mode::Fast));
        assert!(o.plan_only);
        assert!(o.warnings.is_empty());
    }

    #[test]
    fn captured_guest_cmdline_has_no_pre_nixos_options() {
        let text = include_str!("../tests/fixtures/cmdline/guest-blank.txt");
        let o = parse(text);
        assert_eq!(
            o,
            BootOptions {
                root_device: Some("/dev/vda".into()),
                ..BootOptions::default()
            }
        );
        let keys: Vec<String> = parse_params(text).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "console",
                "root",
                "rw",
                "panic",
                "systemd.journald.forward_to_console",
                "loglevel",
                "probe.notool"
            ]
        );
    }

    #[test]
    fn read_uses_proc_cmdline_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        std::fs::write(
            dir.path().join("proc/cmdline"),
            "quiet pre-nixos.mode=careful pre-nixos.bogus\n",
        )
        .unwrap();
        let host = crate::host::fake::FakeHost::new(dir.path());
        let o = read(&host);
        assert_eq!(o.mode, Some(Mode::Careful));
        assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
        // No /proc/cmdline at all: defaults, plan-only, and a warning naming the file.
        let empty = tempfile::tempdir().unwrap();
        let o = read(&crate::host::fake::FakeHost::new(empty.path()));
        assert_eq!(o.mode, None);
        assert!(o.plan_only);
        assert!(o.warnings[0].starts_with("reading /proc/cmdline"));
    }

    #[test]
    fn a_command_line_that_is_not_utf8_is_plan_only_with_nothing_else_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc")).unwrap();
        let mut line = b"pre-nixos.wipe=all pre-nixos.mode=careful ".to_vec();
        line.extend_from_slice(b"x=\xff\xfe\n");
        std::fs::write(dir.path().join("proc/cmdline"), line).unwrap();
        let o = read(&crate::host::fake::FakeHost::new(dir.path()));
        assert!(o.plan_only);
        assert_eq!(o.wipe, None);
        assert_eq!(o.mode, None);
        assert!(o.warnings[0].contains("plan-only"), "{:?}", o.warnings);
    }
}
