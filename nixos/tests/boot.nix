# NixOS VM test: a machine with services.pre-nixos and two blank disks boots, pre-nixos
# provisions them, sshd is up with the embedded key, and no job is left waiting (the
# predecessor's sshd/pre-nixos deadlock shows up here as a non-empty list-jobs).
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
        authorizedKeys = [ snakeOil.snakeOilPublicKey ];
        # The VM's disks are virtio: native calls sgdisk/mdadm/lvm directly and keeps the
        # test free of disko evaluating nixpkgs inside the guest.
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
    machine.wait_for_unit("multi-user.target")
    machine.wait_until_succeeds(
        "grep -qx 'STATE=applied' /run/pre-nixos/storage-status", timeout=600
    )
    print(machine.succeed("cat /run/pre-nixos/storage-status"))
    machine.succeed("grep -qx 'DETAIL=auto-applied' /run/pre-nixos/storage-status")

    # The flow is done (RemainAfterExit keeps the unit active (exited)) and nothing is stuck.
    machine.succeed("systemctl is-active pre-nixos.service")
    machine.wait_until_succeeds("systemctl is-active sshd.service", timeout=120)
    machine.wait_until_succeeds("test -z \"$(systemctl list-jobs --no-legend)\"", timeout=120)
    print(machine.succeed("systemctl list-jobs"))

    # sshd: wanted by nothing, not ordered after pre-nixos, key login works.
    machine.succeed("test -z \"$(systemctl show -p WantedBy --value sshd.service)\"")
    machine.fail("systemctl show -p After --value sshd.service | grep -q pre-nixos")
    machine.succeed("cp ${snakeOil.snakeOilPrivateKey} /tmp/id && chmod 600 /tmp/id")
    machine.wait_until_succeeds(
        "ssh -i /tmp/id -o BatchMode=yes -o StrictHostKeyChecking=no "
        + "-o UserKnownHostsFile=/dev/null root@127.0.0.1 true",
        timeout=60,
    )

    # Network and SSH first: sshd was up before the flow finished its storage work.
    sshd_up = int(machine.succeed(
        "systemctl show -p ActiveEnterTimestampMonotonic --value sshd.service"
    ))
    # Type=exec: the unit is active from the exec on; the flow ends when its process exits.
    flow_done = int(machine.succeed(
        "systemctl show -p ExecMainExitTimestampMonotonic --value pre-nixos.service"
    ))
    assert 0 < sshd_up < flow_done, f"sshd active at {sshd_up}, pre-nixos done at {flow_done}"

    # The boot did not wait for storage (issue 11): multi-user.target before the flow ended.
    multi_user = int(machine.succeed(
        "systemctl show -p ActiveEnterTimestampMonotonic --value multi-user.target"
    ))
    assert 0 < multi_user < flow_done, f"multi-user.target at {multi_user}, flow done at {flow_done}"
    machine.succeed("systemctl is-system-running | grep -qx running")

    # The layout is mounted under /mnt and `status` agrees.
    machine.succeed("findmnt /mnt")
    machine.succeed("vgs main")
    print(machine.succeed("pre-nixos status"))
  '';
}
