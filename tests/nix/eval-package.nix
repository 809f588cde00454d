# Evaluates nixos/package.nix with the stub lib and stand-in packages (each
# `pkgs.<attr>` is `/stub/<attr>`, buildRustPackage returns its arguments), for
# `cargo test`: the wrapper's PATH is exactly the runtime-tool list, in its order, and
# disko is the argument the flake passes. Whether the package builds needs nixpkgs
# (`nix build .#pre-nixos`).
let
  b = builtins;
  inherit (import ./stub-lib.nix) lib;
  stub = attr: {
    outPath = "/stub/${attr}";
    name = attr;
  };
  attrsOfList = (import ../../nixos/runtime-tools.nix { }).nixpkgsAttrs;
  # A pkgs with every attribute the list names (and nothing else: a name the list gets
  # wrong fails here as it fails in nixpkgs).
  pkgs = b.listToAttrs (
    map (a: {
      name = a;
      value = stub a;
    }) (b.filter (a: a != "disko") attrsOfList)
  );
  args = {
    inherit lib pkgs;
    rustPlatform = {
      buildRustPackage = a: a;
      bindgenHook = "bindgenHook";
    };
    pkg-config = "pkg-config";
    installShellFiles = "installShellFiles";
    makeWrapper = "makeWrapper";
    systemdLibs = "systemdLibs";
    util-linux = stub "util-linux";
  };
  withDisko = import ../../nixos/package.nix (args // { disko = stub "disko"; });
  withoutDisko = import ../../nixos/package.nix args;
in
{
  runtimeTools = map (p: p.name) withDisko.passthru.runtimeTools;
  withoutDisko = map (p: p.name) withoutDisko.passthru.runtimeTools;
  inherit (withDisko) postInstall;
}
