//! Stage tests on fixture sysfs trees built in tempdirs and the recording fake host.
//! Effects scripted on `ip link set …` stand in for the kernel: bringing a link up
//! makes its `carrier` readable, renaming moves its sysfs directory.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::host::fake::{FakeHost, Response};

const KEY_A: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC op@a";
const NIXOS_SSHD: &str = "UsePAM yes\nPermitRootLogin yes\nPasswordAuthentication yes\n";
const STATE: &str = "/run/pre-nixos";

/// A `/proc/net/tcp{,6}` capture (tests/fixtures/net/proc-net/README.md).
fn proc_net(name: &str) -> String {
    fs::read_to_string(format!(
        "{}/tests/fixtures/net/proc-net/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn golden(name: &str) -> String {
    fs::read_to_string(format!(
        "{}/tests/golden/net/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// `ip -j addr show dev lan` after a lease: the captured enp0s6 record renamed and
/// given the address QEMU's user-mode DHCP hands out.
fn lease_json() -> String {
    let captured = include_str!("../../tests/fixtures/net/ip-addr.json");
    let mut v: serde_json::Value = serde_json::from_str(captured).unwrap();
    let mut link = v[2].take();
    link["ifname"] = "lan".into();
    link["addr_info"].as_array_mut().unwrap().insert(
        0,
        serde_json::json!({"family":"inet","local":"10.0.2.15","prefixlen":24,"scope":"global","dynamic":true}),
    );
    serde_json::json!([link]).to_string()
}

/// One NIC of a fixture tree. Attribute values that look like errno names
/// (`EINVAL`) become `<attr>.err` files, as in the guest captures.
#[derive(Clone)]
struct N {
    name: &'static str,
    mac: &'static str,
    carrier: &'static str,
    operstate: &'static str,
    speed: &'static str,
    driver: &'static str,
    pci: &'static str,
    up: bool,
}

fn nic(name: &'static str, mac: &'static str, pci: &'static str) -> N {
    N {
        name,
        mac,
        carrier: "EINVAL",
        operstate: "down",
        speed: "EINVAL",
        driver: "e1000e",
        pci,
        up: false,
    }
}

impl N {
    fn linked(mut self, speed: &'static str) -> Self {
        self.carrier = "1";
        self.operstate = "up";
        self.speed = speed;
        self.up = true;
        self
    }
}

struct Tree {
    dir: tempfile::TempDir,
}

fn set_attr(dir: &Path, attr: &str, value: &str) {
    let _ = fs::remove_file(dir.join(attr));
    let _ = fs::remove_file(dir.join(format!("{attr}.err")));
    if value.starts_with('E') && value.chars().all(|c| c.is_ascii_uppercase()) {
        fs::write(dir.join(format!("{attr}.err")), value).unwrap();
    } else {
        fs::write(dir.join(attr), format!("{value}\n")).unwrap();
    }
}

impl Tree {
    /// A NixOS-like root: embedded key, sshd_config symlinked into the "store",
    /// sshd.service, one serial console plus /dev/console.
    fn new() -> Tree {
        let t = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        t.file("etc/pre-nixos/authorized_keys", &format!("{KEY_A}\n"));
        t.file("nix/store/aaaa-sshd.conf", NIXOS_SSHD);
        fs::create_dir_all(t.p("etc/ssh")).unwrap();
        std::os::unix::fs::symlink("../../nix/store/aaaa-sshd.conf", t.p("etc/ssh/sshd_config"))
            .unwrap();
        t.file("etc/systemd/system/sshd.service", "[Service]\n");
        t.file("sys/class/tty/console/active", "ttyS0\n");
        t.file("dev/ttyS0", "");
        t.file("dev/console", "");
        t.file("sys/class/net/lo/address", "00:00:00:00:00:00\n");
        t.file("sys/class/net/lo/type", "772\n");
        t.file("sys/class/net/lo/carrier", "1\n");
        t.file("sys/class/net/lo/operstate", "unknown\n");
        // sshd listening on 0.0.0.0:22 and [::]:22, as the kernel lists it.
        t.file("proc/net/tcp", &proc_net("sshd-tcp"));
        t.file("proc/net/tcp6", &proc_net("sshd-tcp6"));
        t
    }

    /// No listener on port 22: sshd's start was queued but it does not answer (yet).
    fn sshd_not_listening(&self) {
        self.file("proc/net/tcp", &proc_net("established-22-tcp"));
        self.file("proc/net/tcp6", &proc_net("no-sshd-tcp6"));
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    fn file(&self, rel: &str, text: &str) {
        let p = self.p(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.p(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }

    fn add(&self, n: &N) {
        let dir = self.p(&format!("sys/class/net/{}", n.name));
        fs::create_dir_all(dir.join("device")).unwrap();
        set_attr(&dir, "address", n.mac);
        set_attr(&dir, "addr_assign_type", "0");
        set_attr(&dir, "type", "1");
        set_attr(&dir, "carrier", n.carrier);
        set_attr(&dir, "operstate", n.operstate);
        set_attr(&dir, "speed", n.speed);
        set_attr(&dir, "flags", if n.up { "0x1003" } else { "0x1002" });
        std::os::unix::fs::symlink(
            format!("../../../bus/pci/drivers/{}", n.driver),
            dir.join("device/driver"),
        )
        .unwrap();
        self.file(
            &format!("run/pre-nixos-fixture/udev/net/{}", n.name),
            &format!(
                "INTERFACE={}\nID_BUS=pci\nID_PATH=pci-{}\nID_NET_DRIVER={}\n",
                n.name, n.pci, n.driver
            ),
        );
    }

    /// A host whose `ip link set X up` makes X report `carrier`/`speed` as given
    /// and whose `ip link set X name Y` moves the sysfs directory.
    fn host(&self, nics: &[(&N, &'static str, &'static str)]) -> FakeHost {
        let host = FakeHost::new(self.root());
        for (n, carrier, speed) in nics {
            let (name, carrier, speed) = (n.name, *carrier, *speed);
            host.on_with_effect(
                &["ip", "link", "set", name, "up"],
                Response::stdout(""),
                move |root| {
                    let dir = root.join("sys/class/net").join(name);
                    if dir.is_dir() {
                        set_attr(&dir, "carrier", carrier);
                        set_attr(
                            &dir,
                            "operstate",
                            if carrier == "1" { "up" } else { "down" },
                        );
                        set_attr(&dir, "speed", speed);
                        set_attr(&dir, "flags", "0x1003");
                    }
                },
            );
        }
        host.on(
            &["ip", "-j", "addr", "show", "dev", "lan"],
            Response::stdout(lease_json()),
        );
        host
    }
}

/// Scripts `ip link set <from> name <to>` to move the sysfs directory and udev file.
fn renames(host: &FakeHost, from: &'static str, to: &'static str) {
    host.on_with_effect(
        &["ip", "link", "set", from, "name", to],
        Response::stdout(""),
        move |root| {
            let net = root.join("sys/class/net");
            fs::rename(net.join(from), net.join(to)).unwrap();
            let udev = root.join("run/pre-nixos-fixture/udev/net");
            let _ = fs::rename(udev.join(from), udev.join(to));
        },
    );
}

fn opts() -> Options {
    Options {
        carrier_timeout: Duration::from_secs(30),
        ..Default::default()
    }
}

fn stage(host: &dyn Host) -> (NetworkReport, Trace) {
    run_stage(host, Path::new(STATE), &opts(), &BootOptions::default())
}

/// Bring up, wait, choose: the decision part of the stage alone.
fn decide(host: &FakeHost, over: Option<&str>) -> (Choice, carrier::Waited) {
    let nics = scan_nics(host).unwrap();
    carrier::bring_up(host, &nics);
    let w = carrier::wait_for_link(host, Duration::from_secs(30), over).unwrap();
    let mut warnings = Vec::new();
    (choose::choose(&w.nics, over, &mut warnings), w)
}

fn chosen_name(c: &Choice) -> &str {
    &c.chosen().expect("a NIC was chosen").name
}

const E1: &str = "52:54:00:12:34:50";
const E2: &str = "52:54:00:12:34:51";

#[test]
fn host_keys_reach_network_status_known_hosts_the_banner_and_every_console() {
    let t = Tree::new();
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    t.add(&eno1);
    // What sshd's first start leaves in /etc/ssh (a private key is never read).
    t.file(
        "etc/ssh/ssh_host_ed25519_key.pub",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC root@nixos\n",
    );
    t.file("etc/ssh/ssh_host_ed25519_key", "PRIVATE\n");
    let host = t.host(&[(&eno1, "1", "1000")]);
    renames(&host, "eno1", "lan");
    let (r, _) = stage(&host);
    assert_eq!(r.ssh, "ready");
    // As `ssh-keygen -lf` prints it for that file.
    let fp = "256 SHA256:Vn3Ds54HdNfvbgwIJJYE2e0P5uCgARbes9iMJk36VAY root@nixos (ED25519)";
    let st =
        NetworkStatus::parse("network-status", &t.read("run/pre-nixos/network-status")).unwrap();
    assert_eq!(st.ssh_host_keys, vec![fp.to_string()]);
    assert!(t
        .read("run/pre-nixos/network-status")
        .contains(&format!("SSH_HOST_KEYS='{fp}'\n")));
    assert_eq!(
        t.read("run/pre-nixos/known_hosts"),
        "10.0.2.15 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC\n"
    );
    assert!(t.read("run/issue.d/50-pre-nixos.issue").contains(fp));
    assert_eq!(
        t.read("dev/ttyS0"),
        format!(
            "\r\npre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 — storage running\r\n\
             pre-nixos: host key {fp}\r\n"
        )
    );
}

#[test]
fn two_nics_one_with_carrier_full_stage_then_rerun_changes_nothing() {
    let t = Tree::new();
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    let eno2 = nic("eno2", E2, "0000:00:06.0");
    t.add(&eno1);
    t.add(&eno2);
    let host = t.host(&[(&eno1, "0", "-1"), (&eno2, "1", "1000")]);
    renames(&host, "eno2", "lan");
    let (r, trace) = stage(&host);

    assert_eq!(r.lan_iface.as_deref(), Some("lan"));
    assert_eq!(r.lan_mac.as_deref(), Some(E2));
    assert_eq!(r.lan_ipv4.as_deref(), Some("10.0.2.15"));
    assert_eq!(r.ssh, "ready");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(trace.choice.starts_with("eno2"), "{}", trace.choice);
    let candidate = t.p("etc/ssh/.sshd_config.pre-nixos-candidate");
    assert_eq!(
        host.command_lines(),
        // sshd first: its start never waits for the NIC choice, the carrier or the lease.
        vec![
            format!("sshd -t -f {}", candidate.display()),
            "systemctl reload-or-restart --no-block sshd.service".into(),
            "ip link set eno1 up".to_string(),
            "ip link set eno2 up".into(),
            "ip link set eno2 down".into(),
            "ip link set eno2 name lan".into(),
            "ip link set lan up".into(),
            "networkctl reload".into(),
            "ip -j addr show dev lan".into(),
        ]
    );
    assert!(!candidate.exists(), "the candidate is cleaned up");
    assert_eq!(
        t.read("etc/systemd/network/10-lan.link"),
        golden("10-lan.link")
    );
    assert_eq!(
        t.read("etc/systemd/network/20-lan.network"),
        golden("20-lan.network")
    );
    // sshd_config: the store symlink replaced by a regular, hardened file.
    let cfg = t.p("etc/ssh/sshd_config");
    assert!(!cfg.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(
        t.read("etc/ssh/sshd_config"),
        ssh::harden_config(NIXOS_SSHD)
    );
    assert_eq!(
        t.read("nix/store/aaaa-sshd.conf"),
        NIXOS_SSHD,
        "the store file is untouched"
    );
    assert_eq!(t.read("root/.ssh/authorized_keys"), format!("{KEY_A}\n"));
    let mode = |rel: &str| fs::metadata(t.p(rel)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("root/.ssh"), 0o700);
    assert_eq!(mode("root/.ssh/authorized_keys"), 0o600);
    let st =
        NetworkStatus::parse("network-status", &t.read("run/pre-nixos/network-status")).unwrap();
    assert_eq!(
        (
            st.lan_iface.as_deref(),
            st.lan_mac.as_deref(),
            st.lan_ipv4.as_deref(),
            st.ssh.as_str()
        ),
        (Some("lan"), Some(E2), Some("10.0.2.15"), "ready")
    );
    let line = format!(
        "\r\npre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 — storage running\r\n"
    );
    assert_eq!(t.read("dev/ttyS0"), line);
    assert_eq!(
        t.read("dev/console"),
        "",
        "/dev/console is ttyS0 here: not twice"
    );

    // Second run: the working lan is kept, nothing is taken down or rewritten.
    let inode = |rel: &str| fs::metadata(t.p(rel)).unwrap().ino();
    let before: Vec<u64> = [
        "etc/systemd/network/10-lan.link",
        "etc/systemd/network/20-lan.network",
        "etc/ssh/sshd_config",
        "root/.ssh/authorized_keys",
    ]
    .iter()
    .map(|f| inode(f))
    .collect();
    let n = host.commands().len();
    let (r2, _) = stage(&host);
    assert_eq!(r2, r);
    assert_eq!(
        host.command_lines()[n..].to_vec(),
        vec![
            "systemctl reload-or-restart --no-block sshd.service".to_string(),
            "ip -j addr show dev lan".into(),
        ]
    );
    let after: Vec<u64> = [
        "etc/systemd/network/10-lan.link",
        "etc/systemd/network/20-lan.network",
        "etc/ssh/sshd_config",
        "root/.ssh/authorized_keys",
    ]
    .iter()
    .map(|f| inode(f))
    .collect();
    assert_eq!(before, after, "no file rewritten on the second run");
}

#[test]
fn every_systemctl_call_is_no_block() {
    // Both paths that call systemctl: networkctl failing (no D-Bus) and sshd.
    let t = Tree::new();
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    t.add(&eno1);
    let host = t.host(&[(&eno1, "1", "1000")]);
    renames(&host, "eno1", "lan");
    host.on(
        &["networkctl"],
        Response::fail(
            1,
            "Failed to connect to system bus: No such file or directory",
        ),
    );
    let (r, _) = stage(&host);
    assert_eq!(r.ssh, "ready");
    let systemctl: Vec<_> = host
        .commands()
        .into_iter()
        .filter(|c| c.program() == "systemctl")
        .collect();
    assert_eq!(systemctl.len(), 2, "{:?}", host.command_lines());
    for c in &systemctl {
        assert!(
            c.argv.iter().any(|a| a == "--no-block"),
            "blocking systemctl call: {}",
            c.display()
        );
        assert!(
            !c.argv.iter().any(|a| a == "start" || a == "restart"),
            "{}",
            c.display()
        );
    }
    assert!(host
        .command_lines()
        .contains(&"systemctl reload-or-restart --no-block systemd-networkd.service".to_string()));
}

#[test]
fn both_with_carrier_faster_wins_without_waiting() {
    let t = Tree::new();
    let a = nic("eno1", E1, "0000:00:05.0");
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "1", "1000"), (&b, "1", "10000")]);
    let (c, w) = decide(&host, None);
    assert_eq!(chosen_name(&c), "eno2");
    assert_eq!(w.waited, Duration::ZERO, "{}", w.why);
}

#[test]
fn equal_speeds_pci_order_decides() {
    let t = Tree::new();
    // Name order and PCI order disagree on purpose.
    let a = nic("eno1", E1, "0000:00:1f.6");
    let b = nic("enp3s0", E2, "0000:00:03.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "1", "1000"), (&b, "1", "1000")]);
    let (c, _) = decide(&host, None);
    assert_eq!(chosen_name(&c), "enp3s0");
}

#[test]
fn carrier_einval_with_operstate_up_counts_as_link() {
    let t = Tree::new();
    let mut a = nic("eno1", E1, "0000:00:05.0");
    a.operstate = "up";
    a.up = true; // carrier stays EINVAL: nothing brings it up again
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&b, "0", "-1")]);
    let (c, _) = decide(&host, None);
    assert_eq!(chosen_name(&c), "eno1");
    assert_eq!(choose::score(c.chosen().unwrap()).signal, "operstate");
    assert_eq!(c.chosen().unwrap().carrier, None);
}

#[test]
fn link_on_one_port_ends_the_wait_after_settling_not_at_the_deadline() {
    let t = Tree::new();
    let a = nic("eno1", E1, "0000:00:05.0");
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "0", "-1"), (&b, "1", "1000")]);
    let (c, w) = decide(&host, None);
    assert_eq!(chosen_name(&c), "eno2");
    assert!(
        w.waited >= carrier::SETTLE && w.waited < Duration::from_secs(30),
        "{w:?}"
    );
}

#[test]
fn only_a_bmc_usb_nic_has_carrier_catch_all_and_warning() {
    let t = Tree::new();
    let mut usb = nic("usb0", "aa:bb:cc:00:00:01", "0000:00:14.0-usb-0:3:1.0").linked("100");
    usb.driver = "cdc_ether";
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    t.add(&usb);
    t.add(&eno1);
    let host = t.host(&[(&eno1, "0", "-1")]);
    let (r, trace) = stage(&host);
    let nics = &trace.nics;
    assert_eq!(
        nics.iter()
            .find(|n| n.name == "usb0")
            .unwrap()
            .excluded
            .as_deref(),
        Some("USB NIC of a BMC (driver cdc_ether)")
    );
    assert_eq!(r.lan_iface, None);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("no carrier on any candidate NIC (eno1)")),
        "{:?}",
        r.warnings
    );
    assert_eq!(
        t.read("etc/systemd/network/60-pre-nixos-ether-dhcp.network"),
        golden("60-pre-nixos-ether-dhcp.network")
    );
    assert!(!t.p("etc/systemd/network/10-lan.link").exists());
    let lines = host.command_lines();
    assert!(
        !lines.iter().any(|l| l.contains(" name ")),
        "nothing renamed: {lines:?}"
    );
    assert!(lines.contains(&"networkctl reload".to_string()));
    assert!(
        !lines.contains(&"ip link set usb0 up".to_string()),
        "excluded NICs are left alone"
    );
    assert!(
        t.read("dev/ttyS0").contains("no lan (no link on any NIC"),
        "{}",
        t.read("dev/ttyS0")
    );
}

#[test]
fn no_carrier_anywhere_waits_the_whole_deadline() {
    let t = Tree::new();
    let a = nic("eno1", E1, "0000:00:05.0");
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "0", "-1"), (&b, "0", "-1")]);
    let (c, w) = decide(&host, None);
    assert_eq!(
        c,
        Choice::NoLink {
            candidates: vec!["eno1".into(), "eno2".into()]
        }
    );
    assert!(
        w.waited >= Duration::from_secs(30) && w.waited < Duration::from_secs(31),
        "{w:?}"
    );
    assert!(w.why.contains("no link anywhere"), "{}", w.why);
}

#[test]
fn lan_override_is_taken_at_once() {
    let t = Tree::new();
    let a = nic("eno1", E1, "0000:00:05.0");
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "1", "10000"), (&b, "0", "-1")]);
    let (c, w) = decide(&host, Some("52:54:00:12:34:51"));
    assert_eq!(chosen_name(&c), "eno2");
    assert_eq!(w.waited, Duration::ZERO);
}

#[test]
fn no_nic_at_all_still_starts_ssh_and_writes_status() {
    let t = Tree::new();
    let host = t.host(&[]);
    let (r, trace) = stage(&host);
    assert_eq!(trace.nics.len(), 1, "only lo");
    assert_eq!(trace.nics[0].excluded.as_deref(), Some("loopback"));
    assert_eq!(r.lan_iface, None);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("no physical Ethernet NIC")),
        "{:?}",
        r.warnings
    );
    assert_eq!(r.ssh, "ready");
    assert!(t.read("run/pre-nixos/network-status").contains("SSH=ready"));
    // Not even a sysfs: still no panic.
    let empty = tempfile::tempdir().unwrap();
    let (r, _) = stage(&FakeHost::new(empty.path()));
    assert!(r.ssh.starts_with("not started"), "{}", r.ssh);
}

#[test]
fn unreadable_sysfs_attributes_are_unknown_not_errors() {
    let t = Tree::new();
    let mut a = nic("eno1", E1, "0000:00:05.0");
    a.carrier = "ENODEV";
    a.speed = "EIO";
    t.add(&a);
    fs::remove_file(t.p("sys/class/net/eno1/operstate")).unwrap();
    fs::remove_file(t.p("sys/class/net/eno1/type")).unwrap();
    let nics = scan_nics(&FakeHost::new(t.root())).unwrap();
    let n = nics.iter().find(|n| n.name == "eno1").unwrap();
    assert_eq!(
        (n.carrier, n.speed_mbps, n.operstate.as_str()),
        (None, None, "unknown")
    );
    assert_eq!(n.excluded, None);
    assert_eq!(n.driver.as_deref(), Some("e1000e"));
    assert_eq!(n.id_path.as_deref(), Some("pci-0000:00:05.0"));
}

#[test]
fn virtual_interfaces_are_excluded_with_reasons() {
    let t = Tree::new();
    t.add(&nic("eno1", E1, "0000:00:05.0"));
    for (name, marker) in [
        ("br0", "bridge/x"),
        ("bond0", "bonding/x"),
        ("tap0", "tun_flags"),
        ("wlp2s0", "wireless/x"),
    ] {
        t.file(
            &format!("sys/class/net/{name}/address"),
            "02:00:00:00:00:01\n",
        );
        t.file(&format!("sys/class/net/{name}/type"), "1\n");
        t.file(&format!("sys/class/net/{name}/{marker}"), "1\n");
    }
    fs::create_dir_all(t.p("sys/class/net/wlp2s0/device")).unwrap();
    t.file("sys/class/net/veth0/address", "02:00:00:00:00:02\n");
    fs::create_dir_all(t.p("sys/class/net/veth0/device")).unwrap();
    std::os::unix::fs::symlink(
        "../../../bus/x/drivers/veth",
        t.p("sys/class/net/veth0/device/driver"),
    )
    .unwrap();
    t.file("sys/class/net/dummy0/address", "02:00:00:00:00:03\n");
    let nics = scan_nics(&FakeHost::new(t.root())).unwrap();
    let why: Vec<(String, Option<String>)> =
        nics.into_iter().map(|n| (n.name, n.excluded)).collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        why,
        vec![
            ("bond0".into(), s("bond (virtual)")),
            ("br0".into(), s("bridge (virtual)")),
            ("dummy0".into(), s("virtual (no device link in sysfs)")),
            ("eno1".into(), None),
            ("lo".into(), s("loopback")),
            ("tap0".into(), s("tun/tap (virtual)")),
            ("veth0".into(), s("veth (virtual)")),
            ("wlp2s0".into(), s("wireless")),
        ]
    );
}

#[test]
fn nic_vanishing_between_scan_and_rename_is_reported() {
    let t = Tree::new();
    let eno2 = nic("eno2", E2, "0000:00:06.0");
    t.add(&eno2);
    let host = t.host(&[(&eno2, "1", "1000")]);
    host.on_with_effect(
        &["ip", "link", "set", "eno2", "down"],
        Response::fail(1, "Cannot find device \"eno2\""),
        |root| {
            fs::remove_dir_all(root.join("sys/class/net/eno2")).unwrap();
        },
    );
    let (r, _) = stage(&host);
    assert_eq!(r.lan_iface, None);
    assert!(
        r.warnings
            .iter()
            .any(|w| w
                .contains("eno2 (52:54:00:12:34:51) disappeared between the scan and the rename")),
        "{:?}",
        r.warnings
    );
    assert!(!host.command_lines().iter().any(|l| l.contains("name lan")));
    // The .link file stays, so the NIC becomes lan when it comes back.
    assert_eq!(
        t.read("etc/systemd/network/10-lan.link"),
        golden("10-lan.link")
    );
    assert_eq!(r.ssh, "ready", "ssh does not depend on the LAN");
}

#[test]
fn existing_lan_that_is_another_nic_is_moved_aside() {
    let t = Tree::new();
    let old = nic("lan", E1, "0000:00:05.0");
    let eno2 = nic("eno2", E2, "0000:00:06.0");
    t.add(&old);
    t.add(&eno2);
    let host = t.host(&[(&old, "0", "-1"), (&eno2, "1", "1000")]);
    renames(&host, "lan", "enx525400123450");
    renames(&host, "eno2", "lan");
    let (r, _) = stage(&host);
    assert_eq!(
        (r.lan_iface.as_deref(), r.lan_mac.as_deref()),
        (Some("lan"), Some(E2))
    );
    let lines = host.command_lines();
    let i = lines
        .iter()
        .position(|l| l == "ip link set lan down")
        .expect("old lan taken down");
    assert_eq!(
        lines[i..i + 5].to_vec(),
        vec![
            "ip link set lan down",
            "ip link set lan name enx525400123450",
            "ip link set eno2 down",
            "ip link set eno2 name lan",
            "ip link set lan up"
        ]
    );
    assert_eq!(
        fs::read_to_string(t.p("sys/class/net/lan/address"))
            .unwrap()
            .trim(),
        E2
    );
}

#[test]
fn malformed_or_empty_key_file_refuses_sshd() {
    for (content, expect) in [
        ("", "no key in it"),
        ("ssh-ed25519 AAAA!!!! x\n", "not base64"),
    ] {
        let t = Tree::new();
        t.file("etc/pre-nixos/authorized_keys", content);
        let host = t.host(&[]);
        let (r, _) = stage(&host);
        assert!(
            r.ssh
                .starts_with("not started: key file /etc/pre-nixos/authorized_keys refused"),
            "{}",
            r.ssh
        );
        assert!(r.ssh.contains(expect), "{}", r.ssh);
        let lines = host.command_lines();
        assert!(
            !lines
                .iter()
                .any(|l| l.starts_with("systemctl") || l.starts_with("sshd")),
            "{lines:?}"
        );
        assert!(t
            .p("etc/ssh/sshd_config")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!t.p("root/.ssh/authorized_keys").exists());
        assert!(t.read("run/pre-nixos/network-status").contains("refused"));
        assert!(
            t.read("dev/ttyS0").contains("ssh not started: key file"),
            "{}",
            t.read("dev/ttyS0")
        );
    }
    // And a missing key file.
    let t = Tree::new();
    fs::remove_file(t.p("etc/pre-nixos/authorized_keys")).unwrap();
    let (r, _) = stage(&t.host(&[]));
    assert!(
        r.ssh.starts_with("not started: no authorized key"),
        "{}",
        r.ssh
    );
}

#[test]
fn sshd_t_rejection_keeps_the_old_file_and_names_the_line() {
    let t = Tree::new();
    let host = t.host(&[]);
    host.on(
        &["sshd", "-t"],
        Response::fail(255, "/etc/ssh/.sshd_config.pre-nixos-candidate line 4: Bad configuration option: KbdInteractiveAuthentication\n"),
    );
    let (r, _) = stage(&host);
    assert!(
        r.ssh.contains("line 4: `KbdInteractiveAuthentication no`"),
        "{}",
        r.ssh
    );
    assert!(
        r.ssh.contains("/etc/ssh/sshd_config left as it was"),
        "{}",
        r.ssh
    );
    assert!(t
        .p("etc/ssh/sshd_config")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(t.read("etc/ssh/sshd_config"), NIXOS_SSHD);
    assert!(!t.p("etc/ssh/.sshd_config.pre-nixos-candidate").exists());
    assert!(!host
        .command_lines()
        .iter()
        .any(|l| l.starts_with("systemctl")));
    assert!(t.p("run/sshd").is_dir(), "/run/sshd made before sshd -t");
}

#[test]
fn sshd_t_without_host_keys_yet_is_a_pass_and_debian_unit_is_found() {
    let t = Tree::new();
    fs::remove_file(t.p("etc/systemd/system/sshd.service")).unwrap();
    t.file("lib/systemd/system/ssh.service", "[Service]\n");
    let host = t.host(&[]);
    host.on(
        &["sshd", "-t"],
        Response::fail(1, "sshd: no hostkeys available -- exiting.\n"),
    );
    let (r, _) = stage(&host);
    assert_eq!(r.ssh, "ready");
    assert!(host
        .command_lines()
        .contains(&"systemctl reload-or-restart --no-block ssh.service".to_string()));
}

#[test]
fn a_preview_changes_nothing_and_shows_everything() {
    let t = Tree::new();
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    let eno2 = nic("eno2", E2, "0000:00:06.0").linked("1000");
    t.add(&eno1);
    t.add(&eno2);
    let fake = t.host(&[]);
    let dry = dryrun::DryRunHost::new(&fake);
    let (r, trace) = stage(&dry);
    // Only reads ran for real, and no probe of the sshd whose start was only
    // recorded (no `systemctl is-active` polling, no 20 s wait).
    assert!(
        fake.command_lines().iter().all(|l| l.starts_with("ip -j")),
        "{:?}",
        fake.command_lines()
    );
    assert_eq!(
        r.ssh,
        "would be started (a reload-or-restart of sshd.service would be queued)"
    );
    // No warning about the lease the dry run never asked for.
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(!t.p("etc/systemd/network").exists());
    assert!(!t.p("run/pre-nixos/network-status").exists());
    assert!(t
        .p("etc/ssh/sshd_config")
        .symlink_metadata()
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(t.read("dev/ttyS0"), "");
    let mut out = Vec::new();
    write_preview(&mut out, &r, &trace, &dry.actions()).unwrap();
    let out = String::from_utf8(out).unwrap();
    for want in [
        "eno1             52:54:00:12:34:50  driver=e1000e       candidate: link=no (none)",
        "eno2             52:54:00:12:34:51  driver=e1000e       candidate: link=yes (carrier) speed=1000Mb/s path=pci-0000:00:06.0",
        "lo               00:00:00:00:00:00  driver=-            excluded: loopback",
        "chosen: eno2 (52:54:00:12:34:51): the only candidate with a link",
        "run    ip link set eno1 up",
        "write  /etc/systemd/network/10-lan.link (mode 644):",
        "         | PermanentMACAddress=52:54:00:12:34:51",
        "run    ip link set eno2 name lan",
        "run    systemctl reload-or-restart --no-block sshd.service",
        "write  /run/pre-nixos/network-status (mode 644):",
        "print  /dev/ttyS0: pre-nixos",
        "ssh: would be started",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }
    // The console line claims no storage state and no sshd that is "ready".
    assert!(!out.contains("storage running"), "{out}");
    assert!(!out.contains("ready"), "{out}");
    assert!(
        trace.announce.ends_with(
            "— ssh would be started (a reload-or-restart of sshd.service would be queued) \
             — storage not part of this dry run"
        ),
        "{}",
        trace.announce
    );
}

/// Copies a guest capture (`NAME.link` files standing for symlinks) into a tempdir
/// with real symlinks, and its udev property files where the fake host reads them.
fn materialize(capture: &str) -> tempfile::TempDir {
    fn walk(src: &Path, dst: &Path) {
        fs::create_dir_all(dst).unwrap();
        for e in fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let from = e.path();
            if from.is_dir() {
                walk(&from, &dst.join(&name));
            } else if let Some(stem) = name.strip_suffix(".link") {
                // A directory of the same name was captured: keep the directory.
                if !src.join(stem).is_dir() {
                    let target = fs::read_to_string(&from).unwrap();
                    std::os::unix::fs::symlink(target.trim(), dst.join(stem)).unwrap();
                }
            } else {
                fs::copy(&from, dst.join(&name)).unwrap();
            }
        }
    }
    let base = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/net")
        .join(capture);
    let dir = tempfile::tempdir().unwrap();
    walk(&base.join("sys"), &dir.path().join("sys"));
    let udev = dir.path().join("run/pre-nixos-fixture/udev/net");
    fs::create_dir_all(&udev).unwrap();
    for e in fs::read_dir(base.join("udev")).unwrap() {
        let e = e.unwrap();
        let name = e
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".txt")
            .to_owned();
        fs::copy(e.path(), udev.join(name)).unwrap();
    }
    dir
}

#[test]
fn real_capture_after_link_up_chooses_enp0s6() {
    let dir = materialize("net-up");
    let host = FakeHost::new(dir.path()).strict();
    let nics = scan_nics(&host).unwrap();
    assert!(
        host.commands().is_empty(),
        "addr_assign_type 0: no ethtool needed"
    );
    let summary: Vec<_> = nics
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.carrier,
                n.operstate.as_str(),
                n.driver.as_deref(),
                n.excluded.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("enp0s5", Some(false), "down", Some("virtio_net"), None),
            ("enp0s6", Some(true), "up", Some("virtio_net"), None),
            ("lo", Some(true), "unknown", None, Some("loopback")),
        ]
    );
    let n6 = &nics[1];
    assert_eq!((n6.perm_mac.as_str(), n6.perm_mac_known), (E2, true));
    assert_eq!(
        (n6.bus.as_deref(), n6.id_path.as_deref(), n6.speed_mbps),
        (Some("pci"), Some("pci-0000:00:06.0"), None)
    );
    let mut w = Vec::new();
    let c = choose::choose(&nics, None, &mut w);
    assert_eq!(chosen_name(&c), "enp0s6");
    assert_eq!(
        links::render_link(c.chosen().unwrap()),
        golden("10-lan.link")
    );
}

#[test]
fn real_capture_before_link_up_reads_einval_as_unknown() {
    let dir = materialize("blank");
    let host = FakeHost::new(dir.path());
    let nics = scan_nics(&host).unwrap();
    let cands: Vec<_> = nics.iter().filter(|n| n.excluded.is_none()).collect();
    assert_eq!(cands.len(), 2);
    assert!(cands
        .iter()
        .all(|n| n.carrier.is_none() && n.speed_mbps.is_none()));
    let mut w = Vec::new();
    assert!(matches!(
        choose::choose(&nics, None, &mut w),
        Choice::NoLink { .. }
    ));
}

#[test]
fn golden_network_files() {
    let mut n = choose::tests_support::nic("eno1", "02:11:22:33:44:55");
    assert_eq!(links::render_network(), golden("20-lan.network"));
    assert_eq!(
        links::render_catchall(),
        golden("60-pre-nixos-ether-dhcp.network")
    );
    n.perm_mac_known = false;
    assert_eq!(links::render_link(&n), golden("10-lan.link.random-mac"));
}

#[test]
fn announce_line_variants() {
    let mut r = NetworkReport {
        lan_iface: Some("lan".into()),
        lan_ipv4: Some("10.0.2.15".into()),
        ssh: "ready".into(),
        ..Default::default()
    };
    assert_eq!(
        announce_line(&r),
        format!("pre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 — storage running")
    );
    r.lan_ipv4 = None;
    assert_eq!(
        announce_line(&r),
        format!("pre-nixos {VERSION}: lan up, no address yet — ssh ready — storage running")
    );
    // Started, not seen listening: the ssh line stays, with what is not known.
    r.ssh_started = true;
    r.ssh = "started, not confirmed: nothing listens on port 22 after 20 s; see journalctl -u sshd.service".into();
    r.lan_ipv4 = Some("10.0.2.15".into());
    assert_eq!(
        announce_line(&r),
        format!("pre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 (sshd started, not confirmed: nothing listens on port 22 after 20 s; see journalctl -u sshd.service) — storage running")
    );
    // Not started (no key): no ssh root@ line.
    r.ssh_started = false;
    r.ssh = "not started: no authorized key".into();
    assert_eq!(
        announce_line(&r),
        format!("pre-nixos {VERSION}: lan 10.0.2.15 — ssh not started: no authorized key — storage running")
    );
}

/// sshd is judged by its socket, never by a `systemctl is-active` poll (which a loaded
/// machine can time out): with nothing listening the stage waits its bound and no
/// longer, and the console still gets the `ssh root@…` line, saying sshd is not
/// confirmed; a listener that comes later turns the final report `ready`.
#[test]
fn sshd_not_listening_within_the_bound_still_announces_ssh_root() {
    let t = Tree::new();
    t.sshd_not_listening();
    let eno1 = nic("eno1", E1, "0000:00:05.0");
    t.add(&eno1);
    let host = t.host(&[(&eno1, "1", "1000")]);
    renames(&host, "eno1", "lan");
    // Were it asked, systemd would say sshd is still activating: not asked at all.
    host.on(
        &["systemctl", "is-active"],
        Response::Ok(crate::host::CmdOutput {
            status: Some(3),
            stdout: "activating\n".into(),
            ..Default::default()
        }),
    );
    let start = host.now();
    let (mut r, _) = stage(&host);
    let waited = host.now().duration_since(start);
    assert!(
        waited >= ssh::listen::LISTEN_TIMEOUT
            && waited < ssh::listen::LISTEN_TIMEOUT + Duration::from_secs(1),
        "{waited:?}"
    );
    assert!(
        !host.command_lines().iter().any(|l| l.contains("is-active")),
        "{:?}",
        host.command_lines()
    );
    assert!(r.ssh_started);
    assert_eq!(
        r.ssh,
        "started, not confirmed: nothing listens on port 22 after 20 s; see journalctl -u sshd.service"
    );
    assert_eq!(
        t.read("dev/ttyS0"),
        format!(
            "\r\npre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 (sshd started, not \
             confirmed: nothing listens on port 22 after 20 s; see journalctl -u sshd.service) \
             — storage running\r\n"
        )
    );
    assert!(t
        .read("run/pre-nixos/network-status")
        .contains("SSH='started, not confirmed"));

    // At the end of the boot: still nothing, nothing changes; then sshd listens.
    let before = r.clone();
    recheck_ssh(&host, Path::new(STATE), &mut r);
    assert_eq!(r, before);
    t.file("proc/net/tcp6", &proc_net("sshd-v6-only-tcp6"));
    recheck_ssh(&host, Path::new(STATE), &mut r);
    assert_eq!(r.ssh, "ready");
    assert!(t.read("run/pre-nixos/network-status").contains("SSH=ready"));
    assert_eq!(
        announce_line(&r),
        format!("pre-nixos {VERSION}: lan 10.0.2.15 — ssh root@10.0.2.15 — storage running")
    );
}

/// A listener already there ends the wait at once: no sleep at all.
#[test]
fn sshd_listening_is_ready_without_waiting() {
    let t = Tree::new();
    let host = t.host(&[]);
    let start = host.now();
    let (r, _) = stage(&host);
    assert_eq!(r.ssh, "ready");
    assert!(r.ssh_started);
    // The carrier wait with no NIC is the only time that passes.
    let t2 = Tree::new();
    t2.sshd_not_listening();
    let host2 = t2.host(&[]);
    let start2 = host2.now();
    let _ = stage(&host2);
    assert_eq!(
        host2.now().duration_since(start2) - host.now().duration_since(start),
        ssh::listen::LISTEN_TIMEOUT
    );
}

#[test]
fn permanent_mac_comes_from_ethtool_when_the_address_was_changed() {
    let t = Tree::new();
    t.add(&nic("eno1", "02:11:22:33:44:55", "0000:00:05.0"));
    // NET_ADDR_SET: someone changed the address; the burnt-in one is elsewhere.
    set_attr(&t.p("sys/class/net/eno1"), "addr_assign_type", "3");
    let host = FakeHost::new(t.root());
    host.on(
        &["ethtool", "-P", "eno1"],
        Response::stdout("Permanent address: 52:54:00:AB:CD:EF\n"),
    );
    let n = scan_nics(&host)
        .unwrap()
        .into_iter()
        .find(|n| n.name == "eno1")
        .unwrap();
    assert_eq!(
        (n.mac.as_str(), n.perm_mac.as_str(), n.perm_mac_known),
        ("02:11:22:33:44:55", "52:54:00:ab:cd:ef", true)
    );
    // No ethtool, or all zeros: the current address, matched with MACAddress=.
    let zeros = FakeHost::new(t.root());
    zeros.on(
        &["ethtool"],
        Response::stdout("Permanent address: 00:00:00:00:00:00\n"),
    );
    for host in [FakeHost::new(t.root()).strict(), zeros] {
        let n = scan_nics(&host)
            .unwrap()
            .into_iter()
            .find(|n| n.name == "eno1")
            .unwrap();
        assert_eq!(
            (n.perm_mac.as_str(), n.perm_mac_known),
            ("02:11:22:33:44:55", false)
        );
        assert_eq!(links::render_link(&n), golden("10-lan.link.random-mac"));
    }
}

#[test]
fn kernel_command_line_lan_override_reaches_the_stage() {
    let t = Tree::new();
    let a = nic("eno1", E1, "0000:00:05.0");
    let b = nic("eno2", E2, "0000:00:06.0");
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "1", "10000"), (&b, "0", "-1")]);
    renames(&host, "eno2", "lan");
    let boot = crate::kcmdline::parse("quiet pre-nixos.lan=52:54:00:12:34:51 console=ttyS0");
    let (r, trace) = run_stage(&host, Path::new(STATE), &opts(), &boot);
    assert_eq!(r.lan_mac.as_deref(), Some(E2));
    // what network-lan.nix is told to match on: the scan's verdict on that NIC
    let known = scan_nics(&host)
        .unwrap()
        .into_iter()
        .find(|n| n.perm_mac == E2)
        .map(|n| n.perm_mac_known);
    assert_eq!(Some(r.lan_mac_permanent), known);
    assert!(
        trace
            .choice
            .contains("operator override pre-nixos.lan=52:54:00:12:34:51"),
        "{}",
        trace.choice
    );
    // --lan wins over the kernel command line.
    let t = Tree::new();
    t.add(&a);
    t.add(&b);
    let host = t.host(&[(&a, "1", "10000"), (&b, "0", "-1")]);
    renames(&host, "eno1", "lan");
    let o = Options {
        lan: Some(E1.into()),
        ..opts()
    };
    let (r, _) = run_stage(&host, Path::new(STATE), &o, &boot);
    assert_eq!(r.lan_mac.as_deref(), Some(E1));
}
