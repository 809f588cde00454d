{{key}} = {
  priority = {{priority}};
  size = "{{size}}";
  type = "8E00";
  content = {
    type = "lvm_pv";
    vg = "{{vg}}";
  };
};
