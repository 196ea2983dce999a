//! Advanced SIMD structure loads and stores (Arm ARM C4.1.66, "Advanced SIMD load/store
//! multiple structures" and "single structure", with their post-indexed forms):
//! LD1/ST1 (1-4 registers), LD2/ST2, LD3/ST3, LD4/ST4, LD1R..LD4R, and LD1..LD4/ST1..ST4 of
//! one lane. Post-index by an immediate (Rm = 31: the number of bytes transferred) or by X[m].
//!
//! Fields come from the instruction word as in `loadstore.rs`. Every byte is read before any
//! register is written and every byte is stored by one checked memory call, so a fault
//! leaves registers, memory and the base register untouched. Addresses are untagged (top
//! byte ignored) for the access; writeback keeps the tag. Writing a 64-bit (D) register
//! form zeroes bits 127:64 of the V register; a single-lane load keeps the other lanes.

use super::loadstore::{base, f_rm, f_rn, f_rt, set_xsp, tbi, xr};
use super::table::Table;
use super::{Decoded, Res, M};
use deja_decoders::aarch64::Opcode;

pub fn register(t: &mut Table) {
    use Opcode::*;
    t.add(&[LD1, LD2, LD3, LD4, ST1, ST2, ST3, ST4, LD1R, LD2R, LD3R, LD4R], structures);
}

/// Bytes `[i*eb, (i+1)*eb)` of `buf` as a little-endian element.
#[inline(always)]
fn elem(buf: &[u8], off: usize, eb: usize) -> u128 {
    let mut b = [0u8; 16];
    b[..eb].copy_from_slice(&buf[off..off + eb]);
    u128::from_le_bytes(b)
}

#[inline(always)]
fn emask(eb: usize) -> u128 {
    if eb == 16 {
        u128::MAX
    } else {
        (1u128 << (eb * 8)) - 1
    }
}

fn structures(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    // 0 Q 0 0 1 1 0 single post L ...
    if w >> 31 != 0 || (w >> 25) & 0x1f != 0b00110 {
        return Err(super::undefined(d));
    }
    let post = (w >> 23) & 1 == 1;
    if !post && f_rm(w) != 0 {
        return Err(super::undefined(d));
    }
    if (w >> 24) & 1 == 0 {
        multiple(m, d)
    } else {
        single(m, d)
    }
}

/// Post-index writeback: Rm = 31 adds the transfer size, otherwise X[m].
#[inline(always)]
fn post_index(m: &mut M, w: u32, n: u32, addr: u64, total: usize) {
    if (w >> 23) & 1 == 1 {
        let r = f_rm(w);
        let off = if r == 31 { total as u64 } else { xr(m, r) };
        set_xsp(m, n, addr.wrapping_add(off));
    }
}

/// LD1-LD4/ST1-ST4 (multiple structures): 0 Q 001100 p L 0 Rm opcode size Rn Rt.
fn multiple(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    if (w >> 21) & 1 != 0 {
        return Err(super::undefined(d));
    }
    let q = (w >> 30) & 1;
    let load = (w >> 22) & 1 == 1;
    let size = (w >> 10) & 3;
    let (rpt, selem) = match (w >> 12) & 15 {
        0b0000 => (1, 4),
        0b0010 => (4, 1),
        0b0100 => (1, 3),
        0b0110 => (3, 1),
        0b0111 => (1, 1),
        0b1000 => (1, 2),
        0b1010 => (2, 1),
        _ => return Err(super::undefined(d)),
    };
    if size == 3 && q == 0 && selem != 1 {
        return Err(super::undefined(d));
    }
    let (t, n) = (f_rt(w) as usize, f_rn(w));
    let regbytes = 8usize << q;
    let eb = 1usize << size;
    let elements = regbytes / eb;
    let nregs = rpt * selem;
    let total = nregs * regbytes;
    let addr = base(m, n)?;
    let mut buf = [0u8; 64];
    if load {
        m.mem.read_bytes(tbi(addr), &mut buf[..total])?;
        let mut regs = [0u128; 4];
        if selem == 1 {
            // Consecutive whole registers: element order is byte order.
            for (k, r) in regs.iter_mut().enumerate().take(nregs) {
                *r = elem(&buf, k * regbytes, regbytes);
            }
        } else {
            let mut off = 0;
            for e in 0..elements {
                for r in regs.iter_mut().take(selem) {
                    *r |= elem(&buf, off, eb) << (e * eb * 8);
                    off += eb;
                }
            }
        }
        for (k, r) in regs.iter().enumerate().take(nregs) {
            m.cpu.v[(t + k) % 32] = *r;
        }
    } else {
        let mut regs = [0u128; 4];
        for (k, r) in regs.iter_mut().enumerate().take(nregs) {
            *r = m.cpu.v[(t + k) % 32];
        }
        if selem == 1 {
            for (k, r) in regs.iter().enumerate().take(nregs) {
                buf[k * regbytes..(k + 1) * regbytes].copy_from_slice(&r.to_le_bytes()[..regbytes]);
            }
        } else {
            let mut off = 0;
            for e in 0..elements {
                for r in regs.iter().take(selem) {
                    let v = (r >> (e * eb * 8)).to_le_bytes();
                    buf[off..off + eb].copy_from_slice(&v[..eb]);
                    off += eb;
                }
            }
        }
        m.mem.write_bytes(tbi(addr), &buf[..total])?;
    }
    post_index(m, w, n, addr, total);
    Ok(())
}

/// LD1-LD4/ST1-ST4 (single structure) and LD1R-LD4R:
/// 0 Q 001101 p L R Rm opcode S size Rn Rt.
fn single(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let q = (w >> 30) & 1;
    let load = (w >> 22) & 1 == 1;
    let r = (w >> 21) & 1;
    let opcode = (w >> 13) & 7;
    let s = (w >> 12) & 1;
    let size = (w >> 10) & 3;
    let selem = ((((opcode & 1) << 1) | r) + 1) as usize;
    // (log2 element bytes, lane index, replicate)
    let (scale, index, replicate) = match opcode >> 1 {
        3 => {
            if !load || s == 1 {
                return Err(super::undefined(d));
            }
            (size, 0, true)
        }
        0 => (0, (q << 3) | (s << 2) | size, false),
        1 => {
            if size & 1 == 1 {
                return Err(super::undefined(d));
            }
            (1, (q << 2) | (s << 1) | (size >> 1), false)
        }
        _ => {
            if size & 2 != 0 {
                return Err(super::undefined(d));
            }
            if size & 1 == 0 {
                (2, (q << 1) | s, false)
            } else {
                if s == 1 {
                    return Err(super::undefined(d));
                }
                (3, q, false)
            }
        }
    };
    let (t, n) = (f_rt(w) as usize, f_rn(w));
    let eb = 1usize << scale;
    let total = selem * eb;
    let shift = index as usize * eb * 8;
    let addr = base(m, n)?;
    let mut buf = [0u8; 32];
    if load {
        m.mem.read_bytes(tbi(addr), &mut buf[..total])?;
        for k in 0..selem {
            let e = elem(&buf, k * eb, eb);
            let reg = (t + k) % 32;
            m.cpu.v[reg] = if replicate {
                let lanes = (8usize << q) / eb;
                (0..lanes).fold(0u128, |acc, i| acc | (e << (i * eb * 8)))
            } else {
                (m.cpu.v[reg] & !(emask(eb) << shift)) | (e << shift)
            };
        }
    } else {
        for k in 0..selem {
            let v = (m.cpu.v[(t + k) % 32] >> shift).to_le_bytes();
            buf[k * eb..(k + 1) * eb].copy_from_slice(&v[..eb]);
        }
        m.mem.write_bytes(tbi(addr), &buf[..total])?;
    }
    post_index(m, w, n, addr, total);
    Ok(())
}
