# {{comment}}
{{key}} = {
  type = "disk";
  device = "{{device}}";
  content = {
    type = "gpt";
    partitions = {{partitions}};
  };
};
