use std::sync::mpsc;

use super::*;
use crate::host::fake::{FakeHost, Response};
use crate::network::ssh::hostkeys::HostKey;

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC root@nixos";

fn cfg(url: &str, timeout: u64) -> Config {
    Config {
        url: url.into(),
        ca_file: None,
        token_file: None,
        timeout: Duration::from_secs(timeout),
    }
}

fn net() -> NetworkReport {
    NetworkReport {
        lan_iface: Some("lan".into()),
        lan_mac: Some("52:54:00:12:34:56".into()),
        lan_mac_permanent: true,
        lan_ipv4: Some("10.0.2.15".into()),
        ssh: "ready".into(),
        ssh_started: true,
        host_keys: vec![HostKey::parse(KEY).unwrap()],
        warnings: vec![],
    }
}

fn machine() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "sys/class/dmi/id/product_uuid",
        "0B7F2A1E-5C3D-4E8F-9A6B-1C2D3E4F5A6B\n",
    );
    w("sys/class/dmi/id/sys_vendor", "QEMU\n");
    w(
        "proc/sys/kernel/random/boot_id",
        "9e1c5f43-8d0b-4c1e-a4b3-3b1f0d2c7e11\n",
    );
    w(
        "run/pre-nixos/storage-status",
        "STATE=applied\nDETAIL=auto-applied\nDISKS=sda\nVERSION=0.1.0\nUPDATED=2026-12-07T05:00:00Z\n",
    );
    w(
        "mnt/etc/nixos/pre-generated/hardware-disk.nix",
        "{ ... }: { }\n",
    );
    dir
}

/// Runs the reporter thread on `reports` to the end (the queue closed).
fn deliver_all(host: &FakeHost, cfg: &Config, reports: Vec<Report>) -> ReportStatus {
    let (tx, rx) = mpsc::channel();
    for r in reports {
        tx.send(r).unwrap();
    }
    drop(tx);
    run(host, Path::new("/run/pre-nixos"), cfg, rx, 42);
    read_status(host, Path::new("/run/pre-nixos"))
        .unwrap()
        .expect("report-status written")
}

#[test]
fn the_backoff_doubles_to_its_cap_with_seeded_jitter() {
    let schedule = |seed| {
        let mut b = Backoff::new(seed);
        (0..9)
            .map(|_| b.next_delay().as_millis())
            .collect::<Vec<_>>()
    };
    let a = schedule(42);
    assert_eq!(a, schedule(42), "the same seed gives the same schedule");
    assert_ne!(a, schedule(43), "another seed spreads the machines out");
    for (n, ms) in a.iter().enumerate() {
        let full = (1000u128 << n.min(16)).min(60_000);
        assert!(
            *ms >= full / 2 && *ms <= full,
            "attempt {n}: {ms} ms of {full}"
        );
    }
    assert_eq!(
        a,
        vec![639, 1529, 3336, 5456, 13552, 24608, 39480, 31680, 54090]
    );
}

#[test]
fn a_report_is_retried_until_delivered_with_the_same_key_and_body() {
    let m = machine();
    let host = FakeHost::new(m.path());
    host.on_times(
        &["curl"],
        2,
        Response::fail(7, "curl: (7) Failed to connect to 10.0.2.100 port 8080"),
    );
    host.on(&["curl"], Response::stdout(""));
    let report = build(&host, Path::new("/run/pre-nixos"), Event::NetworkUp, &net());
    let start = host.now();
    let st = deliver_all(
        &host,
        &cfg("http://10.0.2.100:8080/r", 600),
        vec![report.clone()],
    );
    assert_eq!(st.report, "delivered");
    assert_eq!(st.delivered, vec!["network-up"]);
    assert_eq!(st.attempts, 3);
    assert!(st
        .last_error
        .as_deref()
        .unwrap()
        .contains("Failed to connect"));
    // Slept the first two delays of the seeded schedule, nothing more.
    let mut b = Backoff::new(42);
    assert_eq!(host.now() - start, b.next_delay() + b.next_delay());
    let cmds = host.commands();
    assert_eq!(cmds.len(), 3);
    for c in &cmds {
        assert_eq!(c.stdin.as_deref(), Some(report.body.as_bytes()));
        assert!(c.argv.contains(&format!("Idempotency-Key: {}", report.key)));
        // Plain HTTP because the URL says so, and nothing else.
        let proto = c.argv.iter().position(|a| a == "--proto").unwrap();
        assert_eq!(c.argv[proto + 1], "=http");
        assert!(c.timeout.is_some());
    }
}

#[test]
fn a_collector_that_never_answers_is_given_up_within_the_timeout() {
    let m = machine();
    let host = FakeHost::new(m.path());
    host.on(&["curl"], Response::fail(7, "curl: (7) Connection refused"));
    let dir = Path::new("/run/pre-nixos");
    let reports = vec![
        build(&host, dir, Event::NetworkUp, &net()),
        build(&host, dir, Event::StorageFinal, &net()),
    ];
    let start = host.now();
    let st = deliver_all(&host, &cfg("https://collector.example/r", 30), reports);
    assert_eq!(st.report, "failed");
    assert_eq!(st.failed, vec!["network-up", "storage-final"]);
    assert!(st.delivered.is_empty());
    assert!(
        st.line()
            .contains("exited with status 7: curl: (7) Connection refused"),
        "{}",
        st.line()
    );
    // Both events happened at once: their 30 s run together, and the second still gets
    // its tries in what the first left.
    assert!(host.now() - start <= Duration::from_secs(30));
    let lines = host.command_lines();
    let tries = |e: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!("Idempotency-Key: {e}-")))
            .count()
    };
    assert!((4..=8).contains(&tries("network-up")), "{lines:?}");
    assert!(tries("storage-final") >= 1, "{lines:?}");
    // storage-status is the storage stage's alone.
    assert!(
        std::fs::read_to_string(m.path().join("run/pre-nixos/storage-status"))
            .unwrap()
            .starts_with("STATE=applied\n")
    );
}

#[test]
fn https_is_verified_a_private_ca_is_passed_and_the_token_stays_out_of_argv() {
    let m = machine();
    std::fs::create_dir_all(m.path().join("etc/pre-nixos")).unwrap();
    std::fs::write(m.path().join("etc/pre-nixos/token"), "s3cret-token\n").unwrap();
    let host = FakeHost::new(m.path());
    host.on(&["curl"], Response::stdout(""));
    let mut c = cfg("https://collector.example/r", 600);
    c.ca_file = Some("/etc/pre-nixos/ca.pem".into());
    c.token_file = Some("/etc/pre-nixos/token".into());
    let report = build(
        &host,
        Path::new("/run/pre-nixos"),
        Event::StorageFinal,
        &net(),
    );
    assert_eq!(deliver_all(&host, &c, vec![report]).report, "delivered");
    let cmd = &host.commands()[0];
    let line = cmd.argv.join(" ");
    assert!(!line.contains("s3cret"), "{line}");
    assert!(
        !line.contains("--insecure") && !line.contains(" -k "),
        "{line}"
    );
    assert!(
        line.contains("--proto =https --proto-redir =https"),
        "{line}"
    );
    assert!(line.contains("--cacert /etc/pre-nixos/ca.pem"), "{line}");
    let header = cmd
        .argv
        .iter()
        .find_map(|a| a.strip_prefix("--header @").or_else(|| a.strip_prefix('@')))
        .filter(|p| p.ends_with(AUTH_HEADER))
        .expect("the token's header file");
    assert!(header.starts_with(&m.path().display().to_string()));
    // The header file is gone once the reporter is done.
    assert!(!Path::new(header).exists());
}

#[test]
fn the_document_carries_identity_network_keys_storage_and_files() {
    let m = machine();
    let host = FakeHost::new(m.path());
    let dir = Path::new("/run/pre-nixos");
    let r = build(&host, dir, Event::StorageFinal, &net());
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["event"], "storage-final");
    assert_eq!(v["idempotency_key"], r.key.as_str());
    assert!(r.key.starts_with("storage-final-"));
    assert_eq!(v["machine"]["uuid"], "0b7f2a1e-5c3d-4e8f-9a6b-1c2d3e4f5a6b");
    assert_eq!(v["machine"]["vendor"], "QEMU");
    assert_eq!(v["boot_id"], "9e1c5f43-8d0b-4c1e-a4b3-3b1f0d2c7e11");
    assert_eq!(v["lan"]["mac"], "52:54:00:12:34:56");
    assert_eq!(v["lan"]["ipv4"], "10.0.2.15");
    assert_eq!(
        v["ssh"]["host_keys"][0]["fingerprint_line"],
        "256 SHA256:Vn3Ds54HdNfvbgwIJJYE2e0P5uCgARbes9iMJk36VAY root@nixos (ED25519)"
    );
    assert_eq!(
        v["ssh"]["known_hosts"][0],
        "10.0.2.15 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC"
    );
    assert_eq!(v["storage"]["status"]["state"], "applied");
    assert_eq!(v["files"]["hardware-disk.nix"], "{ ... }: { }\n");
    assert!(v["files"].get("network-lan.nix").is_none());
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    // Another event, another key; the same event at another moment of the same boot
    // only differs in generated_at.
    let n = build(&host, dir, Event::NetworkUp, &net());
    assert_ne!(n.key, r.key);
}

#[test]
fn the_configuration_comes_from_report_conf_and_the_command_line_wins() {
    let m = machine();
    std::fs::create_dir_all(m.path().join("etc/pre-nixos")).unwrap();
    std::fs::write(
        m.path().join("etc/pre-nixos/report.conf"),
        "# services.pre-nixos.report\nURL=https://a.example/r\nCA_FILE=/etc/pre-nixos/ca.pem\nTIMEOUT=120\n",
    )
    .unwrap();
    let host = FakeHost::new(m.path());
    let c = Config::resolve(&host, &ReportSwitches::default())
        .unwrap()
        .unwrap();
    assert_eq!(c.url, "https://a.example/r");
    assert_eq!(c.ca_file.as_deref(), Some("/etc/pre-nixos/ca.pem"));
    assert_eq!(c.timeout, Duration::from_secs(120));
    let over = ReportSwitches {
        url: Some("http://10.0.2.100:8080/r".into()),
        timeout_secs: Some(30),
        ..Default::default()
    };
    let c = Config::resolve(&host, &over).unwrap().unwrap();
    assert_eq!(c.url, "http://10.0.2.100:8080/r");
    assert_eq!(c.ca_file.as_deref(), Some("/etc/pre-nixos/ca.pem"));
    assert_eq!(c.timeout, Duration::from_secs(30));
    let bad = ReportSwitches {
        url: Some("ftp://x/".into()),
        ..Default::default()
    };
    assert!(Config::resolve(&host, &bad)
        .unwrap_err()
        .contains("neither https"));
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        Config::resolve(&FakeHost::new(empty.path()), &ReportSwitches::default()),
        Ok(None)
    );
    assert!(parse_conf("URL=x\nBOGUS=1\n")
        .unwrap_err()
        .contains("unknown key"));
    assert_eq!(parse_conf("TIMEOUT=600\n").unwrap().timeout_secs, Some(600),);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(600));
}
