//! The processor: registers, flags, the decoded-block cache and the instruction set.
//!
//! Instructions are decoded by iced-x86 into basic blocks (up to a branch, a system call or 256
//! instructions), cached by start address, and executed by a `match` on the mnemonic. Flags are
//! computed eagerly into `flags` (an `RFLAGS` image). Operands go through [`Loc`]: a general
//! register (with its size, or the high byte), a memory address (with its size) or an immediate.
//! Only user-mode 64-bit code runs; anything else stops with [`EmuError::Instruction`].

use iced_x86::{
    ConditionCode, Decoder, DecoderOptions, FlowControl, Instruction, Mnemonic as M, OpKind,
    Register,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;

mod x87;

use crate::elf::{Elf, PT_INTERP, PT_LOAD};
use crate::mem::{page_down, page_up, Fault, Memory};
use crate::sys::VfsHandle;
use crate::{Config, EmuError, Outcome, SyscallRecord, TraceEvent, TracePoint};

pub const CF: u64 = 1;
pub const PF: u64 = 1 << 2;
pub const AF: u64 = 1 << 4;
pub const ZF: u64 = 1 << 6;
pub const SF: u64 = 1 << 7;
pub const DF: u64 = 1 << 10;
pub const OF: u64 = 1 << 11;
/// The six arithmetic flags.
pub const ARITH: u64 = CF | PF | AF | ZF | SF | OF;

/// Where [`Machine::bare`] puts its code, and the top of its stack.
pub const BARE_CODE: u64 = 0x1000_0000;
pub const BARE_STACK: u64 = 0x2000_0000;
const PAGE_SIZE: u64 = crate::mem::PAGE;

pub const RAX: usize = 0;
pub const RCX: usize = 1;
pub const RDX: usize = 2;
pub const RSP: usize = 4;
pub const RBP: usize = 5;
pub const RSI: usize = 6;
pub const RDI: usize = 7;

/// Why execution stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    Exit(i32),
    Signal(i32),
    /// Boxed: results on the hot path stay two words wide.
    Error(Box<EmuError>),
    /// A rep-prefixed string instruction reached the run's limit between elements (a step, a
    /// thread's slice or the budget ended there): `rip` is back at the instruction, which
    /// resumes where it left off. Only between the instruction and the run loop: never in
    /// [`Machine::halt`].
    Pause,
}

impl Halt {
    pub fn err(e: EmuError) -> Halt {
        Halt::Error(Box::new(e))
    }

    /// The error, if this is one.
    pub fn error(&self) -> Option<&EmuError> {
        match self {
            Halt::Error(e) => Some(e),
            _ => None,
        }
    }
}

/// Where an operand lives.
#[derive(Debug, Clone, Copy)]
enum Loc {
    /// General register `idx`, `size` bytes from bit 0.
    Reg(usize, u32),
    /// AH, CH, DH, BH: bits 8..16 of register `idx`.
    High(usize),
    Mem(u64, u32),
    Imm(u64),
}

#[inline]
fn mask(size: u32) -> u64 {
    if size >= 8 {
        !0
    } else {
        (1u64 << (size * 8)) - 1
    }
}

#[inline]
fn sign(size: u32) -> u64 {
    1u64 << (size * 8 - 1)
}

/// Sign-extend the low `size` bytes of `v`.
#[inline]
fn sext(v: u64, size: u32) -> i64 {
    let sh = 64 - size * 8;
    ((v << sh) as i64) >> sh
}

#[inline]
fn parity(v: u64) -> u64 {
    if (v as u8).count_ones().is_multiple_of(2) {
        PF
    } else {
        0
    }
}

#[inline(always)]
fn gpr(r: Register) -> Option<Loc> {
    let v = r as u32;
    Some(match v {
        1..=4 => Loc::Reg(v as usize - 1, 1),
        5..=8 => Loc::High(v as usize - 5),
        9..=20 => Loc::Reg(v as usize - 5, 1),
        21..=36 => Loc::Reg(v as usize - 21, 2),
        37..=52 => Loc::Reg(v as usize - 37, 4),
        53..=68 => Loc::Reg(v as usize - 53, 8),
        _ => return None,
    })
}

fn xmm_index(r: Register) -> Option<usize> {
    let v = r as u32;
    let x0 = Register::XMM0 as u32;
    (x0..x0 + 16).contains(&v).then(|| (v - x0) as usize)
}

/// Where a dynamic program's loader is mapped (as Linux without randomization, roughly).
const INTERP_BASE: u64 = 0x7fff_f7fc_3000;

/// Map an ELF file's `PT_LOAD` segments at `base` (the union of their pages, then the file
/// bytes); returns the end of the last page (where the program break starts).
fn map_image(mem: &mut Memory, elf: &Elf, data: &[u8], base: u64) -> Result<u64, EmuError> {
    let mut ranges: Vec<(u64, u64, u32)> = Vec::new();
    for p in elf
        .phdrs
        .iter()
        .filter(|p| p.kind == PT_LOAD && p.memsz > 0)
    {
        let start = base
            .checked_add(p.vaddr)
            .ok_or_else(|| EmuError::Load("segment address overflows".into()))?;
        let end = start
            .checked_add(p.memsz)
            .and_then(page_up)
            .ok_or_else(|| EmuError::Load("segment size overflows".into()))?;
        if p.filesz > p.memsz {
            return Err(EmuError::Load(
                "a segment's file size exceeds its memory size".into(),
            ));
        }
        ranges.push((page_down(start), end, p.flags));
    }
    if ranges.is_empty() {
        return Err(EmuError::Load("no PT_LOAD segment".into()));
    }
    ranges.sort();
    let mut merged: Vec<(u64, u64, u32)> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(m) if r.0 <= m.1 => {
                m.1 = m.1.max(r.1);
                m.2 |= r.2;
            }
            _ => merged.push(r),
        }
    }
    for &(s, e, f) in &merged {
        mem.map(s, e - s, f, "segment").ok_or_else(|| {
            EmuError::Load(format!(
                "cannot map {s:#x}..{e:#x} (overlap or memory limit)"
            ))
        })?;
    }
    for p in elf
        .phdrs
        .iter()
        .filter(|p| p.kind == PT_LOAD && p.filesz > 0)
    {
        let bytes = usize::try_from(p.offset)
            .ok()
            .and_then(|o| data.get(o..o.checked_add(usize::try_from(p.filesz).ok()?)?))
            .ok_or_else(|| EmuError::Load("a segment lies outside the file".into()))?;
        mem.write(base.wrapping_add(p.vaddr), bytes)
            .map_err(|_| EmuError::Load("cannot write a segment".into()))?;
    }
    Ok(merged.last().map(|r| r.1).unwrap_or(0))
}

/// Where [`Machine::run_until`] stops besides the program's end and the budget.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Pause once this many instructions have run in all (`u64::MAX`: never).
    pub pause_at: u64,
    /// Stop before executing an instruction at one of these addresses.
    pub breakpoints: FxHashSet<u64>,
    /// Stop right after a call or jump into a trace point (an initializer, `main`...).
    pub on_trace: bool,
}

impl Default for Watch {
    fn default() -> Self {
        Watch {
            pause_at: u64::MAX,
            breakpoints: FxHashSet::default(),
            on_trace: false,
        }
    }
}

/// Why [`Machine::run_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The program ended, or the run stopped for good: see [`Machine::halt`].
    Halted,
    /// `pause_at` instructions have run.
    Paused,
    /// `rip` is at a breakpoint, not yet executed.
    Breakpoint,
    /// A call or jump into a trace point just happened (the last entry of [`Machine::trace`]).
    Traced,
}

/// A decoded basic block.
struct Block {
    /// Shared, so the run loop iterates them while executing with `&mut self`.
    instrs: Rc<[Instruction]>,
    /// The last two blocks that followed this one (start address, index): most transfers
    /// find their block here without hashing.
    succ: [(u64, u32); 2],
}

pub struct Machine<'a> {
    pub mem: Memory,
    pub regs: [u64; 16],
    pub rip: u64,
    pub flags: u64,
    pub xmm: [u128; 16],
    pub mxcsr: u32,
    pub fpu_cw: u16,
    /// The x87 register stack (raw 80-bit values), its top and the status word's condition bits.
    pub st: [u128; 8],
    pub fpu_top: usize,
    pub fpu_cc: u16,
    pub fs_base: u64,
    pub gs_base: u64,
    /// Instructions executed so far.
    pub icount: u64,
    /// Address of the instruction being executed.
    cur: u64,
    /// The instruction count at which the current stretch of the run loop stops: the budget, a
    /// pause the caller asked for, or the end of a thread's slice, whichever comes first
    /// (rep-prefixed string instructions check it per element).
    limit: u64,
    /// The threads (one until the program calls `clone`) and the scheduler's state.
    pub(crate) threads: crate::thread::Threads,
    blocks: Vec<Block>,
    /// Bumped whenever the block cache is flushed (block indexes become stale).
    code_gen: u64,
    block_at: FxHashMap<u64, u32>,
    symbols: Vec<(u64, String)>,
    pub(crate) trace_points: Vec<TracePoint>,
    pub(crate) trace_at: FxHashMap<u64, usize>,
    trace_lo: u64,
    trace_hi: u64,
    pub(crate) sys: crate::sys::SysState<'a>,
    pub halt: Option<Halt>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub trace: Vec<TraceEvent>,
    pub syscalls: Vec<SyscallRecord>,
}

impl<'a> Machine<'a> {
    /// Map the program's segments, build the start-up stack and point `rip` at the entry.
    pub fn load(data: &[u8], config: &Config<'a>) -> Result<Machine<'a>, EmuError> {
        let vfs = config.vfs.map(|v| Rc::new(v) as VfsHandle<'a>);
        Machine::load_with_vfs(data, config, vfs)
    }

    /// [`Machine::load`] with a file system the machine holds a share of (`config.vfs` is not
    /// used): a machine that outlives the caller's borrows, as a step-by-step session does.
    pub fn load_with_vfs(
        data: &[u8],
        config: &Config,
        vfs: Option<VfsHandle<'a>>,
    ) -> Result<Machine<'a>, EmuError> {
        let elf = Elf::parse(data).map_err(EmuError::Load)?;
        // A PIE is placed where Linux puts one without randomization.
        let base = if elf.kind == 3 {
            0x5555_5555_4000u64
        } else {
            0
        };
        let mut mem = Memory::new(config.memory_limit);
        let brk = map_image(&mut mem, &elf, data, base)?;
        // A dynamic program starts in its loader (`PT_INTERP`, read from the Vfs), which maps
        // the libraries through `openat` and `mmap` itself.
        let mut interp_base = 0;
        let mut start = base.wrapping_add(elf.entry);
        if elf.phdrs.iter().any(|p| p.kind == PT_INTERP) {
            let path = String::from_utf8_lossy(elf.interp().unwrap_or(b"?")).into_owned();
            let idata = vfs.as_ref().and_then(|v| v.read(&path)).ok_or_else(|| {
                EmuError::Load(format!(
                    "a dynamic program: its loader {path} is not in the virtual file system"
                ))
            })?;
            let ie = Elf::parse(idata).map_err(|e| EmuError::Load(format!("{path}: {e}")))?;
            interp_base = INTERP_BASE;
            map_image(&mut mem, &ie, idata, interp_base)?;
            start = interp_base.wrapping_add(ie.entry);
        }
        let mut m = Machine {
            mem,
            regs: [0; 16],
            rip: start,
            flags: 0x202,
            xmm: [0; 16],
            mxcsr: 0x1f80,
            fpu_cw: 0x37f,
            st: [0; 8],
            fpu_top: 0,
            fpu_cc: 0,
            fs_base: 0,
            gs_base: 0,
            icount: 0,
            cur: 0,
            limit: u64::MAX,
            threads: crate::thread::Threads::new(),
            blocks: Vec::new(),
            code_gen: 0,
            block_at: FxHashMap::default(),
            symbols: elf
                .symbols
                .iter()
                .map(|(a, n)| (a.wrapping_add(base), n.clone()))
                .collect(),
            trace_points: config.trace_points.clone(),
            trace_at: FxHashMap::default(),
            trace_lo: u64::MAX,
            trace_hi: 0,
            sys: crate::sys::SysState::new(config, vfs.clone(), brk),
            halt: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            trace: Vec::new(),
            syscalls: Vec::new(),
        };
        if interp_base != 0 {
            // The loader jumps to the program's entry: trace that jump.
            let symbol = elf
                .nearest_symbol(elf.entry)
                .unwrap_or_else(|| "_start".into());
            m.trace_points.push(TracePoint {
                address: elf.entry,
                kind: crate::TraceKind::Entry,
                symbol,
                library: None,
            });
        }
        // Trace points are link-time addresses (the report's); a PIE runs at `base`.
        for t in std::mem::take(&mut m.trace_points) {
            m.add_trace_point(TracePoint {
                address: t.address.wrapping_add(base),
                ..t
            });
        }
        m.build_stack(&elf, base, interp_base, config)?;
        // The entry is always traced (caller 0: the kernel), named by the report if listed.
        let entry = m.rip;
        let before = m.trace.len();
        if interp_base != 0 {
            return Ok(m);
        }
        m.traced_transfer(entry, 0);
        if m.trace.len() == before {
            let symbol = m.nearest_symbol(entry).unwrap_or_else(|| "_start".into());
            m.trace.push(TraceEvent {
                kind: crate::TraceKind::Entry,
                symbol,
                address: entry,
                caller: 0,
                args: [0; 3],
                instruction: 0,
                library: None,
            });
        } else if let Some(t) = m.trace.last_mut() {
            t.kind = crate::TraceKind::Entry;
        }
        Ok(m)
    }

    /// A machine with `code` mapped at [`BARE_CODE`] (rip there), a page of stack and no
    /// program around it: for running single instructions (the differential tests, benchmarks).
    pub fn bare(code: &[u8]) -> Machine<'static> {
        let config = Config {
            record_syscalls: false,
            ..Config::default()
        };
        let mut mem = Memory::new(64 << 20);
        let len = page_up(code.len().max(1) as u64).unwrap_or(PAGE_SIZE);
        let _ = mem.map(BARE_CODE, len, 5, "code");
        let _ = mem.write(BARE_CODE, code);
        let _ = mem.map(BARE_STACK - PAGE_SIZE, PAGE_SIZE, 3, "stack");
        let mut m = Machine {
            mem,
            regs: [0; 16],
            rip: BARE_CODE,
            flags: 0x202,
            xmm: [0; 16],
            mxcsr: 0x1f80,
            fpu_cw: 0x37f,
            st: [0; 8],
            fpu_top: 0,
            fpu_cc: 0,
            fs_base: 0,
            gs_base: 0,
            icount: 0,
            cur: 0,
            limit: u64::MAX,
            threads: crate::thread::Threads::new(),
            blocks: Vec::new(),
            code_gen: 0,
            block_at: FxHashMap::default(),
            symbols: Vec::new(),
            trace_points: Vec::new(),
            trace_at: FxHashMap::default(),
            trace_lo: u64::MAX,
            trace_hi: 0,
            sys: crate::sys::SysState::new(&config, None, 0),
            halt: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            trace: Vec::new(),
            syscalls: Vec::new(),
        };
        m.regs[RSP] = BARE_STACK - 512;
        m
    }

    /// What the run has produced so far (a copy: the machine can go on).
    pub fn outcome(&self) -> Outcome {
        let (exit_code, signal, error) = match &self.halt {
            Some(Halt::Exit(c)) => (Some(*c), None, None),
            Some(Halt::Signal(s)) => (None, Some(*s), None),
            Some(Halt::Error(e)) => (None, None, Some((**e).clone())),
            Some(Halt::Pause) | None => (None, None, None),
        };
        Outcome {
            exit_code,
            signal,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            trace: self.trace.clone(),
            syscalls: self.syscalls.clone(),
            instructions: self.icount,
            error,
        }
    }

    pub fn into_outcome(self) -> Outcome {
        let (exit_code, signal, error) = match self.halt {
            Some(Halt::Exit(c)) => (Some(c), None, None),
            Some(Halt::Signal(s)) => (None, Some(s), None),
            Some(Halt::Error(e)) => (None, None, Some(*e)),
            Some(Halt::Pause) | None => (None, None, None),
        };
        Outcome {
            exit_code,
            signal,
            stdout: self.stdout,
            stderr: self.stderr,
            trace: self.trace,
            syscalls: self.syscalls,
            instructions: self.icount,
            error,
        }
    }

    /// The address of the instruction being executed.
    pub fn cur_ip(&self) -> u64 {
        self.cur
    }

    pub fn nearest_symbol(&self, addr: u64) -> Option<String> {
        let i = self
            .symbols
            .partition_point(|s| s.0 <= addr)
            .checked_sub(1)?;
        let (a, n) = &self.symbols[i];
        let off = addr - a;
        (off < 1 << 20).then(|| {
            if off == 0 {
                n.clone()
            } else {
                format!("{n}+{off:#x}")
            }
        })
    }

    /// Forget every decoded block (mappings changed).
    pub fn flush_code(&mut self) {
        self.code_gen += 1;
        self.blocks.clear();
        self.block_at.clear();
    }

    /// Watch `t.address` (a run-time address) from now on; the first point at an address wins.
    pub(crate) fn add_trace_point(&mut self, t: TracePoint) {
        self.trace_at
            .entry(t.address)
            .or_insert(self.trace_points.len());
        self.trace_lo = self.trace_lo.min(t.address);
        self.trace_hi = self.trace_hi.max(t.address);
        self.trace_points.push(t);
    }

    /// Record a transfer into a traced address.
    #[inline]
    fn traced_transfer(&mut self, target: u64, from: u64) {
        if target < self.trace_lo || target > self.trace_hi {
            return;
        }
        if let Some(&k) = self.trace_at.get(&target) {
            let t = &self.trace_points[k];
            self.trace.push(TraceEvent {
                kind: t.kind,
                symbol: t.symbol.clone(),
                address: target,
                caller: from,
                args: [self.regs[RDI], self.regs[RSI], self.regs[RDX]],
                instruction: self.icount,
                library: t.library.clone(),
            });
        }
    }

    /// Run until the program exits, an error, or `max` instructions in all.
    pub fn run(&mut self, max: u64) {
        self.run_loop::<false>(max, &Watch::default());
    }

    /// Run as [`Machine::run`] does, but also stop where `watch` says: after `watch.pause_at`
    /// instructions in all, before an instruction at one of `watch.breakpoints` (but for the
    /// first one executed, so that a run can go on from a breakpoint), or right after a call or
    /// jump into a trace point when `watch.on_trace` (at the traced address). For a step mode.
    pub fn run_until(&mut self, max: u64, watch: &Watch) -> Stop {
        self.run_loop::<true>(max, watch)
    }

    /// Execute one instruction (for a step mode): of a rep-prefixed string instruction, one
    /// element.
    pub fn step(&mut self) -> Option<&Halt> {
        let watch = Watch {
            pause_at: self.icount.saturating_add(1),
            ..Watch::default()
        };
        self.run_loop::<true>(u64::MAX, &watch);
        self.halt.as_ref()
    }

    /// The run loop. Blocks run one instruction after another while the instruction count is
    /// under the limit (the budget, the watch's pause or the thread's slice); at a block's end
    /// a thread that blocked, yielded or exited gives way to the next. `WATCH` adds the
    /// breakpoint and trace checks of [`Machine::run_until`] (compiled out of [`Machine::run`]).
    fn run_loop<const WATCH: bool>(&mut self, max: u64, watch: &Watch) -> Stop {
        let trace_mark = self.trace.len();
        let mut first = true;
        let mut prev: Option<usize> = None;
        while self.halt.is_none() {
            let limit = max.min(watch.pause_at).min(self.threads.slice_end);
            self.limit = limit;
            if self.icount >= limit {
                if self.icount >= max {
                    self.halt = Some(Halt::err(EmuError::Budget {
                        executed: self.icount,
                    }));
                    break;
                }
                if self.icount >= watch.pause_at {
                    return Stop::Paused;
                }
                self.switch_thread();
                prev = None;
                continue;
            }
            let rip = self.rip;
            let linked = prev
                .and_then(|p| self.blocks.get(p))
                .and_then(|bl| bl.succ.iter().find(|s| s.0 == rip && s.1 != u32::MAX))
                .map(|s| s.1 as usize);
            let b = match linked {
                Some(b) => b,
                None => {
                    let gen = self.code_gen;
                    let b = match self.block(rip) {
                        Ok(b) => b as usize,
                        Err(h) => {
                            self.halt = Some(h);
                            break;
                        }
                    };
                    if let (Some(p), true) = (prev, gen == self.code_gen) {
                        if let Some(bl) = self.blocks.get_mut(p) {
                            bl.succ[1] = bl.succ[0];
                            bl.succ[0] = (rip, b as u32);
                        }
                    }
                    b
                }
            };
            let Some(block) = self.blocks.get(b).map(|bl| bl.instrs.clone()) else {
                break;
            };
            let gen = self.code_gen;
            for ins in block.iter() {
                if self.icount >= limit {
                    break;
                }
                if WATCH {
                    if !first && watch.breakpoints.contains(&ins.ip()) {
                        return Stop::Breakpoint;
                    }
                    first = false;
                }
                self.cur = ins.ip();
                self.rip = ins.next_ip();
                match self.exec(ins) {
                    Ok(()) => self.icount += 1,
                    Err(Halt::Pause) => break,
                    Err(h) => {
                        if matches!(h, Halt::Exit(_) | Halt::Signal(_)) {
                            self.icount += 1;
                        }
                        self.halt = Some(h);
                        return Stop::Halted;
                    }
                }
                if WATCH && watch.on_trace && self.trace.len() > trace_mark {
                    return Stop::Traced;
                }
            }
            if self.threads.resched {
                self.switch_thread();
                prev = None;
                continue;
            }
            prev = (gen == self.code_gen).then_some(b);
        }
        Stop::Halted
    }

    fn block(&mut self, rip: u64) -> Result<u32, Halt> {
        if let Some(&b) = self.block_at.get(&rip) {
            return Ok(b);
        }
        let mut instrs = Vec::new();
        let mut ip = rip;
        let mut done = false;
        // Fast path: one decoder over the mapped bytes, while 15 bytes (the longest instruction)
        // remain in this region.
        let avail = self.mem.peek(rip, 4096);
        if avail.len() >= 15 {
            let mut d = Decoder::with_ip(64, avail, rip, DecoderOptions::NONE);
            while d.position() + 15 <= avail.len() {
                let ins = d.decode();
                if ins.is_invalid() {
                    break;
                }
                ip = ins.next_ip();
                let end = ins.flow_control() != FlowControl::Next
                    || matches!(ins.mnemonic(), M::Syscall | M::Cpuid);
                instrs.push(ins);
                if end || instrs.len() >= 256 {
                    done = true;
                    break;
                }
            }
        }
        // Near the end of a region (or at an invalid encoding): byte by byte, one at a time.
        while !done {
            let mut buf = [0u8; 15];
            let mut n = 0;
            while n < 15 {
                match self.mem.read::<1>(ip.wrapping_add(n as u64)) {
                    Ok(b) => buf[n] = b[0],
                    Err(_) => break,
                }
                n += 1;
            }
            if n == 0 {
                if instrs.is_empty() {
                    return Err(Halt::err(EmuError::Memory {
                        address: ip,
                        write: false,
                        rip: ip,
                        symbol: self.nearest_symbol(ip),
                    }));
                }
                break;
            }
            let mut d = Decoder::with_ip(64, &buf[..n], ip, DecoderOptions::NONE);
            let ins = d.decode();
            if ins.is_invalid() {
                if instrs.is_empty() {
                    return Err(self.unimplemented_at(ip, &buf[..n.min(8)], "(invalid encoding)"));
                }
                break;
            }
            ip = ins.next_ip();
            let end = ins.flow_control() != FlowControl::Next
                || matches!(ins.mnemonic(), M::Syscall | M::Cpuid);
            instrs.push(ins);
            done = end || instrs.len() >= 256;
        }
        if self.blocks.len() >= 1 << 20 {
            self.flush_code();
        }
        let b = self.blocks.len() as u32;
        self.blocks.push(Block {
            instrs: instrs.into(),
            succ: [(0, u32::MAX); 2],
        });
        self.block_at.insert(rip, b);
        Ok(b)
    }

    fn unimplemented_at(&self, addr: u64, bytes: &[u8], mnemonic: &str) -> Halt {
        Halt::err(EmuError::Instruction {
            address: addr,
            bytes: bytes.to_vec(),
            mnemonic: mnemonic.to_string(),
            symbol: self.nearest_symbol(addr),
        })
    }

    #[cold]
    #[inline(never)]
    fn unimplemented(&self, i: &Instruction) -> Halt {
        let bytes = self.mem.read_vec(i.ip(), i.len()).unwrap_or_default();
        let mut text = format!("{:?}", i.mnemonic()).to_lowercase();
        text.push_str(&format!(" ({:?})", i.code()));
        self.unimplemented_at(i.ip(), &bytes, &text)
    }

    #[cold]
    #[inline(never)]
    fn fault(&self, f: Fault) -> Halt {
        Halt::err(EmuError::Memory {
            address: f.address,
            write: f.write,
            rip: self.cur,
            symbol: self.nearest_symbol(self.cur),
        })
    }

    // ---- memory ----

    #[inline(always)]
    pub fn read_mem(&self, addr: u64, size: u32) -> Result<u64, Halt> {
        let r = match size {
            1 => self.mem.read::<1>(addr).map(|b| b[0] as u64),
            2 => self
                .mem
                .read::<2>(addr)
                .map(|b| u16::from_le_bytes(b) as u64),
            4 => self
                .mem
                .read::<4>(addr)
                .map(|b| u32::from_le_bytes(b) as u64),
            _ => self.mem.read::<8>(addr).map(u64::from_le_bytes),
        };
        r.map_err(|f| self.fault(f))
    }

    #[inline(always)]
    pub fn write_mem(&mut self, addr: u64, size: u32, v: u64) -> Result<(), Halt> {
        let b = v.to_le_bytes();
        let n = (size as usize).min(8);
        self.mem.write(addr, &b[..n]).map_err(|f| self.fault(f))
    }

    fn read128(&self, addr: u64) -> Result<u128, Halt> {
        self.mem
            .read::<16>(addr)
            .map(u128::from_le_bytes)
            .map_err(|f| self.fault(f))
    }

    fn write128(&mut self, addr: u64, v: u128) -> Result<(), Halt> {
        self.mem
            .write(addr, &v.to_le_bytes())
            .map_err(|f| self.fault(f))
    }

    pub fn push(&mut self, v: u64) -> Result<(), Halt> {
        let sp = self.regs[RSP].wrapping_sub(8);
        self.write_mem(sp, 8, v)?;
        self.regs[RSP] = sp;
        Ok(())
    }

    pub fn pop(&mut self) -> Result<u64, Halt> {
        let v = self.read_mem(self.regs[RSP], 8)?;
        self.regs[RSP] = self.regs[RSP].wrapping_add(8);
        Ok(v)
    }

    // ---- operands ----

    /// The effective address of the memory operand, without a segment base.
    #[inline(always)]
    fn address(&self, i: &Instruction) -> u64 {
        let base = i.memory_base();
        if base == Register::RIP {
            return i.memory_displacement64();
        }
        let mut a = i.memory_displacement64();
        let mut narrow = false;
        if base != Register::None {
            let v = base as u32;
            if (37..=52).contains(&v) {
                narrow = true;
                a = a.wrapping_add(self.regs[v as usize - 37] & 0xffff_ffff);
            } else if (53..=68).contains(&v) {
                a = a.wrapping_add(self.regs[v as usize - 53]);
            }
        }
        let index = i.memory_index();
        if index != Register::None {
            let v = index as u32;
            let x = if (37..=52).contains(&v) {
                narrow = true;
                self.regs[v as usize - 37] & 0xffff_ffff
            } else if (53..=68).contains(&v) {
                self.regs[v as usize - 53]
            } else {
                0
            };
            a = a.wrapping_add(x.wrapping_mul(i.memory_index_scale() as u64));
        }
        if narrow {
            a &= 0xffff_ffff;
        }
        a
    }

    /// The linear address of the memory operand (with %fs or %gs).
    #[inline(always)]
    fn ea(&self, i: &Instruction) -> u64 {
        let a = self.address(i);
        match i.segment_prefix() {
            Register::FS => a.wrapping_add(self.fs_base),
            Register::GS => a.wrapping_add(self.gs_base),
            _ => a,
        }
    }

    #[inline(always)]
    fn loc(&self, i: &Instruction, n: u32) -> Result<Loc, Halt> {
        match i.op_kind(n) {
            OpKind::Register => gpr(i.op_register(n)).ok_or_else(|| self.unimplemented(i)),
            OpKind::Memory => match i.memory_size().size() {
                s @ (1 | 2 | 4 | 8) => Ok(Loc::Mem(self.ea(i), s as u32)),
                _ => Err(self.unimplemented(i)),
            },
            OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64 => Ok(Loc::Imm(i.immediate(n))),
            _ => Err(self.unimplemented(i)),
        }
    }

    #[inline(always)]
    fn get(&self, l: Loc) -> Result<u64, Halt> {
        Ok(match l {
            Loc::Reg(r, 8) => self.regs[r],
            Loc::Reg(r, s) => self.regs[r] & mask(s),
            Loc::High(r) => (self.regs[r] >> 8) & 0xff,
            Loc::Mem(a, s) => self.read_mem(a, s)?,
            Loc::Imm(v) => v,
        })
    }

    #[inline(always)]
    fn set(&mut self, l: Loc, v: u64) -> Result<(), Halt> {
        match l {
            Loc::Reg(r, 8) => self.regs[r] = v,
            Loc::Reg(r, 4) => self.regs[r] = v & 0xffff_ffff,
            Loc::Reg(r, s) => self.regs[r] = (self.regs[r] & !mask(s)) | (v & mask(s)),
            Loc::High(r) => self.regs[r] = (self.regs[r] & !0xff00) | ((v & 0xff) << 8),
            Loc::Mem(a, s) => self.write_mem(a, s, v)?,
            Loc::Imm(_) => {}
        }
        Ok(())
    }

    fn size_of(l: Loc) -> u32 {
        match l {
            Loc::Reg(_, s) | Loc::Mem(_, s) => s,
            Loc::High(_) => 1,
            Loc::Imm(_) => 8,
        }
    }

    // ---- flags ----

    #[inline(always)]
    fn set_flags(&mut self, f: u64) {
        self.flags = (self.flags & !ARITH) | f;
    }

    #[inline(always)]
    fn szp(r: u64, size: u32) -> u64 {
        let mut f = parity(r);
        if r & mask(size) == 0 {
            f |= ZF;
        }
        if r & sign(size) != 0 {
            f |= SF;
        }
        f
    }

    #[inline(always)]
    pub fn add_flags(a: u64, b: u64, c: u64, size: u32) -> (u64, u64) {
        let m = mask(size);
        let (a, b) = (a & m, b & m);
        let (s1, o1) = a.overflowing_add(b);
        let (s2, o2) = s1.overflowing_add(c);
        let r = s2 & m;
        // Operands under 64 bits cannot overflow a u64: the carry is the sum passing the mask.
        let carry = if size >= 8 { o1 | o2 } else { s2 > m };
        let mut f = Self::szp(r, size);
        if carry {
            f |= CF;
        }
        if (a ^ r) & (b ^ r) & sign(size) != 0 {
            f |= OF;
        }
        if (a ^ b ^ r) & 0x10 != 0 {
            f |= AF;
        }
        (r, f)
    }

    #[inline(always)]
    pub fn sub_flags(a: u64, b: u64, c: u64, size: u32) -> (u64, u64) {
        let m = mask(size);
        let (a, b) = (a & m, b & m);
        let (d1, u1) = a.overflowing_sub(b);
        let (d2, u2) = d1.overflowing_sub(c);
        let r = d2 & m;
        // With both operands masked, a borrow out of the operand size is one out of the u64.
        let borrow = u1 | u2;
        let mut f = Self::szp(r, size);
        if borrow {
            f |= CF;
        }
        if (a ^ b) & (a ^ r) & sign(size) != 0 {
            f |= OF;
        }
        if (a ^ b ^ r) & 0x10 != 0 {
            f |= AF;
        }
        (r, f)
    }

    #[inline(always)]
    fn cond(&self, cc: ConditionCode) -> bool {
        let f = self.flags;
        let (c, z, s, o, p) = (
            f & CF != 0,
            f & ZF != 0,
            f & SF != 0,
            f & OF != 0,
            f & PF != 0,
        );
        match cc {
            ConditionCode::None => true,
            ConditionCode::o => o,
            ConditionCode::no => !o,
            ConditionCode::b => c,
            ConditionCode::ae => !c,
            ConditionCode::e => z,
            ConditionCode::ne => !z,
            ConditionCode::be => c || z,
            ConditionCode::a => !c && !z,
            ConditionCode::s => s,
            ConditionCode::ns => !s,
            ConditionCode::p => p,
            ConditionCode::np => !p,
            ConditionCode::l => s != o,
            ConditionCode::ge => s == o,
            ConditionCode::le => z || s != o,
            ConditionCode::g => !z && s == o,
        }
    }

    fn branch_target(&self, i: &Instruction) -> Result<u64, Halt> {
        match i.op_kind(0) {
            OpKind::NearBranch64 => Ok(i.near_branch64()),
            _ => {
                let l = self.loc(i, 0)?;
                self.get(l)
            }
        }
    }

    // ---- execution ----

    /// Execute one instruction. The commonest (moves, `lea`, two-operand ALU) are handled here,
    /// inlined into the run loop; the rest in [`Machine::exec_rest`], whose frame is large.
    #[inline(always)]
    fn exec(&mut self, i: &Instruction) -> Result<(), Halt> {
        let mn = i.mnemonic();
        match mn {
            M::Mov => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let v = self.get(s)?;
                self.set(d, v)
            }
            M::Lea => {
                let d = self.loc(i, 0)?;
                let a = self.address(i);
                self.set(d, a)
            }
            M::Add | M::Adc | M::Sub | M::Sbb | M::Cmp | M::And | M::Or | M::Xor | M::Test => {
                self.alu(i, mn)
            }
            _ => self.exec_rest(i, mn),
        }
    }

    /// The two-operand ALU instructions: add, adc, sub, sbb, cmp, and, or, xor, test.
    #[inline(always)]
    fn alu(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let d = self.loc(i, 0)?;
        let s = self.loc(i, 1)?;
        let size = Self::size_of(d);
        let a = self.get(d)?;
        let b = self.get(s)?;
        let c = self.flags & CF;
        let (r, f) = match mn {
            M::Add => Self::add_flags(a, b, 0, size),
            M::Adc => Self::add_flags(a, b, c, size),
            M::Sub | M::Cmp => Self::sub_flags(a, b, 0, size),
            M::Sbb => Self::sub_flags(a, b, c, size),
            _ => {
                let r = match mn {
                    M::Or => a | b,
                    M::Xor => a ^ b,
                    _ => a & b,
                } & mask(size);
                (r, Self::szp(r, size))
            }
        };
        self.set_flags(f);
        if !matches!(mn, M::Cmp | M::Test) {
            self.set(d, r)?;
        }
        Ok(())
    }

    #[inline(never)]
    fn exec_rest(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        match mn {
            M::Movzx => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let v = self.get(s)?;
                self.set(d, v)?;
            }
            M::Movsx | M::Movsxd => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let v = sext(self.get(s)?, Self::size_of(s)) as u64;
                self.set(d, v)?;
            }
            M::Inc | M::Dec => {
                let d = self.loc(i, 0)?;
                let size = Self::size_of(d);
                let a = self.get(d)?;
                let (r, f) = if mn == M::Inc {
                    Self::add_flags(a, 1, 0, size)
                } else {
                    Self::sub_flags(a, 1, 0, size)
                };
                self.flags = (self.flags & !(ARITH & !CF)) | (f & !CF);
                self.set(d, r)?;
            }
            M::Neg => {
                let d = self.loc(i, 0)?;
                let size = Self::size_of(d);
                let a = self.get(d)?;
                let (r, f) = Self::sub_flags(0, a, 0, size);
                self.set_flags(f);
                self.set(d, r)?;
            }
            M::Not => {
                let d = self.loc(i, 0)?;
                let a = self.get(d)?;
                self.set(d, !a)?;
            }
            M::Shl | M::Sal | M::Shr | M::Sar | M::Rol | M::Ror => self.shift(i, mn)?,
            M::Shld | M::Shrd => self.double_shift(i, mn)?,
            M::Imul => self.imul(i)?,
            M::Mul => {
                let s = self.loc(i, 0)?;
                let size = Self::size_of(s);
                let b = self.get(s)?;
                let a = self.regs[RAX] & mask(size);
                let p = a as u128 * b as u128;
                let hi = if size == 1 {
                    (p >> 8) as u64 & 0xff
                } else {
                    (p >> (size * 8)) as u64
                };
                if size == 1 {
                    self.regs[RAX] = (self.regs[RAX] & !0xffff) | (p as u64 & 0xffff);
                } else {
                    self.set(Loc::Reg(RAX, size), p as u64)?;
                    self.set(Loc::Reg(RDX, size), hi)?;
                }
                let mut f = Self::szp(p as u64, size);
                if hi != 0 {
                    f |= CF | OF;
                }
                self.set_flags(f);
            }
            M::Div | M::Idiv => self.divide(i, mn == M::Idiv)?,
            M::Cbw => self.set(Loc::Reg(RAX, 2), sext(self.regs[RAX], 1) as u64)?,
            M::Cwde => self.set(Loc::Reg(RAX, 4), sext(self.regs[RAX], 2) as u64)?,
            M::Cdqe => self.regs[RAX] = sext(self.regs[RAX], 4) as u64,
            M::Cwd => self.set(Loc::Reg(RDX, 2), (sext(self.regs[RAX], 2) >> 16) as u64)?,
            M::Cdq => self.set(Loc::Reg(RDX, 4), (sext(self.regs[RAX], 4) >> 32) as u64)?,
            M::Cqo => self.regs[RDX] = ((self.regs[RAX] as i64) >> 63) as u64,
            M::Xchg => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let a = self.get(d)?;
                let b = self.get(s)?;
                self.set(d, b)?;
                self.set(s, a)?;
            }
            M::Xadd => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let size = Self::size_of(d);
                let a = self.get(d)?;
                let b = self.get(s)?;
                let (r, f) = Self::add_flags(a, b, 0, size);
                self.set_flags(f);
                self.set(s, a)?;
                self.set(d, r)?;
            }
            M::Cmpxchg => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let size = Self::size_of(d);
                let acc = self.regs[RAX] & mask(size);
                let a = self.get(d)?;
                let (_, f) = Self::sub_flags(acc, a, 0, size);
                self.set_flags(f);
                if acc == a {
                    let v = self.get(s)?;
                    self.set(d, v)?;
                } else {
                    self.set(Loc::Reg(RAX, size), a)?;
                }
            }
            M::Bt | M::Bts | M::Btr | M::Btc => self.bit_test(i, mn)?,
            M::Bsf | M::Bsr | M::Tzcnt => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let size = Self::size_of(d);
                let v = self.get(s)? & mask(size);
                if mn == M::Tzcnt {
                    let r = if v == 0 {
                        size as u64 * 8
                    } else {
                        v.trailing_zeros() as u64
                    };
                    let mut f = self.flags & !(CF | ZF);
                    if v == 0 {
                        f |= CF;
                    }
                    if r == 0 {
                        f |= ZF;
                    }
                    self.flags = f;
                    self.set(d, r)?;
                } else if v == 0 {
                    self.flags |= ZF;
                } else {
                    self.flags &= !ZF;
                    let r = if mn == M::Bsf {
                        v.trailing_zeros()
                    } else {
                        63 - v.leading_zeros()
                    };
                    self.set(d, r as u64)?;
                }
            }
            M::Bswap => {
                let d = self.loc(i, 0)?;
                let v = self.get(d)?;
                let r = if Self::size_of(d) == 8 {
                    v.swap_bytes()
                } else {
                    (v as u32).swap_bytes() as u64
                };
                self.set(d, r)?;
            }
            M::Push => {
                let s = self.loc(i, 0)?;
                let v = self.get(s)?;
                self.push(v)?;
            }
            M::Pop => {
                let v = self.pop()?;
                let d = self.loc(i, 0)?;
                self.set(d, v)?;
            }
            M::Pushfq => self.push(self.flags)?,
            M::Popfq => {
                let v = self.pop()?;
                self.flags = (v & (ARITH | DF)) | 0x202;
            }
            M::Lahf => {
                let v = (self.flags & (CF | PF | AF | ZF | SF)) | 2;
                self.set(Loc::High(RAX), v)?;
            }
            M::Sahf => {
                let v = (self.regs[RAX] >> 8) & (CF | PF | AF | ZF | SF);
                self.flags = (self.flags & !(CF | PF | AF | ZF | SF)) | v;
            }
            M::Leave => {
                self.regs[RSP] = self.regs[RBP];
                self.regs[RBP] = self.pop()?;
            }
            M::Call => {
                let t = self.branch_target(i)?;
                let ret = self.rip;
                self.push(ret)?;
                self.traced_transfer(t, self.cur);
                self.rip = t;
            }
            M::Jmp => {
                let t = self.branch_target(i)?;
                self.traced_transfer(t, self.cur);
                self.rip = t;
            }
            M::Ret => {
                let t = self.pop()?;
                if i.op_count() == 1 {
                    self.regs[RSP] = self.regs[RSP].wrapping_add(i.immediate(0) & 0xffff);
                }
                self.rip = t;
            }
            M::Jo
            | M::Jno
            | M::Jb
            | M::Jae
            | M::Je
            | M::Jne
            | M::Jbe
            | M::Ja
            | M::Js
            | M::Jns
            | M::Jp
            | M::Jnp
            | M::Jl
            | M::Jge
            | M::Jle
            | M::Jg => {
                if self.cond(i.condition_code()) {
                    let t = i.near_branch64();
                    self.traced_transfer(t, self.cur);
                    self.rip = t;
                }
            }
            M::Jrcxz | M::Jecxz => {
                let c = if mn == M::Jrcxz {
                    self.regs[RCX]
                } else {
                    self.regs[RCX] & 0xffff_ffff
                };
                if c == 0 {
                    self.rip = i.near_branch64();
                }
            }
            M::Seto
            | M::Setno
            | M::Setb
            | M::Setae
            | M::Sete
            | M::Setne
            | M::Setbe
            | M::Seta
            | M::Sets
            | M::Setns
            | M::Setp
            | M::Setnp
            | M::Setl
            | M::Setge
            | M::Setle
            | M::Setg => {
                let d = self.loc(i, 0)?;
                let v = self.cond(i.condition_code()) as u64;
                self.set(d, v)?;
            }
            M::Cmovo
            | M::Cmovno
            | M::Cmovb
            | M::Cmovae
            | M::Cmove
            | M::Cmovne
            | M::Cmovbe
            | M::Cmova
            | M::Cmovs
            | M::Cmovns
            | M::Cmovp
            | M::Cmovnp
            | M::Cmovl
            | M::Cmovge
            | M::Cmovle
            | M::Cmovg => {
                let d = self.loc(i, 0)?;
                let s = self.loc(i, 1)?;
                let v = self.get(s)?;
                if self.cond(i.condition_code()) {
                    self.set(d, v)?;
                } else if let Loc::Reg(r, 4) = d {
                    // A 32-bit destination is zero-extended even when the move does not happen.
                    self.regs[r] &= 0xffff_ffff;
                }
            }
            M::Clc => self.flags &= !CF,
            M::Stc => self.flags |= CF,
            M::Cmc => self.flags ^= CF,
            M::Cld => self.flags &= !DF,
            M::Std => self.flags |= DF,
            M::Nop
            | M::Endbr64
            | M::Endbr32
            | M::Pause
            | M::Lfence
            | M::Mfence
            | M::Sfence
            | M::Prefetchnta
            | M::Prefetcht0
            | M::Prefetcht1
            | M::Prefetcht2
            | M::Prefetchw
            | M::Wait => {}
            // With shadow stacks off (as on Linux without CET), rdssp leaves its register alone.
            M::Rdsspq | M::Rdsspd | M::Incsspq | M::Incsspd => {}
            M::Syscall => {
                self.regs[RCX] = self.rip;
                self.regs[11] = self.flags;
                self.syscall()?;
            }
            M::Cpuid => self.cpuid(),
            M::Rdtsc => {
                let t = self.icount;
                self.regs[RAX] = t & 0xffff_ffff;
                self.regs[RDX] = t >> 32;
            }
            M::Fnstcw => {
                let a = self.ea(i);
                self.write_mem(a, 2, self.fpu_cw as u64)?;
            }
            M::Fldcw => {
                let a = self.ea(i);
                self.fpu_cw = self.read_mem(a, 2)? as u16;
            }
            M::Stmxcsr => {
                let a = self.ea(i);
                self.write_mem(a, 4, self.mxcsr as u64)?;
            }
            M::Ldmxcsr => {
                let a = self.ea(i);
                self.mxcsr = self.read_mem(a, 4)? as u32;
            }
            M::Fxsave | M::Fxsave64 => {
                let a = self.ea(i);
                self.mem.write(a, &[0u8; 512]).map_err(|f| self.fault(f))?;
                self.write_mem(a, 2, self.fpu_cw as u64)?;
                self.write_mem(a.wrapping_add(24), 4, self.mxcsr as u64)?;
                self.write_mem(a.wrapping_add(28), 4, 0xffff)?;
                for k in 0..16 {
                    self.write128(a.wrapping_add(160 + 16 * k as u64), self.xmm[k])?;
                }
            }
            M::Fxrstor | M::Fxrstor64 => {
                let a = self.ea(i);
                self.fpu_cw = self.read_mem(a, 2)? as u16;
                self.mxcsr = self.read_mem(a.wrapping_add(24), 4)? as u32;
                for k in 0..16 {
                    self.xmm[k] = self.read128(a.wrapping_add(160 + 16 * k as u64))?;
                }
            }
            M::Movsb
            | M::Movsw
            | M::Movsq
            | M::Stosb
            | M::Stosw
            | M::Stosd
            | M::Stosq
            | M::Lodsb
            | M::Lodsw
            | M::Lodsd
            | M::Lodsq
            | M::Cmpsb
            | M::Cmpsw
            | M::Cmpsq
            | M::Scasb
            | M::Scasw
            | M::Scasd
            | M::Scasq => self.string(i, mn)?,
            // `movsd`/`cmpsd` are also SSE2 scalar instructions: these are the string forms.
            M::Movsd | M::Cmpsd if !matches!(i.op_kind(0), OpKind::Register | OpKind::Memory) => {
                self.string(i, mn)?
            }
            M::Hlt | M::Ud2 | M::Int3 | M::Int | M::Int1 => {
                // Natively SIGSEGV (hlt, int) or SIGILL (ud2) or SIGTRAP: the program dies.
                let sig = match mn {
                    M::Ud2 => 4,
                    M::Int3 | M::Int1 => 5,
                    _ => 11,
                };
                return Err(Halt::Signal(sig));
            }
            M::Fld
            | M::Fild
            | M::Fldz
            | M::Fld1
            | M::Fst
            | M::Fstp
            | M::Fistp
            | M::Fisttp
            | M::Fxch
            | M::Fchs
            | M::Fabs
            | M::Fucomi
            | M::Fucomip
            | M::Fcomi
            | M::Fcomip
            | M::Fnstsw
            | M::Fnstenv
            | M::Fldenv
            | M::Fninit
            | M::Fnclex => return self.x87(i, mn),
            _ => return self.sse(i, mn),
        }
        Ok(())
    }

    fn shift(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let d = self.loc(i, 0)?;
        let size = Self::size_of(d);
        let bits = size * 8;
        let count = if i.op_count() > 1 {
            self.get(self.loc(i, 1)?)?
        } else {
            1
        };
        let c = (count & if size == 8 { 63 } else { 31 }) as u32;
        if c == 0 {
            // Flags stay; a 32-bit register is still written (zero-extended).
            let v = self.get(d)?;
            return self.set(d, v);
        }
        let a = self.get(d)? & mask(size);
        let m = mask(size);
        let msb = |v: u64| (v >> (bits - 1)) & 1;
        let (r, f) = match mn {
            M::Shl | M::Sal => {
                let r = if c >= bits { 0 } else { (a << c) & m };
                let cf = if c > bits { 0 } else { (a >> (bits - c)) & 1 };
                let mut f = Self::szp(r, size) | cf;
                if msb(r) ^ cf != 0 {
                    f |= OF;
                }
                (r, f)
            }
            M::Shr => {
                let r = if c >= 64 { 0 } else { a >> c };
                let cf = if c > bits { 0 } else { (a >> (c - 1)) & 1 };
                let mut f = Self::szp(r, size) | cf;
                if msb(a) != 0 {
                    f |= OF;
                }
                (r, f)
            }
            M::Sar => {
                let s = sext(a, size);
                let r = (s >> c.min(63)) as u64 & m;
                let cf = ((s >> (c - 1).min(63)) & 1) as u64;
                (r, Self::szp(r, size) | cf)
            }
            _ => {
                let k = c % bits;
                let r = if k == 0 {
                    a
                } else if mn == M::Rol {
                    ((a << k) | (a >> (bits - k))) & m
                } else {
                    ((a >> k) | (a << (bits - k))) & m
                };
                let (cf, of) = if mn == M::Rol {
                    let cf = r & 1;
                    (cf, msb(r) ^ cf)
                } else {
                    (msb(r), msb(r) ^ ((r >> (bits - 2)) & 1))
                };
                let mut f = (self.flags & ARITH & !(CF | OF)) | cf;
                if of != 0 {
                    f |= OF;
                }
                self.set_flags(f);
                return self.set(d, r);
            }
        };
        self.set_flags(f);
        self.set(d, r)
    }

    fn double_shift(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let d = self.loc(i, 0)?;
        let s = self.loc(i, 1)?;
        let size = Self::size_of(d);
        let bits = size * 8;
        let count = self.get(self.loc(i, 2)?)?;
        let c = (count & if size == 8 { 63 } else { 31 }) as u32;
        if c == 0 {
            // Flags stay; a 32-bit register is still written (zero-extended).
            let v = self.get(d)?;
            return self.set(d, v);
        }
        let m = mask(size);
        let a = self.get(d)? & m;
        let b = self.get(s)? & m;
        // Work in 128 bits: the destination and source side by side.
        let (r, cf) = if mn == M::Shld {
            let wide = ((a as u128) << bits) | b as u128;
            let r = ((wide << c) >> bits) as u64 & m;
            let cf = ((wide << (c - 1)) >> (2 * bits - 1)) as u64 & 1;
            (r, cf)
        } else {
            let wide = ((b as u128) << bits) | a as u128;
            let r = (wide >> c) as u64 & m;
            let cf = (wide >> (c - 1)) as u64 & 1;
            (r, cf)
        };
        let mut f = Self::szp(r, size) | cf;
        if ((r ^ a) >> (bits - 1)) & 1 != 0 {
            f |= OF;
        }
        self.set_flags(f);
        self.set(d, r)
    }

    fn imul(&mut self, i: &Instruction) -> Result<(), Halt> {
        let n = i.op_count();
        if n == 1 {
            let s = self.loc(i, 0)?;
            let size = Self::size_of(s);
            let b = sext(self.get(s)?, size) as i128;
            let a = sext(self.regs[RAX], size) as i128;
            let p = a * b;
            let lo = p as u64 & mask(size);
            let fits = sext(lo, size) as i128 == p;
            if size == 1 {
                self.regs[RAX] = (self.regs[RAX] & !0xffff) | (p as u64 & 0xffff);
            } else {
                self.set(Loc::Reg(RAX, size), p as u64)?;
                self.set(Loc::Reg(RDX, size), (p >> (size * 8)) as u64)?;
            }
            let mut f = Self::szp(lo, size);
            if !fits {
                f |= CF | OF;
            }
            self.set_flags(f);
            return Ok(());
        }
        let d = self.loc(i, 0)?;
        let size = Self::size_of(d);
        let (x, y) = if n == 2 {
            (self.get(d)?, self.get(self.loc(i, 1)?)?)
        } else {
            (self.get(self.loc(i, 1)?)?, self.get(self.loc(i, 2)?)?)
        };
        let p = sext(x, size) as i128 * sext(y, size) as i128;
        let lo = p as u64 & mask(size);
        let mut f = Self::szp(lo, size);
        if sext(lo, size) as i128 != p {
            f |= CF | OF;
        }
        self.set_flags(f);
        self.set(d, lo)
    }

    fn divide(&mut self, i: &Instruction, signed: bool) -> Result<(), Halt> {
        let s = self.loc(i, 0)?;
        let size = Self::size_of(s);
        let bits = size * 8;
        let d = self.get(s)? & mask(size);
        let de = || {
            Halt::err(EmuError::Divide {
                address: self.cur,
                symbol: self.nearest_symbol(self.cur),
            })
        };
        if d == 0 {
            return Err(de());
        }
        let (lo, hi) = if size == 1 {
            (self.regs[RAX] & 0xff, (self.regs[RAX] >> 8) & 0xff)
        } else {
            (self.regs[RAX] & mask(size), self.regs[RDX] & mask(size))
        };
        let (q, r) = if signed {
            let n = (((hi as u128) << bits) | lo as u128) as i128;
            let n = (n << (128 - 2 * bits)) >> (128 - 2 * bits);
            let dv = sext(d, size) as i128;
            let q = n.checked_div(dv).ok_or_else(de)?;
            let r = n.checked_rem(dv).ok_or_else(de)?;
            if sext(q as u64 & mask(size), size) as i128 != q {
                return Err(de());
            }
            (q as u64 & mask(size), r as u64 & mask(size))
        } else {
            let n = ((hi as u128) << bits) | lo as u128;
            let q = n / d as u128;
            if q > mask(size) as u128 {
                return Err(de());
            }
            (q as u64, (n % d as u128) as u64)
        };
        if size == 1 {
            self.regs[RAX] = (self.regs[RAX] & !0xffff) | q | (r << 8);
        } else {
            self.set(Loc::Reg(RAX, size), q)?;
            self.set(Loc::Reg(RDX, size), r)?;
        }
        Ok(())
    }

    fn bit_test(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let mut d = self.loc(i, 0)?;
        let size = Self::size_of(d);
        let bits = size as i64 * 8;
        let off = self.get(self.loc(i, 1)?)?;
        let bit = if let (Loc::Mem(a, s), OpKind::Register) = (d, i.op_kind(1)) {
            // A register bit offset addresses a bit string: it may leave the operand.
            let o = sext(off, size);
            let word = o.div_euclid(bits);
            d = Loc::Mem(a.wrapping_add((word * size as i64) as u64), s);
            o.rem_euclid(bits) as u32
        } else {
            (off % bits as u64) as u32
        };
        let v = self.get(d)?;
        let cf = (v >> bit) & 1;
        self.flags = (self.flags & !CF) | cf;
        let r = match mn {
            M::Bts => v | (1 << bit),
            M::Btr => v & !(1 << bit),
            M::Btc => v ^ (1 << bit),
            _ => return Ok(()),
        };
        self.set(d, r)
    }

    fn string(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let size: u32 = match mn {
            M::Movsb | M::Stosb | M::Lodsb | M::Cmpsb | M::Scasb => 1,
            M::Movsw | M::Stosw | M::Lodsw | M::Cmpsw | M::Scasw => 2,
            M::Movsd | M::Stosd | M::Lodsd | M::Cmpsd | M::Scasd => 4,
            _ => 8,
        };
        let rep = i.has_rep_prefix() || i.has_repne_prefix();
        let step = if self.flags & DF != 0 {
            (size as u64).wrapping_neg()
        } else {
            size as u64
        };
        let is_move = matches!(mn, M::Movsb | M::Movsw | M::Movsd | M::Movsq);
        let is_store = matches!(mn, M::Stosb | M::Stosw | M::Stosd | M::Stosq);
        // Fast paths: forward rep movs/stos without overlap.
        if rep && self.flags & DF == 0 && (is_move || is_store) {
            let n = self.regs[RCX];
            if let Some(bytes) = n.checked_mul(size as u64).filter(|&b| b <= 16 << 20) {
                let (src, dst) = (self.regs[RSI], self.regs[RDI]);
                let overlap = is_move && dst > src && dst < src.wrapping_add(bytes);
                if !overlap {
                    let data = if is_move {
                        self.mem
                            .read_vec(src, bytes as usize)
                            .map_err(|f| self.fault(f))?
                    } else {
                        let v = self.regs[RAX].to_le_bytes();
                        (0..bytes as usize).map(|k| v[k % size as usize]).collect()
                    };
                    self.mem.write(dst, &data).map_err(|f| self.fault(f))?;
                    self.icount = self.icount.saturating_add(n / 16);
                    self.regs[RDI] = dst.wrapping_add(bytes);
                    if is_move {
                        self.regs[RSI] = src.wrapping_add(bytes);
                    }
                    self.regs[RCX] = 0;
                    return Ok(());
                }
            }
        }
        loop {
            if rep {
                if self.regs[RCX] == 0 {
                    return Ok(());
                }
                self.icount = self.icount.saturating_add(1);
            }
            let (si, di) = (self.regs[RSI], self.regs[RDI]);
            let mut stop = false;
            match mn {
                M::Movsb | M::Movsw | M::Movsd | M::Movsq => {
                    let v = self.read_mem(si, size)?;
                    self.write_mem(di, size, v)?;
                    self.regs[RSI] = si.wrapping_add(step);
                    self.regs[RDI] = di.wrapping_add(step);
                }
                M::Stosb | M::Stosw | M::Stosd | M::Stosq => {
                    self.write_mem(di, size, self.regs[RAX])?;
                    self.regs[RDI] = di.wrapping_add(step);
                }
                M::Lodsb | M::Lodsw | M::Lodsd | M::Lodsq => {
                    let v = self.read_mem(si, size)?;
                    self.set(Loc::Reg(RAX, size), v)?;
                    self.regs[RSI] = si.wrapping_add(step);
                }
                _ => {
                    let (a, b) = if matches!(mn, M::Cmpsb | M::Cmpsw | M::Cmpsd | M::Cmpsq) {
                        self.regs[RSI] = si.wrapping_add(step);
                        (self.read_mem(si, size)?, self.read_mem(di, size)?)
                    } else {
                        (self.regs[RAX], self.read_mem(di, size)?)
                    };
                    self.regs[RDI] = di.wrapping_add(step);
                    let (_, f) = Self::sub_flags(a, b, 0, size);
                    self.set_flags(f);
                    let z = f & ZF != 0;
                    stop = (i.has_repe_prefix() && !z) || (i.has_repne_prefix() && z);
                }
            }
            if !rep {
                return Ok(());
            }
            self.regs[RCX] = self.regs[RCX].wrapping_sub(1);
            if stop {
                return Ok(());
            }
            if self.icount >= self.limit {
                // Stopped between elements: resume at this instruction (as after an interrupt).
                self.rip = self.cur;
                return Err(Halt::Pause);
            }
        }
    }

    fn cpuid(&mut self) {
        let leaf = self.regs[RAX] as u32;
        let sub = self.regs[RCX] as u32;
        let s = |t: &[u8; 4]| u32::from_le_bytes(*t) as u64;
        // A baseline x86-64 (like qemu64): SSE2, no SSE3/SSSE3/AVX, so glibc picks *_sse2 code.
        let (a, b, c, d): (u64, u64, u64, u64) = match leaf {
            0 => (0xd, s(b"Auth"), s(b"cAMD"), s(b"enti")),
            1 => (0x0000_0663, 0x0001_0800, 0, 0x0789_fbff & !(1 << 9)),
            7 if sub == 0 => (0, 0, 0, 0),
            0x8000_0000 => (0x8000_0008, s(b"Auth"), s(b"cAMD"), s(b"enti")),
            0x8000_0001 => (0x0000_0663, 0, 1, (1 << 11) | (1 << 20) | (1 << 29)),
            0x8000_0002 => (s(b"init"), s(b"link"), s(b" emu"), s(b"lato")),
            0x8000_0003 => (s(b"r x8"), s(b"6-64"), 0, 0),
            0x8000_0005 => (0, 0, 0x4002_0140, 0x4002_0140),
            0x8000_0006 => (0, 0, 0x0200_6140, 0),
            0x8000_0008 => (0x3028, 0, 0, 0),
            _ => (0, 0, 0, 0),
        };
        self.regs[RAX] = a;
        self.regs[3] = b;
        self.regs[RCX] = c;
        self.regs[RDX] = d;
    }

    // ---- SSE ----

    /// The 128-bit value of operand `n`: an XMM register, memory (its size, zero-extended) or a
    /// general register.
    fn xget(&self, i: &Instruction, n: u32) -> Result<u128, Halt> {
        match i.op_kind(n) {
            OpKind::Register => {
                let r = i.op_register(n);
                if let Some(x) = xmm_index(r) {
                    return Ok(self.xmm[x]);
                }
                let l = gpr(r).ok_or_else(|| self.unimplemented(i))?;
                Ok(self.get(l)? as u128)
            }
            OpKind::Memory => {
                let a = self.ea(i);
                match i.memory_size().size() {
                    16 => self.read128(a),
                    s @ (1 | 2 | 4 | 8) => Ok(self.read_mem(a, s as u32)? as u128),
                    _ => Err(self.unimplemented(i)),
                }
            }
            _ => Err(self.unimplemented(i)),
        }
    }

    fn xdst(&self, i: &Instruction) -> Result<usize, Halt> {
        if i.op_kind(0) == OpKind::Register {
            if let Some(x) = xmm_index(i.op_register(0)) {
                return Ok(x);
            }
        }
        Err(self.unimplemented(i))
    }

    /// Write the low `size` bytes of `v` to operand 0 when it is memory or a general register;
    /// false when it is an XMM register.
    fn xstore(&mut self, i: &Instruction, v: u128, size: u32) -> Result<bool, Halt> {
        match i.op_kind(0) {
            OpKind::Memory => {
                let a = self.ea(i);
                if size == 16 {
                    self.write128(a, v)?;
                } else {
                    self.write_mem(a, size, v as u64)?;
                }
                Ok(true)
            }
            OpKind::Register if xmm_index(i.op_register(0)).is_none() => {
                let l = gpr(i.op_register(0)).ok_or_else(|| self.unimplemented(i))?;
                self.set(l, v as u64)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn sse(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        const LO: u128 = u64::MAX as u128;
        match mn {
            M::Movdqa
            | M::Movdqu
            | M::Movaps
            | M::Movups
            | M::Movapd
            | M::Movupd
            | M::Movntdq
            | M::Movntps
            | M::Movntpd
            | M::Lddqu => {
                let v = self.xget(i, 1)?;
                if !self.xstore(i, v, 16)? {
                    let x = self.xdst(i)?;
                    self.xmm[x] = v;
                }
            }
            M::Movd | M::Movq => {
                let size = if mn == M::Movd { 4 } else { 8 };
                let v = self.xget(i, 1)? & if size == 4 { u32::MAX as u128 } else { LO };
                if !self.xstore(i, v, size)? {
                    let x = self.xdst(i)?;
                    self.xmm[x] = v;
                }
            }
            M::Movss | M::Movsd => {
                let size = if mn == M::Movss { 4 } else { 8 };
                let m: u128 = if size == 4 { u32::MAX as u128 } else { LO };
                let v = self.xget(i, 1)?;
                if !self.xstore(i, v & m, size)? {
                    let x = self.xdst(i)?;
                    self.xmm[x] = if i.op_kind(1) == OpKind::Memory {
                        v & m
                    } else {
                        (self.xmm[x] & !m) | (v & m)
                    };
                }
            }
            M::Movlps | M::Movlpd | M::Movhps | M::Movhpd => {
                let high = matches!(mn, M::Movhps | M::Movhpd);
                if i.op_kind(0) == OpKind::Memory {
                    let x = xmm_index(i.op_register(1)).ok_or_else(|| self.unimplemented(i))?;
                    let v = if high {
                        self.xmm[x] >> 64
                    } else {
                        self.xmm[x] & LO
                    };
                    self.xstore(i, v, 8)?;
                } else {
                    let x = self.xdst(i)?;
                    let v = self.xget(i, 1)? & LO;
                    self.xmm[x] = if high {
                        (self.xmm[x] & LO) | (v << 64)
                    } else {
                        (self.xmm[x] & !LO) | v
                    };
                }
            }
            M::Movhlps | M::Movlhps => {
                let x = self.xdst(i)?;
                let v = self.xget(i, 1)?;
                self.xmm[x] = if mn == M::Movhlps {
                    (self.xmm[x] & !LO) | (v >> 64)
                } else {
                    (self.xmm[x] & LO) | (v << 64)
                };
            }
            M::Pxor
            | M::Xorps
            | M::Xorpd
            | M::Por
            | M::Orps
            | M::Orpd
            | M::Pand
            | M::Andps
            | M::Andpd
            | M::Pandn
            | M::Andnps
            | M::Andnpd => {
                let x = self.xdst(i)?;
                let b = self.xget(i, 1)?;
                let a = self.xmm[x];
                self.xmm[x] = match mn {
                    M::Pxor | M::Xorps | M::Xorpd => a ^ b,
                    M::Por | M::Orps | M::Orpd => a | b,
                    M::Pand | M::Andps | M::Andpd => a & b,
                    _ => !a & b,
                };
            }
            M::Pcmpeqb
            | M::Pcmpeqw
            | M::Pcmpeqd
            | M::Pcmpgtb
            | M::Pcmpgtw
            | M::Pcmpgtd
            | M::Pminub
            | M::Pmaxub
            | M::Paddb
            | M::Paddw
            | M::Paddd
            | M::Paddq
            | M::Psubb
            | M::Psubw
            | M::Psubd
            | M::Psubq
            | M::Pminsw
            | M::Pmaxsw
            | M::Psubusb
            | M::Paddusb
            | M::Pavgb => {
                let x = self.xdst(i)?;
                let b = self.xget(i, 1)?;
                let a = self.xmm[x];
                let w: u32 = match mn {
                    M::Pcmpeqw | M::Pcmpgtw | M::Paddw | M::Psubw | M::Pminsw | M::Pmaxsw => 2,
                    M::Pcmpeqd | M::Pcmpgtd | M::Paddd | M::Psubd => 4,
                    M::Paddq | M::Psubq => 8,
                    _ => 1,
                };
                let m = mask(w);
                let mut r = 0u128;
                for k in 0..16 / w {
                    let sh = k * w * 8;
                    let (p, q) = ((a >> sh) as u64 & m, (b >> sh) as u64 & m);
                    let v = match mn {
                        M::Pcmpeqb | M::Pcmpeqw | M::Pcmpeqd => {
                            if p == q {
                                m
                            } else {
                                0
                            }
                        }
                        M::Pcmpgtb | M::Pcmpgtw | M::Pcmpgtd => {
                            if sext(p, w) > sext(q, w) {
                                m
                            } else {
                                0
                            }
                        }
                        M::Pminub => p.min(q),
                        M::Pmaxub => p.max(q),
                        M::Pminsw => {
                            if sext(p, w) < sext(q, w) {
                                p
                            } else {
                                q
                            }
                        }
                        M::Pmaxsw => {
                            if sext(p, w) > sext(q, w) {
                                p
                            } else {
                                q
                            }
                        }
                        M::Paddb | M::Paddw | M::Paddd | M::Paddq => p.wrapping_add(q),
                        M::Psubusb => p.saturating_sub(q),
                        M::Paddusb => (p + q).min(0xff),
                        M::Pavgb => (p + q + 1) >> 1,
                        _ => p.wrapping_sub(q),
                    } & m;
                    r |= (v as u128) << sh;
                }
                self.xmm[x] = r;
            }
            M::Packuswb | M::Packsswb | M::Packssdw => {
                // Narrow each lane of dst then src with saturation.
                let x = self.xdst(i)?;
                let b = self.xget(i, 1)?;
                let a = self.xmm[x];
                let w: u32 = if mn == M::Packssdw { 4 } else { 2 };
                let mut r = 0u128;
                for (h, v) in [a, b].into_iter().enumerate() {
                    for k in 0..16 / w {
                        let s = sext((v >> (k * w * 8)) as u64 & mask(w), w);
                        let n = match mn {
                            M::Packuswb => s.clamp(0, 255) as u64,
                            M::Packsswb => s.clamp(-128, 127) as u64 & 0xff,
                            _ => s.clamp(-32768, 32767) as u64 & 0xffff,
                        };
                        let lanes = 16 / w;
                        r |= (n as u128) << ((h as u32 * lanes + k) * (w / 2) * 8);
                    }
                }
                self.xmm[x] = r;
            }
            M::Pmovmskb | M::Movmskps | M::Movmskpd => {
                let v = self.xget(i, 1)?;
                let w = match mn {
                    M::Pmovmskb => 1,
                    M::Movmskps => 4,
                    _ => 8,
                };
                let mut r = 0u64;
                for k in 0..16 / w {
                    r |= (((v >> (k * w * 8 + w * 8 - 1)) & 1) as u64) << k;
                }
                let d = self.loc(i, 0)?;
                self.set(d, r)?;
            }
            M::Punpcklbw
            | M::Punpcklwd
            | M::Punpckldq
            | M::Punpcklqdq
            | M::Punpckhbw
            | M::Punpckhwd
            | M::Punpckhdq
            | M::Punpckhqdq
            | M::Unpcklps
            | M::Unpckhps
            | M::Unpcklpd
            | M::Unpckhpd => {
                let x = self.xdst(i)?;
                let b = self.xget(i, 1)?;
                let a = self.xmm[x];
                let w: u32 = match mn {
                    M::Punpcklbw | M::Punpckhbw => 1,
                    M::Punpcklwd | M::Punpckhwd => 2,
                    M::Punpckldq | M::Punpckhdq | M::Unpcklps | M::Unpckhps => 4,
                    _ => 8,
                };
                let high = matches!(
                    mn,
                    M::Punpckhbw
                        | M::Punpckhwd
                        | M::Punpckhdq
                        | M::Punpckhqdq
                        | M::Unpckhps
                        | M::Unpckhpd
                );
                let (a, b) = if high { (a >> 64, b >> 64) } else { (a, b) };
                let m = mask(w) as u128;
                let mut r = 0u128;
                for k in 0..8 / w {
                    let sh = k * w * 8;
                    r |= ((a >> sh) & m) << (2 * sh);
                    r |= ((b >> sh) & m) << (2 * sh + w * 8);
                }
                self.xmm[x] = r;
            }
            M::Pshufd | M::Pshuflw | M::Pshufhw | M::Shufps => {
                let x = self.xdst(i)?;
                let s = self.xget(i, 1)?;
                let imm = i.immediate(2) as u32;
                let lane = |v: u128, k: u32, w: u32| (v >> (k * w)) & mask(w / 8) as u128;
                let mut r = 0u128;
                match mn {
                    M::Pshufd => {
                        for k in 0..4 {
                            r |= lane(s, (imm >> (2 * k)) & 3, 32) << (32 * k);
                        }
                    }
                    M::Shufps => {
                        let a = self.xmm[x];
                        for k in 0..4 {
                            let src = if k < 2 { a } else { s };
                            r |= lane(src, (imm >> (2 * k)) & 3, 32) << (32 * k);
                        }
                    }
                    M::Pshuflw => {
                        r = s & !(LO);
                        for k in 0..4 {
                            r |= lane(s, (imm >> (2 * k)) & 3, 16) << (16 * k);
                        }
                    }
                    _ => {
                        r = s & LO;
                        let h = s >> 64;
                        for k in 0..4 {
                            r |= lane(h, (imm >> (2 * k)) & 3, 16) << (64 + 16 * k);
                        }
                    }
                }
                self.xmm[x] = r;
            }
            M::Shufpd => {
                let x = self.xdst(i)?;
                let s = self.xget(i, 1)?;
                let a = self.xmm[x];
                let imm = i.immediate(2);
                let lo = if imm & 1 == 0 { a & LO } else { a >> 64 };
                let hi = if imm & 2 == 0 { s & LO } else { s >> 64 };
                self.xmm[x] = lo | (hi << 64);
            }
            M::Psrldq | M::Pslldq => {
                let x = self.xdst(i)?;
                let n = (i.immediate(1) as u32).min(16) * 8;
                let a = self.xmm[x];
                self.xmm[x] = if n >= 128 {
                    0
                } else if mn == M::Psrldq {
                    a >> n
                } else {
                    a << n
                };
            }
            M::Psrlw
            | M::Psrld
            | M::Psrlq
            | M::Psllw
            | M::Pslld
            | M::Psllq
            | M::Psraw
            | M::Psrad => {
                let x = self.xdst(i)?;
                let c = if matches!(i.op_kind(1), OpKind::Immediate8) {
                    i.immediate(1)
                } else {
                    self.xget(i, 1)? as u64
                };
                let w: u32 = match mn {
                    M::Psrlw | M::Psllw | M::Psraw => 2,
                    M::Psrld | M::Pslld | M::Psrad => 4,
                    _ => 8,
                };
                let a = self.xmm[x];
                let m = mask(w);
                let mut r = 0u128;
                for k in 0..16 / w {
                    let sh = k * w * 8;
                    let p = (a >> sh) as u64 & m;
                    let v = match mn {
                        M::Psraw | M::Psrad => (sext(p, w) >> c.min(w as u64 * 8 - 1)) as u64,
                        _ if c >= w as u64 * 8 => 0,
                        M::Psrlw | M::Psrld | M::Psrlq => p >> c,
                        _ => p << c,
                    } & m;
                    r |= (v as u128) << sh;
                }
                self.xmm[x] = r;
            }
            M::Ucomisd | M::Comisd | M::Ucomiss | M::Comiss => {
                let x = self.xdst(i)?;
                let b = self.xget(i, 1)?;
                let (p, q) = if matches!(mn, M::Ucomisd | M::Comisd) {
                    (f64::from_bits(self.xmm[x] as u64), f64::from_bits(b as u64))
                } else {
                    (
                        f32::from_bits(self.xmm[x] as u32) as f64,
                        f32::from_bits(b as u32) as f64,
                    )
                };
                let f = if p.is_nan() || q.is_nan() {
                    ZF | PF | CF
                } else if p < q {
                    CF
                } else if p == q {
                    ZF
                } else {
                    0
                };
                self.set_flags(f);
            }
            M::Cvtsi2sd | M::Cvtsi2ss => {
                let x = self.xdst(i)?;
                let s = self.loc(i, 1)?;
                let v = sext(self.get(s)?, Self::size_of(s));
                self.xmm[x] = if mn == M::Cvtsi2sd {
                    (self.xmm[x] & !LO) | (v as f64).to_bits() as u128
                } else {
                    (self.xmm[x] & !(u32::MAX as u128)) | (v as f32).to_bits() as u128
                };
            }
            M::Cvttsd2si | M::Cvtsd2si | M::Cvttss2si => {
                let d = self.loc(i, 0)?;
                let size = Self::size_of(d);
                let s = self.xget(i, 1)?;
                let f = if mn == M::Cvttss2si {
                    f32::from_bits(s as u32) as f64
                } else {
                    f64::from_bits(s as u64)
                };
                let f = if mn == M::Cvtsd2si {
                    f.round_ties_even()
                } else {
                    f.trunc()
                };
                let lim = if size == 8 {
                    9.223_372_036_854_776e18
                } else {
                    2147483648.0
                };
                let v = if f.is_nan() || f >= lim || f < -lim {
                    sign(size)
                } else {
                    f as i64 as u64
                };
                self.set(d, v)?;
            }
            M::Cvtsd2ss | M::Cvtss2sd => {
                let x = self.xdst(i)?;
                let s = self.xget(i, 1)?;
                self.xmm[x] = if mn == M::Cvtsd2ss {
                    (self.xmm[x] & !(u32::MAX as u128))
                        | (f64::from_bits(s as u64) as f32).to_bits() as u128
                } else {
                    (self.xmm[x] & !LO) | (f32::from_bits(s as u32) as f64).to_bits() as u128
                };
            }
            M::Addsd | M::Subsd | M::Mulsd | M::Divsd | M::Minsd | M::Maxsd | M::Sqrtsd => {
                let x = self.xdst(i)?;
                let b = f64::from_bits(self.xget(i, 1)? as u64);
                let a = f64::from_bits(self.xmm[x] as u64);
                let r = match mn {
                    M::Addsd => a + b,
                    M::Subsd => a - b,
                    M::Mulsd => a * b,
                    M::Divsd => a / b,
                    M::Minsd => {
                        if a < b {
                            a
                        } else {
                            b
                        }
                    }
                    M::Maxsd => {
                        if a > b {
                            a
                        } else {
                            b
                        }
                    }
                    _ => b.sqrt(),
                };
                self.xmm[x] = (self.xmm[x] & !LO) | r.to_bits() as u128;
            }
            _ => return Err(self.unimplemented(i)),
        }
        Ok(())
    }
}
