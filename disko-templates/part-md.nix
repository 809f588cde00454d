{{key}} = {
  priority = {{priority}};
  size = "{{size}}";
  type = "FD00";
  content = {
    type = "mdraid";
    name = "{{array}}";
  };
};
