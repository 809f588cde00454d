//! Leaves-first teardown of existing storage, only under a wipe switch (SPEC §3.3).
