//! initlink-emu: a user-mode x86-64 Linux emulator that runs the programs initlink links and
//! records their start-up: every call into an initializer, `main` or a linker-made stub, with its
//! caller and arguments, and every system call.
//!
//! The core is pure computation so that it builds for wasm32: it takes the ELF bytes, arguments,
//! environment and standard input, and returns standard output and error, the exit status, the
//! trace and the system calls as data ([`run`]). It never touches the host's files or processes;
//! files a program opens come from a [`Vfs`]. Instructions are decoded by iced-x86 once per address
//! and cached in basic blocks ([`cpu`]). An instruction budget bounds every run, and anything the
//! emulator does not implement stops the run with a [`EmuError`] that says what and where.
//!
//! Modules: [`api`] (JSON request and result, trace points from initlink's report),
//! [`session`] (a program run a step at a time, for a step mode), [`mem`] (address space),
//! [`elf`] (headers and symbols), [`cpu`] (registers, flags, the instruction set, the run loop),
//! [`thread`] (threads and futexes), [`sys`] (system calls and the start-up stack).

pub mod api;
pub mod bench;
pub mod cpu;
pub mod elf;
pub mod mem;
pub mod session;
pub mod sys;
pub mod thread;

use std::collections::BTreeMap;
use std::fmt;

pub use cpu::{Machine, Stop, Watch};
pub use sys::VfsHandle;

/// What a traced address is, as the linker's report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceKind {
    Preinit,
    Init,
    Fini,
    DtInit,
    DtFini,
    Main,
    Entry,
    Stub,
}

impl TraceKind {
    pub fn name(self) -> &'static str {
        match self {
            TraceKind::Preinit => "preinit",
            TraceKind::Init => "init",
            TraceKind::Fini => "fini",
            TraceKind::DtInit => "dt_init",
            TraceKind::DtFini => "dt_fini",
            TraceKind::Main => "main",
            TraceKind::Entry => "entry",
            TraceKind::Stub => "stub",
        }
    }

    pub fn from_name(s: &str) -> Option<TraceKind> {
        Some(match s {
            "preinit" => TraceKind::Preinit,
            "init" => TraceKind::Init,
            "fini" => TraceKind::Fini,
            "dt_init" => TraceKind::DtInit,
            "dt_fini" => TraceKind::DtFini,
            "main" => TraceKind::Main,
            "entry" => TraceKind::Entry,
            "stub" => TraceKind::Stub,
            _ => return None,
        })
    }
}

/// An address to watch: every call or jump to it is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracePoint {
    pub address: u64,
    pub kind: TraceKind,
    pub symbol: String,
    /// The shared object it belongs to (`libc.so.6`), for the initializers and finalizers of the
    /// libraries a dynamic program loads; `None` for the program's own points.
    pub library: Option<String>,
}

/// A call or jump into a [`TracePoint`] (or the entry point itself, with caller 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    pub kind: TraceKind,
    pub symbol: String,
    pub address: u64,
    /// The address of the call or jump instruction.
    pub caller: u64,
    /// %rdi, %rsi, %rdx at the transfer: `(argc, argv, envp)` for an initializer.
    pub args: [u64; 3],
    /// Instructions executed before the transfer.
    pub instruction: u64,
    /// The shared object whose initializer or finalizer this is (see [`TracePoint::library`]).
    pub library: Option<String>,
}

/// One system call with its arguments and result (a negative errno on failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallRecord {
    pub number: u64,
    pub name: &'static str,
    pub args: [u64; 6],
    pub result: i64,
    pub instruction: u64,
    /// The thread that made it.
    pub tid: u64,
    /// The path it names (`openat`, `access`, `readlink`...), as it read it.
    pub path: Option<String>,
}

/// Files a program may open (`openat`), e.g. the dynamic loader and libc for a dynamic run.
pub trait Vfs {
    fn read(&self, path: &str) -> Option<&[u8]>;
}

impl<T: Vfs + ?Sized> Vfs for &T {
    fn read(&self, path: &str) -> Option<&[u8]> {
        (**self).read(path)
    }
}

/// A [`Vfs`] held in memory.
#[derive(Debug, Default, Clone)]
pub struct MemFs {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl Vfs for MemFs {
    fn read(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(|v| v.as_slice())
    }
}

/// Everything a run takes besides the ELF bytes.
pub struct Config<'a> {
    /// `argv`, from `argv[0]`.
    pub args: Vec<Vec<u8>>,
    pub env: Vec<Vec<u8>>,
    pub stdin: Vec<u8>,
    /// The run stops with [`EmuError::Budget`] after this many instructions.
    pub max_instructions: u64,
    /// The most bytes of guest memory (all mappings together).
    pub memory_limit: usize,
    pub trace_points: Vec<TracePoint>,
    /// Record every system call (else only the trace and the outputs).
    pub record_syscalls: bool,
    /// The most bytes standard output and error may hold together; past it `write` fails with
    /// EFBIG (as over a file size limit).
    pub max_output: usize,
    pub vfs: Option<&'a dyn Vfs>,
    /// The working directory: relative paths are looked up in the Vfs from here.
    pub cwd: String,
}

impl Default for Config<'_> {
    fn default() -> Self {
        Config {
            args: vec![b"prog".to_vec()],
            env: Vec::new(),
            stdin: Vec::new(),
            max_instructions: 100_000_000,
            memory_limit: 512 << 20,
            trace_points: Vec::new(),
            record_syscalls: true,
            max_output: 64 << 20,
            vfs: None,
            cwd: "/".into(),
        }
    }
}

/// Why a run stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmuError {
    /// The ELF file cannot be run (not x86-64, a dynamic program, bad headers...).
    Load(String),
    /// An instruction the emulator does not implement (or an invalid encoding).
    Instruction {
        address: u64,
        bytes: Vec<u8>,
        mnemonic: String,
        symbol: Option<String>,
    },
    /// A system call the emulator does not implement.
    Syscall {
        address: u64,
        number: u64,
        name: &'static str,
    },
    /// A read or write of unmapped memory (the native program would get SIGSEGV).
    Memory {
        address: u64,
        write: bool,
        rip: u64,
        symbol: Option<String>,
    },
    /// Division by zero or a quotient that does not fit (SIGFPE natively).
    Divide {
        address: u64,
        symbol: Option<String>,
    },
    /// `max_instructions` were executed.
    Budget { executed: u64 },
    /// The program blocked forever: every thread waits on a futex nobody can wake.
    Deadlock { address: u64 },
}

impl fmt::Display for EmuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |s: &Option<String>| s.as_ref().map(|s| format!(" <{s}>")).unwrap_or_default();
        match self {
            EmuError::Load(m) => write!(f, "cannot run this file: {m}"),
            EmuError::Instruction { address, bytes, mnemonic, symbol } => {
                let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
                write!(
                    f,
                    "unimplemented instruction at {address:#x}{}: {mnemonic} ({})",
                    at(symbol),
                    hex.join(" ")
                )
            }
            EmuError::Syscall { address, number, name } => write!(
                f,
                "unimplemented system call {number} ({name}) at {address:#x}"
            ),
            EmuError::Memory { address, write, rip, symbol } => write!(
                f,
                "segmentation fault: {} of unmapped address {address:#x} by the instruction at {rip:#x}{}",
                if *write { "write" } else { "read" },
                at(symbol)
            ),
            EmuError::Divide { address, symbol } => {
                write!(f, "divide error at {address:#x}{}", at(symbol))
            }
            EmuError::Budget { executed } => {
                write!(f, "stopped after {executed} instructions (the budget)")
            }
            EmuError::Deadlock { address } => {
                write!(f, "the program waits forever (every thread waits on a futex; one at {address:#x})")
            }
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The status passed to `exit`/`exit_group` (low 8 bits), when the program exited.
    pub exit_code: Option<i32>,
    /// The signal that ended the program (`abort` raises SIGABRT), when it was killed.
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub trace: Vec<TraceEvent>,
    pub syscalls: Vec<SyscallRecord>,
    pub instructions: u64,
    pub error: Option<EmuError>,
}

/// Run the program in `elf` to its exit, the budget, or the first thing the emulator cannot do.
pub fn run(elf: &[u8], config: &Config) -> Outcome {
    match Machine::load(elf, config) {
        Ok(mut m) => {
            m.run(config.max_instructions);
            m.into_outcome()
        }
        Err(e) => Outcome {
            error: Some(e),
            ..Outcome::default()
        },
    }
}
