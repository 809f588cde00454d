# A stub of the few nixpkgs lib functions nixos/module.nix, the image profiles
# (nixos/image.nix, iso.nix, netboot.nix) and nixos/package.nix call,
# plus NixOS' utils.escapeSystemdExecArgs, for evaluating them with Debian's
# nix-instantiate and no nixpkgs.
#
# The list and string helpers do what nixpkgs' do; mkIf/mkOverride/mkForce/mkDefault
# return the same marker attrsets nixpkgs uses (`_type = "if"` / `"override"` /
# `"merge"`), so a
# test sees which definitions are conditional or forced. Option types carry a `check`
# as nixpkgs' do. Merging definitions across modules is NOT modelled: that needs
# nixpkgs and is covered by `nix flake check`.
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
    ints.positive = mkType "positive integer" (v: b.isInt v && v > 0) { };
  };
  lib = rec {
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
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkForce = mkOverride 50;
    mkDefault = mkOverride 1000;
    hasSuffix =
      suffix: s:
      let
        ls = b.stringLength s;
        lx = b.stringLength suffix;
      in
      ls >= lx && b.substring (ls - lx) lx s == suffix;
    trivial.release = "00.00";
    optionals = c: l: if c then l else [ ];
    optional = c: x: if c then [ x ] else [ ];
    optionalAttrs = c: as: if c then as else { };
    concatStrings = b.concatStringsSep "";
    concatMapStrings = f: l: b.concatStringsSep "" (map f l);
    getExe = p: "${p.outPath}/bin/${p.meta.mainProgram}";
    # For nixos/package.nix (tests/nix/eval-package.nix).
    splitString =
      sep: s:
      b.filter b.isString (
        b.split (b.replaceStrings [ "." "+" "*" "?" ] [ "\\." "\\+" "\\*" "\\?" ] sep) s
      );
    getAttrFromPath = path: set: b.foldl' (acc: name: acc.${name}) set path;
    makeBinPath = ps: b.concatStringsSep ":" (map (p: "${p.bin or p}/bin") ps);
    importTOML = file: b.fromTOML (b.readFile file);
  };
  # NixOS' utils.escapeSystemdExecArgs: JSON-quote each argument, double % and $.
  utils.escapeSystemdExecArgs = args:
    b.concatStringsSep " " (
      map (a: b.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (b.toJSON (toString a))) args
    );
in
{
  inherit lib utils;
}
