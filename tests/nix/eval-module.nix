# Evaluates nixos/module.nix without nixpkgs, for `cargo test` on Debian's nix-bin.
#
# `lib` here is a stub of the handful of nixpkgs lib functions the module calls. The
# list and string helpers do what nixpkgs' do; mkIf/mkForce/mkDefault return the same
# marker attrsets nixpkgs uses (`_type = "if"` / `"override"`), so the test sees which
# definitions are conditional or forced. Option types carry a `check` as nixpkgs' do, and
# this driver applies them to the values it is given, so a wrong enum value or a
# non-list fails here as it fails in NixOS. What it does not do is merge definitions
# from other modules: that part needs nixpkgs and is covered by `nix flake check`.
#
# Usage: nix-instantiate --eval --strict --json tests/nix/eval-module.nix \
#          --arg settings '{ enable = true; authorizedKeys = [ "…" ]; }'
{ settings }:
let
  b = builtins;
  mkType = name: check: extra: { inherit name check; } // extra;
  types = {
    bool = mkType "bool" b.isBool { };
    str = mkType "str" b.isString { };
    path = mkType "path" (v: b.isPath v || (b.isString v && b.substring 0 1 v == "/")) { };
    package = mkType "package" (v: b.isAttrs v && v ? outPath) { };
    listOf = t: mkType "listOf ${t.name}" (v: b.isList v && b.all t.check v) { };
    nullOr = t: mkType "nullOr ${t.name}" (v: v == null || t.check v) { };
    enum = vs: mkType "enum" (v: b.elem v vs) { values = vs; };
    strMatching = re: mkType "strMatching" (v: b.isString v && b.match re v != null) { };
  };
  lib = {
    inherit types;
    mkOption = o: o // { _type = "option"; };
    mkEnableOption = d: {
      _type = "option";
      type = types.bool;
      default = false;
      description = "Whether to enable ${d}.";
    };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkOverride = priority: content: {
      _type = "override";
      inherit priority content;
    };
    mkForce = lib.mkOverride 50;
    mkDefault = lib.mkOverride 1000;
    optionals = c: l: if c then l else [ ];
    concatMapStrings = f: l: b.concatStringsSep "" (map f l);
    getExe = p: "${p.outPath}/bin/${p.meta.mainProgram}";
  };
  # NixOS' utils.escapeSystemdExecArgs: JSON-quote each argument, double % and $.
  utils.escapeSystemdExecArgs = args:
    b.concatStringsSep " " (
      map (a: b.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (b.toJSON (toString a))) args
    );
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
