use super::{Decoded, Res, M};
pub fn shift_imm(m: &mut M, d: &Decoded, _s: bool) -> Res { super::unimplemented(m, d) }
