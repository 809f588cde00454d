# The pre-installer ISO: NixOS's minimal installer plus the pre-nixos image (./image.nix).
#
# Import it together with the module (the flake's nixosModules.iso does both); it takes
# no special arguments, so it works from another flake as well as from this one.
{
  lib,
  pkgs,
  modulesPath,
  ...
}:

let
  # The UEFI menu's serial line. nixpkgs' iso-image.nix writes a grub.cfg that runs a
  # bare `serial`, which keeps the port's current settings and picks 9600 baud only when
  # none were set (GRUB's grub_cmd_serial), and it offers no option to change that file.
  # GRUB runs a config embedded in its EFI image before it reads grub.cfg; embedding this
  # one sets 115200 first, so the menu on a 115200 SOL session is readable. The BIOS
  # menu (isolinux) is `SERIAL 0 115200` already.
  earlyGrubConfig = pkgs.writeText "pre-nixos-grub-early.cfg" ''
    serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
  '';
in
{
  imports = [
    "${modulesPath}/installer/cd-dvd/installation-cd-minimal.nix"
    ./image.nix
  ];

  # iso-image.nix calls `grub-mkimage` from grub2_efi to build the EFI loader; this
  # grub2_efi is the same package with that one command wrapped to embed the config above.
  # A wrapper, not a rebuild of GRUB: the binary cache's GRUB stays in use.
  nixpkgs.overlays = [
    (final: prev: {
      grub2_efi =
        final.runCommand "${prev.grub2_efi.name}-serial-115200"
          {
            nativeBuildInputs = [ final.buildPackages.makeWrapper ];
            # iso-image.nix reads grubTarget from the package.
            passthru = {
              inherit (prev.grub2_efi) grubTarget;
              unwrapped = prev.grub2_efi;
            };
          }
          ''
            mkdir -p $out
            for d in ${prev.grub2_efi}/*; do
              [ "$(basename "$d")" = bin ] || ln -s "$d" "$out/$(basename "$d")"
            done
            mkdir $out/bin
            for p in ${prev.grub2_efi}/bin/*; do ln -s "$p" "$out/bin/$(basename "$p")"; done
            rm $out/bin/grub-mkimage
            makeWrapper ${prev.grub2_efi}/bin/grub-mkimage $out/bin/grub-mkimage \
              --add-flags "--config=${earlyGrubConfig}"
          '';
    })
  ];

  # The default entry boots by itself after this timeout on both menus: no keypress.
  boot.loader.timeout = lib.mkForce 5;

  # Faster image builds; the ISO is rebuilt often and read once per boot.
  isoImage.squashfsCompression = "zstd -Xcompression-level 6";
  isoImage.appendToMenuLabel = " pre-nixos";
}
