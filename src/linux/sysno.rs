//! Syscalls by name, independent of ISA, with each ISA's numbering. The platform implements
//! each syscall once against `Sys`; the ISA layer only maps numbers (design: share, don't fork).

macro_rules! syscalls {
    ($($var:ident = $name:literal, $x86:literal;)*) => {
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

            /// The syscall with x86-64 number `nr`.
            pub fn from_x86_64(nr: u64) -> Option<Sys> {
                match nr { $($x86 => Some(Sys::$var),)* _ => None }
            }

            pub const ALL: &'static [Sys] = &[$(Sys::$var,)*];
        }
    };
}

syscalls! {
    Read = "read", 0;
    Write = "write", 1;
    Open = "open", 2;
    Close = "close", 3;
    Stat = "stat", 4;
    Fstat = "fstat", 5;
    Lstat = "lstat", 6;
    Poll = "poll", 7;
    Lseek = "lseek", 8;
    Mmap = "mmap", 9;
    Mprotect = "mprotect", 10;
    Munmap = "munmap", 11;
    Brk = "brk", 12;
    RtSigaction = "rt_sigaction", 13;
    RtSigprocmask = "rt_sigprocmask", 14;
    RtSigreturn = "rt_sigreturn", 15;
    Ioctl = "ioctl", 16;
    Pread64 = "pread64", 17;
    Pwrite64 = "pwrite64", 18;
    Readv = "readv", 19;
    Writev = "writev", 20;
    Access = "access", 21;
    Pipe = "pipe", 22;
    Select = "select", 23;
    SchedYield = "sched_yield", 24;
    Mremap = "mremap", 25;
    Msync = "msync", 26;
    Mincore = "mincore", 27;
    Madvise = "madvise", 28;
    Dup = "dup", 32;
    Dup2 = "dup2", 33;
    Pause = "pause", 34;
    Nanosleep = "nanosleep", 35;
    Getitimer = "getitimer", 36;
    Alarm = "alarm", 37;
    Setitimer = "setitimer", 38;
    Getpid = "getpid", 39;
    Sendfile = "sendfile", 40;
    Socket = "socket", 41;
    Connect = "connect", 42;
    Accept = "accept", 43;
    Sendto = "sendto", 44;
    Recvfrom = "recvfrom", 45;
    Sendmsg = "sendmsg", 46;
    Recvmsg = "recvmsg", 47;
    Shutdown = "shutdown", 48;
    Bind = "bind", 49;
    Listen = "listen", 50;
    Getsockname = "getsockname", 51;
    Getpeername = "getpeername", 52;
    Socketpair = "socketpair", 53;
    Setsockopt = "setsockopt", 54;
    Getsockopt = "getsockopt", 55;
    Clone = "clone", 56;
    Fork = "fork", 57;
    Vfork = "vfork", 58;
    Execve = "execve", 59;
    Exit = "exit", 60;
    Wait4 = "wait4", 61;
    Kill = "kill", 62;
    Uname = "uname", 63;
    Fcntl = "fcntl", 72;
    Flock = "flock", 73;
    Fsync = "fsync", 74;
    Fdatasync = "fdatasync", 75;
    Truncate = "truncate", 76;
    Ftruncate = "ftruncate", 77;
    Getdents = "getdents", 78;
    Getcwd = "getcwd", 79;
    Chdir = "chdir", 80;
    Fchdir = "fchdir", 81;
    Rename = "rename", 82;
    Mkdir = "mkdir", 83;
    Rmdir = "rmdir", 84;
    Creat = "creat", 85;
    Link = "link", 86;
    Unlink = "unlink", 87;
    Symlink = "symlink", 88;
    Readlink = "readlink", 89;
    Chmod = "chmod", 90;
    Fchmod = "fchmod", 91;
    Chown = "chown", 92;
    Fchown = "fchown", 93;
    Lchown = "lchown", 94;
    Umask = "umask", 95;
    Gettimeofday = "gettimeofday", 96;
    Getrlimit = "getrlimit", 97;
    Getrusage = "getrusage", 98;
    Sysinfo = "sysinfo", 99;
    Times = "times", 100;
    Ptrace = "ptrace", 101;
    Getuid = "getuid", 102;
    Syslog = "syslog", 103;
    Getgid = "getgid", 104;
    Setuid = "setuid", 105;
    Setgid = "setgid", 106;
    Geteuid = "geteuid", 107;
    Getegid = "getegid", 108;
    Setpgid = "setpgid", 109;
    Getppid = "getppid", 110;
    Getpgrp = "getpgrp", 111;
    Setsid = "setsid", 112;
    Setreuid = "setreuid", 113;
    Setregid = "setregid", 114;
    Getgroups = "getgroups", 115;
    Setgroups = "setgroups", 116;
    Setresuid = "setresuid", 117;
    Getresuid = "getresuid", 118;
    Setresgid = "setresgid", 119;
    Getresgid = "getresgid", 120;
    Getpgid = "getpgid", 121;
    Setfsuid = "setfsuid", 122;
    Setfsgid = "setfsgid", 123;
    Getsid = "getsid", 124;
    Capget = "capget", 125;
    Capset = "capset", 126;
    RtSigpending = "rt_sigpending", 127;
    RtSigtimedwait = "rt_sigtimedwait", 128;
    RtSigqueueinfo = "rt_sigqueueinfo", 129;
    RtSigsuspend = "rt_sigsuspend", 130;
    Sigaltstack = "sigaltstack", 131;
    Utime = "utime", 132;
    Mknod = "mknod", 133;
    Personality = "personality", 135;
    Statfs = "statfs", 137;
    Fstatfs = "fstatfs", 138;
    Getpriority = "getpriority", 140;
    Setpriority = "setpriority", 141;
    SchedSetparam = "sched_setparam", 142;
    SchedGetparam = "sched_getparam", 143;
    SchedSetscheduler = "sched_setscheduler", 144;
    SchedGetscheduler = "sched_getscheduler", 145;
    SchedGetPriorityMax = "sched_get_priority_max", 146;
    SchedGetPriorityMin = "sched_get_priority_min", 147;
    Mlock = "mlock", 149;
    Munlock = "munlock", 150;
    Mlockall = "mlockall", 151;
    Munlockall = "munlockall", 152;
    Prctl = "prctl", 157;
    ArchPrctl = "arch_prctl", 158;
    Setrlimit = "setrlimit", 160;
    Chroot = "chroot", 161;
    Sync = "sync", 162;
    Mount = "mount", 165;
    Gettid = "gettid", 186;
    Readahead = "readahead", 187;
    Setxattr = "setxattr", 188;
    Getxattr = "getxattr", 191;
    Lgetxattr = "lgetxattr", 192;
    Fgetxattr = "fgetxattr", 193;
    Listxattr = "listxattr", 194;
    Tkill = "tkill", 200;
    Time = "time", 201;
    Futex = "futex", 202;
    SchedSetaffinity = "sched_setaffinity", 203;
    SchedGetaffinity = "sched_getaffinity", 204;
    Getdents64 = "getdents64", 217;
    SetTidAddress = "set_tid_address", 218;
    RestartSyscall = "restart_syscall", 219;
    Fadvise64 = "fadvise64", 221;
    TimerCreate = "timer_create", 222;
    TimerSettime = "timer_settime", 223;
    TimerGettime = "timer_gettime", 224;
    TimerGetoverrun = "timer_getoverrun", 225;
    TimerDelete = "timer_delete", 226;
    ClockSettime = "clock_settime", 227;
    ClockGettime = "clock_gettime", 228;
    ClockGetres = "clock_getres", 229;
    ClockNanosleep = "clock_nanosleep", 230;
    ExitGroup = "exit_group", 231;
    EpollWait = "epoll_wait", 232;
    EpollCtl = "epoll_ctl", 233;
    Tgkill = "tgkill", 234;
    Utimes = "utimes", 235;
    Waitid = "waitid", 247;
    InotifyInit = "inotify_init", 253;
    Openat = "openat", 257;
    Mkdirat = "mkdirat", 258;
    Mknodat = "mknodat", 259;
    Fchownat = "fchownat", 260;
    Futimesat = "futimesat", 261;
    Newfstatat = "newfstatat", 262;
    Unlinkat = "unlinkat", 263;
    Renameat = "renameat", 264;
    Linkat = "linkat", 265;
    Symlinkat = "symlinkat", 266;
    Readlinkat = "readlinkat", 267;
    Fchmodat = "fchmodat", 268;
    Faccessat = "faccessat", 269;
    Pselect6 = "pselect6", 270;
    Ppoll = "ppoll", 271;
    Unshare = "unshare", 272;
    SetRobustList = "set_robust_list", 273;
    GetRobustList = "get_robust_list", 274;
    Splice = "splice", 275;
    Tee = "tee", 276;
    SyncFileRange = "sync_file_range", 277;
    Utimensat = "utimensat", 280;
    EpollPwait = "epoll_pwait", 281;
    Signalfd = "signalfd", 282;
    TimerfdCreate = "timerfd_create", 283;
    Eventfd = "eventfd", 284;
    Fallocate = "fallocate", 285;
    TimerfdSettime = "timerfd_settime", 286;
    TimerfdGettime = "timerfd_gettime", 287;
    Accept4 = "accept4", 288;
    Signalfd4 = "signalfd4", 289;
    Eventfd2 = "eventfd2", 290;
    EpollCreate1 = "epoll_create1", 291;
    Dup3 = "dup3", 292;
    Pipe2 = "pipe2", 293;
    InotifyInit1 = "inotify_init1", 294;
    Preadv = "preadv", 295;
    Pwritev = "pwritev", 296;
    RtTgsigqueueinfo = "rt_tgsigqueueinfo", 297;
    PerfEventOpen = "perf_event_open", 298;
    Recvmmsg = "recvmmsg", 299;
    Prlimit64 = "prlimit64", 302;
    Sendmmsg = "sendmmsg", 307;
    Getcpu = "getcpu", 309;
    Renameat2 = "renameat2", 316;
    Seccomp = "seccomp", 317;
    Getrandom = "getrandom", 318;
    MemfdCreate = "memfd_create", 319;
    Membarrier = "membarrier", 324;
    CopyFileRange = "copy_file_range", 326;
    Preadv2 = "preadv2", 327;
    Pwritev2 = "pwritev2", 328;
    Statx = "statx", 332;
    Rseq = "rseq", 334;
    PidfdOpen = "pidfd_open", 434;
    Clone3 = "clone3", 435;
    CloseRange = "close_range", 436;
    Faccessat2 = "faccessat2", 439;
    EpollPwait2 = "epoll_pwait2", 441;
    Fchmodat2 = "fchmodat2", 452;
}
