//! The boot policy (SPEC §3.2): one enum, one variant per row of the table.
