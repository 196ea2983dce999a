use super::{Decoded, Res, M};
pub fn scalar_pairwise(m: &mut M, d: &Decoded) -> Res { super::unimplemented(m, d) }
