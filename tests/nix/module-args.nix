# The argument names a NixOS module file asks for, for `cargo test`: a profile that asks
# for something NixOS does not give every module (`disko`, `inputs`) only works where a
# flake passes it as a special argument.
{ file }: builtins.attrNames (builtins.functionArgs (import file))
