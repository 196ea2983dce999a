//! The unit tests' one pseudo-random generator (xorshift64*): seeded, so every failure
//! reproduces from the seed printed with it. Integration tests have their own in
//! tests/common (they cannot see this crate's test-only code).

/// Small deterministic PRNG. The state must not be zero (`new` makes sure).
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    pub fn v128(&mut self) -> u128 {
        self.next_u64() as u128 | (self.next_u64() as u128) << 64
    }

    /// A value that is often 0, ±1, a sign boundary of some width, or small.
    pub fn edgy(&mut self) -> u64 {
        let w = [8u32, 16, 32, 64][self.below(4) as usize];
        let sign = 1u64 << (w - 1);
        match self.below(12) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => sign,
            4 => sign - 1,
            5 => sign.wrapping_add(1),
            6 => self.below(64),
            7 => self.next_u64() >> self.below(64),
            _ => self.next_u64(),
        }
    }
}
