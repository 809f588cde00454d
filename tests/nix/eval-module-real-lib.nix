# A manual, deeper check of nixos/module.nix than `cargo test` can do offline: the
# real nixpkgs lib.evalModules, with the NixOS options the module sets declared here as
# freeform. It needs a nixpkgs lib tree (nixpkgs/lib, or the nixpkgs.lib flake), which
# is not vendored; `cargo test` uses ./eval-module.nix and its stub lib instead.
#
#   nix-instantiate --eval --strict --json tests/nix/eval-module-real-lib.nix \
#     --arg libPath /path/to/nixpkgs/lib \
#     --arg settings '{ enable = true; authorizedKeys = [ "ssh-ed25519 AAAA… op" ]; }'
#
# Prints the ExecStart, failed assertion messages, warnings, sshd's wantedBy and the
# authorized_keys text; a type error names the option, as in NixOS.
{ libPath, settings }:
let
  lib = import libPath;
  inherit (lib) mkOption types;
  freeform = mkOption {
    type = types.submodule { freeformType = types.attrsOf types.anything; };
    default = { };
  };
  stubPackage = {
    type = "derivation";
    name = "pre-nixos";
    outPath = "/nix/store/00000000000000000000000000000000-pre-nixos";
    meta.mainProgram = "pre-nixos";
    runtimeTools = [ ];
  };
  # NixOS' utils.escapeSystemdExecArgs (nixos/lib/utils.nix), for strings.
  utils.escapeSystemdExecArgs = lib.concatMapStringsSep " " (
    a: lib.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON a)
  );
  evaluated = lib.evalModules {
    specialArgs = {
      inherit utils;
      pkgs.path = "/nix/store/00000000000000000000000000000000-nixpkgs";
    };
    modules = [
      (import ../../nixos/module.nix (_: stubPackage))
      {
        options = {
          assertions = mkOption {
            type = types.listOf types.unspecified;
            default = [ ];
          };
          warnings = mkOption {
            type = types.listOf types.str;
            default = [ ];
          };
          environment = freeform;
          systemd = freeform;
          networking = freeform;
          services.openssh = freeform;
        };
        config.services.pre-nixos = settings;
      }
    ];
  };
  c = evaluated.config;
in
{
  failed = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  inherit (c) warnings;
  execStart = c.systemd.services.pre-nixos.serviceConfig.ExecStart or null;
  sshdWantedBy = c.systemd.services.sshd.wantedBy or null;
  sshSettings = c.services.openssh.settings or null;
  authorizedKeys = c.environment.etc."pre-nixos/authorized_keys".text or null;
}
