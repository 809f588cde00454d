# A manual, deeper check of nixos/module.nix and the image profiles than `cargo test`
# can do offline: the real nixpkgs lib.evalModules, with the NixOS options they set
# declared here as freeform and the installer/netboot profiles replaced by empty
# stand-ins (./stub-modules). It needs a nixpkgs lib tree (nixpkgs/lib, or the
# nixpkgs.lib flake; one of the 25.05 era evaluates on Debian's Nix 2.8), which is not
# vendored; `cargo test` uses ./eval-module.nix and its stub lib instead.
#
#   nix-instantiate --eval --strict --json tests/nix/eval-module-real-lib.nix \
#     --arg libPath /path/to/nixpkgs/lib \
#     --arg settings '{ enable = true; authorizedKeys = [ "ssh-ed25519 AAAA… op" ]; }' \
#     --arg profile '"iso"'        # or "netboot"; null (default): the module alone
#
# Prints the ExecStart, failed assertion messages, warnings, sshd's wantedBy and
# settings, the networking the policy sets, the kernel parameters and the authorized_keys
# text; a type error or a conflicting definition names the option, as in NixOS.
{
  libPath,
  settings,
  profile ? null,
}:
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
      modulesPath = toString ./stub-modules;
      pkgs = {
        path = "/nix/store/00000000000000000000000000000000-nixpkgs";
        writeText = name: text: {
          inherit name text;
          outPath = "/nix/store/00000000000000000000000000000000-${name}";
        };
      };
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
          services.getty = freeform;
          services.lvm = freeform;
          boot = freeform;
          programs = freeform;
          isoImage = freeform;
          nixpkgs = freeform;
          system = freeform;
        };
        config.services.pre-nixos = settings;
      }
    ]
    ++ lib.optional (profile != null) ../../nixos/${profile}.nix;
  };
  c = evaluated.config;
in
{
  failed = map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);
  inherit (c) warnings;
  execStart = c.systemd.services.pre-nixos.serviceConfig.ExecStart or null;
  sshdWantedBy = c.systemd.services.sshd.wantedBy or null;
  sshSettings = c.services.openssh.settings or null;
  networking = c.networking;
  kernelParams = c.boot.kernelParams or null;
  imagePolicy = c.services.pre-nixos.imagePolicy.enable;
  overlays = builtins.length (c.nixpkgs.overlays or [ ]);
  authorizedKeys = c.environment.etc."pre-nixos/authorized_keys".text or null;
}
