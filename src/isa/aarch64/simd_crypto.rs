//! Cryptographic extension (Arm ARM C4.1.96, crypto AES and SHA classes): AESE AESD AESMC
//! AESIMC (FEAT_AES), SHA1C SHA1P SHA1M SHA1H SHA1SU0 SHA1SU1 (FEAT_SHA1), SHA256H SHA256H2
//! SHA256SU0 SHA256SU1 (FEAT_SHA256), from the pseudocode. (PMULL/PMULL2 of 64-bit
//! elements, FEAT_PMULL, is in `simd_int.rs`.) Not implemented: SHA512, SHA3, SM3, SM4.

use super::fp::{rd, rm, rn};
use super::simd::vr;
use super::{Decoded, Res, M};

/// Multiply by x in GF(2^8) (the AES polynomial x^8 + x^4 + x^3 + x + 1).
const fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

const fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        a = xtime(a);
        b >>= 1;
    }
    p
}

/// The AES S-box: multiplicative inverse in GF(2^8) followed by the affine transform.
const fn sbox() -> [u8; 256] {
    let mut s = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // Inverse by exponentiation: a^254.
        let a = i as u8;
        let mut inv = 1u8;
        let mut k = 0;
        while k < 254 {
            inv = gmul(inv, a);
            k += 1;
        }
        if a == 0 {
            inv = 0;
        }
        let b = inv;
        s[i] = b ^ b.rotate_left(1) ^ b.rotate_left(2) ^ b.rotate_left(3) ^ b.rotate_left(4) ^ 0x63;
        i += 1;
    }
    s
}

const fn inv_sbox(s: &[u8; 256]) -> [u8; 256] {
    let mut r = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        r[s[i] as usize] = i as u8;
        i += 1;
    }
    r
}

static SBOX: [u8; 256] = sbox();
static INV_SBOX: [u8; 256] = inv_sbox(&SBOX);

/// AESShiftRows + AESSubBytes (or the inverses) of a state (byte i = row i%4, column i/4).
fn aes_round(state: u128, decrypt: bool) -> u128 {
    let s = state.to_le_bytes();
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let from = if decrypt { (c + 4 - r) % 4 } else { (c + r) % 4 };
            let b = s[r + 4 * from];
            o[r + 4 * c] = if decrypt { INV_SBOX[b as usize] } else { SBOX[b as usize] };
        }
    }
    u128::from_le_bytes(o)
}

/// AESMixColumns / AESInvMixColumns.
fn aes_mix(state: u128, inverse: bool) -> u128 {
    let s = state.to_le_bytes();
    let m: [u8; 4] = if inverse { [14, 11, 13, 9] } else { [2, 3, 1, 1] };
    let mut o = [0u8; 16];
    for c in 0..4 {
        for r in 0..4 {
            let mut v = 0u8;
            for k in 0..4 {
                v ^= gmul(m[(k + 4 - r) % 4], s[k + 4 * c]);
            }
            o[r + 4 * c] = v;
        }
    }
    u128::from_le_bytes(o)
}

/// Crypto AES: AESE AESD AESMC AESIMC.
pub fn aes(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let opc = (w >> 12) & 31;
    if (w >> 22) & 3 != 0 || !(4..=7).contains(&opc) {
        return Err(super::undefined(d));
    }
    let dd = rd(w);
    let n = vr(m, rn(w));
    m.cpu.v[dd] = match opc {
        4 => aes_round(vr(m, dd) ^ n, false),
        5 => aes_round(vr(m, dd) ^ n, true),
        6 => aes_mix(n, false),
        _ => aes_mix(n, true),
    };
    Ok(())
}

#[inline(always)]
fn word(v: u128, i: u32) -> u32 {
    (v >> (32 * i)) as u32
}

#[inline(always)]
fn words(w: [u32; 4]) -> u128 {
    w.iter().enumerate().fold(0u128, |a, (i, &x)| a | (x as u128) << (32 * i))
}

fn choose(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}

fn majority(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | ((x | y) & z)
}

fn parity(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

/// SHA1C / SHA1P / SHA1M: four rounds on hash state X (Qd) and E (Sn) with words W (Vm).
fn sha1_rounds(x: u128, e: u32, wv: u128, f: fn(u32, u32, u32) -> u32) -> u128 {
    let (mut x, mut y) = (x, e);
    for i in 0..4 {
        let t = f(word(x, 1), word(x, 2), word(x, 3));
        y = y.wrapping_add(word(x, 0).rotate_left(5)).wrapping_add(t).wrapping_add(word(wv, i));
        let x1 = word(x, 1).rotate_left(30);
        x = (x & !(0xffff_ffffu128 << 32)) | (x1 as u128) << 32;
        // ROL(Y:X, 32) on 160 bits.
        let top = word(x, 3);
        x = (x << 32) | y as u128;
        y = top;
    }
    x
}

/// SHA256hash: four rounds; `part1` returns X (SHA256H) else Y (SHA256H2).
fn sha256_hash(x: u128, y: u128, wv: u128, part1: bool) -> u128 {
    let (mut x, mut y) = (x, y);
    for i in 0..4 {
        let chs = choose(word(y, 0), word(y, 1), word(y, 2));
        let maj = majority(word(x, 0), word(x, 1), word(x, 2));
        let y0 = word(y, 0);
        let sigma1 = y0.rotate_right(6) ^ y0.rotate_right(11) ^ y0.rotate_right(25);
        let t = word(y, 3).wrapping_add(sigma1).wrapping_add(chs).wrapping_add(word(wv, i));
        let x0 = word(x, 0);
        let sigma0 = x0.rotate_right(2) ^ x0.rotate_right(13) ^ x0.rotate_right(22);
        let x3 = t.wrapping_add(word(x, 3));
        let y3 = t.wrapping_add(sigma0).wrapping_add(maj);
        x = (x & (u128::MAX >> 32)) | (x3 as u128) << 96;
        y = (y & (u128::MAX >> 32)) | (y3 as u128) << 96;
        // ROL(Y:X, 32) on 256 bits.
        let (xt, yt) = (word(x, 3), word(y, 3));
        x = (x << 32) | yt as u128;
        y = (y << 32) | xt as u128;
    }
    if part1 {
        x
    } else {
        y
    }
}

/// Crypto three-register SHA.
pub fn sha3reg(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let opc = (w >> 12) & 7;
    if (w >> 22) & 3 != 0 || opc == 7 {
        return Err(super::undefined(d));
    }
    let dd = rd(w);
    let (a, n, b) = (vr(m, dd), vr(m, rn(w)), vr(m, rm(w)));
    m.cpu.v[dd] = match opc {
        0 => sha1_rounds(a, n as u32, b, choose),
        1 => sha1_rounds(a, n as u32, b, parity),
        2 => sha1_rounds(a, n as u32, b, majority),
        3 => ((n & u64::MAX as u128) << 64 | a >> 64) ^ a ^ b,
        4 => sha256_hash(a, n, b, true),
        5 => sha256_hash(n, a, b, false),
        _ => {
            // SHA256SU1
            let t0 = (b & 0xffff_ffff) << 96 | n >> 32;
            let sig = |x: u32| x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10);
            let mut r = [0u32; 4];
            for e in 0..4 {
                let src = if e < 2 { word(b, 2 + e as u32) } else { r[e - 2] };
                r[e] = sig(src).wrapping_add(word(a, e as u32)).wrapping_add(word(t0, e as u32));
            }
            words(r)
        }
    };
    Ok(())
}

/// Crypto two-register SHA: SHA1H SHA1SU1 SHA256SU0.
pub fn sha2reg(m: &mut M, d: &Decoded) -> Res {
    let w = d.word;
    let opc = (w >> 12) & 31;
    if (w >> 22) & 3 != 0 || opc > 2 {
        return Err(super::undefined(d));
    }
    let dd = rd(w);
    let (a, n) = (vr(m, dd), vr(m, rn(w)));
    m.cpu.v[dd] = match opc {
        0 => (n as u32).rotate_left(30) as u128,
        1 => {
            let t = a ^ (n >> 32);
            let mut r = [0u32; 4];
            for (e, x) in r.iter_mut().enumerate() {
                *x = word(t, e as u32).rotate_left(1);
            }
            r[3] ^= word(t, 0).rotate_left(2);
            words(r)
        }
        _ => {
            let t = (n & 0xffff_ffff) << 96 | a >> 32;
            let mut r = [0u32; 4];
            for (e, x) in r.iter_mut().enumerate() {
                let el = word(t, e as u32);
                *x = (el.rotate_right(7) ^ el.rotate_right(18) ^ (el >> 3)).wrapping_add(word(a, e as u32));
            }
            words(r)
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fp_oracle::{check, int_cases};
    use super::*;

    #[test]
    fn sbox_values() {
        assert_eq!(SBOX[0x00], 0x63);
        assert_eq!(SBOX[0x53], 0xed);
        assert_eq!(INV_SBOX[0x63], 0x00);
    }

    #[test]
    fn crypto_vs_qemu() {
        let mut words = Vec::new();
        for opc in 4..8u32 {
            words.push(0x4e28_0800 | opc << 12 | 1 << 5 | 2);
        }
        for opc in 0..7u32 {
            words.push(0x5e00_0000 | 3 << 16 | opc << 12 | 1 << 5 | 2);
        }
        for opc in 0..3u32 {
            words.push(0x5e28_0800 | opc << 12 | 1 << 5 | 2);
        }
        check(&int_cases(&words, 12, 91));
    }
}
