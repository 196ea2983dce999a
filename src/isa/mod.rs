//! Guest instruction-set architectures.

pub mod x86_64;
