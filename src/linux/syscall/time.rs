//! Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep. Time is an outside fact: every reading is a host call through the
//! `World` with the kernel's output declared, and sleeps really sleep (in a normal run).

use super::util::*;
use super::{SysResult, SysTable};
use crate::arch::Arch;
use crate::linux::process::Process;
use crate::linux::sysno::Sys;
use crate::world::HostCall;
use libc::*;

pub fn register<A: Arch>(t: &mut SysTable<A>) {
    t.add(Sys::ClockGettime, clock_gettime);
    t.add(Sys::ClockGetres, clock_getres);
    t.add(Sys::Gettimeofday, gettimeofday);
    t.add(Sys::Time, time);
    t.add(Sys::Nanosleep, nanosleep);
    t.add(Sys::ClockNanosleep, clock_nanosleep);
}

/// `struct timespec` / `struct timeval` on x86-64.
const TS: u64 = 16;
/// `struct timezone`.
const TZ: u64 = 8;

fn clock_gettime<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let ts = gout(p, a[1], TS)?;
    let c = HostCall::new(SYS_clock_gettime, [a[0] as i32 as i64 as u64, hp(ts), 0, 0, 0, 0]).out_raw(ts, TS as usize);
    call(p, &c)
}

fn clock_getres<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let ts = gout_opt(p, a[1], TS)?;
    let c = HostCall::new(SYS_clock_getres, [a[0] as i32 as i64 as u64, hp(ts), 0, 0, 0, 0]).out_raw(ts, TS as usize);
    call(p, &c)
}

fn gettimeofday<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let tv = gout_opt(p, a[0], TS)?;
    let tz = gout_opt(p, a[1], TZ)?;
    let c =
        HostCall::new(SYS_gettimeofday, [hp(tv), hp(tz), 0, 0, 0, 0]).out_raw(tv, TS as usize).out_raw(tz, TZ as usize);
    call(p, &c)
}

fn time<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let t = gout_opt(p, a[0], 8)?;
    let c = HostCall::new(SYS_time, [hp(t), 0, 0, 0, 0, 0]).out_raw(t, 8);
    call(p, &c)
}

fn nanosleep<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let req = gin(p, a[0], TS)?;
    let rem = gout_opt(p, a[1], TS)?;
    let c = HostCall::new(SYS_nanosleep, [hp(req), hp(rem), 0, 0, 0, 0]).out_raw(rem, TS as usize);
    call(p, &c)
}

fn clock_nanosleep<A: Arch>(p: &mut Process<A>, a: [u64; 6]) -> SysResult {
    let req = gin(p, a[2], TS)?;
    let rem = gout_opt(p, a[3], TS)?;
    let c = HostCall::new(SYS_clock_nanosleep, [a[0] as i32 as i64 as u64, a[1] as u32 as u64, hp(req), hp(rem), 0, 0])
        .out_raw(rem, TS as usize);
    call(p, &c)
}
