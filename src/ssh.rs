//! sshd: authorized keys, hardened sshd_config, non-blocking start (SPEC §4.3).
