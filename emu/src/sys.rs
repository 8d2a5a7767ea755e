//! Linux as the program sees it: the start-up stack (arguments, environment, auxiliary vector) and
//! the system calls. Everything is simulated in memory and deterministic: time advances with the
//! instruction count, `getrandom` is a fixed-seed generator, standard input is the bytes given,
//! standard output and error are collected, and files come from the [`Vfs`].

use std::rc::Rc;

use crate::cpu::{Halt, Machine, RAX, RDI, RDX, RSI, RSP};
use crate::elf::{Elf, PT_LOAD, PT_PHDR};
use crate::mem::{page_up, PAGE};
use crate::{Config, EmuError, SyscallRecord, Vfs};

const ENOENT: i64 = 2;
const EBADF: i64 = 9;
const ENOMEM: i64 = 12;
const EFAULT: i64 = 14;
const EFBIG: i64 = 27;
const EINVAL: i64 = 22;
const ENOTTY: i64 = 25;
const ESPIPE: i64 = 29;
const ENOSYS: i64 = 38;

/// Where the stack ends (as Linux without randomization) and how big it is.
const STACK_TOP: u64 = 0x7fff_ffff_f000;
const STACK_SIZE: u64 = 8 << 20;
/// Anonymous `mmap`s are placed below this, downward.
const MMAP_TOP: u64 = 0x7fff_f7ff_f000;

/// An open file: its path in the Vfs (its bytes are read from there) and the offset.
struct OpenFile {
    path: String,
    pos: u64,
}

/// A shared handle on the file system: reading a file's bytes through a clone of it borrows
/// the handle, not the machine, so the bytes can be copied into guest memory.
pub type VfsHandle<'a> = Rc<dyn Vfs + 'a>;

pub(crate) struct SysState<'a> {
    brk_start: u64,
    brk: u64,
    stdin: Vec<u8>,
    stdin_pos: usize,
    random: u64,
    record: bool,
    /// Standard output and error together stop growing here (writes fail with EFBIG).
    max_output: usize,
    vfs: Option<VfsHandle<'a>>,
    /// Descriptors 3 and up.
    files: Vec<Option<OpenFile>>,
    /// Every path opened so far: a file's inode number is its index here, so that the loader,
    /// which recognizes a library it already loaded by device and inode, tells files apart.
    paths: Vec<String>,
    /// What `readlink("/proc/self/exe")` says (`argv[0]` when it is absolute).
    exe: Option<Vec<u8>>,
    /// Relative paths are looked up in the Vfs from here.
    cwd: String,
}

impl<'a> SysState<'a> {
    pub(crate) fn new(config: &Config, vfs: Option<VfsHandle<'a>>, brk: u64) -> SysState<'a> {
        SysState {
            brk_start: brk,
            brk,
            stdin: config.stdin.clone(),
            stdin_pos: 0,
            random: 0x9e37_79b9_7f4a_7c15,
            record: config.record_syscalls,
            max_output: config.max_output,
            vfs,
            files: Vec::new(),
            paths: Vec::new(),
            exe: config.args.first().filter(|a| a.starts_with(b"/")).cloned(),
            cwd: config.cwd.clone(),
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: deterministic bytes for AT_RANDOM and getrandom.
        let mut x = self.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.random = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The name of a system call, for the trace and for diagnostics.
pub fn syscall_name(n: u64) -> &'static str {
    match n {
        0 => "read",
        1 => "write",
        2 => "open",
        3 => "close",
        4 => "stat",
        5 => "fstat",
        6 => "lstat",
        7 => "poll",
        8 => "lseek",
        9 => "mmap",
        10 => "mprotect",
        11 => "munmap",
        12 => "brk",
        13 => "rt_sigaction",
        14 => "rt_sigprocmask",
        15 => "rt_sigreturn",
        16 => "ioctl",
        17 => "pread64",
        18 => "pwrite64",
        19 => "readv",
        20 => "writev",
        21 => "access",
        22 => "pipe",
        23 => "select",
        24 => "sched_yield",
        25 => "mremap",
        28 => "madvise",
        32 => "dup",
        33 => "dup2",
        35 => "nanosleep",
        39 => "getpid",
        41 => "socket",
        56 => "clone",
        57 => "fork",
        59 => "execve",
        60 => "exit",
        61 => "wait4",
        62 => "kill",
        63 => "uname",
        72 => "fcntl",
        79 => "getcwd",
        89 => "readlink",
        96 => "gettimeofday",
        97 => "getrlimit",
        102 => "getuid",
        104 => "getgid",
        107 => "geteuid",
        108 => "getegid",
        110 => "getppid",
        131 => "sigaltstack",
        158 => "arch_prctl",
        186 => "gettid",
        200 => "tkill",
        201 => "time",
        202 => "futex",
        204 => "sched_getaffinity",
        218 => "set_tid_address",
        228 => "clock_gettime",
        229 => "clock_getres",
        230 => "clock_nanosleep",
        231 => "exit_group",
        234 => "tgkill",
        257 => "openat",
        262 => "newfstatat",
        267 => "readlinkat",
        269 => "faccessat",
        273 => "set_robust_list",
        302 => "prlimit64",
        318 => "getrandom",
        332 => "statx",
        334 => "rseq",
        435 => "clone3",
        _ => "unknown",
    }
}

impl<'a> Machine<'a> {
    /// Lay out the stack as Linux does for a new program and point %rsp at `argc`.
    pub(crate) fn build_stack(
        &mut self,
        elf: &Elf,
        base: u64,
        interp_base: u64,
        config: &Config,
    ) -> Result<(), EmuError> {
        let bottom = STACK_TOP - STACK_SIZE;
        self.mem
            .map(bottom, STACK_SIZE, 3, "stack")
            .ok_or_else(|| EmuError::Load("cannot map the stack (memory limit?)".into()))?;
        let too_big = || EmuError::Load("arguments and environment do not fit on the stack".into());
        let strings: usize = config
            .args
            .iter()
            .chain(&config.env)
            .map(|s| s.len() + 1)
            .sum();
        if strings > (STACK_SIZE / 4) as usize || config.args.len() + config.env.len() > 100_000 {
            return Err(too_big());
        }
        let mut sp = STACK_TOP - 8;
        let mut put = |m: &mut Machine, bytes: &[u8]| -> u64 {
            sp -= bytes.len() as u64 + 1;
            let _ = m.mem.write(sp, bytes);
            let _ = m.mem.write(sp + bytes.len() as u64, &[0]);
            sp
        };
        let execfn = put(
            self,
            config.args.first().map(|a| a.as_slice()).unwrap_or(b"prog"),
        );
        let envp: Vec<u64> = config.env.iter().map(|e| put(self, e)).collect();
        let argv: Vec<u64> = config.args.iter().map(|a| put(self, a)).collect();
        let platform = put(self, b"x86_64");
        let mut rnd = [0u8; 16];
        for c in rnd.chunks_mut(8) {
            c.copy_from_slice(&self.sys.next_random().to_le_bytes());
        }
        sp = (sp - 16) & !15;
        let random = sp;
        let _ = self.mem.write(random, &rnd);
        let phdr = elf
            .phdrs
            .iter()
            .find(|p| p.kind == PT_PHDR)
            .map(|p| p.vaddr)
            .or_else(|| {
                elf.phdrs
                    .iter()
                    .find(|p| p.kind == PT_LOAD && p.offset == 0)
                    .map(|p| p.vaddr.wrapping_add(elf.phoff))
            })
            .unwrap_or(0)
            .wrapping_add(base);
        let auxv: [(u64, u64); 18] = [
            (3, phdr),                         // AT_PHDR
            (4, 56),                           // AT_PHENT
            (5, elf.phdrs.len() as u64),       // AT_PHNUM
            (6, PAGE),                         // AT_PAGESZ
            (7, interp_base),                  // AT_BASE
            (8, 0),                            // AT_FLAGS
            (9, base.wrapping_add(elf.entry)), // AT_ENTRY
            (11, 0),                           // AT_UID
            (12, 0),                           // AT_EUID
            (13, 0),                           // AT_GID
            (14, 0),                           // AT_EGID
            (23, 0),                           // AT_SECURE
            (16, 0x0789_f9ff),                 // AT_HWCAP (cpuid 1 %edx)
            (17, 100),                         // AT_CLKTCK
            (15, platform),                    // AT_PLATFORM
            (25, random),                      // AT_RANDOM
            (26, 0),                           // AT_HWCAP2
            (31, execfn),                      // AT_EXECFN
        ];
        let mut words: Vec<u64> = Vec::new();
        words.push(argv.len() as u64);
        words.extend(&argv);
        words.push(0);
        words.extend(&envp);
        words.push(0);
        for (k, v) in auxv {
            words.push(k);
            words.push(v);
        }
        words.push(0);
        words.push(0);
        let size = words.len() as u64 * 8;
        let start = (sp - size) & !15;
        if start < bottom + PAGE {
            return Err(too_big());
        }
        for (k, w) in words.iter().enumerate() {
            let _ = self.mem.write(start + 8 * k as u64, &w.to_le_bytes());
        }
        self.regs[RSP] = start;
        // Linux starts a static program with %rdx = 0 (no loader's finalizer).
        self.regs[RDX] = 0;
        Ok(())
    }

    fn fd_file(&mut self, fd: u64) -> Option<&mut OpenFile> {
        let k = usize::try_from(fd.checked_sub(3)?).ok()?;
        self.sys.files.get_mut(k)?.as_mut()
    }

    /// The Vfs and the path of the file open as `fd`: `vfs.read(&path)` gives its bytes.
    fn fd_source(&mut self, fd: u64) -> Option<(VfsHandle<'a>, String)> {
        let vfs = self.sys.vfs.clone()?;
        Some((vfs, self.fd_file(fd)?.path.clone()))
    }

    /// The Vfs's bytes at `path`, if it has the file.
    pub(crate) fn vfs_size(&self, path: &str) -> Option<u64> {
        Some(self.sys.vfs.as_ref()?.read(path)?.len() as u64)
    }

    fn guest_write(&mut self, fd: u64, addr: u64, len: u64) -> i64 {
        if fd != 1 && fd != 2 {
            return -EBADF;
        }
        let len = len.min(1 << 24) as usize;
        if self.stdout.len() + self.stderr.len() + len > self.sys.max_output {
            return -EFBIG;
        }
        match self.mem.read_vec(addr, len) {
            Ok(b) => {
                if fd == 1 {
                    self.stdout.extend_from_slice(&b);
                } else {
                    self.stderr.extend_from_slice(&b);
                }
                len as i64
            }
            Err(_) => -EFAULT,
        }
    }

    fn guest_read(&mut self, fd: u64, addr: u64, len: u64, at: Option<u64>) -> i64 {
        let len = len.min(1 << 24) as usize;
        let chunk: Vec<u8> = if fd == 0 {
            if at.is_some() {
                return -ESPIPE;
            }
            let s = &self.sys.stdin[self.sys.stdin_pos.min(self.sys.stdin.len())..];
            s[..s.len().min(len)].to_vec()
        } else {
            let Some((vfs, path)) = self.fd_source(fd) else {
                return -EBADF;
            };
            let data = vfs.read(&path).unwrap_or(&[]);
            let pos = at.unwrap_or(self.fd_file(fd).map_or(0, |f| f.pos)) as usize;
            let s = data.get(pos.min(data.len())..).unwrap_or(&[]);
            s[..s.len().min(len)].to_vec()
        };
        if self.mem.write(addr, &chunk).is_err() {
            return -EFAULT;
        }
        let n = chunk.len();
        if fd == 0 {
            self.sys.stdin_pos += n;
        } else if at.is_none() {
            if let Some(f) = self.fd_file(fd) {
                f.pos = f.pos.saturating_add(n as u64);
            }
        }
        n as i64
    }

    /// `struct stat` for a descriptor: a pipe for 0-2 (as under a test harness), a file otherwise.
    fn stat(&mut self, fd: u64, buf: u64) -> i64 {
        let (mode, size, ino) = match fd {
            0..=2 => (0o010600u64, 0u64, fd),
            _ => match self.fd_file(fd).map(|f| f.path.clone()) {
                Some(path) => {
                    let size = self.vfs_size(&path).unwrap_or(0);
                    (0o100644, size, 3 + self.file_number(&path))
                }
                None => return -EBADF,
            },
        };
        self.write_stat(buf, mode, size, ino)
    }

    /// `open`/`openat` of the path at `path_at`: a descriptor for the Vfs file.
    fn open(&mut self, path_at: u64) -> i64 {
        let Some(p) = self.vfs_path(path_at) else {
            return -EFAULT;
        };
        match self.vfs_size(&p) {
            Some(_) if self.sys.files.len() < 1000 => {
                self.file_number(&p);
                self.sys.files.push(Some(OpenFile { path: p, pos: 0 }));
                self.sys.files.len() as i64 + 2
            }
            _ => -ENOENT,
        }
    }

    /// `newfstatat(fd, path, buf, flags)`: with an empty path (`AT_EMPTY_PATH`) it is `fstat`;
    /// other paths come from the Vfs.
    fn fstatat(&mut self, fd: u64, path_at: u64, buf: u64) -> i64 {
        let path = self.mem.read_cstr(path_at, 4096).unwrap_or_default();
        if path.is_empty() {
            return self.stat(fd, buf);
        }
        let found = self
            .vfs_path(path_at)
            .and_then(|p| Some((self.vfs_size(&p)?, p)));
        match found {
            Some((size, p)) => {
                let ino = 3 + self.file_number(&p);
                self.write_stat(buf, 0o100644, size, ino)
            }
            None => -ENOENT,
        }
    }

    /// `lseek(fd, offset, whence)` on a Vfs file (standard streams are pipes).
    fn lseek(&mut self, fd: u64, offset: i64, whence: u64) -> i64 {
        let Some(path) = self.fd_file(fd).map(|f| f.path.clone()) else {
            return if fd <= 2 { -ESPIPE } else { -EBADF };
        };
        let len = self.vfs_size(&path).unwrap_or(0) as i64;
        let Some(f) = self.fd_file(fd) else {
            return -EBADF;
        };
        let p = match whence {
            0 => Some(offset),
            1 => (f.pos as i64).checked_add(offset),
            2 => len.checked_add(offset),
            _ => None,
        }
        .unwrap_or(-1);
        if p < 0 {
            return -EINVAL;
        }
        f.pos = p as u64;
        p
    }

    /// The number of `path` among the paths opened or looked at so far (its inode number).
    fn file_number(&mut self, path: &str) -> u64 {
        let paths = &mut self.sys.paths;
        match paths.iter().position(|p| p == path) {
            Some(k) => k as u64,
            None => {
                paths.push(path.to_string());
                paths.len() as u64 - 1
            }
        }
    }

    fn write_stat(&mut self, buf: u64, mode: u64, size: u64, ino: u64) -> i64 {
        let mut st = [0u8; 144];
        let mut put =
            |off: usize, v: u64, n: usize| st[off..off + n].copy_from_slice(&v.to_le_bytes()[..n]);
        put(8, ino.wrapping_add(1000), 8); // st_ino
        put(16, 1, 8); // st_nlink
        put(24, mode, 4);
        put(48, size, 8);
        put(56, 4096, 8); // st_blksize
        put(64, size.div_ceil(512), 8);
        if self.mem.write(buf, &st).is_err() {
            return -EFAULT;
        }
        0
    }

    /// The Vfs path for a path argument: relative paths from the working directory.
    fn vfs_path(&self, at: u64) -> Option<String> {
        let p = self.mem.read_cstr(at, 4096).ok()?;
        let p = String::from_utf8_lossy(&p).into_owned();
        if p.starts_with('/') {
            return Some(p);
        }
        let rel = p.strip_prefix("./").unwrap_or(&p);
        Some(format!("{}/{rel}", self.sys.cwd.trim_end_matches('/')))
    }

    fn mmap(&mut self, a: [u64; 6]) -> i64 {
        let (addr, len, prot, flags, fd, off) = (a[0], a[1], a[2] as u32, a[3], a[4] as i64, a[5]);
        let Some(len) = page_up(len).filter(|&l| l > 0 && l < 1 << 40) else {
            return -EINVAL;
        };
        let fixed = flags & 0x10 != 0;
        let anon = flags & 0x20 != 0;
        // The file's bytes in the mapping, and the file itself when the mapping starts at its
        // beginning (where a loader maps a library's first segment).
        let source = if anon {
            None
        } else {
            match self.fd_source(fd as u64) {
                Some(s) => Some(s),
                None => return -EBADF,
            }
        };
        let data: &[u8] = source
            .as_ref()
            .and_then(|(vfs, path)| vfs.read(path))
            .unwrap_or(&[]);
        let start = usize::try_from(off).unwrap_or(usize::MAX).min(data.len());
        let end = start
            .saturating_add(usize::try_from(len).unwrap_or(usize::MAX))
            .min(data.len());
        let contents = &data[start..end];
        let whole = source.as_ref().filter(|_| off == 0).map(|(_, path)| path);
        let at = if fixed {
            if !addr.is_multiple_of(PAGE) {
                return -EINVAL;
            }
            self.mem.unmap(addr, len);
            addr
        } else {
            let hint_free = addr != 0
                && addr.is_multiple_of(PAGE)
                && !self.mem.overlaps(addr, addr.saturating_add(len));
            if hint_free {
                addr
            } else {
                match self.mem.find_free(len, MMAP_TOP) {
                    Some(a) => a,
                    None => return -ENOMEM,
                }
            }
        };
        if self.mem.map(at, len, prot, "mmap").is_none() {
            return -ENOMEM;
        }
        let _ = self.mem.write(at, contents);
        if let Some(path) = whole {
            self.watch_library(data, path, at);
        }
        self.flush_code();
        at as i64
    }

    /// A shared object's first segment was just mapped at `at`: trace its initializers and
    /// finalizers (each library's start-up in a dynamic run). A point the program's report gave
    /// stays; one of a library mapped there before (then unmapped) gives way.
    fn watch_library(&mut self, data: &[u8], path: &str, at: u64) {
        let Ok(elf) = Elf::parse(data) else { return };
        if elf.kind != 3 {
            return;
        }
        let Some(first) = elf
            .phdrs
            .iter()
            .filter(|p| p.kind == PT_LOAD)
            .map(|p| p.vaddr)
            .min()
        else {
            return;
        };
        let bias = at.wrapping_sub(first & !(PAGE - 1));
        let name = path.rsplit('/').next().unwrap_or(path).to_string();
        for (kind, addr, symbol) in elf.dso_initializers() {
            let address = bias.wrapping_add(addr);
            let point = crate::TracePoint {
                address,
                kind,
                symbol,
                library: Some(name.clone()),
            };
            match self.trace_at.get(&address).map(|&k| &self.trace_points[k]) {
                Some(t) if t.library.is_none() || *t == point => {}
                Some(_) => {
                    self.trace_at.insert(address, self.trace_points.len());
                    self.trace_points.push(point);
                }
                None => self.add_trace_point(point),
            }
        }
    }

    /// Carry out the system call in %rax with the arguments in %rdi, %rsi, %rdx, %r10, %r8, %r9.
    pub(crate) fn syscall(&mut self) -> Result<(), Halt> {
        let n = self.regs[RAX];
        let a = [
            self.regs[RDI],
            self.regs[RSI],
            self.regs[RDX],
            self.regs[10],
            self.regs[8],
            self.regs[9],
        ];
        let r: i64 = match n {
            0 => self.guest_read(a[0], a[1], a[2], None),
            17 => self.guest_read(a[0], a[1], a[2], Some(a[3])),
            1 => self.guest_write(a[0], a[1], a[2]),
            20 => {
                // writev: the iovecs, in order.
                let mut total = 0i64;
                for k in 0..a[2].min(1024) {
                    let v = a[1].wrapping_add(16 * k);
                    let (Ok(base), Ok(len)) =
                        (self.read_mem(v, 8), self.read_mem(v.wrapping_add(8), 8))
                    else {
                        total = -EFAULT;
                        break;
                    };
                    let w = self.guest_write(a[0], base, len);
                    if w < 0 {
                        total = w;
                        break;
                    }
                    total += w;
                }
                total
            }
            3 => {
                if a[0] <= 2 {
                    0
                } else {
                    match a[0]
                        .checked_sub(3)
                        .and_then(|k| self.sys.files.get_mut(k as usize))
                    {
                        Some(f @ Some(_)) => {
                            *f = None;
                            0
                        }
                        _ => -EBADF,
                    }
                }
            }
            2 => self.open(a[0]),
            257 => self.open(a[1]),
            5 => self.stat(a[0], a[1]),
            262 => self.fstatat(a[0], a[1], a[2]),
            8 => self.lseek(a[0], a[1] as i64, a[2]),
            9 => self.mmap(a),
            10 => {
                self.mem.protect(a[0], a[1], a[2] as u32);
                self.flush_code();
                0
            }
            11 => {
                if !a[0].is_multiple_of(PAGE) {
                    -EINVAL
                } else {
                    self.mem.unmap(a[0], page_up(a[1]).unwrap_or(0));
                    self.flush_code();
                    0
                }
            }
            12 => {
                let want = a[0];
                let s = &mut self.sys;
                if want >= s.brk_start && want - s.brk_start < 1 << 32 {
                    let len = page_up(want - s.brk_start).unwrap_or(0);
                    let start = s.brk_start;
                    let ok = if self.mem.regions().iter().any(|r| r.start == start) {
                        self.mem.resize(start, len).is_some()
                    } else {
                        len == 0 || self.mem.map(start, len, 3, "heap").is_some()
                    };
                    if ok {
                        self.sys.brk = want;
                    }
                }
                self.sys.brk as i64
            }
            13 | 14 | 131 => {
                // rt_sigaction, rt_sigprocmask, sigaltstack: no signal is ever delivered.
                let old = if n == 131 { a[1] } else { a[2] };
                if old != 0 {
                    let size = if n == 13 {
                        32
                    } else if n == 131 {
                        24
                    } else {
                        8
                    };
                    let _ = self.mem.write(old, &vec![0u8; size]);
                }
                0
            }
            16 => {
                if a[0] <= 2 || self.fd_file(a[0]).is_some() {
                    -ENOTTY
                } else {
                    -EBADF
                }
            }
            21 | 269 => {
                // access, faccessat: whether the Vfs has the file.
                let at = if n == 21 { a[0] } else { a[1] };
                match self.vfs_path(at).and_then(|p| self.vfs_size(&p)) {
                    Some(_) => 0,
                    None => -ENOENT,
                }
            }
            24 => {
                self.yield_thread();
                0
            }
            28 => 0,
            39 => crate::thread::MAIN_TID as i64,
            186 => self.tid() as i64,
            110 => 999,
            102 | 104 | 107 | 108 => 0,
            60 => {
                // exit: this thread only (the process with its last thread).
                self.record(n, a, 0);
                return self.exit_thread(a[0]);
            }
            231 => {
                self.record(n, a, 0);
                return Err(Halt::Exit((a[0] & 0xff) as i32));
            }
            56 => self.sys_clone(a)?,
            62 | 200 | 234 => {
                // kill(getpid(), sig), tkill(tid, sig), tgkill(pid, tid, sig): the signal kills.
                let sig = if n == 234 { a[2] } else { a[1] };
                self.record(n, a, 0);
                if sig == 0 {
                    return Ok(());
                }
                return Err(Halt::Signal(sig as i32));
            }
            63 => {
                let mut u = [0u8; 390];
                for (k, s) in ["Linux", "initlink", "6.1.0", "#1 SMP", "x86_64", "(none)"]
                    .iter()
                    .enumerate()
                {
                    u[65 * k..65 * k + s.len()].copy_from_slice(s.as_bytes());
                }
                if self.mem.write(a[0], &u).is_err() {
                    -EFAULT
                } else {
                    0
                }
            }
            89 | 267 => {
                // Only /proc/self/exe (the loader expands $ORIGIN with it).
                let (path, buf, size) = if n == 89 {
                    (a[0], a[1], a[2])
                } else {
                    (a[1], a[2], a[3])
                };
                let p = self.mem.read_cstr(path, 4096).unwrap_or_default();
                match (&self.sys.exe, p.as_slice()) {
                    (Some(exe), b"/proc/self/exe") => {
                        let k = exe.len().min(size as usize);
                        let bytes = exe[..k].to_vec();
                        if self.mem.write(buf, &bytes).is_err() {
                            -EFAULT
                        } else {
                            k as i64
                        }
                    }
                    _ => -ENOENT,
                }
            }
            158 => match a[0] {
                0x1002 => {
                    self.fs_base = a[1];
                    0
                }
                0x1001 => {
                    self.gs_base = a[1];
                    0
                }
                0x1003 => self
                    .write_mem(a[1], 8, self.fs_base)
                    .map(|_| 0)
                    .unwrap_or(-EFAULT),
                0x1004 => self
                    .write_mem(a[1], 8, self.gs_base)
                    .map(|_| 0)
                    .unwrap_or(-EFAULT),
                _ => -EINVAL,
            },
            202 => self.futex(a)?,
            218 => self.set_tid_address(a[0]),
            228 | 96 | 201 => {
                // Virtual time: a fixed epoch plus a nanosecond per instruction.
                let ns = 1_767_225_600_000_000_000u64.wrapping_add(self.icount);
                let (s, sub) = (ns / 1_000_000_000, ns % 1_000_000_000);
                let (addr, second, scale) = match n {
                    228 => (a[1], sub, 1),
                    96 => (a[0], sub, 1000),
                    _ => (a[0], 0, 0),
                };
                if n == 201 {
                    if addr != 0 {
                        let _ = self.write_mem(addr, 8, s);
                    }
                    s as i64
                } else if self.write_mem(addr, 8, s).is_ok()
                    && self
                        .write_mem(addr.wrapping_add(8), 8, second / scale.max(1))
                        .is_ok()
                {
                    0
                } else {
                    -EFAULT
                }
            }
            273 => 0,
            302 | 97 => {
                let (res, old) = if n == 302 { (a[1], a[3]) } else { (a[0], a[1]) };
                if old != 0 {
                    let (cur, max) = if res == 3 {
                        (8u64 << 20, u64::MAX)
                    } else {
                        (u64::MAX, u64::MAX)
                    };
                    let _ = self.write_mem(old, 8, cur);
                    let _ = self.write_mem(old.wrapping_add(8), 8, max);
                }
                0
            }
            318 => {
                let len = a[1].min(1 << 20) as usize;
                let mut v = Vec::with_capacity(len);
                while v.len() < len {
                    v.extend_from_slice(&self.sys.next_random().to_le_bytes());
                }
                v.truncate(len);
                if self.mem.write(a[0], &v).is_err() {
                    -EFAULT
                } else {
                    len as i64
                }
            }
            // rseq and clone3: say "not supported", as an old kernel would; glibc copes.
            334 | 435 => -ENOSYS,
            _ => {
                return Err(Halt::err(EmuError::Syscall {
                    address: self.cur_ip(),
                    number: n,
                    name: syscall_name(n),
                }))
            }
        };
        self.record(n, a, r);
        self.regs[RAX] = r as u64;
        Ok(())
    }

    fn record(&mut self, n: u64, args: [u64; 6], result: i64) {
        if self.sys.record && self.syscalls.len() < 1_000_000 {
            // The argument that is a path, for the system calls that take one.
            let path_arg = match n {
                2 | 4 | 6 | 21 | 59 | 89 => Some(args[0]),
                257 | 262 | 267 | 269 | 332 => Some(args[1]),
                _ => None,
            };
            let path = path_arg
                .and_then(|at| self.mem.read_cstr(at, 4096).ok())
                .map(|p| String::from_utf8_lossy(&p).into_owned());
            self.syscalls.push(SyscallRecord {
                number: n,
                name: syscall_name(n),
                args,
                result,
                instruction: self.icount,
                tid: self.tid(),
                path,
            });
        }
    }
}
