//! Syscalls by name, independent of ISA, with each ISA's numbering. The platform implements
//! each syscall once against `Sys`; the ISA layer only maps numbers (design: share, don't fork).

macro_rules! syscalls {
    (@num NONE) => { None };
    (@num $n:literal) => { Some($n) };
    ($($var:ident = $name:literal, $x86:literal, $a64:tt;)*) => {
        /// Every syscall deja knows by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Sys { $($var,)* }

        impl Sys {
            /// The Linux name, for messages.
            pub fn name(self) -> &'static str {
                match self { $(Sys::$var => $name,)* }
            }

            /// The x86-64 number.
            pub fn x86_64(self) -> u64 {
                match self { $(Sys::$var => $x86,)* }
            }

            /// The AArch64 (asm-generic) number, if AArch64 has this syscall.
            pub fn aarch64(self) -> Option<u64> {
                match self { $(Sys::$var => syscalls!(@num $a64),)* }
            }

            /// The syscall with AArch64 number `nr`.
            pub fn from_aarch64(nr: u64) -> Option<Sys> {
                Sys::ALL.iter().copied().find(|s| s.aarch64() == Some(nr))
            }

            /// The syscall with x86-64 number `nr`.
            pub fn from_x86_64(nr: u64) -> Option<Sys> {
                match nr { $($x86 => Some(Sys::$var),)* _ => None }
            }

            pub const ALL: &'static [Sys] = &[$(Sys::$var,)*];
        }
    };
}

syscalls! {
    Read = "read", 0, 63;
    Write = "write", 1, 64;
    Open = "open", 2, NONE;
    Close = "close", 3, 57;
    Stat = "stat", 4, NONE;
    Fstat = "fstat", 5, 80;
    Lstat = "lstat", 6, NONE;
    Poll = "poll", 7, NONE;
    Lseek = "lseek", 8, 62;
    Mmap = "mmap", 9, 222;
    Mprotect = "mprotect", 10, 226;
    Munmap = "munmap", 11, 215;
    Brk = "brk", 12, 214;
    RtSigaction = "rt_sigaction", 13, 134;
    RtSigprocmask = "rt_sigprocmask", 14, 135;
    RtSigreturn = "rt_sigreturn", 15, 139;
    Ioctl = "ioctl", 16, 29;
    Pread64 = "pread64", 17, 67;
    Pwrite64 = "pwrite64", 18, 68;
    Readv = "readv", 19, 65;
    Writev = "writev", 20, 66;
    Access = "access", 21, NONE;
    Pipe = "pipe", 22, NONE;
    Select = "select", 23, NONE;
    SchedYield = "sched_yield", 24, 124;
    Mremap = "mremap", 25, 216;
    Msync = "msync", 26, 227;
    Mincore = "mincore", 27, 232;
    Madvise = "madvise", 28, 233;
    Dup = "dup", 32, 23;
    Dup2 = "dup2", 33, NONE;
    Pause = "pause", 34, NONE;
    Nanosleep = "nanosleep", 35, 101;
    Getitimer = "getitimer", 36, 102;
    Alarm = "alarm", 37, NONE;
    Setitimer = "setitimer", 38, 103;
    Getpid = "getpid", 39, 172;
    Sendfile = "sendfile", 40, 71;
    Socket = "socket", 41, 198;
    Connect = "connect", 42, 203;
    Accept = "accept", 43, 202;
    Sendto = "sendto", 44, 206;
    Recvfrom = "recvfrom", 45, 207;
    Sendmsg = "sendmsg", 46, 211;
    Recvmsg = "recvmsg", 47, 212;
    Shutdown = "shutdown", 48, 210;
    Bind = "bind", 49, 200;
    Listen = "listen", 50, 201;
    Getsockname = "getsockname", 51, 204;
    Getpeername = "getpeername", 52, 205;
    Socketpair = "socketpair", 53, 199;
    Setsockopt = "setsockopt", 54, 208;
    Getsockopt = "getsockopt", 55, 209;
    Clone = "clone", 56, 220;
    Fork = "fork", 57, NONE;
    Vfork = "vfork", 58, NONE;
    Execve = "execve", 59, 221;
    Exit = "exit", 60, 93;
    Wait4 = "wait4", 61, 260;
    Kill = "kill", 62, 129;
    Uname = "uname", 63, 160;
    Fcntl = "fcntl", 72, 25;
    Flock = "flock", 73, 32;
    Fsync = "fsync", 74, 82;
    Fdatasync = "fdatasync", 75, 83;
    Truncate = "truncate", 76, 45;
    Ftruncate = "ftruncate", 77, 46;
    Getdents = "getdents", 78, NONE;
    Getcwd = "getcwd", 79, 17;
    Chdir = "chdir", 80, 49;
    Fchdir = "fchdir", 81, 50;
    Rename = "rename", 82, NONE;
    Mkdir = "mkdir", 83, NONE;
    Rmdir = "rmdir", 84, NONE;
    Creat = "creat", 85, NONE;
    Link = "link", 86, NONE;
    Unlink = "unlink", 87, NONE;
    Symlink = "symlink", 88, NONE;
    Readlink = "readlink", 89, NONE;
    Chmod = "chmod", 90, NONE;
    Fchmod = "fchmod", 91, 52;
    Chown = "chown", 92, NONE;
    Fchown = "fchown", 93, 55;
    Lchown = "lchown", 94, NONE;
    Umask = "umask", 95, 166;
    Gettimeofday = "gettimeofday", 96, 169;
    Getrlimit = "getrlimit", 97, 163;
    Getrusage = "getrusage", 98, 165;
    Sysinfo = "sysinfo", 99, 179;
    Times = "times", 100, 153;
    Ptrace = "ptrace", 101, 117;
    Getuid = "getuid", 102, 174;
    Syslog = "syslog", 103, 116;
    Getgid = "getgid", 104, 176;
    Setuid = "setuid", 105, 146;
    Setgid = "setgid", 106, 144;
    Geteuid = "geteuid", 107, 175;
    Getegid = "getegid", 108, 177;
    Setpgid = "setpgid", 109, 154;
    Getppid = "getppid", 110, 173;
    Getpgrp = "getpgrp", 111, NONE;
    Setsid = "setsid", 112, 157;
    Setreuid = "setreuid", 113, 145;
    Setregid = "setregid", 114, 143;
    Getgroups = "getgroups", 115, 158;
    Setgroups = "setgroups", 116, 159;
    Setresuid = "setresuid", 117, 147;
    Getresuid = "getresuid", 118, 148;
    Setresgid = "setresgid", 119, 149;
    Getresgid = "getresgid", 120, 150;
    Getpgid = "getpgid", 121, 155;
    Setfsuid = "setfsuid", 122, 151;
    Setfsgid = "setfsgid", 123, 152;
    Getsid = "getsid", 124, 156;
    Capget = "capget", 125, 90;
    Capset = "capset", 126, 91;
    RtSigpending = "rt_sigpending", 127, 136;
    RtSigtimedwait = "rt_sigtimedwait", 128, 137;
    RtSigqueueinfo = "rt_sigqueueinfo", 129, 138;
    RtSigsuspend = "rt_sigsuspend", 130, 133;
    Sigaltstack = "sigaltstack", 131, 132;
    Utime = "utime", 132, NONE;
    Mknod = "mknod", 133, NONE;
    Personality = "personality", 135, 92;
    Statfs = "statfs", 137, 43;
    Fstatfs = "fstatfs", 138, 44;
    Getpriority = "getpriority", 140, 141;
    Setpriority = "setpriority", 141, 140;
    SchedSetparam = "sched_setparam", 142, 118;
    SchedGetparam = "sched_getparam", 143, 121;
    SchedSetscheduler = "sched_setscheduler", 144, 119;
    SchedGetscheduler = "sched_getscheduler", 145, 120;
    SchedGetPriorityMax = "sched_get_priority_max", 146, 125;
    SchedGetPriorityMin = "sched_get_priority_min", 147, 126;
    Mlock = "mlock", 149, 228;
    Munlock = "munlock", 150, 229;
    Mlockall = "mlockall", 151, 230;
    Munlockall = "munlockall", 152, 231;
    Prctl = "prctl", 157, 167;
    ArchPrctl = "arch_prctl", 158, NONE;
    Setrlimit = "setrlimit", 160, 164;
    Chroot = "chroot", 161, 51;
    Sync = "sync", 162, 81;
    Mount = "mount", 165, 40;
    Gettid = "gettid", 186, 178;
    Readahead = "readahead", 187, 213;
    Setxattr = "setxattr", 188, 5;
    Getxattr = "getxattr", 191, 8;
    Lgetxattr = "lgetxattr", 192, 9;
    Fgetxattr = "fgetxattr", 193, 10;
    Listxattr = "listxattr", 194, 11;
    Tkill = "tkill", 200, 130;
    Time = "time", 201, NONE;
    Futex = "futex", 202, 98;
    SchedSetaffinity = "sched_setaffinity", 203, 122;
    SchedGetaffinity = "sched_getaffinity", 204, 123;
    Getdents64 = "getdents64", 217, 61;
    SetTidAddress = "set_tid_address", 218, 96;
    RestartSyscall = "restart_syscall", 219, 128;
    Fadvise64 = "fadvise64", 221, 223;
    TimerCreate = "timer_create", 222, 107;
    TimerSettime = "timer_settime", 223, 110;
    TimerGettime = "timer_gettime", 224, 108;
    TimerGetoverrun = "timer_getoverrun", 225, 109;
    TimerDelete = "timer_delete", 226, 111;
    ClockSettime = "clock_settime", 227, 112;
    ClockGettime = "clock_gettime", 228, 113;
    ClockGetres = "clock_getres", 229, 114;
    ClockNanosleep = "clock_nanosleep", 230, 115;
    ExitGroup = "exit_group", 231, 94;
    EpollWait = "epoll_wait", 232, NONE;
    EpollCtl = "epoll_ctl", 233, 21;
    Tgkill = "tgkill", 234, 131;
    Utimes = "utimes", 235, NONE;
    Waitid = "waitid", 247, 95;
    InotifyInit = "inotify_init", 253, NONE;
    Openat = "openat", 257, 56;
    Mkdirat = "mkdirat", 258, 34;
    Mknodat = "mknodat", 259, 33;
    Fchownat = "fchownat", 260, 54;
    Futimesat = "futimesat", 261, NONE;
    Newfstatat = "newfstatat", 262, 79;
    Unlinkat = "unlinkat", 263, 35;
    Renameat = "renameat", 264, 38;
    Linkat = "linkat", 265, 37;
    Symlinkat = "symlinkat", 266, 36;
    Readlinkat = "readlinkat", 267, 78;
    Fchmodat = "fchmodat", 268, 53;
    Faccessat = "faccessat", 269, 48;
    Pselect6 = "pselect6", 270, 72;
    Ppoll = "ppoll", 271, 73;
    Unshare = "unshare", 272, 97;
    SetRobustList = "set_robust_list", 273, 99;
    GetRobustList = "get_robust_list", 274, 100;
    Splice = "splice", 275, 76;
    Tee = "tee", 276, 77;
    SyncFileRange = "sync_file_range", 277, 84;
    Utimensat = "utimensat", 280, 88;
    EpollPwait = "epoll_pwait", 281, 22;
    Signalfd = "signalfd", 282, NONE;
    TimerfdCreate = "timerfd_create", 283, 85;
    Eventfd = "eventfd", 284, NONE;
    Fallocate = "fallocate", 285, 47;
    TimerfdSettime = "timerfd_settime", 286, 86;
    TimerfdGettime = "timerfd_gettime", 287, 87;
    Accept4 = "accept4", 288, 242;
    Signalfd4 = "signalfd4", 289, 74;
    Eventfd2 = "eventfd2", 290, 19;
    EpollCreate1 = "epoll_create1", 291, 20;
    Dup3 = "dup3", 292, 24;
    Pipe2 = "pipe2", 293, 59;
    InotifyInit1 = "inotify_init1", 294, 26;
    Preadv = "preadv", 295, 69;
    Pwritev = "pwritev", 296, 70;
    RtTgsigqueueinfo = "rt_tgsigqueueinfo", 297, 240;
    PerfEventOpen = "perf_event_open", 298, 241;
    Recvmmsg = "recvmmsg", 299, 243;
    Prlimit64 = "prlimit64", 302, 261;
    Sendmmsg = "sendmmsg", 307, 269;
    Getcpu = "getcpu", 309, 168;
    Renameat2 = "renameat2", 316, 276;
    Seccomp = "seccomp", 317, 277;
    Getrandom = "getrandom", 318, 278;
    MemfdCreate = "memfd_create", 319, 279;
    Membarrier = "membarrier", 324, 283;
    CopyFileRange = "copy_file_range", 326, 285;
    Preadv2 = "preadv2", 327, 286;
    Pwritev2 = "pwritev2", 328, 287;
    Statx = "statx", 332, 291;
    Rseq = "rseq", 334, 293;
    PidfdOpen = "pidfd_open", 434, 434;
    Clone3 = "clone3", 435, 435;
    CloseRange = "close_range", 436, 436;
    Faccessat2 = "faccessat2", 439, 439;
    EpollPwait2 = "epoll_pwait2", 441, 441;
    Fchmodat2 = "fchmodat2", 452, 452;
}
