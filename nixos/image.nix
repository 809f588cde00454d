# The pre-nixos boot image, whatever carries it (./iso.nix: a USB stick or virtual media;
# ./netboot.nix: PXE): services.pre-nixos with the image policy, a serial console at
# 115200, a root shell on it, and the banner that says where things stand. Servers are
# reached over a serial console (IPMI SOL) or not at all.
#
# Needs the module (services.pre-nixos) imported beside it: the pre-nixos flake's
# nixosModules.iso / nixosModules.netboot do both. No special arguments: it works
# imported from any flake.
#
# The root key: every `*.pub` in `keys/` next to the flake when that directory exists
# (git-tracked files only, as with any flake source); a flake of your own can instead set
# services.pre-nixos.authorizedKeys. No environment variable, no --impure.
{ lib, ... }:

let
  keysDir = ../keys;
  keyFiles =
    if builtins.pathExists keysDir then
      map (name: keysDir + "/${name}") (
        builtins.filter (name: lib.hasSuffix ".pub" name) (
          builtins.attrNames (builtins.readDir keysDir)
        )
      )
    else
      [ ];
in
{
  services.pre-nixos = {
    enable = true;
    imagePolicy.enable = true;
    authorizedKeysFiles = keyFiles;
  };

  # Serial console on the kernel; serial last so /dev/console is the serial line, where an
  # operator without a screen reads the announcement. 115200 everywhere: the BIOS menu
  # (isolinux), the UEFI menu (./iso.nix), the kernel and the getty.
  boot.kernelParams = [
    "console=tty0"
    "console=ttyS0,115200n8"
  ];

  # A root shell on the serial line (and the VTs) without a password prompt: the image
  # has no secrets, and the operator at a serial console is the one who booted it.
  # systemd's getty generator starts serial-getty@ttyS0 from console=ttyS0 above.
  services.getty.autologinUser = lib.mkForce "root";

  # Login banner: agetty prints /etc/issue, then every /etc/issue.d/*.issue. \4{lan} is
  # agetty's IPv4 address of the `lan` interface (empty until the lease). The status file
  # is linked in as it is when the prompt is drawn; the console announcement and
  # `pre-nixos status` carry the final state.
  services.getty.helpLine = lib.mkForce ''

    pre-nixos: LAN address \4{lan}
    Storage status: /run/pre-nixos/storage-status (details: pre-nixos status; decide: pre-nixos tui)
    Kernel switches: pre-nixos.plan-only=1 pre-nixos.wipe=all|<serial>,... pre-nixos.mode=careful
  '';
  environment.etc."issue.d/pre-nixos.issue".source = "/run/pre-nixos/storage-status";
  # Every login shell (the serial autologin included) shows where things stand.
  programs.bash.loginShellInit = ''
    if [ -r /run/pre-nixos/storage-status ]; then
      pre-nixos status --brief 2>/dev/null || cat /run/pre-nixos/storage-status
    else
      echo "pre-nixos has not written /run/pre-nixos/storage-status yet (journalctl -u pre-nixos)"
    fi
  '';

  # md and device-mapper: the udev rules and modules that make /dev/md/<name> and
  # /dev/<vg>/<lv> appear while provisioning.
  boot.swraid.enable = true;
  boot.swraid.mdadmConf = ''
    MAILADDR root
    HOMEHOST <ignore>
  '';
  boot.kernelModules = [
    "dm-mod"
    "dm-snapshot"
    "raid0"
    "raid1"
    "raid10"
    "raid456"
  ];
  services.lvm.enable = true;

  networking.hostName = "pre-nixos";
  system.stateVersion = lib.trivial.release;
}
