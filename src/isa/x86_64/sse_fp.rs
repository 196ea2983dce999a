//! (to be written)

use super::table::Table;

pub fn register(_t: &mut Table) {}

/// SSE2 `movsd` (iced shares the mnemonic with the string move; string.rs dispatches).
pub fn movsd_sse(m: &mut super::M, ins: &iced_x86::Instruction) -> super::Res {
    super::unimplemented(m, ins)
}

/// SSE2 `cmpsd` (iced shares the mnemonic with the string compare; string.rs dispatches).
pub fn cmpsd_sse(m: &mut super::M, ins: &iced_x86::Instruction) -> super::Res {
    super::unimplemented(m, ins)
}
