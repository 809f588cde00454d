//! Announcing on every console without ever blocking (SPEC §4.4).
