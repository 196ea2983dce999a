//! (to be written)

use super::SysTable;

pub fn register(_t: &mut SysTable) {}
