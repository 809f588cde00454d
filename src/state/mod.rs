//! What the tool leaves behind for operators and for its own next run: the status
//! files (`storage-status`, `network-status`), written atomically, and the apply lock.

pub mod lock;
pub mod status;
