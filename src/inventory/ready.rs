//! Named, bounded waits for udev to finish with the devices a stage is about to read:
//! the network devices before the NIC list, the block devices before the disk
//! inventory. A device counts as done when udev has written its database entry
//! ([`UdevDevice::initialized`]), so its name, properties and `/dev` links are final.
//!
//! Why not `udevadm settle`: it waits for every queued event of the whole system (disks,
//! USB, sound, input…), which under load took 4–25 s at boot while the NICs were long
//! done. These waits look at one kind of device only. A timeout is not an error: the
//! caller logs the devices still pending and goes on with what it sees.

use std::path::Path;
use std::time::Duration;

use crate::host::systemctl::{parse_list_jobs, parse_unit_names};
use crate::host::{Cmd, CmdError, Host, UdevDevice};

/// How often the waits look again; a scan is one sysfs walk.
const POLL: Duration = Duration::from_millis(20);

/// The units LVM's udev rules start to activate a volume group once udev has seen all
/// of its PVs: `lvm-activate-<vg>` (lvm2 2.03.14 on, as in Debian 12 and NixOS: a
/// `systemd-run --no-block` from the PV's `RUN`) and `lvm2-pvscan@<major:minor>` (older
/// lvm2).
const LVM_ACTIVATION_UNITS: [&str; 2] = ["lvm-activate-*.service", "lvm2-pvscan@*.service"];
/// How often the LVM wait asks systemd again: each look is two `systemctl` calls.
const LVM_POLL: Duration = Duration::from_millis(250);
/// The bound of each `systemctl` call of the LVM wait.
const SYSTEMCTL_TIMEOUT: Duration = Duration::from_secs(10);

/// What a wait saw: how long it took, and the devices udev had not finished with when
/// it gave up (empty when all were done).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ready {
    pub waited: Duration,
    pub pending: Vec<String>,
    /// Why the wait could not tell (a failing `systemctl`); it stopped looking.
    pub error: Option<String>,
}

/// The network devices: every network controller on PCI (its event loads the driver,
/// which creates the next device), every virtio network device until its driver is bound
/// (virtio-net loads from the virtio device's event, and creates the interface), and
/// every interface but `lo` (udev renames `eth0` to its stable name while processing
/// it). A child device exists in sysfs before its parent is done, so one scan with
/// nothing pending means the whole chain is through.
pub fn wait_for_nics(host: &dyn Host, deadline: Duration) -> Ready {
    wait(host, deadline, |h| {
        let mut pending = Vec::new();
        pending.extend(not_done(h, "pci", |d| {
            // PCI_CLASS is the 24-bit class code in hex (`20000`); 0x02 is "network
            // controller".
            d.prop("PCI_CLASS")
                .and_then(|c| u32::from_str_radix(c, 16).ok())
                .is_some_and(|c| c >> 16 == 0x02)
        }));
        // Not udev's database for these: udev keeps no entry for a virtio bus device
        // (no rule gives it a property or a tag), so it never counts as initialized.
        pending.extend(virtio_net_without_driver(h));
        pending.extend(not_done(h, "net", |d| d.sysname != "lo"));
        pending
    })
}

/// Every block device, so the inventory sees serials, `ID_*` properties and by-id links.
pub fn wait_for_disks(host: &dyn Host, deadline: Duration) -> Ready {
    wait(host, deadline, |h| not_done(h, "block", |_| true))
}

/// LVM's event activation of the volume groups on the block devices, when any of them
/// is an LVM PV; `None` when there is nothing to wait for (a blank machine, which runs
/// no command here, or a dry run).
///
/// udev's rule for a PV queues `lvm-activate-<vg>.service` once the VG is complete, and
/// that service runs `vgchange -aay` whenever systemd gets to it: seconds later under
/// load. A storage decision taken before it ends sees a VG without its LVs (and refuses
/// a layout that is ours), mounts `/dev/main/slash` before udev made the link, or tears
/// a VG down while the service activates it again behind it. [`wait_for_disks`] cannot
/// see the queueing: udev runs `RUN` programs after it writes the PV's database entry.
/// So a bounded `udevadm settle` first lets those programs run, then the wait lasts
/// while any activation unit runs or has a job queued. `vgchange` waits for udev to
/// finish with the LVs it makes (LVM's udev synchronisation), so their links exist
/// when the unit ends. A dry run neither settles nor waits: it changes nothing that
/// could race the activation, and a wait would only stretch its listing.
pub fn wait_for_lvm_activation(host: &dyn Host, deadline: Duration) -> Option<Ready> {
    let has_pv = host
        .udev_devices("block")
        .unwrap_or_default()
        .iter()
        .any(|d| d.prop("ID_FS_TYPE") == Some("LVM2_member"));
    if !has_pv || !host.changes_are_real() {
        return None;
    }
    let start = host.now();
    let settle = Cmd::udev_settle(
        "letting udev run the LVM physical volumes' activation rules",
        deadline,
    );
    if let Err(e) = host.run(&settle) {
        // Not fatal: the units it would have queued may still show up below.
        tracing::warn!(error = %e, "udev did not settle; LVM's activation may still be queued");
    }
    Some(wait_from(
        host,
        start,
        deadline,
        LVM_POLL,
        lvm_activation_pending,
    ))
}

/// The LVM activation units that run or have a job queued (a queued start is
/// `inactive` until systemd gets to it, so `list-units` alone would miss it).
fn lvm_activation_pending(host: &dyn Host) -> Result<Vec<String>, String> {
    let ask = |what: &str, argv: &[&str]| -> Result<String, String> {
        let cmd = Cmd::new(what, argv.iter().copied())
            .args(LVM_ACTIVATION_UNITS)
            .timeout(SYSTEMCTL_TIMEOUT)
            .quiet();
        match host.run(&cmd) {
            Ok(out) => Ok(out.stdout),
            // No systemd, so nothing queues these units: nothing to wait for.
            Err(CmdError::NotFound { .. }) => Ok(String::new()),
            Err(e) => Err(e.to_string()),
        }
    };
    let running = ask(
        "listing LVM's activation units still running",
        &[
            "systemctl",
            "list-units",
            "--all",
            "--plain",
            "--no-legend",
            "--no-pager",
            "--full",
            // A unit matches when its ACTIVE or SUB state is listed: `running` is the
            // service's vgchange; `lvm2-pvscan@` stays `active (exited)` once done.
            "--state=activating,deactivating,reloading,running",
        ],
    )?;
    let queued = ask(
        "listing LVM's activation units waiting to start",
        &[
            "systemctl",
            "list-jobs",
            "--no-legend",
            "--no-pager",
            "--full",
        ],
    )?;
    let mut units = parse_unit_names(&running);
    units.extend(parse_list_jobs(&queued).into_iter().map(|j| j.unit));
    units.sort();
    units.dedup();
    Ok(units)
}

/// Virtio network devices (device id 1) with no driver bound yet.
fn virtio_net_without_driver(host: &dyn Host) -> Vec<String> {
    let bus = Path::new("/sys/bus/virtio/devices");
    host.read_dir_names(bus)
        .unwrap_or_default()
        .into_iter()
        .filter(|n| {
            let dir = bus.join(n);
            host.read_attr(&dir.join("device"))
                .is_ok_and(|id| u32::from_str_radix(id.trim_start_matches("0x"), 16) == Ok(1))
                && !host.exists(&dir.join("driver"))
        })
        .map(|n| format!("virtio/{n}"))
        .collect()
}

/// `subsystem/sysname` of the devices `wanted` picks that udev has not finished with.
/// A subsystem udev cannot list counts as done: the reader after the wait reports it.
fn not_done(host: &dyn Host, subsystem: &str, wanted: impl Fn(&UdevDevice) -> bool) -> Vec<String> {
    host.udev_devices(subsystem)
        .unwrap_or_default()
        .into_iter()
        .filter(|d| !d.initialized && wanted(d))
        .map(|d| format!("{subsystem}/{}", d.sysname))
        .collect()
}

fn wait(host: &dyn Host, deadline: Duration, pending: impl Fn(&dyn Host) -> Vec<String>) -> Ready {
    wait_from(host, host.now(), deadline, POLL, |h| Ok(pending(h)))
}

/// Looks every `every` until `pending` names nothing or `deadline` has passed since
/// `start`. An error from `pending` ends the wait: nothing is known to wait for. The
/// one bounded poll of the tool: the boot's waits here, the storage steps' waits for
/// device nodes (`storage::env`).
pub fn wait_from(
    host: &dyn Host,
    start: std::time::Instant,
    deadline: Duration,
    every: Duration,
    pending: impl Fn(&dyn Host) -> Result<Vec<String>, String>,
) -> Ready {
    loop {
        let (left, error) = match pending(host) {
            Ok(left) => (left, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let waited = host.now().saturating_duration_since(start);
        if left.is_empty() || waited >= deadline {
            return Ready {
                waited,
                pending: left,
                error,
            };
        }
        host.sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::{FakeHost, Response};
    use crate::testkit::Machine;

    #[test]
    fn a_nic_udev_has_not_finished_with_holds_the_wait_until_the_deadline() {
        let m = Machine::new();
        m.write(
            "/run/pre-nixos-fixture/udev/pci/0000:00:03.0",
            "PCI_CLASS=20000\nPRE_NIXOS_FIXTURE_INITIALIZED=0\n",
        );
        // An NVMe controller (class 0x010802) is not a network device.
        m.write(
            "/run/pre-nixos-fixture/udev/pci/0000:00:04.0",
            "PCI_CLASS=10802\nPRE_NIXOS_FIXTURE_INITIALIZED=0\n",
        );
        m.write(
            "/run/pre-nixos-fixture/udev/net/eth0",
            "INTERFACE=eth0\nPRE_NIXOS_FIXTURE_INITIALIZED=0\n",
        );
        // A virtio network device waiting for its driver; a console and a bound NIC are done.
        m.write("/sys/bus/virtio/devices/virtio0/device", "0x0001\n");
        m.write("/sys/bus/virtio/devices/virtio1/device", "0x0003\n");
        m.write("/sys/bus/virtio/devices/virtio2/device", "0x0001\n");
        m.write("/sys/bus/virtio/devices/virtio2/driver", "");
        m.write(
            "/run/pre-nixos-fixture/udev/net/lo",
            "INTERFACE=lo\nPRE_NIXOS_FIXTURE_INITIALIZED=0\n",
        );
        let host = FakeHost::new(m.root());
        let r = wait_for_nics(&host, Duration::from_secs(30));
        assert_eq!(
            r.pending,
            ["pci/0000:00:03.0", "virtio/virtio0", "net/eth0"]
        );
        assert_eq!(r.waited, Duration::from_secs(30));
        // The disks are another wait: nothing of the NICs' holds it.
        assert_eq!(
            wait_for_disks(&host, Duration::from_secs(60)),
            Ready::default()
        );
    }

    #[test]
    fn fixture_devices_are_done_at_once() {
        let m = Machine::new();
        m.write(
            "/run/pre-nixos-fixture/udev/net/enp1s0",
            "INTERFACE=enp1s0\n",
        );
        let host = FakeHost::new(m.root());
        assert_eq!(
            wait_for_nics(&host, Duration::from_secs(30)),
            Ready::default()
        );
        assert_eq!(
            wait_for_disks(&host, Duration::from_secs(60)),
            Ready::default()
        );
    }

    fn machine_with_a_pv() -> Machine {
        let m = Machine::new();
        m.write(
            "/run/pre-nixos-fixture/udev/block/sda",
            "DEVTYPE=disk\nID_PART_TABLE_TYPE=gpt\n",
        );
        m.write(
            "/run/pre-nixos-fixture/udev/block/sda2",
            "DEVTYPE=partition\nID_FS_TYPE=LVM2_member\n",
        );
        m
    }

    const RUNNING: &str = "lvm-activate-main.service loaded active running /sbin/lvm vgchange -aay --autoactivation event main\n";
    const QUEUED: &str = "12 lvm-activate-swap.service start waiting\n";

    #[test]
    fn no_lvm_physical_volume_means_no_command_and_no_wait() {
        let m = Machine::new();
        m.write(
            "/run/pre-nixos-fixture/udev/block/sda",
            "DEVTYPE=disk\nID_FS_TYPE=ext4\n",
        );
        let host = FakeHost::new(m.root());
        assert_eq!(
            wait_for_lvm_activation(&host, Duration::from_secs(60)),
            None
        );
        assert!(host.command_lines().is_empty());
    }

    #[test]
    fn the_wait_settles_udev_then_lasts_while_an_activation_unit_runs_or_is_queued() {
        let m = machine_with_a_pv();
        let host = FakeHost::new(m.root());
        // Look 1: main's vgchange runs. Look 2: swap's start is still queued. Look 3: done.
        host.on_times(&["systemctl", "list-units"], 1, Response::stdout(RUNNING));
        host.on(&["systemctl", "list-units"], Response::stdout(""));
        host.on_times(&["systemctl", "list-jobs"], 1, Response::stdout(""));
        host.on_times(&["systemctl", "list-jobs"], 1, Response::stdout(QUEUED));
        host.on(
            &["systemctl", "list-jobs"],
            Response::stdout("No jobs running.\n"),
        );
        let r = wait_for_lvm_activation(&host, Duration::from_secs(60)).unwrap();
        assert_eq!(r.pending, Vec::<String>::new());
        assert_eq!(r.error, None);
        assert_eq!(r.waited, LVM_POLL * 2);
        let lines = host.command_lines();
        assert_eq!(lines[0], "udevadm settle --timeout=60");
        assert_eq!(
            lines[1],
            "systemctl list-units --all --plain --no-legend --no-pager --full \
             --state=activating,deactivating,reloading,running 'lvm-activate-*.service' \
             'lvm2-pvscan@*.service'"
        );
        assert_eq!(
            lines[2],
            "systemctl list-jobs --no-legend --no-pager --full 'lvm-activate-*.service' \
             'lvm2-pvscan@*.service'"
        );
        assert_eq!(lines.len(), 1 + 3 * 2);
    }

    #[test]
    fn an_activation_that_never_ends_is_reported_at_the_deadline() {
        let m = machine_with_a_pv();
        let host = FakeHost::new(m.root());
        host.on(&["systemctl", "list-units"], Response::stdout(RUNNING));
        host.on(&["systemctl", "list-jobs"], Response::stdout(QUEUED));
        let r = wait_for_lvm_activation(&host, Duration::from_secs(60)).unwrap();
        assert_eq!(
            r.pending,
            ["lvm-activate-main.service", "lvm-activate-swap.service"]
        );
        assert!(r.waited >= Duration::from_secs(60), "{:?}", r.waited);
        assert!(r.waited < Duration::from_secs(61), "{:?}", r.waited);
    }

    #[test]
    fn without_systemd_nothing_queues_activation_and_a_failing_systemctl_is_said() {
        let m = machine_with_a_pv();
        let host = FakeHost::new(m.root()).strict();
        host.on(&["udevadm", "settle"], Response::stdout(""));
        assert_eq!(
            wait_for_lvm_activation(&host, Duration::from_secs(60)),
            Some(Ready::default())
        );

        let host = FakeHost::new(m.root());
        host.on(
            &["systemctl", "list-units"],
            Response::fail(1, "Failed to connect to bus: No such file or directory"),
        );
        let r = wait_for_lvm_activation(&host, Duration::from_secs(60)).unwrap();
        assert!(r.pending.is_empty());
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("Failed to connect to bus")),
            "{r:?}"
        );
    }
}
