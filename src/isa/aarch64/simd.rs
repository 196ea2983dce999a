//! (to be written)

use super::table::Table;
use super::{Decoded, Res, M};

pub fn register(t: &mut Table) {
    super::simd_decode::register(t);
}

pub fn copy(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn scalar_copy(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn modified_imm(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn permute(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn extract(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn table_lookup(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
