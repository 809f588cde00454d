# The pre-nixos image for PXE: NixOS's netboot profile (kernel, an initrd that carries
# the whole system, and an iPXE script) plus the same image as the ISO (./image.nix):
# same module, same unit, same policy, same console.
#
# Import it together with the module (the flake's nixosModules.netboot does both); the
# flake's `netboot` package is the three files in one directory. The initrd holds the
# system's squashfs, so a machine needs RAM for it (about the ISO's size) on top of the
# tool's.
{ modulesPath, ... }:
{
  imports = [
    "${modulesPath}/installer/netboot/netboot-minimal.nix"
    ./image.nix
  ];
}
