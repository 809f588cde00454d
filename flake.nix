{
  description = "pre-nixos: turn a bare-metal server booted from a NixOS ISO into a machine ready for nixos-install";

  inputs = {
    # NixOS 26.05 at an exact revision: the release's tag commit on nixos-26.05. Its
    # rustc is 1.95.0, which Cargo.toml's rust-version records (scripts/check-msrv holds
    # the locked tree to it). flake.lock pins the same revision with its narHash; moving
    # to a newer nixos-26.05 (or 26.11) revision means changing it here and in flake.lock
    # (`nix flake update nixpkgs`), and rust-version with it (docs/nixos.md).
    nixpkgs.url = "github:NixOS/nixpkgs/8c50a710ddca43d7a530fb805ad55bde8d0141c5";
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
          commit = self.shortRev or self.dirtyShortRev or "unknown";
        };
      # Named after its file, so NixOS error messages and option docs point at it.
      module = {
        _file = ./nixos/module.nix;
        imports = [ (import ./nixos/module.nix mkPackage) ];
      };
      # The module and a profile, for `imports = [ pre-nixos.nixosModules.iso ]`.
      withModule = profile: {
        _file = profile;
        imports = [
          module
          profile
        ];
      };
      mkImage =
        profile:
        nixpkgs.lib.nixosSystem {
          inherit system;
          modules = [ (withModule profile) ];
        };
      netbootConfig = self.nixosConfigurations.pre-netboot.config;
    in
    {
      packages.${system} = {
        pre-nixos = mkPackage pkgs;
        default = self.packages.${system}.pre-nixos;
        iso = self.nixosConfigurations.pre-installer.config.system.build.isoImage;
        # Kernel, initrd and netboot.ipxe in one directory, for a PXE/HTTP server.
        netboot = pkgs.symlinkJoin {
          name = "pre-nixos-netboot";
          paths = with netbootConfig.system.build; [
            kernel
            netbootRamdisk
            netbootIpxeScript
          ];
        };
      };

      nixosModules = {
        pre-nixos = module;
        default = module;
        iso = withModule ./nixos/iso.nix;
        netboot = withModule ./nixos/netboot.nix;
      };

      nixosConfigurations = {
        pre-installer = mkImage ./nixos/iso.nix;
        pre-netboot = mkImage ./nixos/netboot.nix;
      };

      checks.${system} = {
        inherit (self.packages.${system}) pre-nixos;
        # `nix flake check` also evaluates both nixosConfigurations (the ISO and netboot
        # systems) without building them.
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
