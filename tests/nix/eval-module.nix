# Evaluates nixos/module.nix without nixpkgs, for `cargo test` on Debian's nix-bin.
#
# `lib` is the stub in ./stub-lib.nix. This driver applies each option's type check to
# the values it is given, so a wrong enum value or a non-list fails here as it fails in
# NixOS. What it does not do is merge definitions from other modules: that part needs
# nixpkgs and is covered by `nix flake check`.
#
# Usage: nix-instantiate --eval --strict --json tests/nix/eval-module.nix \
#          --arg settings '{ enable = true; authorizedKeys = [ "…" ]; }'
{
  settings,
  # What the rest of the host has turned on: { networkmanager = true; }.
  otherConfig ? { },
}:
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

  isOption = v: b.isAttrs v && (v._type or null) == "option";
  # Each declared option gets the setting's value (or its default), type-checked; option
  # groups (`imagePolicy.enable`) are walked the same way. Unknown names fail as in NixOS.
  check =
    prefix: decl: given:
    let
      unknown = b.filter (n: !(decl ? ${n})) (b.attrNames given);
    in
    if unknown != [ ] then
      throw "${prefix}: no such option: ${b.concatStringsSep ", " unknown}"
    else
      b.mapAttrs (
        name: opt:
        if isOption opt then
          let
            value = given.${name} or opt.default;
          in
          if opt.type.check value then
            value
          else
            throw "${prefix}.${name}: ${b.toJSON value} is not of type ${opt.type.name}"
        else
          check "${prefix}.${name}" opt (given.${name} or { })
      ) decl;
  cfg = check "services.pre-nixos" declared settings;

  evaluated = module {
    # Other modules' options the module reads (a host that runs NetworkManager).
    config = {
      services.pre-nixos = cfg;
      networking.networkmanager.enable = otherConfig.networkmanager or false;
    };
    inherit lib pkgs utils;
  };
in
let
  # Per option, dotted name → does it have a type and a description (documented).
  describe =
    prefix: decl:
    b.concatLists (
      b.attrValues (
        b.mapAttrs (
          name: o:
          if isOption o then
            [
              {
                name = "${prefix}${name}";
                value = {
                  type = o.type.name;
                  documented = o ? description && b.isString o.description && o.description != "";
                };
              }
            ]
          else
            describe "${prefix}${name}." o
        ) decl
      )
    );
in
{
  options = b.listToAttrs (describe "" declared);
  config = b.deepSeq cfg evaluated.config;
}
