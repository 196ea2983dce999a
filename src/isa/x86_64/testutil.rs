//! Small helpers shared by the instruction-group unit tests.

use super::table::TABLE;
use super::{Res, X86State, M};
use crate::engine::Machine;
use crate::mem::{flags, Memory};
use iced_x86::{Decoder, DecoderOptions, Instruction};

/// Start of the executable (R+X) code page.
pub const CODE: u64 = 0x1000;
/// Start and length of the read-write data area.
pub const DATA: u64 = 0x10000;
pub const DATA_LEN: u64 = 0x10000;

/// A 16 MiB guest with one R+X code page at `CODE` and RW data at `DATA..DATA+DATA_LEN`.
pub fn machine() -> M {
    let mut mem = Memory::new(1 << 24).expect("reserve guest memory");
    assert!(mem.map(CODE, 0x1000, flags::R | flags::X));
    assert!(mem.map(DATA, DATA_LEN, flags::R | flags::W));
    Machine { cpu: X86State::default(), mem, icount: 0, limit: u64::MAX }
}

/// Decode one 64-bit instruction from `bytes` as if it were at `CODE`.
pub fn decode(bytes: &[u8]) -> Instruction {
    let ins = Decoder::with_ip(64, bytes, CODE, DecoderOptions::NONE).decode();
    assert!(!ins.is_invalid(), "undecodable {bytes:02x?}");
    ins
}

/// Execute one instruction through its table handler, as the interpreter does (rip is set
/// to the next instruction first). Does not count it retired.
pub fn exec(m: &mut M, bytes: &[u8]) -> Res {
    let ins = decode(bytes);
    m.cpu.rip = ins.next_ip();
    TABLE.get(ins.mnemonic())(m, &ins)
}
