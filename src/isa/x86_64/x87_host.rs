//! Execution of one x87 instruction on the host's own FPU, so that results, condition codes,
//! exception flags, tags and stack faults are bit-exact without a software model of 80-bit
//! arithmetic.
//!
//! The guest's x87 state is converted into an FXSAVE image, loaded with `fxrstor64`, the
//! instruction runs (memory operands point at a small host buffer), and the state is taken
//! back with `fxsave64`; then `fninit` + the saved host control word put the host FPU back
//! into the state the System V ABI expects (empty stack, caller-saved status word).
//! `fxsave`/`fninit` do not wait, so an unmasked exception raised by the guest's instruction
//! only sets ES in the saved image and never traps in the host; the caller never runs an
//! instruction while the guest has one pending (that is the guest's SIGFPE).
//!
//! Host-defined results: IEEE-specified operations (add, sub, mul, div, sqrt, rounding, the
//! format conversions, compares, fprem/fprem1, fscale, fxtract) are exact on every x86 CPU.
//! The transcendental instructions (fsin, fcos, fsincos, fptan, fpatan, f2xm1, fyl2x, fyl2xp1)
//! and the values of flags Intel leaves "undefined" are whatever the host CPU produces, so a
//! replay on a CPU of another vendor (or generation) may differ in the last bit of those.

use super::state::X87;
use core::arch::asm;
use iced_x86::Code;

/// The x87 part of an FXSAVE image (the whole 512-byte area, 16-byte aligned). The XMM and
/// MXCSR fields are scratch: MXCSR is refreshed from the host before `fxrstor`, and the XMM
/// registers the image loads are declared clobbered.
#[repr(C, align(16))]
#[derive(Clone)]
pub struct Image(pub [u8; 512]);

/// Status word bits.
pub mod sw {
    /// Exception flags IE DE ZE OE UE PE.
    pub const EXC: u16 = 0x3f;
    pub const SF: u16 = 1 << 6;
    pub const ES: u16 = 1 << 7;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const TOP: u16 = 7 << 11;
    pub const C3: u16 = 1 << 14;
    pub const B: u16 = 1 << 15;
}

impl Image {
    /// The guest state as an FXSAVE image (registers in stack order).
    pub fn from_state(x: &X87) -> Image {
        let mut img = Image([0; 512]);
        let b = &mut img.0;
        b[0..2].copy_from_slice(&x.fcw.to_le_bytes());
        let mut fsw = (x.fsw & !sw::TOP) | ((x.top as u16 & 7) << 11);
        // ES/B mean "an unmasked exception is pending"; the caller never gets here with one,
        // and a stale ES must not make the host trap.
        if x.fsw & !x.fcw & sw::EXC == 0 {
            fsw &= !(sw::ES | sw::B);
        }
        b[2..4].copy_from_slice(&fsw.to_le_bytes());
        b[4] = x.ftw;
        // MXCSR (24..28) is filled in by the asm; keep a harmless value in case.
        b[24..28].copy_from_slice(&0x1f80u32.to_le_bytes());
        for i in 0..8 {
            let r = (x.top as usize + i) & 7;
            b[32 + 16 * i..42 + 16 * i].copy_from_slice(&x.regs[r][..10]);
        }
        img
    }

    /// Write the image back into the guest state.
    pub fn to_state(&self, x: &mut X87) {
        let b = &self.0;
        x.fcw = u16::from_le_bytes([b[0], b[1]]);
        let fsw = u16::from_le_bytes([b[2], b[3]]);
        x.top = ((fsw >> 11) & 7) as u8;
        x.fsw = fsw & !sw::TOP;
        x.ftw = b[4];
        for i in 0..8 {
            let r = (x.top as usize + i) & 7;
            x.regs[r][..10].copy_from_slice(&b[32 + 16 * i..42 + 16 * i]);
            x.regs[r][10..].fill(0);
        }
    }
}

/// Memory operand of an x87 instruction run on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemOp {
    None,
    /// Reads this many bytes.
    Load(usize),
    /// Writes this many bytes (or nothing, when an unmasked exception suppresses the store).
    Store(usize),
}

/// The memory operand of a host-run code (`None` also for codes `run` does not know).
pub fn mem_op(code: Code) -> MemOp {
    use Code::*;
    match code {
        Fadd_m32fp | Fmul_m32fp | Fcom_m32fp | Fcomp_m32fp | Fsub_m32fp | Fsubr_m32fp | Fdiv_m32fp | Fdivr_m32fp
        | Fiadd_m32int | Fimul_m32int | Ficom_m32int | Ficomp_m32int | Fisub_m32int | Fisubr_m32int | Fidiv_m32int
        | Fidivr_m32int | Fld_m32fp | Fild_m32int => MemOp::Load(4),
        Fadd_m64fp | Fmul_m64fp | Fcom_m64fp | Fcomp_m64fp | Fsub_m64fp | Fsubr_m64fp | Fdiv_m64fp | Fdivr_m64fp
        | Fld_m64fp | Fild_m64int => MemOp::Load(8),
        Fiadd_m16int | Fimul_m16int | Ficom_m16int | Ficomp_m16int | Fisub_m16int | Fisubr_m16int | Fidiv_m16int
        | Fidivr_m16int | Fild_m16int => MemOp::Load(2),
        Fld_m80fp | Fbld_m80bcd => MemOp::Load(10),
        Fst_m32fp | Fstp_m32fp | Fist_m32int | Fistp_m32int | Fisttp_m32int => MemOp::Store(4),
        Fst_m64fp | Fstp_m64fp | Fistp_m64int | Fisttp_m64int => MemOp::Store(8),
        Fist_m16int | Fistp_m16int | Fisttp_m16int => MemOp::Store(2),
        Fstp_m80fp | Fbstp_m80bcd => MemOp::Store(10),
        _ => MemOp::None,
    }
}

/// Run the instruction `code` (register operand ST(`i`), memory operand in `buf`) on the host
/// with the state in `img`, which is updated. `cond` is the already-evaluated fcmov
/// condition. Returns the host RFLAGS after the instruction (meaningful for fcomi and
/// friends), or `None` if `code` is not one this function runs.
pub fn run(code: Code, i: u32, cond: bool, img: &mut Image, buf: &mut [u8; 16]) -> Option<u64> {
    let img = img.0.as_mut_ptr();
    let buf = buf.as_mut_ptr();
    let cc = cond as u32;
    let fl: u64;

    // One asm block per instruction form: the template must be a literal.
    macro_rules! host {
        ($op:expr) => {{
            // SAFETY: `img` points at a 16-byte aligned 512-byte FXSAVE area we own
            // exclusively (bytes 508..510 are free for software and hold the host control word),
            // and `buf` at 16 bytes we own; the only memory the instruction touches is `[buf]`
            // (at most 10 bytes). `fxrstor64` loads the guest's x87 state with the host's own
            // MXCSR (stored just before) so SSE behaviour is unchanged; the XMM registers it
            // loads are declared clobbered, as are the x87 registers. The instruction runs
            // with no unmasked exception pending (checked by the caller, ES/B cleared by
            // `Image::from_state`), so it cannot trap; `fxsave64` and `fninit` do not wait,
            // so an exception it leaves pending cannot trap either. `fninit` + `fldcw` restore
            // the ABI state of the x87 unit (empty stack, the host's control word).
            // pushfq/pop use the stack, so this block does not claim `nostack`.
            unsafe {
                asm!(
                    "fnstcw word ptr [{img} + 508]",
                    "stmxcsr dword ptr [{img} + 24]",
                    "fxrstor64 [{img}]",
                    "cmp {cc:e}, 1",
                    $op,
                    "pushfq",
                    "pop {fl}",
                    "fxsave64 [{img}]",
                    "fninit",
                    "fldcw word ptr [{img} + 508]",
                    "/* {buf} */",
                    img = in(reg) img,
                    buf = in(reg) buf,
                    cc = in(reg) cc,
                    fl = lateout(reg) fl,
                    out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                    out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                    out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                    out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                );
            }
        }};
    }
    // The eight register forms `pre i post`.
    macro_rules! sti {
        ($pre:literal, $post:literal) => {
            match i & 7 {
                0 => host!(concat!($pre, "0", $post)),
                1 => host!(concat!($pre, "1", $post)),
                2 => host!(concat!($pre, "2", $post)),
                3 => host!(concat!($pre, "3", $post)),
                4 => host!(concat!($pre, "4", $post)),
                5 => host!(concat!($pre, "5", $post)),
                6 => host!(concat!($pre, "6", $post)),
                _ => host!(concat!($pre, "7", $post)),
            }
        };
    }

    use Code::*;
    match code {
        // ---- loads ----
        Fld_m32fp => host!("fld dword ptr [{buf}]"),
        Fld_m64fp => host!("fld qword ptr [{buf}]"),
        Fld_m80fp => host!("fld tbyte ptr [{buf}]"),
        Fld_sti => sti!("fld st(", ")"),
        Fild_m16int => host!("fild word ptr [{buf}]"),
        Fild_m32int => host!("fild dword ptr [{buf}]"),
        Fild_m64int => host!("fild qword ptr [{buf}]"),
        Fbld_m80bcd => host!("fbld tbyte ptr [{buf}]"),
        Fld1 => host!("fld1"),
        Fldl2t => host!("fldl2t"),
        Fldl2e => host!("fldl2e"),
        Fldpi => host!("fldpi"),
        Fldlg2 => host!("fldlg2"),
        Fldln2 => host!("fldln2"),
        Fldz => host!("fldz"),

        // ---- stores ----
        Fst_m32fp => host!("fst dword ptr [{buf}]"),
        Fst_m64fp => host!("fst qword ptr [{buf}]"),
        Fstp_m32fp => host!("fstp dword ptr [{buf}]"),
        Fstp_m64fp => host!("fstp qword ptr [{buf}]"),
        Fstp_m80fp => host!("fstp tbyte ptr [{buf}]"),
        Fst_sti => sti!("fst st(", ")"),
        Fstp_sti => sti!("fstp st(", ")"),
        // Reserved aliases of fstp st(i): run the very same bytes.
        Fstpnce_sti => sti!(".byte 0xd9, 0xd8+", ""),
        Fstp_sti_DFD0 => sti!(".byte 0xdf, 0xd0+", ""),
        Fstp_sti_DFD8 => sti!(".byte 0xdf, 0xd8+", ""),
        Fist_m16int => host!("fist word ptr [{buf}]"),
        Fist_m32int => host!("fist dword ptr [{buf}]"),
        Fistp_m16int => host!("fistp word ptr [{buf}]"),
        Fistp_m32int => host!("fistp dword ptr [{buf}]"),
        Fistp_m64int => host!("fistp qword ptr [{buf}]"),
        Fisttp_m16int => host!("fisttp word ptr [{buf}]"),
        Fisttp_m32int => host!("fisttp dword ptr [{buf}]"),
        Fisttp_m64int => host!("fisttp qword ptr [{buf}]"),
        Fbstp_m80bcd => host!("fbstp tbyte ptr [{buf}]"),

        // ---- arithmetic ----
        Fadd_m32fp => host!("fadd dword ptr [{buf}]"),
        Fadd_m64fp => host!("fadd qword ptr [{buf}]"),
        Fadd_st0_sti => sti!("fadd st, st(", ")"),
        Fadd_sti_st0 => sti!(".byte 0xdc, 0xc0+", ""),
        Faddp_sti_st0 => sti!(".byte 0xde, 0xc0+", ""),
        Fiadd_m16int => host!("fiadd word ptr [{buf}]"),
        Fiadd_m32int => host!("fiadd dword ptr [{buf}]"),
        Fmul_m32fp => host!("fmul dword ptr [{buf}]"),
        Fmul_m64fp => host!("fmul qword ptr [{buf}]"),
        Fmul_st0_sti => sti!("fmul st, st(", ")"),
        Fmul_sti_st0 => sti!(".byte 0xdc, 0xc8+", ""),
        Fmulp_sti_st0 => sti!(".byte 0xde, 0xc8+", ""),
        Fimul_m16int => host!("fimul word ptr [{buf}]"),
        Fimul_m32int => host!("fimul dword ptr [{buf}]"),
        // The st(i),st0 forms of sub/subr/div/divr are written as bytes: assemblers disagree
        // on which of the two opcodes the mnemonics mean.
        Fsub_m32fp => host!("fsub dword ptr [{buf}]"),
        Fsub_m64fp => host!("fsub qword ptr [{buf}]"),
        Fsub_st0_sti => sti!(".byte 0xd8, 0xe0+", ""),
        Fsub_sti_st0 => sti!(".byte 0xdc, 0xe8+", ""),
        Fsubp_sti_st0 => sti!(".byte 0xde, 0xe8+", ""),
        Fisub_m16int => host!("fisub word ptr [{buf}]"),
        Fisub_m32int => host!("fisub dword ptr [{buf}]"),
        Fsubr_m32fp => host!("fsubr dword ptr [{buf}]"),
        Fsubr_m64fp => host!("fsubr qword ptr [{buf}]"),
        Fsubr_st0_sti => sti!(".byte 0xd8, 0xe8+", ""),
        Fsubr_sti_st0 => sti!(".byte 0xdc, 0xe0+", ""),
        Fsubrp_sti_st0 => sti!(".byte 0xde, 0xe0+", ""),
        Fisubr_m16int => host!("fisubr word ptr [{buf}]"),
        Fisubr_m32int => host!("fisubr dword ptr [{buf}]"),
        Fdiv_m32fp => host!("fdiv dword ptr [{buf}]"),
        Fdiv_m64fp => host!("fdiv qword ptr [{buf}]"),
        Fdiv_st0_sti => sti!(".byte 0xd8, 0xf0+", ""),
        Fdiv_sti_st0 => sti!(".byte 0xdc, 0xf8+", ""),
        Fdivp_sti_st0 => sti!(".byte 0xde, 0xf8+", ""),
        Fidiv_m16int => host!("fidiv word ptr [{buf}]"),
        Fidiv_m32int => host!("fidiv dword ptr [{buf}]"),
        Fdivr_m32fp => host!("fdivr dword ptr [{buf}]"),
        Fdivr_m64fp => host!("fdivr qword ptr [{buf}]"),
        Fdivr_st0_sti => sti!(".byte 0xd8, 0xf8+", ""),
        Fdivr_sti_st0 => sti!(".byte 0xdc, 0xf0+", ""),
        Fdivrp_sti_st0 => sti!(".byte 0xde, 0xf0+", ""),
        Fidivr_m16int => host!("fidivr word ptr [{buf}]"),
        Fidivr_m32int => host!("fidivr dword ptr [{buf}]"),
        Fchs => host!("fchs"),
        Fabs => host!("fabs"),
        Fsqrt => host!("fsqrt"),
        Frndint => host!("frndint"),
        Fscale => host!("fscale"),
        Fxtract => host!("fxtract"),
        Fprem => host!("fprem"),
        Fprem1 => host!("fprem1"),

        // ---- transcendental (host-defined last bit, see the module comment) ----
        F2xm1 => host!("f2xm1"),
        Fyl2x => host!("fyl2x"),
        Fyl2xp1 => host!("fyl2xp1"),
        Fptan => host!("fptan"),
        Fpatan => host!("fpatan"),
        Fsin => host!("fsin"),
        Fcos => host!("fcos"),
        Fsincos => host!("fsincos"),

        // ---- compares ----
        Fcom_m32fp => host!("fcom dword ptr [{buf}]"),
        Fcom_m64fp => host!("fcom qword ptr [{buf}]"),
        Fcom_st0_sti => sti!(".byte 0xd8, 0xd0+", ""),
        Fcom_st0_sti_DCD0 => sti!(".byte 0xdc, 0xd0+", ""),
        Fcomp_m32fp => host!("fcomp dword ptr [{buf}]"),
        Fcomp_m64fp => host!("fcomp qword ptr [{buf}]"),
        Fcomp_st0_sti => sti!(".byte 0xd8, 0xd8+", ""),
        Fcomp_st0_sti_DCD8 => sti!(".byte 0xdc, 0xd8+", ""),
        Fcomp_st0_sti_DED0 => sti!(".byte 0xde, 0xd0+", ""),
        Fcompp => host!("fcompp"),
        Fucom_st0_sti => sti!(".byte 0xdd, 0xe0+", ""),
        Fucomp_st0_sti => sti!(".byte 0xdd, 0xe8+", ""),
        Fucompp => host!("fucompp"),
        Ficom_m16int => host!("ficom word ptr [{buf}]"),
        Ficom_m32int => host!("ficom dword ptr [{buf}]"),
        Ficomp_m16int => host!("ficomp word ptr [{buf}]"),
        Ficomp_m32int => host!("ficomp dword ptr [{buf}]"),
        Fcomi_st0_sti => sti!(".byte 0xdb, 0xf0+", ""),
        Fcomip_st0_sti => sti!(".byte 0xdf, 0xf0+", ""),
        Fucomi_st0_sti => sti!(".byte 0xdb, 0xe8+", ""),
        Fucomip_st0_sti => sti!(".byte 0xdf, 0xe8+", ""),
        Ftst => host!("ftst"),
        Fxam => host!("fxam"),

        // ---- stack and register management ----
        Fxch_st0_sti => sti!(".byte 0xd9, 0xc8+", ""),
        Fxch_st0_sti_DDC8 => sti!(".byte 0xdd, 0xc8+", ""),
        Fxch_st0_sti_DFC8 => sti!(".byte 0xdf, 0xc8+", ""),
        Ffree_sti => sti!(".byte 0xdd, 0xc0+", ""),
        Ffreep_sti => sti!(".byte 0xdf, 0xc0+", ""),
        Fdecstp => host!("fdecstp"),
        Fincstp => host!("fincstp"),
        Fnop => host!("fnop"),
        // fcmovcc: the caller evaluated the guest's condition; ZF = cond here (cmp cc, 1).
        Fcmovb_st0_sti | Fcmove_st0_sti | Fcmovbe_st0_sti | Fcmovu_st0_sti | Fcmovnb_st0_sti | Fcmovne_st0_sti
        | Fcmovnbe_st0_sti | Fcmovnu_st0_sti => sti!(".byte 0xda, 0xc8+", ""),

        _ => return None,
    }
    Some(fl)
}
