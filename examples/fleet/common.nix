# What every host of the fleet shares; the per-machine parts come from pre-nixos's
# generated hardware-disk.nix and network-lan.nix.
{ ... }:
{
  boot.initrd.availableKernelModules = [
    "ahci"
    "nvme"
    "sd_mod"
    "virtio_pci"
    "virtio_scsi"
  ];
  services.openssh.enable = true;
  services.openssh.settings.PasswordAuthentication = false;
  users.users.root.openssh.authorizedKeys.keys = [
    # The operator's key, as in the pre-nixos image.
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOdy7Cm9Eg7Wic9soJOxDSVXfSsNoZQuyhTfzPI8VdLC operator@example"
  ];
  system.stateVersion = "26.05";
}
