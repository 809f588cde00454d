# NixOS VM test: a machine with services.pre-nixos (and the image policy the ISO uses)
# and two blank disks boots; pre-nixos provisions them; sshd is up with the embedded key
# before storage ends; the boot finishes while storage still runs; the status file ends
# final; no job is left waiting (the predecessor's sshd/pre-nixos deadlock shows up here
# as a non-empty list-jobs).
#
# Written against what the unit does, not how it is declared: the storage end is when
# pre-nixos's main process exited (ExecMainExitTimestampMonotonic), which holds for a
# oneshot and for a Type=exec unit alike.
#
# Needs Nix with the binary cache (it builds a VM); `nix flake check` runs it.
{
  pkgs,
  module,
}:

let
  # nixpkgs' throw-away test key pair (the one its own ssh tests use): a key made by a
  # derivation would have to be read back at evaluation time (import from derivation).
  snakeOil = import "${pkgs.path}/nixos/tests/ssh-keys.nix" pkgs;
in
pkgs.testers.runNixOSTest {
  name = "pre-nixos-boot";

  nodes.machine =
    { ... }:
    {
      imports = [ module ];
      services.pre-nixos = {
        enable = true;
        # What the ISO and netboot images run with: networkd only, sshd wanted by nothing.
        imagePolicy.enable = true;
        authorizedKeys = [ snakeOil.snakeOilPublicKey ];
        # The default, spelled out: the executor both VM suites prove.
        executor = "native";
        extraArgs = [
          "--carrier-timeout"
          "10"
        ];
      };
      boot.swraid.enable = true;
      virtualisation = {
        memorySize = 2048;
        # Two blank 8 GiB disks of the same size: one SSD bucket of two (RAID0 in fast
        # mode), holding `main`.
        emptyDiskImages = [
          8192
          8192
        ];
      };
      environment.systemPackages = [ pkgs.openssh ];
    };

  testScript = ''
    def prop(unit, name):
        return machine.succeed(f"systemctl show -p {name} --value {unit}").strip()

    def manager_prop(name):
        return machine.succeed(f"systemctl show -p {name} --value").strip()

    machine.start()

    # The boot finishes (running, or degraded if some unrelated unit failed) without
    # waiting for storage: is-system-running exits non-zero for degraded, so read it.
    machine.wait_until_succeeds(
        "systemctl is-system-running | grep -Eqx 'running|degraded'", timeout=300
    )
    boot_done = int(manager_prop("FinishTimestampMonotonic"))
    multi_user = int(prop("multi-user.target", "ActiveEnterTimestampMonotonic"))

    # The status file ends in a final state: anything but STATE=running.
    machine.wait_until_succeeds(
        "grep -q '^STATE=' /run/pre-nixos/storage-status"
        + " && ! grep -qx 'STATE=running' /run/pre-nixos/storage-status",
        timeout=900,
    )
    status = machine.succeed("cat /run/pre-nixos/storage-status")
    print(status)
    # Blank disks: applied by itself, no switch needed.
    assert "STATE=applied\n" in status, status
    assert "DETAIL=auto-applied\n" in status, status

    # The storage stage has ended: pre-nixos's process exited, with success.
    machine.wait_until_succeeds(
        "test \"$(systemctl show -p ExecMainExitTimestampMonotonic --value pre-nixos.service)\" -gt 0",
        timeout=120,
    )
    storage_end = int(prop("pre-nixos.service", "ExecMainExitTimestampMonotonic"))
    assert prop("pre-nixos.service", "ExecMainStatus") == "0", prop(
        "pre-nixos.service", "ExecMainStatus"
    )

    # Boot finished while storage ran: multi-user.target and the manager's "startup
    # finished" both came before pre-nixos's process ended.
    assert 0 < multi_user < storage_end, f"multi-user at {multi_user}, storage end {storage_end}"
    assert 0 < boot_done < storage_end, f"boot finished at {boot_done}, storage end {storage_end}"

    # sshd: up before storage ended, wanted by nothing, not ordered after pre-nixos.
    machine.wait_until_succeeds("systemctl is-active sshd.service", timeout=120)
    sshd_up = int(prop("sshd.service", "ActiveEnterTimestampMonotonic"))
    assert 0 < sshd_up < storage_end, f"sshd active at {sshd_up}, storage end {storage_end}"
    assert prop("sshd.service", "WantedBy") == "", prop("sshd.service", "WantedBy")
    machine.fail("systemctl show -p After --value sshd.service | grep -q pre-nixos")

    # Key login works.
    machine.succeed("cp ${snakeOil.snakeOilPrivateKey} /tmp/id && chmod 600 /tmp/id")
    machine.wait_until_succeeds(
        "ssh -i /tmp/id -o BatchMode=yes -o StrictHostKeyChecking=no "
        + "-o UserKnownHostsFile=/dev/null root@127.0.0.1 true",
        timeout=60,
    )

    # Nothing is stuck: no job left, the unit not failed.
    machine.wait_until_succeeds("test -z \"$(systemctl list-jobs --no-legend)\"", timeout=120)
    machine.fail("systemctl is-failed --quiet pre-nixos.service")

    # The layout is mounted under /mnt and `status` agrees.
    machine.succeed("findmnt /mnt")
    machine.succeed("vgs main")
    print(machine.succeed("pre-nixos status"))
  '';
}
