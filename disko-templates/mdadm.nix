# {{comment}}
{{name}} = {
  type = "mdadm";
  level = {{level}};
  metadata = "1.2";
  content = {
    type = "lvm_pv";
    vg = "{{vg}}";
  };
};
