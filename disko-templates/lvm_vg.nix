# {{comment}}
{{name}} = {
  type = "lvm_vg";
  lvs = {{lvs}};
};
