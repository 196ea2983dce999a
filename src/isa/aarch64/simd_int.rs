use super::{Decoded, Res, M};
pub fn three_same(m: &mut M, d: &Decoded, _s: bool) -> Res { super::unimplemented(m, d) }
pub fn three_different(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
pub fn two_reg_misc(m: &mut M, d: &Decoded, _s: bool) -> Res { super::unimplemented(m, d) }
pub fn across_lanes(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
