# A fleet after pre-nixos: one NixOS host per machine that reported in (docs/fleet.md).
#
# For each report the collector stored, copy `files."hardware-disk.nix"` and
# `files."network-lan.nix"` into hosts/<name>/ (receiver.py already writes them there,
# named after the DMI serial or UUID); this flake makes a nixosConfiguration of every
# directory under hosts/. Install with nixos-anywhere, skipping its kexec and disko
# phases (pre-nixos made and mounted the disks under /mnt):
#
#   nixos-anywhere --phases install,reboot --flake .#rack1-u07 root@10.0.2.15
#
# or over SSH on the machine itself: nixos-install --flake .#rack1-u07 --root /mnt.
{
  description = "Hosts installed onto the disks pre-nixos prepared";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { nixpkgs, ... }:
    let
      host =
        name:
        nixpkgs.lib.nixosSystem {
          system = "x86_64-linux";
          modules = [
            ./common.nix
            (./hosts + "/${name}/hardware-disk.nix")
            (./hosts + "/${name}/network-lan.nix")
            { networking.hostName = name; }
          ];
        };
    in
    {
      nixosConfigurations = builtins.mapAttrs (name: _: host name) (builtins.readDir ./hosts);
    };
}
