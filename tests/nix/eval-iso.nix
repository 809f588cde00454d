# Evaluates nixos/iso.nix (or a copy of it, see `isoFile`) with the stub lib of
# ./stub-lib.nix and stand-ins for pkgs, modulesPath and the disko input, and returns
# the definitions it makes, for `cargo test`. Whether NixOS accepts them together with
# the installer profile needs nixpkgs (`nix build .#iso`).
{
  isoFile ? ../../nixos/iso.nix,
}:
let
  inherit (import ./stub-lib.nix) lib;
  system = "x86_64-linux";
  iso = import isoFile {
    inherit lib;
    pkgs = {
      path = "/nix/store/00000000000000000000000000000000-nixpkgs";
      stdenv.hostPlatform.system = system;
    };
    modulesPath = "/nixpkgs/nixos/modules";
    disko.packages.${system}.disko = {
      stub = "disko-v1.13.0";
    };
    config = { };
  };
in
iso
// {
  # Paths become their names, so the answer does not depend on where the tree is.
  services = iso.services // {
    pre-nixos = iso.services.pre-nixos // {
      authorizedKeysFiles = map baseNameOf iso.services.pre-nixos.authorizedKeysFiles;
    };
  };
}
