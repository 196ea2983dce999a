use super::{Decoded, Res, M};
pub fn indexed(m: &mut M, d: &Decoded, _s: bool) -> Res { super::unimplemented(m, d) }
