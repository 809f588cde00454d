# Type-checks a disko config against a disko source tree offline: only nixpkgs' lib
# and disko's lib are imported; <nixpkgs>, pkgs, builds and the network are never used.
#   nix-instantiate --store dummy:// --eval --strict scripts/disko-eval.nix \
#     --arg diskoFile ./disko-config.nix --arg diskoPath /path/to/disko \
#     --arg libPath /path/to/nixpkgs.lib/lib -A check
{
  diskoFile,
  diskoPath,
  libPath,
  rootMountPoint ? "/mnt",
}:
let
  lib = import libPath;
  unavailable = what: throw "${what} is not available in an offline type check";
  diskoLib = import (diskoPath + "/lib") {
    inherit lib rootMountPoint;
    makeTest = unavailable "makeTest";
    eval-config = unavailable "eval-config";
    qemu-common = unavailable "qemu-common";
  };
  raw = import diskoFile;
  cfg = if builtins.isFunction raw then raw { inherit lib; } else raw;
  devices =
    (lib.evalModules {
      modules = [
        {
          options.disko.devices = lib.mkOption { type = diskoLib.toplevel; };
          config.disko.devices = cfg.disko.devices;
        }
      ];
    }).config.disko.devices;
in
{
  create = devices._create;
  mount = devices._mount;
  # forces every option's type check and both generated scripts
  check = builtins.deepSeq [
    devices._create
    devices._mount
  ] true;
}
