//! Verify: read the disks back into the plan's own types and diff (SPEC §3.5).
