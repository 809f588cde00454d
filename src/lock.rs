//! The apply lock: one `pre-nixos` changes disks at a time.
