//! (to be written)

use super::table::Table;

pub fn register(_t: &mut Table) {}
