{
  description = "pre-nixos: turn a bare-metal server booted from a NixOS ISO into a machine ready for nixos-install";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    # The disko executor drives disko's CLI as of v1.13.0 (`--mode destroy,format,mount
    # --yes-wipe-all-disks`); master after it changed mount and swap behaviour.
    disko = {
      url = "github:nix-community/disko/v1.13.0";
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      disko,
    }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};

      # The package for any pkgs (the module builds it with the system's own nixpkgs).
      mkPackage =
        pkgs':
        pkgs'.callPackage ./nixos/package.nix {
          disko = disko.packages.${pkgs'.stdenv.hostPlatform.system}.disko;
        };
      # Named after its file, so NixOS error messages and option docs point at it.
      module = {
        _file = ./nixos/module.nix;
        imports = [ (import ./nixos/module.nix mkPackage) ];
      };
    in
    {
      packages.${system} = {
        pre-nixos = mkPackage pkgs;
        default = self.packages.${system}.pre-nixos;
        iso = self.nixosConfigurations.pre-installer.config.system.build.isoImage;
      };

      nixosModules = {
        pre-nixos = module;
        default = module;
      };

      nixosConfigurations.pre-installer = nixpkgs.lib.nixosSystem {
        inherit system;
        specialArgs = { inherit disko; };
        modules = [
          module
          ./nixos/iso.nix
        ];
      };

      checks.${system} = {
        inherit (self.packages.${system}) pre-nixos;
        boot = import ./nixos/tests/boot.nix { inherit pkgs module; };
      };

      devShells.${system}.default = pkgs.mkShell {
        inputsFrom = [ self.packages.${system}.pre-nixos ];
        packages = [
          pkgs.clippy
          pkgs.rustfmt
          pkgs.nix
          pkgs.qemu
        ];
      };

      formatter.${system} = pkgs.nixfmt-rfc-style;
    };
}
