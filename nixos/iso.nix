# The pre-installer ISO: NixOS's minimal installer plus services.pre-nixos, made for
# servers reached over a serial console or not at all.
#
# The root key comes from a module option. This file reads every `*.pub` in `keys/`
# next to the flake when that directory exists (git-tracked files only, as with any
# flake source); a flake of your own can instead import this file or the module and set
# services.pre-nixos.authorizedKeys. No environment variable, no --impure.
{
  lib,
  pkgs,
  modulesPath,
  disko,
  ...
}:

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
  imports = [ "${modulesPath}/installer/cd-dvd/installation-cd-minimal.nix" ];

  services.pre-nixos = {
    enable = true;
    authorizedKeysFiles = keyFiles;
  };

  # Serial console on the kernel; serial last so /dev/console is the serial line,
  # where an operator without a screen reads the announcement.
  boot.kernelParams = [
    "console=tty0"
    "console=ttyS0,115200n8"
  ];
  # Bootloaders: the BIOS menu (isolinux) already speaks on serial 0 at 115200. The
  # UEFI GRUB menu of the installer image mirrors to serial when it can; the default
  # entry boots by itself after this timeout, so no keypress is needed on either.
  boot.loader.timeout = lib.mkForce 5;

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
    Storage status: /run/pre-nixos/storage-status (details: pre-nixos status)
    Kernel switches: pre-nixos.plan-only=1 pre-nixos.wipe=all|<serial>,... pre-nixos.mode=careful
  '';
  environment.etc."issue.d/pre-nixos.issue".source = "/run/pre-nixos/storage-status";
  # Every login shell (the serial autologin included) shows where things stand.
  programs.bash.loginShellInit = ''
    if [ -r /run/pre-nixos/storage-status ]; then
      pre-nixos status 2>/dev/null || cat /run/pre-nixos/storage-status
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

  # disko from the pinned input, and <nixpkgs> for it: it evaluates its config with
  # `import <nixpkgs> {}`, and a flake-built image has no channel.
  environment.systemPackages = [ disko.packages.${pkgs.stdenv.hostPlatform.system}.disko ];
  nix.nixPath = [ "nixpkgs=${pkgs.path}" ];
  nix.settings.experimental-features = [
    "nix-command"
    "flakes"
  ];

  # Faster image builds; the ISO is rebuilt often and read once per boot.
  isoImage.squashfsCompression = "zstd -Xcompression-level 6";
  isoImage.appendToMenuLabel = " pre-nixos";
  networking.hostName = "pre-nixos";
  system.stateVersion = lib.trivial.release;
}
