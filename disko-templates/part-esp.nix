{{key}} = {
  priority = {{priority}};
  size = "{{size}}";
  type = "EF00";
  content = {
    type = "filesystem";
    format = "vfat";
    extraArgs = [ "-n" "{{label}}" ];
    {{mount}}
  };
};
