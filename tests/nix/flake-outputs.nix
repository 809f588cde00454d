# Evaluates the outputs of ../../flake.nix with stand-ins for nixpkgs and disko, so
# `cargo test` can check the output names and the wiring between them without
# nixpkgs. Every stand-in only records what it was given; nothing is built.
let
  flake = import ../../flake.nix;
  system = "x86_64-linux";
  stubPkgs = {
    stdenv.hostPlatform.system = system;
    callPackage = fn: args: {
      stub = "package";
      file = toString fn;
      disko = args.disko.stub or null;
    };
    runCommand = name: _: _: { stub = "runCommand ${name}"; };
    symlinkJoin = args: {
      stub = "symlinkJoin";
      inherit (args) name;
      paths = map (p: p.stub) args.paths;
    };
    testers.runNixOSTest = test: {
      stub = "nixos-test";
      inherit (test) name;
    };
    mkShell = _: { stub = "shell"; };
    nixfmt-rfc-style = {
      stub = "nixfmt";
    };
    clippy = { };
    rustfmt = { };
    nix = { };
    qemu = { };
  };
  # A module as the flake hands it to nixosSystem: the file it names, and what it imports
  # (files by name, the pre-nixos module as "module").
  describeModule =
    m:
    if builtins.isPath m then
      baseNameOf m
    else if m ? _file && m ? imports then
      {
        file = baseNameOf m._file;
        imports = map describeModule m.imports;
      }
    else
      "module";
  nixpkgs = {
    legacyPackages.${system} = stubPkgs;
    lib.nixosSystem = args: {
      config.system.build = {
        isoImage = {
          stub = "iso";
          modules = map describeModule args.modules;
          specialArgs = builtins.attrNames (args.specialArgs or { });
        };
        kernel.stub = "kernel";
        netbootRamdisk.stub = "netbootRamdisk";
        netbootIpxeScript.stub = "netbootIpxeScript";
      };
      modules = map describeModule args.modules;
      specialArgs = builtins.attrNames (args.specialArgs or { });
    };
  };
  disko.packages.${system}.disko.stub = "disko-v1.13.0";
  self = flake.outputs { inherit self nixpkgs disko; };
in
{
  inputs = flake.inputs;
  outputArgs = builtins.attrNames (builtins.functionArgs flake.outputs);
  packages = builtins.mapAttrs (_: p: p) self.packages.${system};
  nixosModules = builtins.attrNames self.nixosModules;
  moduleFile = baseNameOf self.nixosModules.pre-nixos._file;
  moduleImportsFunction = builtins.isFunction (builtins.head self.nixosModules.pre-nixos.imports);
  profileModules = builtins.mapAttrs (_: describeModule) {
    inherit (self.nixosModules) iso netboot;
  };
  nixosConfigurations = builtins.mapAttrs (_: c: {
    inherit (c) modules specialArgs;
  }) self.nixosConfigurations;
  checks = self.checks.${system};
}
