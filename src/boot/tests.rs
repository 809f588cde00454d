use super::*;
use crate::host::fake::FakeHost;
use crate::host::Host;
use crate::testkit::Machine;

#[test]
fn the_announce_line_carries_lan_ssh_and_storage() {
    let net = NetworkReport {
        lan_iface: Some("lan".into()),
        lan_ipv4: Some("192.0.2.10".into()),
        ssh: "ready".into(),
        ..Default::default()
    };
    let s = StorageStatus {
        state: State::PlanOnly,
        detail: "existing-storage".into(),
        plan: None,
        disks: vec![],
        error: None,
        version: String::new(),
        updated: String::new(),
    };
    assert_eq!(
        announce_line(&net, &s),
        format!(
            "pre-nixos {}: lan 192.0.2.10 — ssh root@192.0.2.10 — storage plan-only/existing-storage",
            env!("CARGO_PKG_VERSION")
        )
    );
    let down = NetworkReport {
        ssh: "no authorized key".into(),
        ..Default::default()
    };
    assert!(
        announce_line(&down, &s).contains("no lan (no link on any NIC; DHCP on every Ethernet port) — ssh no authorized key — storage plan-only/existing-storage"),
        "{}",
        announce_line(&down, &s)
    );
}

#[test]
fn a_crashing_network_stage_never_stops_storage() {
    let r = guarded(|| panic!("netlink exploded"));
    assert!(r.ssh.contains("network stage crashed"), "{}", r.ssh);
    assert!(r.lan_ipv4.is_none());
}

#[test]
fn boot_always_ends_with_a_status_and_an_exit_code() {
    // A machine with no disks at all: whatever inventory and planner make of it,
    // storage ends in a recorded outcome, never an early exit without status.
    let m = Machine::new();
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let code = run(&ctx, &BootRequest::default()).unwrap();
    let st = status::read_storage(&host, ctx.state_dir())
        .unwrap()
        .expect("storage-status written");
    assert_eq!(st.state, State::Failed, "{st:?}");
    assert!(
        ["inventory", "plan"].contains(&st.detail.as_str()),
        "{st:?}"
    );
    assert!(st.error.is_some());
    assert_eq!(code, 1);
    // Never a blocking systemctl call from the storage half.
    for c in host.command_lines() {
        assert!(
            !c.starts_with("systemctl") || c.contains("--no-block"),
            "{c}"
        );
    }
}

#[test]
fn a_panic_in_storage_writes_failed_naming_the_step() {
    let m = Machine::new();
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let out = guarded_storage(&ctx, || {
        crate::host::interrupt::note_step("mkfs");
        panic!("index out of bounds")
    });
    assert_eq!(out.exit_code(), 1);
    let st = crate::state::status::read_storage(&host, ctx.state_dir())
        .unwrap()
        .expect("storage-status written");
    assert_eq!(st.state, State::Failed, "{st:?}");
    assert_eq!(st.detail, "mkfs", "{st:?}");
    assert_eq!(
        st.error.as_deref(),
        Some("pre-nixos panicked: index out of bounds")
    );
}

#[test]
fn a_failure_while_another_run_holds_the_lock_leaves_its_status_alone() {
    let m = Machine::new();
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let other = ApplyLock::acquire(&host, ctx.state_dir()).unwrap();
    m.write("/run/pre-nixos/storage-status", "STATE=running\nDETAIL=\n");
    let out = guarded_storage(&ctx, || panic!("boom"));
    assert_eq!(out.exit_code(), 1);
    assert_eq!(
        std::fs::read_to_string(m.path("/run/pre-nixos/storage-status")).unwrap(),
        "STATE=running\nDETAIL=\n"
    );
    other.close().unwrap();
    // Free again: the failure is recorded.
    guarded_storage(&ctx, || panic!("boom"));
    let st = status::read_storage(&host, ctx.state_dir())
        .unwrap()
        .unwrap();
    assert_eq!(st.state, State::Failed);
}

#[test]
fn an_unreachable_collector_never_changes_the_storage_outcome() {
    let run_with = |conf: Option<&str>| {
        let m = Machine::new();
        if let Some(c) = conf {
            let p = m.root().join("etc/pre-nixos");
            std::fs::create_dir_all(&p).unwrap();
            std::fs::write(p.join("report.conf"), c).unwrap();
        }
        let host = FakeHost::new(m.root());
        host.on(
            &["curl"],
            crate::host::fake::Response::fail(7, "curl: (7) refused"),
        );
        let ctx = Ctx::new(&host, "/run/pre-nixos");
        let code = run(&ctx, &BootRequest::default()).unwrap();
        let st = status::read_storage(&host, ctx.state_dir())
            .unwrap()
            .unwrap();
        let rep = report::read_status(&host, ctx.state_dir()).unwrap();
        let curls = host
            .commands()
            .iter()
            .filter(|c| c.program() == "curl")
            .count();
        (code, st.state, st.detail, rep, curls)
    };
    let (code, state, detail, rep, curls) = run_with(None);
    assert_eq!((rep, curls), (None, 0), "no collector, no report");
    let (code2, state2, detail2, rep2, curls2) =
        run_with(Some("URL=http://10.0.2.100:8080/r\nTIMEOUT=20\n"));
    assert_eq!((code2, state2, detail2), (code, state, detail));
    let rep2 = rep2.expect("report-status written");
    assert_eq!(rep2.report, "failed");
    assert_eq!(rep2.failed, vec!["network-up", "storage-final"]);
    assert!(curls2 >= 4, "{curls2} attempts");
}

#[test]
fn sshd_is_started_first_and_no_system_wide_settle_comes_before_it() {
    let m = Machine::new();
    m.write(
        "/etc/pre-nixos/authorized_keys",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC op@a\n",
    );
    m.write("/etc/ssh/sshd_config", "PermitRootLogin yes\n");
    // A NIC udev is still renaming: the NIC wait is bounded and comes after sshd.
    m.write(
        "/run/pre-nixos-fixture/udev/net/eth0",
        "INTERFACE=eth0\nPRE_NIXOS_FIXTURE_INITIALIZED=0\n",
    );
    let host = FakeHost::new(m.root());
    let ctx = Ctx::new(&host, "/run/pre-nixos");
    let t0 = host.now();
    run(&ctx, &BootRequest::default()).unwrap();
    let cmds = host.command_lines();
    assert_eq!(
        cmds[..2],
        [
            format!(
                "sshd -t -f {}/etc/ssh/.sshd_config.pre-nixos-candidate",
                m.root().display()
            ),
            "systemctl reload-or-restart --no-block sshd.service".to_owned(),
        ],
        "{cmds:#?}"
    );
    assert!(
        !cmds.iter().any(|c| c.starts_with("udevadm settle")),
        "no whole-system settle in the boot's network and inventory: {cmds:#?}"
    );
    // The NIC wait gave up at its deadline, before the carrier wait's own clock.
    let elapsed = host.now().duration_since(t0);
    assert!(elapsed >= NIC_UDEV_TIMEOUT, "{elapsed:?}");
}
