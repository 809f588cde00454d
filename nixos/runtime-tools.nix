# share/runtime-tools.tsv parsed with builtins only, so that nixos/package.nix and
# `cargo test` (Debian's nix-instantiate, no nixpkgs) read the same list the same way.
#
# The file: one external program per line, `program<TAB>nixpkgs attribute<TAB>Debian
# package`; `#` comment lines and blank lines are skipped. A line with another number of
# fields fails evaluation, naming the line, rather than dropping a tool from the PATH.
{
  text ? builtins.readFile ../share/runtime-tools.tsv,
}:
let
  lines = builtins.filter (
    line: builtins.isString line && builtins.match "[ \t]*(#.*)?" line == null
  ) (builtins.split "\n" text);
  parse =
    line:
    let
      fields = builtins.filter builtins.isString (builtins.split "\t" line);
    in
    if builtins.length fields != 3 || builtins.elem "" fields then
      throw "share/runtime-tools.tsv: want `program<TAB>nixpkgs attribute<TAB>Debian package`, got \"${line}\""
    else
      {
        program = builtins.elemAt fields 0;
        nixpkgs = builtins.elemAt fields 1;
        debian = builtins.elemAt fields 2;
      };
  tools = map parse lines;
in
{
  inherit tools;
  # Each nixpkgs attribute once, in the order of first use (the wrapper's PATH order).
  nixpkgsAttrs = builtins.foldl' (
    acc: t: if builtins.elem t.nixpkgs acc then acc else acc ++ [ t.nixpkgs ]
  ) [ ] tools;
}
