{{note}}
{{name}} = {
  size = "{{size}}";
  content = {
    type = "filesystem";
    format = "ext4";
    extraArgs = [ {{extra_args}} ];
    mountpoint = "{{mountpoint}}";
    mountOptions = [ {{mount_options}} ];
  };
};
