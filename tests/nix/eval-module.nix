# Evaluates nixos/module.nix without nixpkgs, for `cargo test` on Debian's nix-bin.
#
# `lib` is the stub in ./stub-lib.nix. This driver applies each option's type check to
# the values it is given, so a wrong enum value or a non-list fails here as it fails in
# NixOS. What it does not do is merge definitions from other modules: that part needs
# nixpkgs and is covered by `nix flake check`.
#
# Usage: nix-instantiate --eval --strict --json tests/nix/eval-module.nix \
#          --arg settings '{ enable = true; authorizedKeys = [ "…" ]; }'
{ settings }:
let
  b = builtins;
  inherit (import ./stub-lib.nix) lib utils;
  stubPackage = {
    outPath = "/nix/store/00000000000000000000000000000000-pre-nixos-0.1.0";
    meta.mainProgram = "pre-nixos";
    runtimeTools = [ "/nix/store/00000000000000000000000000000000-mdadm" ];
  };
  pkgs.path = "/nix/store/00000000000000000000000000000000-nixpkgs";

  module = import ../../nixos/module.nix (_: stubPackage);
  declared = (module { config = { }; inherit lib pkgs utils; }).options.services.pre-nixos;

  unknown = b.filter (n: !(declared ? ${n})) (b.attrNames settings);
  cfg = b.mapAttrs (
    name: opt:
    let
      value = settings.${name} or opt.default;
    in
    if opt.type.check value then
      value
    else
      throw "services.pre-nixos.${name}: ${b.toJSON value} is not of type ${opt.type.name}"
  ) declared;

  evaluated = module {
    config.services.pre-nixos = cfg;
    inherit lib pkgs utils;
  };
in
if unknown != [ ] then
  throw "services.pre-nixos: no such option: ${b.concatStringsSep ", " unknown}"
else
  {
    # Per option: does it have a type and a description (documented options).
    options = b.mapAttrs (_: o: {
      type = o.type.name;
      documented = o ? description && b.isString o.description && o.description != "";
    }) declared;
    config = evaluated.config;
  }
