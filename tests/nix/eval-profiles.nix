# Evaluates the image profiles (nixos/image.nix, iso.nix, netboot.nix, or copies of them
# in another directory, see `profileDir`) with the stub lib of ./stub-lib.nix and
# stand-ins for pkgs and modulesPath, and returns the definitions each file makes, for
# `cargo test`. The ISO's grub2_efi overlay is applied to a stand-in GRUB, so the wrapper
# it builds can be read. Whether NixOS accepts the definitions together with the
# installer and netboot profiles needs nixpkgs (`nix build .#iso`, `.#netboot`).
{
  profileDir ? ../../nixos,
}:
let
  inherit (import ./stub-lib.nix) lib;
  b = builtins;
  system = "x86_64-linux";
  pkgs = {
    path = "/nix/store/00000000000000000000000000000000-nixpkgs";
    stdenv.hostPlatform.system = system;
    writeText = name: text: {
      stub = "writeText";
      inherit name text;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    };
  };
  # No special arguments: what NixOS gives every module, nothing from this flake.
  args = {
    inherit lib pkgs;
    modulesPath = "/nixpkgs/nixos/modules";
    config = { };
    options = { };
  };
  load = name: import (profileDir + "/${name}") args;
  # Paths become their names, so the answer does not depend on where the tree is.
  names = map (i: if b.isPath i then baseNameOf i else i);

  image = load "image.nix";
  iso = load "iso.nix";
  netboot = load "netboot.nix";

  grubPrev.grub2_efi = {
    name = "grub-2.12";
    grubTarget = "x86_64-efi";
    outPath = "/nix/store/00000000000000000000000000000000-grub-2.12";
  };
  grubFinal = {
    buildPackages.makeWrapper = "makeWrapper";
    runCommand = name: env: script: {
      inherit name script;
      inherit (env) nativeBuildInputs passthru;
    };
  };
  overlays = iso.nixpkgs.overlays or [ ];
  grub = if overlays == [ ] then null else ((b.head overlays) grubFinal grubPrev).grub2_efi;
in
{
  image = image // {
    services = image.services // {
      pre-nixos = image.services.pre-nixos // {
        authorizedKeysFiles = map baseNameOf image.services.pre-nixos.authorizedKeysFiles;
      };
    };
  };
  iso = (b.removeAttrs iso [ "nixpkgs" ]) // {
    imports = names iso.imports;
    overlayCount = b.length overlays;
    grub2_efi = {
      inherit (grub) name script nativeBuildInputs;
      grubTarget = grub.passthru.grubTarget;
      unwrapped = grub.passthru.unwrapped.name;
    };
  };
  netboot = netboot // {
    imports = names netboot.imports;
  };
}
