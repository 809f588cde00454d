{{name}} = {
  size = "{{size}}";
  content = {
    type = "swap";
    extraArgs = [ "-L" "{{label}}" ];
  };
};
