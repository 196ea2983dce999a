//! String instructions (SDM "String Instructions"): movs stos lods cmps scas in byte, word,
//! dword and qword forms, with and without REP/REPE/REPNE.
//!
//! icount (design §1): a REP-prefixed string instruction retires once per iteration, and once
//! when rCX is 0 (doing nothing). The run loop counts one retirement per `Ok(())`, so a handler
//! call that performs `k` iterations adds `k - 1` to `m.icount` itself, and never performs
//! more than `m.limit - m.icount` (at least one). If iterations remain when the budget runs
//! out, rip is set back to the instruction so the next run resumes it exactly. A memory fault
//! in an iteration leaves that iteration unretired: the iterations before it are counted in
//! icount and reflected in rSI/rDI/rCX, the faulting one changes nothing, and the engine
//! restarts the instruction after a signal handler returns.
//!
//! Speed: REP forms work in page-bounded chunks (one permission check and one host copy or
//! scan per chunk) and fall back to element-by-element execution for an element straddling a
//! page boundary, for a chunk that faults (to find the exact iteration) and for overlapping
//! `movs` whose distance is smaller than an element.
//!
//! Addressing: rSI/rDI/rCX, or ESI/EDI/ECX with the 0x67 address-size prefix (32-bit results
//! zero-extended, as on hardware). The source (rSI) honours an FS/GS segment override; the
//! destination (ES:rDI) is always flat.

use super::flags;
use super::operands::{mask, set_reg};
use super::predecode::{boxed, FastHandler, FastRes, Op, Spec};
use super::state::{fl, reg};
use super::table::Table;
use super::{Res, Trap, M};
use crate::mem::PAGE_SIZE;
use iced_x86::{Instruction, Mnemonic as Mn, OpKind, Register};

pub fn register(t: &mut Table) {
    t.add(
        &[
            Mn::Movsb,
            Mn::Movsw,
            Mn::Movsq,
            Mn::Stosb,
            Mn::Stosw,
            Mn::Stosd,
            Mn::Stosq,
            Mn::Lodsb,
            Mn::Lodsw,
            Mn::Lodsd,
            Mn::Lodsq,
            Mn::Cmpsb,
            Mn::Cmpsw,
            Mn::Cmpsq,
            Mn::Scasb,
            Mn::Scasw,
            Mn::Scasd,
            Mn::Scasq,
        ],
        string,
    );
    // iced shares these mnemonics with the SSE2 scalar-double forms.
    t.add(&[Mn::Movsd], movsd);
    t.add(&[Mn::Cmpsd], cmpsd);
    t.specialize(
        &[
            Mn::Movsb,
            Mn::Movsw,
            Mn::Movsd,
            Mn::Movsq,
            Mn::Stosb,
            Mn::Stosw,
            Mn::Stosd,
            Mn::Stosq,
            Mn::Lodsb,
            Mn::Lodsw,
            Mn::Lodsd,
            Mn::Lodsq,
            Mn::Cmpsb,
            Mn::Cmpsw,
            Mn::Cmpsd,
            Mn::Cmpsq,
            Mn::Scasb,
            Mn::Scasw,
            Mn::Scasd,
            Mn::Scasq,
        ],
        specialize_single,
    );
}

/// Pre-decoded single (non-REP) string instructions with 64-bit addressing and no FS/GS
/// override: [`one`] with its context fixed at compile time (kind `K` as in [`KINDS`],
/// element size `S`) but for DF, instead of [`string`] working it out from the instruction
/// each time.
fn specialize_single(op: &Op) -> Option<Spec> {
    let ins = &op.ins;
    if !ins.is_string_instruction() || ins.has_rep_prefix() || ins.has_repne_prefix() {
        return None;
    }
    let (kind, size) = kind_size(ins.mnemonic())?;
    let (a32, src_base) = addressing(ins)?;
    if a32 || src_base.is_some() {
        return None;
    }
    macro_rules! sizes {
        ($k:expr) => {
            [single::<$k, 1>, single::<$k, 2>, single::<$k, 4>, single::<$k, 8>]
        };
    }
    let by_kind: [[FastHandler; 4]; 5] = [sizes!(0), sizes!(1), sizes!(2), sizes!(3), sizes!(4)];
    let k = KINDS.iter().position(|&x| x == kind)?;
    Some(Spec { exact: by_kind[k][size.trailing_zeros() as usize], no_flags: None })
}

/// String kinds by the index [`single`] takes.
const KINDS: [Kind; 5] = [Kind::Movs, Kind::Stos, Kind::Lods, Kind::Cmps, Kind::Scas];

fn single<const K: usize, const S: u32>(m: &mut M, _op: &Op) -> FastRes {
    let c =
        Ctx { kind: KINDS[K], size: S, down: m.cpu.rflags & fl::DF != 0, a32: false, src_base: 0, rep: Prefix::None };
    boxed(one(m, &c))
}

/// `movsd`: the string move, or SSE2 `movsd xmm, xmm/m64` (sse_fp.rs).
pub fn movsd(m: &mut M, ins: &Instruction) -> Res {
    if ins.is_string_instruction() {
        string(m, ins)
    } else {
        super::sse_fp::movsd_sse(m, ins)
    }
}

/// `cmpsd`: the string compare, or SSE2 `cmpsd xmm, xmm/m64, imm8` (sse_fp.rs).
pub fn cmpsd(m: &mut M, ins: &Instruction) -> Res {
    if ins.is_string_instruction() {
        string(m, ins)
    } else {
        super::sse_fp::cmpsd_sse(m, ins)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Movs,
    Stos,
    Lods,
    Cmps,
    Scas,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Prefix {
    /// No repeat prefix: one iteration, rCX untouched.
    None,
    /// REP (F3, or F2 on movs/stos/lods, which hardware also treats as REP).
    Rep,
    /// REPE/REPZ (F3 on cmps/scas): stop when ZF = 0.
    Repe,
    /// REPNE/REPNZ (F2 on cmps/scas): stop when ZF = 1.
    Repne,
}

/// What one execution of a string instruction needs to know.
struct Ctx {
    kind: Kind,
    /// Element size in bytes (1, 2, 4 or 8).
    size: u32,
    /// DF = 1: addresses decrease.
    down: bool,
    /// 0x67 prefix: ESI/EDI/ECX.
    a32: bool,
    /// Segment base added to rSI (FS/GS override; 0 otherwise).
    src_base: u64,
    rep: Prefix,
}

impl Ctx {
    /// An index/count register as the address size sees it.
    #[inline]
    fn reg(&self, m: &M, r: usize) -> u64 {
        if self.a32 {
            m.cpu.gpr[r] as u32 as u64
        } else {
            m.cpu.gpr[r]
        }
    }

    /// Write an index/count register at the address size (32-bit writes zero-extend).
    #[inline]
    fn set(&self, m: &mut M, r: usize, v: u64) {
        m.cpu.gpr[r] = if self.a32 { v as u32 as u64 } else { v };
    }

    /// Move rSI or rDI past `k` elements in the string direction.
    #[inline]
    fn advance(&self, m: &mut M, r: usize, k: u64) {
        let d = k.wrapping_mul(self.size as u64);
        let v = self.reg(m, r);
        self.set(m, r, if self.down { v.wrapping_sub(d) } else { v.wrapping_add(d) });
    }

    /// Linear address of the source element (seg:rSI).
    #[inline]
    fn src(&self, m: &M) -> u64 {
        self.src_base.wrapping_add(self.reg(m, reg::RSI))
    }

    /// Linear address of the destination element (ES:rDI; ES is flat in 64-bit mode).
    #[inline]
    fn dst(&self, m: &M) -> u64 {
        self.reg(m, reg::RDI)
    }

    /// After a compare iteration: does the REPE/REPNE condition end the repetition?
    #[inline]
    fn cond_stops(&self, m: &M) -> bool {
        let zf = m.cpu.rflags & fl::ZF != 0;
        match self.rep {
            Prefix::Repe => !zf,
            Prefix::Repne => zf,
            _ => false,
        }
    }

    /// Account for `k` completed REP iterations: rCX and the retired count.
    #[inline]
    fn retire(&self, m: &mut M, k: u64, done: &mut u64) {
        let c = self.reg(m, reg::RCX);
        self.set(m, reg::RCX, c.wrapping_sub(k));
        *done += k;
    }

    /// Number of whole elements, starting with the one at `a` and moving in the string
    /// direction, that lie in the page holding `a`; 0 if the element at `a` straddles a page
    /// boundary.
    #[inline]
    fn page_room(&self, a: u64) -> u64 {
        let s = self.size as u64;
        let off = a & (PAGE_SIZE - 1);
        if off + s > PAGE_SIZE {
            0
        } else if self.down {
            off / s + 1
        } else {
            (PAGE_SIZE - off) / s
        }
    }

    /// Does the page holding `a` hold decoded code (a write there invalidates it)?
    #[inline]
    fn code_page(&self, m: &M, a: u64) -> bool {
        m.mem.page_flags(a) & crate::mem::flags::CODE != 0
    }

    /// With 32-bit addressing, the number of elements before the index register `r` wraps
    /// (its linear address would jump when the segment base is not 0); unbounded otherwise.
    #[inline]
    fn wrap_room(&self, m: &M, r: usize) -> u64 {
        if !self.a32 {
            return u64::MAX;
        }
        let s = self.size as u64;
        let v = self.reg(m, r);
        if self.down {
            v / s + 1
        } else {
            ((1u64 << 32) - v) / s
        }
    }

    /// Lowest address of a chunk of `k` elements whose first (in string order) is at `a`.
    #[inline]
    fn low(&self, a: u64, k: u64) -> u64 {
        if self.down {
            a - (k - 1) * self.size as u64
        } else {
            a
        }
    }

    /// Byte offset, within a chunk of `k` elements, of the `j`-th element in string order.
    #[inline]
    fn offset(&self, j: u64, k: u64) -> usize {
        (if self.down { k - 1 - j } else { j } * self.size as u64) as usize
    }
}

/// Kind and element size of a string mnemonic.
fn kind_size(mn: Mn) -> Option<(Kind, u32)> {
    Some(match mn {
        Mn::Movsb => (Kind::Movs, 1),
        Mn::Movsw => (Kind::Movs, 2),
        Mn::Movsd => (Kind::Movs, 4),
        Mn::Movsq => (Kind::Movs, 8),
        Mn::Stosb => (Kind::Stos, 1),
        Mn::Stosw => (Kind::Stos, 2),
        Mn::Stosd => (Kind::Stos, 4),
        Mn::Stosq => (Kind::Stos, 8),
        Mn::Lodsb => (Kind::Lods, 1),
        Mn::Lodsw => (Kind::Lods, 2),
        Mn::Lodsd => (Kind::Lods, 4),
        Mn::Lodsq => (Kind::Lods, 8),
        Mn::Cmpsb => (Kind::Cmps, 1),
        Mn::Cmpsw => (Kind::Cmps, 2),
        Mn::Cmpsd => (Kind::Cmps, 4),
        Mn::Cmpsq => (Kind::Cmps, 8),
        Mn::Scasb => (Kind::Scas, 1),
        Mn::Scasw => (Kind::Scas, 2),
        Mn::Scasd => (Kind::Scas, 4),
        Mn::Scasq => (Kind::Scas, 8),
        _ => return None,
    })
}

/// Addressing of a string instruction: (32-bit addressing, FS/GS override of the source).
/// None for 16-bit addressing (not encodable in 64-bit mode).
fn addressing(ins: &Instruction) -> Option<(bool, Option<Register>)> {
    let mut a32 = false;
    for i in 0..ins.op_count() {
        match ins.op_kind(i) {
            OpKind::MemorySegRSI | OpKind::MemoryESRDI => {}
            OpKind::MemorySegESI | OpKind::MemoryESEDI => a32 = true,
            // 16-bit addressing cannot be encoded in 64-bit mode.
            OpKind::MemorySegSI | OpKind::MemoryESDI => return None,
            _ => {}
        }
    }
    let seg = match ins.segment_prefix() {
        r @ (Register::FS | Register::GS) => Some(r),
        _ => None,
    };
    Some((a32, seg))
}

/// Every string mnemonic: decode the form, then run one iteration or the REP loop.
pub fn string(m: &mut M, ins: &Instruction) -> Res {
    let Some((kind, size)) = kind_size(ins.mnemonic()) else { return super::unimplemented(m, ins) };
    let Some((a32, seg)) = addressing(ins) else { return super::unimplemented(m, ins) };
    let src_base = match seg {
        Some(Register::FS) => m.cpu.fs_base,
        Some(Register::GS) => m.cpu.gs_base,
        _ => 0,
    };
    let compares = matches!(kind, Kind::Cmps | Kind::Scas);
    let rep = if ins.has_repe_prefix() {
        if compares {
            Prefix::Repe
        } else {
            Prefix::Rep
        }
    } else if ins.has_repne_prefix() {
        if compares {
            Prefix::Repne
        } else {
            Prefix::Rep
        }
    } else {
        Prefix::None
    };
    let c = Ctx { kind, size, down: m.cpu.rflags & fl::DF != 0, a32, src_base, rep };
    if rep == Prefix::None {
        one(m, &c)
    } else {
        rep_loop(m, ins, &c)
    }
}

/// Write the accumulator at `size` with x86's partial-register rules.
#[inline]
fn set_acc(m: &mut M, size: u32, v: u64) {
    let r = match size {
        1 => Register::AL,
        2 => Register::AX,
        4 => Register::EAX,
        _ => Register::RAX,
    };
    set_reg(m, r, v);
}

/// One iteration at the current registers, without touching rCX. Memory is accessed before
/// any register changes, so a fault leaves the state as it was.
fn one(m: &mut M, c: &Ctx) -> Res {
    let s = c.size;
    match c.kind {
        Kind::Movs => {
            let v = m.mem.read_sized(c.src(m), s)?;
            m.mem.write_sized(c.dst(m), s, v)?;
            c.advance(m, reg::RSI, 1);
            c.advance(m, reg::RDI, 1);
        }
        Kind::Stos => {
            m.mem.write_sized(c.dst(m), s, m.cpu.gpr[reg::RAX])?;
            c.advance(m, reg::RDI, 1);
        }
        Kind::Lods => {
            let v = m.mem.read_sized(c.src(m), s)?;
            set_acc(m, s, v);
            c.advance(m, reg::RSI, 1);
        }
        Kind::Cmps => {
            let a = m.mem.read_sized(c.src(m), s)?;
            let b = m.mem.read_sized(c.dst(m), s)?;
            flags::set_status(m, flags::sub(a, b, 0, a.wrapping_sub(b), s));
            c.advance(m, reg::RSI, 1);
            c.advance(m, reg::RDI, 1);
        }
        Kind::Scas => {
            let a = m.cpu.gpr[reg::RAX] & mask(s);
            let b = m.mem.read_sized(c.dst(m), s)?;
            flags::set_status(m, flags::sub(a, b, 0, a.wrapping_sub(b), s));
            c.advance(m, reg::RDI, 1);
        }
    }
    Ok(())
}

/// The REP loop: as many iterations as rCX, the REPE/REPNE condition and the budget allow.
fn rep_loop(m: &mut M, ins: &Instruction, c: &Ctx) -> Res {
    let count = c.reg(m, reg::RCX);
    if count == 0 {
        return Ok(()); // retires once, does nothing
    }
    let n = count.min(m.limit.saturating_sub(m.icount).max(1));
    let mut done = 0u64;
    match chunks(m, c, n, &mut done) {
        Ok(stopped) => {
            // The run loop counts one of the `done` iterations.
            m.icount += done - 1;
            if !stopped && c.reg(m, reg::RCX) != 0 {
                m.cpu.rip = ins.ip(); // budget exhausted: resume here
            }
            Ok(())
        }
        Err(t) => {
            // The iterations before the faulting one retired; the run loop adds nothing.
            m.icount += done;
            Err(t)
        }
    }
}

/// Perform up to `n` iterations (at least one unless the first faults), counting them in
/// `done`. Returns whether a REPE/REPNE condition ended the repetition.
///
/// Self-modifying code: an iteration that writes to a page holding decoded code is the last
/// one of this call (its chunk is a single element), and the instruction resumes from a fresh
/// decode, which sees the new bytes. Where that happens must not depend on the budget (a
/// budget that ended the call earlier would also re-decode there): found by the exec_x86 fuzz
/// target, see tests/hostile_fuzz.rs.
fn chunks(m: &mut M, c: &Ctx, n: u64, done: &mut u64) -> Result<bool, Trap> {
    type Chunk = fn(&mut M, &Ctx, u64, &mut u64) -> Result<bool, Trap>;
    let chunk: Chunk = match c.kind {
        Kind::Movs => {
            // Bounce buffer: chunks never exceed it, nor cross a page. Short strings use a
            // small one on the stack (a page-sized stack array costs a stack probe).
            let mut small = [0u8; 256];
            let mut big;
            let buf: &mut [u8] = if n.saturating_mul(c.size as u64) <= small.len() as u64 {
                &mut small
            } else {
                big = vec![0u8; PAGE_SIZE as usize];
                &mut big
            };
            while *done < n && !m.mem.has_code_writes() {
                movs_chunk(m, c, n - *done, done, buf)?;
            }
            return Ok(false);
        }
        Kind::Stos => stos_chunk,
        Kind::Lods => lods_chunk,
        Kind::Cmps => cmps_chunk,
        Kind::Scas => scas_chunk,
    };
    while *done < n && !m.mem.has_code_writes() {
        if chunk(m, c, n - *done, done)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Up to `k` iterations one element at a time (exact faults, straddling elements).
fn elementwise(m: &mut M, c: &Ctx, k: u64, done: &mut u64) -> Result<bool, Trap> {
    for _ in 0..k {
        one(m, c)?;
        c.retire(m, 1, done);
        if c.cond_stops(m) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Little-endian element of `s` bytes at the start of `b`.
#[inline]
fn le(b: &[u8], s: usize) -> u64 {
    let mut x = [0u8; 8];
    x[..s].copy_from_slice(&b[..s]);
    u64::from_le_bytes(x)
}

fn movs_chunk(m: &mut M, c: &Ctx, left: u64, done: &mut u64, buf: &mut [u8]) -> Result<(), Trap> {
    let s = c.size as u64;
    let (src, dst) = (c.src(m), c.dst(m));
    let mut k = left
        .min(buf.len() as u64 / s)
        .min(c.page_room(src))
        .min(c.page_room(dst))
        .min(c.wrap_room(m, reg::RSI))
        .min(c.wrap_room(m, reg::RDI));
    // Element-by-element semantics with overlap: a chunk copied at once (read all, then write
    // all) is equivalent only if no element reads bytes that an earlier element of the same
    // chunk wrote, i.e. if the destination runs ahead of the source (in the string direction)
    // by at least the chunk's length. Closer than one element: one element at a time.
    let ahead = if c.down { src.wrapping_sub(dst) } else { dst.wrapping_sub(src) };
    if ahead != 0 && ahead < k.saturating_mul(s) {
        k = ahead / s;
    }
    if k <= 1 || c.code_page(m, dst) {
        return elementwise(m, c, 1, done).map(drop);
    }
    let len = (k * s) as usize;
    let b = &mut buf[..len];
    if m.mem.read_bytes(c.low(src, k), b).is_err() || m.mem.write_bytes(c.low(dst, k), b).is_err() {
        // Page-bounded chunks fail as a whole only when their first element does; find it.
        return elementwise(m, c, k, done).map(drop);
    }
    c.advance(m, reg::RSI, k);
    c.advance(m, reg::RDI, k);
    c.retire(m, k, done);
    Ok(())
}

fn stos_chunk(m: &mut M, c: &Ctx, left: u64, done: &mut u64) -> Result<bool, Trap> {
    let s = c.size as usize;
    let dst = c.dst(m);
    let k = left.min(c.page_room(dst)).min(c.wrap_room(m, reg::RDI));
    if k <= 1 || c.code_page(m, dst) {
        return elementwise(m, c, 1, done);
    }
    let v = m.cpu.gpr[reg::RAX].to_le_bytes();
    match m.mem.slice_mut(c.low(dst, k), k * s as u64) {
        Ok(out) if s == 1 => out.fill(v[0]),
        Ok(out) => {
            // The chunk starts at an element boundary and its length is a multiple of the
            // element size, as is the pattern's.
            let mut pat = [0u8; 64];
            pat.chunks_exact_mut(s).for_each(|e| e.copy_from_slice(&v[..s]));
            out.chunks_mut(pat.len()).for_each(|o| o.copy_from_slice(&pat[..o.len()]));
        }
        Err(_) => return elementwise(m, c, k, done),
    }
    c.advance(m, reg::RDI, k);
    c.retire(m, k, done);
    Ok(false)
}

fn lods_chunk(m: &mut M, c: &Ctx, left: u64, done: &mut u64) -> Result<bool, Trap> {
    let s = c.size as usize;
    let src = c.src(m);
    let k = left.min(c.page_room(src)).min(c.wrap_room(m, reg::RSI));
    if k <= 1 {
        return elementwise(m, c, 1, done);
    }
    let v = match m.mem.slice(c.low(src, k), k * s as u64) {
        Ok(b) => le(&b[c.offset(k - 1, k)..], s),
        Err(_) => return elementwise(m, c, k, done),
    };
    set_acc(m, c.size, v);
    c.advance(m, reg::RSI, k);
    c.retire(m, k, done);
    Ok(false)
}

/// Element `i` (in address order) of `N` bytes in `b`, zero-extended.
#[inline(always)]
fn elem<const N: usize>(b: &[u8], i: usize) -> u64 {
    let mut x = [0u8; 8];
    x[..N].copy_from_slice(&b[i * N..i * N + N]);
    u64::from_le_bytes(x)
}

/// Compare the `k` elements of a chunk in string order: the source elements in `sa` (or the
/// accumulator `acc` when `sa` is None, for scas) against those in `sb`, until the REPE/REPNE
/// condition ends the repetition. Returns (elements processed, last a, last b, stopped).
#[inline(always)]
fn compare_n<const N: usize>(c: &Ctx, k: usize, sa: Option<&[u8]>, acc: u64, sb: &[u8]) -> (u64, u64, u64, bool) {
    let ne = c.rep == Prefix::Repe; // REPE stops at a difference, REPNE at an equality
                                    // Index (address order) of the stopping element, if any.
    let hit = match sa {
        Some(sa) => find(c.down, k, |i| (elem::<N>(sa, i) != elem::<N>(sb, i)) == ne),
        None => find(c.down, k, |i| (acc != elem::<N>(sb, i)) == ne),
    };
    let (last, n) = match hit {
        Some(i) => (i, if c.down { k - i } else { i + 1 }),
        None => (if c.down { 0 } else { k - 1 }, k),
    };
    let x = sa.map_or(acc, |sa| elem::<N>(sa, last));
    (n as u64, x, elem::<N>(sb, last), hit.is_some())
}

/// The first of `0..k` in string order (descending when `down`) satisfying `f`.
#[inline(always)]
fn find(down: bool, k: usize, f: impl Fn(usize) -> bool) -> Option<usize> {
    if down {
        let mut i = k;
        while i > 0 {
            i -= 1;
            if f(i) {
                return Some(i);
            }
        }
    } else {
        let mut i = 0;
        while i < k {
            if f(i) {
                return Some(i);
            }
            i += 1;
        }
    }
    None
}

fn compare(c: &Ctx, k: u64, sa: Option<&[u8]>, acc: u64, sb: &[u8]) -> (u64, u64, u64, bool) {
    let k = k as usize;
    match c.size {
        1 => compare_n::<1>(c, k, sa, acc, sb),
        2 => compare_n::<2>(c, k, sa, acc, sb),
        4 => compare_n::<4>(c, k, sa, acc, sb),
        _ => compare_n::<8>(c, k, sa, acc, sb),
    }
}

fn cmps_chunk(m: &mut M, c: &Ctx, left: u64, done: &mut u64) -> Result<bool, Trap> {
    let (src, dst) = (c.src(m), c.dst(m));
    let k =
        left.min(c.page_room(src)).min(c.page_room(dst)).min(c.wrap_room(m, reg::RSI)).min(c.wrap_room(m, reg::RDI));
    if k <= 1 {
        return elementwise(m, c, 1, done);
    }
    let len = k * c.size as u64;
    let (Ok(sa), Ok(sb)) = (m.mem.slice(c.low(src, k), len), m.mem.slice(c.low(dst, k), len)) else {
        return elementwise(m, c, k, done);
    };
    let (j, x, y, stop) = compare(c, k, Some(sa), 0, sb);
    flags::set_status(m, flags::sub(x, y, 0, x.wrapping_sub(y), c.size));
    c.advance(m, reg::RSI, j);
    c.advance(m, reg::RDI, j);
    c.retire(m, j, done);
    Ok(stop)
}

fn scas_chunk(m: &mut M, c: &Ctx, left: u64, done: &mut u64) -> Result<bool, Trap> {
    let dst = c.dst(m);
    let k = left.min(c.page_room(dst)).min(c.wrap_room(m, reg::RDI));
    if k <= 1 {
        return elementwise(m, c, 1, done);
    }
    let acc = m.cpu.gpr[reg::RAX] & mask(c.size);
    let Ok(sb) = m.mem.slice(c.low(dst, k), k * c.size as u64) else {
        return elementwise(m, c, k, done);
    };
    let (j, x, y, stop) = compare(c, k, None, acc, sb);
    flags::set_status(m, flags::sub(x, y, 0, x.wrapping_sub(y), c.size));
    c.advance(m, reg::RDI, j);
    c.retire(m, j, done);
    Ok(stop)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{big_machine as machine, decode, exec, CODE, DATA, DATA_LEN};
    use super::*;
    use crate::engine::interp_x86::InterpX86;
    use crate::engine::{sig, Exit};
    use crate::mem::flags as pf;
    use crate::testrng::Rng;

    /// Test buffer: the first `LEN` bytes of the guest data area, mirrored by a host buffer.
    const LEN: u64 = 4 * PAGE_SIZE;

    // ---- the host CPU as oracle ----

    /// Registers a string instruction reads and writes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Regs {
        rsi: u64,
        rdi: u64,
        rcx: u64,
        rax: u64,
        flags: u64,
    }

    /// An anonymous host mapping (below 4 GiB, so 0x67-prefixed forms can address it).
    struct HostMap {
        ptr: *mut u8,
        len: usize,
    }

    impl HostMap {
        fn new(len: usize) -> HostMap {
            // SAFETY: a fresh anonymous private mapping; checked for failure below.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
                    -1,
                    0,
                )
            };
            assert_ne!(p, libc::MAP_FAILED);
            HostMap { ptr: p as *mut u8, len }
        }

        fn bytes(&mut self) -> &mut [u8] {
            // SAFETY: the mapping is ours, readable and writable, `len` bytes long.
            unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
        }

        /// Make the mapping hold `code` followed by `ret`, executable.
        fn load_code(&mut self, code: &[u8]) {
            // SAFETY: changing the protection of our own mapping.
            unsafe { assert_eq!(libc::mprotect(self.ptr as *mut _, self.len, libc::PROT_READ | libc::PROT_WRITE), 0) };
            let b = self.bytes();
            b[..code.len()].copy_from_slice(code);
            b[code.len()] = 0xc3;
            // SAFETY: as above.
            unsafe { assert_eq!(libc::mprotect(self.ptr as *mut _, self.len, libc::PROT_READ | libc::PROT_EXEC), 0) };
        }
    }

    impl Drop for HostMap {
        fn drop(&mut self) {
            // SAFETY: unmapping our own mapping; no references into it outlive self.
            unsafe { libc::munmap(self.ptr as *mut _, self.len) };
        }
    }

    /// Run `code` (one string instruction followed by `ret`) natively with `r` (flags
    /// including DF), returning the registers and flags after it.
    fn native(code: &HostMap, mut r: Regs) -> Regs {
        // SAFETY: `code` holds a single string instruction and `ret`; the caller points
        // rsi/rdi/rcx at a host buffer large enough for every access it makes. The red zone
        // is skipped before pushing; DF is cleared again before leaving, as the ABI requires.
        unsafe {
            core::arch::asm!(
                "sub rsp, 128",
                "push {f}",
                "popfq",
                "call {code}",
                "pushfq",
                "pop {f}",
                "add rsp, 128",
                "cld",
                f = inout(reg) r.flags,
                code = in(reg) code.ptr,
                inout("rsi") r.rsi,
                inout("rdi") r.rdi,
                inout("rcx") r.rcx,
                inout("rax") r.rax,
            );
        }
        r
    }

    // ---- encoding ----

    #[derive(Clone, Copy, Debug)]
    struct Form {
        kind: Kind,
        size: u32,
        /// 0: none, 0xf3: rep/repe, 0xf2: repne.
        rep: u8,
        a32: bool,
        /// 0, or 0x64 (fs) / 0x65 (gs) on the source.
        seg: u8,
    }

    impl Form {
        fn bytes(&self) -> Vec<u8> {
            let mut b = Vec::new();
            if self.a32 {
                b.push(0x67);
            }
            if self.seg != 0 {
                b.push(self.seg);
            }
            if self.rep != 0 {
                b.push(self.rep);
            }
            if self.size == 2 {
                b.push(0x66);
            }
            if self.size == 8 {
                b.push(0x48);
            }
            let op = match self.kind {
                Kind::Movs => 0xa4,
                Kind::Cmps => 0xa6,
                Kind::Stos => 0xaa,
                Kind::Lods => 0xac,
                Kind::Scas => 0xae,
            };
            b.push(op + (self.size > 1) as u8);
            b
        }

        fn uses_src(&self) -> bool {
            matches!(self.kind, Kind::Movs | Kind::Lods | Kind::Cmps)
        }

        fn uses_dst(&self) -> bool {
            matches!(self.kind, Kind::Movs | Kind::Stos | Kind::Cmps | Kind::Scas)
        }
    }

    const KINDS: [Kind; 5] = [Kind::Movs, Kind::Stos, Kind::Lods, Kind::Cmps, Kind::Scas];

    /// Run one instruction in the interpreter the way the engine would with an unlimited
    /// budget, checking the icount contract; returns the guest registers.
    fn interp(m: &mut M, bytes: &[u8]) -> Res {
        let ins = decode(bytes);
        m.limit = u64::MAX;
        let r = exec(m, bytes);
        if r.is_ok() {
            assert_eq!(m.cpu.rip, ins.next_ip(), "unbounded run must complete");
        }
        r
    }

    fn iterations(f: &Form, before: u64, after: u64) -> u64 {
        if f.rep == 0 {
            return 1;
        }
        let mk = if f.a32 { 0xffff_ffff } else { u64::MAX };
        ((before & mk) - (after & mk)).max(1)
    }

    /// One random case: same instruction, same inputs, on the host and in the interpreter.
    fn random_case(rng: &mut Rng, host: &mut HostMap, code: &mut HostMap, f: Form, down: bool) {
        let s = f.size as u64;
        // Memory: either random bytes or a repeating element with a few random bytes, so
        // that REPE/REPNE compares run for a while and then stop.
        let pattern = rng.next_u64();
        let random_fill = rng.chance(30);
        let mut data = vec![0u8; LEN as usize];
        for (i, b) in data.iter_mut().enumerate() {
            *b = if random_fill { rng.next_u64() as u8 } else { pattern.to_le_bytes()[i % s as usize] };
        }
        for _ in 0..rng.below(6) {
            let i = rng.below(LEN) as usize;
            data[i] = rng.next_u64() as u8;
        }
        let mut rax = if rng.chance(50) { pattern } else { rng.next_u64() };
        if !rng.chance(20) && f.kind == Kind::Scas && f.rep == 0xf2 {
            rax = pattern ^ 1; // repne scas: mostly look for something rare
        }

        // Offsets and a count that keep every access inside the buffer.
        let mut so = rng.below(LEN - s + 1);
        let mut d0 = rng.below(LEN - s + 1);
        if f.kind == Kind::Movs && rng.chance(40) {
            // Overlap: destination close to the source, either side.
            let delta = rng.below(41) as i64 - 20;
            d0 = (so as i64 + delta).clamp(0, (LEN - s) as i64) as u64;
        }
        if f.kind == Kind::Cmps && rng.chance(50) {
            d0 = d0 / s * s + so % s; // same alignment: patterns line up
        }
        if rng.chance(20) {
            // near a page boundary
            so = (so & !(PAGE_SIZE - 1)) + PAGE_SIZE - s + rng.below(2 * s) % (PAGE_SIZE - 1);
            so = so.min(LEN - s);
        }
        let room = |o: u64| if down { o / s + 1 } else { (LEN - o) / s };
        let mut max = u64::MAX;
        if f.uses_src() {
            max = max.min(room(so));
        }
        if f.uses_dst() {
            max = max.min(room(d0));
        }
        let count = if rng.chance(40) { rng.below(max.min(20) + 1) } else { rng.below(max + 1) };
        let hi = |rng: &mut Rng| if f.a32 { rng.next_u64() << 32 } else { 0 };
        let (hs, hd, hc) = (hi(rng), hi(rng), hi(rng));
        let fin = fl::FIXED | fl::IF | (rng.next_u64() & fl::STATUS) | if down { fl::DF } else { 0 };
        let rcx = if f.rep == 0 { rng.next_u64() } else { count | hc };

        // Host.
        host.bytes().copy_from_slice(&data);
        let hbase = host.ptr as u64;
        let bytes = f.bytes();
        let native_bytes: Vec<u8> = bytes.iter().copied().filter(|&b| b != 0x64 && b != 0x65).collect();
        code.load_code(&native_bytes);
        let hr = native(code, Regs { rsi: hbase + so + hs, rdi: hbase + d0 + hd, rcx, rax, flags: fin });

        // Guest (the source through a segment base when `seg` is set).
        let mut m = machine();
        m.mem.write_bytes(DATA, &data).unwrap();
        let seg_base = if f.seg != 0 { rng.below(DATA) } else { 0 };
        m.cpu.fs_base = if f.seg == 0x64 { seg_base } else { rng.next_u64() };
        m.cpu.gs_base = if f.seg == 0x65 { seg_base } else { rng.next_u64() };
        m.cpu.gpr[reg::RSI] = DATA + so + hs - seg_base;
        m.cpu.gpr[reg::RDI] = DATA + d0 + hd;
        m.cpu.gpr[reg::RCX] = rcx;
        m.cpu.gpr[reg::RAX] = rax;
        m.cpu.rflags = fin;
        let r = interp(&mut m, &bytes);
        let what = format!("{f:?} down={down} so={so} do={d0} count={count} rax={rax:#x}");
        assert_eq!(r, Ok(()), "{what}");
        let got = Regs {
            rsi: m.cpu.gpr[reg::RSI].wrapping_add(seg_base).wrapping_sub(DATA),
            rdi: m.cpu.gpr[reg::RDI].wrapping_sub(DATA),
            rcx: m.cpu.gpr[reg::RCX],
            rax: m.cpu.gpr[reg::RAX],
            flags: m.cpu.rflags & (fl::STATUS | fl::DF),
        };
        let want = Regs {
            rsi: hr.rsi.wrapping_sub(hbase),
            rdi: hr.rdi.wrapping_sub(hbase),
            flags: hr.flags & (fl::STATUS | fl::DF),
            ..hr
        };
        assert_eq!(got, want, "{what}");
        let mut gm = vec![0u8; LEN as usize];
        m.mem.read_bytes(DATA, &mut gm).unwrap();
        assert!(gm == host.bytes(), "memory differs: {what}");
        assert_eq!(m.icount, iterations(&f, rcx, hr.rcx) - 1, "icount: {what}");
    }

    #[test]
    fn matches_host_cpu() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut host = HostMap::new(LEN as usize);
        let mut code = HostMap::new(PAGE_SIZE as usize);
        for kind in KINDS {
            for size in [1, 2, 4, 8] {
                for rep in [0, 0xf3, 0xf2] {
                    for a32 in [false, true] {
                        for down in [false, true] {
                            for i in 0..40 {
                                let seg = if i % 4 == 3 { [0x64, 0x65][i / 4 % 2] } else { 0 };
                                let f = Form { kind, size, rep, a32, seg };
                                random_case(&mut rng, &mut host, &mut code, f, down);
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- budgets and faults through the real engine ----

    /// A guest with `bytes` at CODE followed by `syscall`, rip at CODE.
    fn program(bytes: &[u8]) -> M {
        let mut m = machine();
        let mut code = bytes.to_vec();
        code.extend_from_slice(&[0x0f, 0x05]);
        m.mem.poke(CODE, &code).unwrap();
        m.cpu.rip = CODE;
        m
    }

    fn data(m: &M) -> Vec<u8> {
        let mut v = vec![0u8; DATA_LEN as usize];
        m.mem.read_bytes(DATA, &mut v).unwrap();
        v
    }

    /// Run a program to its trailing syscall under `budget` per run, checking that every
    /// budget exit retired exactly `budget` instructions and stopped at an instruction start.
    fn run_split(mut m: M, len: u64, budget: u64) -> M {
        let mut e = InterpX86::new();
        loop {
            let before = m.icount;
            match e.run(&mut m, budget) {
                Exit::Budget => {
                    assert_eq!(m.icount - before, budget);
                    assert!(m.cpu.rip == CODE || m.cpu.rip == CODE + len, "rip {:#x}", m.cpu.rip);
                }
                Exit::Syscall => {
                    assert_eq!(m.cpu.rip, CODE + len + 2);
                    return m;
                }
                x => panic!("unexpected exit {x:?}"),
            }
        }
    }

    /// Every budget gives the same final state and icount as one unbounded run, and the
    /// icount equals the number of iterations.
    fn check_budgets(bytes: &[u8], setup: impl Fn(&mut M), iterations: u64) {
        let mk = || {
            let mut m = program(bytes);
            setup(&mut m);
            m
        };
        let whole = run_split(mk(), bytes.len() as u64, u64::MAX / 2);
        assert_eq!(whole.icount, iterations, "{bytes:02x?}");
        for budget in [1, 2, 3, 4, 5, 7, 8, 13, 64, 511, 4095, 4096, 4097, 10_000] {
            let m = run_split(mk(), bytes.len() as u64, budget);
            assert_eq!(m.icount, whole.icount, "budget {budget}");
            assert_eq!(m.cpu, whole.cpu, "budget {budget}");
            assert!(data(&m) == data(&whole), "budget {budget}");
        }
    }

    fn fill_random(m: &mut M, seed: u64) {
        let mut rng = Rng(seed);
        let v: Vec<u8> = (0..DATA_LEN).map(|_| rng.next_u64() as u8).collect();
        m.mem.write_bytes(DATA, &v).unwrap();
    }

    #[test]
    fn budget_split_rep_movs_stos() {
        let regs = |si: u64, di: u64, cx: u64, down: bool| {
            move |m: &mut M| {
                fill_random(m, 7);
                m.cpu.gpr[reg::RSI] = si;
                m.cpu.gpr[reg::RDI] = di;
                m.cpu.gpr[reg::RCX] = cx;
                m.cpu.gpr[reg::RAX] = 0x1122_3344_5566_7788;
                if down {
                    m.cpu.rflags |= fl::DF;
                }
            }
        };
        // rep movsb forward across pages, N = 10000.
        check_budgets(&[0xf3, 0xa4], regs(DATA + 3, DATA + 0x8005, 10_000, false), 10_000);
        // rcx = 0 retires once.
        check_budgets(&[0xf3, 0xa4], regs(DATA, DATA + 0x8000, 0, false), 1);
        // Overlapping replication: dst = src + 1 (bytes) and dst = src + 3 (qwords).
        check_budgets(&[0xf3, 0xa4], regs(DATA + 100, DATA + 101, 5000, false), 5000);
        check_budgets(&[0xf3, 0x48, 0xa5], regs(DATA + 100, DATA + 103, 700, false), 700);
        check_budgets(&[0xf3, 0x48, 0xa5], regs(DATA + 0x4000, DATA + 0x4000 - 20, 700, true), 700);
        // rep movsq backward, rep stosd, rep stosb, rep lodsw.
        check_budgets(&[0xf3, 0x48, 0xa5], regs(DATA + 0x7ff8, DATA + 0xfff0, 3000, true), 3000);
        check_budgets(&[0xf3, 0xab], regs(DATA, DATA + 0x1002, 5000, false), 5000);
        check_budgets(&[0xf3, 0xaa], regs(DATA, DATA + 0xf000, 0x3000, true), 0x3000);
        check_budgets(&[0xf3, 0x66, 0xad], regs(DATA + 0x8001, DATA, 9000, false), 9000);
        // 32-bit addressing with garbage in the upper halves.
        let hi = 0xdead_beef_0000_0000;
        check_budgets(&[0x67, 0xf3, 0xa4], regs(hi | (DATA + 7), hi | (DATA + 0x9000), hi | 6000, false), 6000);
    }

    #[test]
    fn budget_split_rep_compare() {
        // repne scasb: find the byte 0x5a placed at offset 9000 in zero-filled memory.
        let setup = |m: &mut M| {
            m.mem.write_u8(DATA + 9000, 0x5a).unwrap();
            m.cpu.gpr[reg::RDI] = DATA + 1;
            m.cpu.gpr[reg::RCX] = 20_000;
            m.cpu.gpr[reg::RAX] = 0x5a;
        };
        check_budgets(&[0xf2, 0xae], setup, 9000);
        // repe scasd down, stops at the first non-matching dword.
        let setup = |m: &mut M| {
            m.mem.write_u32(DATA + 0x1000, 1).unwrap();
            m.cpu.gpr[reg::RDI] = DATA + 0x9000;
            m.cpu.gpr[reg::RCX] = 20_000;
            m.cpu.rflags |= fl::DF;
        };
        check_budgets(&[0xf3, 0xaf], setup, (0x9000 - 0x1000) / 4 + 1);
        // repe cmpsb over identical halves with one difference; and one running out of rcx.
        let setup = |n: u64| {
            move |m: &mut M| {
                fill_random(m, 3);
                let mut v = vec![0u8; 0x8000];
                m.mem.read_bytes(DATA, &mut v).unwrap();
                v[7000] ^= 0x40;
                m.mem.write_bytes(DATA + 0x8000, &v).unwrap();
                m.cpu.gpr[reg::RSI] = DATA;
                m.cpu.gpr[reg::RDI] = DATA + 0x8000;
                m.cpu.gpr[reg::RCX] = n;
            }
        };
        check_budgets(&[0xf3, 0xa6], setup(0x8000), 7001);
        check_budgets(&[0xf3, 0xa6], setup(6000), 6000);
        check_budgets(&[0xf3, 0x48, 0xa7], setup(0x1000), 7000 / 8 + 1);
    }

    /// Run to the first non-budget exit, in runs of `budget`.
    fn run_to_exit(m: &mut M, budget: u64) -> Exit {
        let mut e = InterpX86::new();
        loop {
            match e.run(m, budget) {
                Exit::Budget => continue,
                x => return x,
            }
        }
    }

    fn segv(x: Exit) -> crate::engine::GuestFault {
        match x {
            Exit::Fault(f) if f.signo == sig::SIGSEGV => f,
            x => panic!("expected SIGSEGV, got {x:?}"),
        }
    }

    #[test]
    fn fault_mid_rep_movsb() {
        let end = DATA + DATA_LEN; // first unmapped byte
        for budget in [u64::MAX / 2, 1, 7, 30, 99, 100, 101] {
            let mut m = program(&[0xf3, 0xa4]);
            fill_random(&mut m, 11);
            m.cpu.gpr[reg::RSI] = DATA;
            m.cpu.gpr[reg::RDI] = end - 100;
            m.cpu.gpr[reg::RCX] = 300;
            let f = segv(run_to_exit(&mut m, budget));
            assert_eq!((f.addr, f.code, f.trapno), (end, sig::SEGV_MAPERR, 14), "budget {budget}");
            assert_eq!(f.err & 2, 2, "a write fault");
            assert_eq!(m.icount, 100, "budget {budget}");
            assert_eq!(m.cpu.rip, CODE);
            assert_eq!(m.cpu.gpr[reg::RCX], 200);
            assert_eq!(m.cpu.gpr[reg::RDI], end);
            assert_eq!(m.cpu.gpr[reg::RSI], DATA + 100);
            let mut a = [0u8; 100];
            let mut b = [0u8; 100];
            m.mem.read_bytes(DATA, &mut a).unwrap();
            m.mem.read_bytes(end - 100, &mut b).unwrap();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn fault_cases() {
        let end = DATA + DATA_LEN;
        // rep stosq backwards into the unmapped page below DATA: the 4th qword straddles.
        let mut m = program(&[0xf3, 0x48, 0xab]);
        m.cpu.gpr[reg::RDI] = DATA + 20;
        m.cpu.gpr[reg::RCX] = 10;
        m.cpu.rflags |= fl::DF;
        let f = segv(run_to_exit(&mut m, u64::MAX / 2));
        assert_eq!(f.addr, DATA - 4);
        assert_eq!((m.icount, m.cpu.gpr[reg::RCX], m.cpu.gpr[reg::RDI]), (3, 7, DATA - 4));
        // rep movsq whose first destination straddles into unmapped memory: nothing retires.
        let mut m = program(&[0xf3, 0x48, 0xa5]);
        m.cpu.gpr[reg::RSI] = DATA;
        m.cpu.gpr[reg::RDI] = end - 4;
        m.cpu.gpr[reg::RCX] = 5;
        let f = segv(run_to_exit(&mut m, 3));
        assert_eq!(f.addr, end);
        assert_eq!((m.icount, m.cpu.gpr[reg::RCX], m.cpu.gpr[reg::RDI], m.cpu.rip), (0, 5, end - 4, CODE));
        assert_eq!(m.mem.read_u32(end - 4).unwrap(), 0, "no partial write");
        // rep movsd reading past the end: a read fault (SEGV_MAPERR, no write bit).
        let mut m = program(&[0xf3, 0xa5]);
        m.cpu.gpr[reg::RSI] = end - 4096 * 2 - 8;
        m.cpu.gpr[reg::RDI] = DATA;
        m.cpu.gpr[reg::RCX] = 4096;
        let f = segv(run_to_exit(&mut m, 1000));
        assert_eq!((f.addr, f.err & 2), (end, 0));
        assert_eq!((m.icount, m.cpu.gpr[reg::RCX]), (2050, 4096 - 2050));
        // Writing into a read-only page: SEGV_ACCERR.
        let mut m = program(&[0xf3, 0xaa]);
        assert!(m.mem.protect(DATA + 0x3000, 0x1000, pf::R));
        m.cpu.gpr[reg::RDI] = DATA + 0x2ff0;
        m.cpu.gpr[reg::RCX] = 100;
        let f = segv(run_to_exit(&mut m, u64::MAX / 2));
        assert_eq!((f.addr, f.code), (DATA + 0x3000, sig::SEGV_ACCERR));
        assert_eq!((m.icount, m.cpu.gpr[reg::RCX]), (16, 84));
        // repne scasb stops at the match just before an unmapped page: no fault.
        let mut m = program(&[0xf2, 0xae]);
        m.mem.write_u8(end - 1, 0xcc).unwrap();
        m.cpu.gpr[reg::RDI] = end - 5000;
        m.cpu.gpr[reg::RCX] = 100_000;
        m.cpu.gpr[reg::RAX] = 0xcc;
        assert_eq!(run_to_exit(&mut m, u64::MAX / 2), Exit::Syscall);
        assert_eq!((m.icount, m.cpu.gpr[reg::RDI]), (5000, end));
        // The same without the match runs into the page and faults there.
        let mut m = program(&[0xf2, 0xae]);
        m.cpu.gpr[reg::RDI] = end - 5000;
        m.cpu.gpr[reg::RCX] = 100_000;
        m.cpu.gpr[reg::RAX] = 0xcc;
        let f = segv(run_to_exit(&mut m, 777));
        assert_eq!((f.addr, m.icount, m.cpu.gpr[reg::RCX]), (end, 5000, 95_000));
        // A non-REP fault changes nothing and does not retire.
        let mut m = program(&[0xa4]);
        m.cpu.gpr[reg::RSI] = end;
        m.cpu.gpr[reg::RDI] = DATA;
        let f = segv(run_to_exit(&mut m, 10));
        assert_eq!((f.addr, m.icount, m.cpu.gpr[reg::RSI], m.cpu.rip), (end, 0, end, CODE));
    }

    /// 32-bit addressing with a segment base: ESI wraps to 0 and the linear address jumps
    /// (here into unmapped memory), at the exact iteration.
    #[test]
    fn addr32_wrap_with_segment_base() {
        let mut m = program(&[0x67, 0x64, 0xf3, 0xa4]); // rep movs byte [edi], fs:[esi]
        fill_random(&mut m, 5);
        m.cpu.fs_base = (DATA + 0x800).wrapping_sub(0xffff_fff0);
        m.cpu.gpr[reg::RSI] = 0xffff_fff0;
        m.cpu.gpr[reg::RDI] = DATA + 0x4000;
        m.cpu.gpr[reg::RCX] = 32;
        let f = segv(run_to_exit(&mut m, u64::MAX / 2));
        assert_eq!(f.addr, m.cpu.fs_base);
        assert_eq!(
            (m.icount, m.cpu.gpr[reg::RCX], m.cpu.gpr[reg::RSI], m.cpu.gpr[reg::RDI]),
            (16, 16, 0, DATA + 0x4010)
        );
        assert_eq!(m.mem.read_u128(DATA + 0x800).unwrap(), m.mem.read_u128(DATA + 0x4000).unwrap());
    }

    /// The SSE2 forms of movsd/cmpsd are not string instructions and go to sse_fp.rs.
    #[test]
    fn movsd_cmpsd_forms() {
        assert!(!decode(&[0xf2, 0x0f, 0x10, 0xc1]).is_string_instruction()); // movsd xmm0, xmm1
        assert!(!decode(&[0xf2, 0x0f, 0xc2, 0xc1, 0x00]).is_string_instruction()); // cmpsd xmm0, xmm1, 0
        assert!(decode(&[0xa5]).is_string_instruction());
        assert!(decode(&[0xa7]).is_string_instruction());
    }

    /// rep movsb/stosb over megabytes must be bulk work, not per-byte dispatch.
    #[test]
    fn bulk_is_fast() {
        let mut m = machine();
        assert!(m.mem.map(0x100000, 0x800000, pf::R | pf::W));
        let t = std::time::Instant::now();
        for _ in 0..8 {
            m.cpu.gpr[reg::RSI] = 0x100000;
            m.cpu.gpr[reg::RDI] = 0x500000;
            m.cpu.gpr[reg::RCX] = 0x400000;
            exec(&mut m, &[0xf3, 0xa4]).unwrap();
            m.cpu.gpr[reg::RDI] = 0x100000;
            m.cpu.gpr[reg::RCX] = 0x400000;
            exec(&mut m, &[0xf3, 0xaa]).unwrap();
        }
        // 64 MiB moved: byte-at-a-time through the handlers would take seconds.
        assert!(t.elapsed().as_secs_f64() < 1.5, "{:?}", t.elapsed());
    }
}
