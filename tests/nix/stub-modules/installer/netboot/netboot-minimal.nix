# Stand-in for nixpkgs' nixos/modules/installer/netboot/netboot-minimal.nix in the by-hand check
# tests/nix/eval-module-real-lib.nix: it declares nothing, so what merges there is
# only our module and profiles. `nix build .#iso` / `.#netboot` use the real one.
{ }
