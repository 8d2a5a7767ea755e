//! Threads: `clone` with `CLONE_VM | CLONE_THREAD` (what `pthread_create` does) starts one, and
//! they run one at a time on the one machine, round-robin in slices of [`SLICE`] instructions.
//! The schedule depends on nothing but the instruction count, so a program runs the same way
//! every time. A thread gives way early when it waits on a futex, yields or exits.
//!
//! Futexes are what glibc's mutexes, barriers, condition variables and `pthread_join` sleep on:
//! `FUTEX_WAIT` puts the thread to sleep while the word still holds the expected value,
//! `FUTEX_WAKE` readies up to N sleepers in the order they went to sleep. A thread that exits
//! clears the word `CLONE_CHILD_CLEARTID` or `set_tid_address` named and wakes one sleeper on it
//! (how `pthread_join` learns of the exit). The process ends with `exit_group`, or when its last
//! thread exits. When every thread sleeps, one that gave a timeout wakes with `ETIMEDOUT`;
//! without one, the run stops with [`EmuError::Deadlock`].

use crate::cpu::{Halt, Machine, RAX, RSP};
use crate::EmuError;

/// Instructions a thread runs before the next one's turn.
pub const SLICE: u64 = 10_000;

/// The most threads alive at once (`clone` fails with EAGAIN past it).
const MAX_THREADS: usize = 1024;

/// The main thread's id (and the process id).
pub const MAIN_TID: u64 = 1000;

const CLONE_VM: u64 = 0x100;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;

const EAGAIN: i64 = 11;
const EFAULT: i64 = 14;
const ENOSYS: i64 = 38;
const ETIMEDOUT: i64 = 110;

/// A thread's registers while another one runs.
#[derive(Clone)]
struct Context {
    regs: [u64; 16],
    rip: u64,
    flags: u64,
    xmm: [u128; 16],
    mxcsr: u32,
    fpu_cw: u16,
    st: [u128; 8],
    fpu_top: usize,
    fpu_cc: u16,
    fs_base: u64,
    gs_base: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// Running now or ready to.
    Ready,
    /// Asleep on the futex word at `addr`; `seq` orders the sleepers, `timed` says whether it
    /// gave a timeout.
    Waiting {
        addr: u64,
        bitset: u32,
        seq: u64,
        timed: bool,
    },
    Exited,
}

struct Thread {
    tid: u64,
    /// Its registers while it does not run (stale for the running thread).
    ctx: Option<Context>,
    /// The word cleared (and woken) when it exits: `CLONE_CHILD_CLEARTID`, `set_tid_address`.
    clear_tid: u64,
    state: State,
}

/// Every thread of the program and the scheduler's state.
pub(crate) struct Threads {
    list: Vec<Thread>,
    current: usize,
    next_tid: u64,
    next_seq: u64,
    /// The instruction count where the running thread's slice ends (`u64::MAX` while there is
    /// only one thread).
    pub(crate) slice_end: u64,
    /// The running thread slept, yielded or exited: switch at the end of its block.
    pub(crate) resched: bool,
}

impl Threads {
    pub(crate) fn new() -> Threads {
        Threads {
            list: vec![Thread {
                tid: MAIN_TID,
                ctx: None,
                clear_tid: 0,
                state: State::Ready,
            }],
            current: 0,
            next_tid: MAIN_TID + 1,
            next_seq: 0,
            slice_end: u64::MAX,
            resched: false,
        }
    }

    fn alive(&self) -> usize {
        self.list
            .iter()
            .filter(|t| t.state != State::Exited)
            .count()
    }
}

impl Machine<'_> {
    /// The running thread's id.
    pub fn tid(&self) -> u64 {
        self.threads.list[self.threads.current].tid
    }

    /// How many threads are alive.
    pub fn thread_count(&self) -> usize {
        self.threads.alive()
    }

    fn save_context(&self) -> Context {
        Context {
            regs: self.regs,
            rip: self.rip,
            flags: self.flags,
            xmm: self.xmm,
            mxcsr: self.mxcsr,
            fpu_cw: self.fpu_cw,
            st: self.st,
            fpu_top: self.fpu_top,
            fpu_cc: self.fpu_cc,
            fs_base: self.fs_base,
            gs_base: self.gs_base,
        }
    }

    fn load_context(&mut self, c: Context) {
        self.regs = c.regs;
        self.rip = c.rip;
        self.flags = c.flags;
        self.xmm = c.xmm;
        self.mxcsr = c.mxcsr;
        self.fpu_cw = c.fpu_cw;
        self.st = c.st;
        self.fpu_top = c.fpu_top;
        self.fpu_cc = c.fpu_cc;
        self.fs_base = c.fs_base;
        self.gs_base = c.gs_base;
    }

    /// Give the machine to the next ready thread after the running one (the running one again
    /// if no other is ready) for a new slice; a thread that exited is forgotten. With every
    /// thread asleep, wake the first that gave a timeout (its wait fails with ETIMEDOUT), or stop
    /// the run: nobody is left to wake them.
    pub(crate) fn switch_thread(&mut self) {
        self.threads.resched = false;
        let cur = self.threads.current;
        let exited = self.threads.list[cur].state == State::Exited;
        if exited {
            self.threads.list.remove(cur);
        }
        let n = self.threads.list.len();
        // After a removal the thread that followed the exited one sits at `cur`.
        let start = if exited { cur } else { cur + 1 };
        let next = (0..n)
            .map(|k| (start + k) % n)
            .find(|&k| self.threads.list[k].state == State::Ready)
            .or_else(|| self.wake_timed_out(if exited { None } else { Some(cur) }));
        let Some(next) = next else {
            let address = self
                .threads
                .list
                .iter()
                .find_map(|t| match t.state {
                    State::Waiting { addr, .. } => Some(addr),
                    _ => None,
                })
                .unwrap_or(self.rip);
            self.halt = Some(Halt::err(EmuError::Deadlock { address }));
            return;
        };
        self.threads.slice_end = if n == 1 {
            u64::MAX
        } else {
            self.icount.saturating_add(SLICE)
        };
        if !exited && next == cur {
            return;
        }
        if !exited {
            let ctx = self.save_context();
            self.threads.list[cur].ctx = Some(ctx);
        }
        self.threads.current = next;
        if let Some(ctx) = self.threads.list[next].ctx.take() {
            self.load_context(ctx);
        }
    }

    /// Every thread sleeps: the earliest sleeper with a timeout wakes with ETIMEDOUT. `running`
    /// is the thread whose registers are the machine's.
    fn wake_timed_out(&mut self, running: Option<usize>) -> Option<usize> {
        let k = (0..self.threads.list.len())
            .filter_map(|k| match self.threads.list[k].state {
                State::Waiting {
                    seq, timed: true, ..
                } => Some((seq, k)),
                _ => None,
            })
            .min()?
            .1;
        self.threads.list[k].state = State::Ready;
        let timed_out = (-ETIMEDOUT) as u64;
        match self.threads.list[k].ctx.as_mut() {
            Some(ctx) if running != Some(k) => ctx.regs[RAX] = timed_out,
            _ => self.regs[RAX] = timed_out,
        }
        Some(k)
    }

    /// `clone(flags, stack, parent_tid, child_tid, tls)`: a new thread sharing everything,
    /// returning 0 on its new stack; the caller gets its id. A new process (`fork`: no
    /// `CLONE_VM`/`CLONE_THREAD`) is not emulated and stops the run.
    pub(crate) fn sys_clone(&mut self, a: [u64; 6]) -> Result<i64, Halt> {
        let flags = a[0];
        if flags & (CLONE_VM | CLONE_THREAD) != CLONE_VM | CLONE_THREAD {
            return Err(Halt::err(EmuError::Syscall {
                address: self.cur_ip(),
                number: 56,
                name: "clone (a new process, not a thread)",
            }));
        }
        if self.threads.alive() >= MAX_THREADS {
            return Ok(-EAGAIN);
        }
        let tid = self.threads.next_tid;
        for (flag, at) in [(CLONE_PARENT_SETTID, a[2]), (CLONE_CHILD_SETTID, a[3])] {
            if flags & flag != 0 && self.write_mem(at, 4, tid).is_err() {
                return Ok(-EFAULT);
            }
        }
        self.threads.next_tid += 1;
        let mut ctx = self.save_context();
        ctx.regs[RAX] = 0;
        if a[1] != 0 {
            ctx.regs[RSP] = a[1];
        }
        if flags & CLONE_SETTLS != 0 {
            ctx.fs_base = a[4];
        }
        self.threads.list.push(Thread {
            tid,
            ctx: Some(ctx),
            clear_tid: if flags & CLONE_CHILD_CLEARTID != 0 {
                a[3]
            } else {
                0
            },
            state: State::Ready,
        });
        if self.threads.slice_end == u64::MAX {
            self.threads.slice_end = self.icount.saturating_add(SLICE);
        }
        Ok(tid as i64)
    }

    /// `set_tid_address(addr)`: the word to clear when this thread exits.
    pub(crate) fn set_tid_address(&mut self, addr: u64) -> i64 {
        let cur = self.threads.current;
        self.threads.list[cur].clear_tid = addr;
        self.tid() as i64
    }

    /// `exit(status)`: this thread ends (the process with it when it is the last one).
    pub(crate) fn exit_thread(&mut self, status: u64) -> Result<(), Halt> {
        if self.threads.alive() <= 1 {
            return Err(Halt::Exit((status & 0xff) as i32));
        }
        let cur = self.threads.current;
        self.threads.list[cur].state = State::Exited;
        let clear = self.threads.list[cur].clear_tid;
        if clear != 0 && self.write_mem(clear, 4, 0).is_ok() {
            self.futex_wake(clear, 1, u32::MAX);
        }
        self.threads.resched = true;
        Ok(())
    }

    /// `sched_yield()`: the next ready thread runs.
    pub(crate) fn yield_thread(&mut self) {
        if self.threads.list.len() > 1 {
            self.threads.resched = true;
        }
    }

    /// `futex(addr, op, val, timeout, addr2, val3)`: wait and wake (with or without a bitset,
    /// private or shared); other operations say ENOSYS.
    pub(crate) fn futex(&mut self, a: [u64; 6]) -> Result<i64, Halt> {
        let (addr, op, val) = (a[0], a[1] & 0x7f, a[2] as u32);
        match op {
            // FUTEX_WAIT, FUTEX_WAIT_BITSET
            0 | 9 => {
                let bitset = if op == 9 { a[5] as u32 } else { u32::MAX };
                match self.read_mem(addr, 4) {
                    Ok(v) if v as u32 != val => Ok(-EAGAIN),
                    Ok(_) => {
                        if self.threads.alive() == 1 {
                            // Nobody else could ever change the word.
                            if a[3] != 0 {
                                return Ok(-ETIMEDOUT);
                            }
                            return Err(Halt::err(EmuError::Deadlock { address: addr }));
                        }
                        let seq = self.threads.next_seq;
                        self.threads.next_seq += 1;
                        let cur = self.threads.current;
                        self.threads.list[cur].state = State::Waiting {
                            addr,
                            bitset,
                            seq,
                            timed: a[3] != 0,
                        };
                        self.threads.resched = true;
                        // What the wait returns once woken (a timeout overwrites it).
                        Ok(0)
                    }
                    Err(_) => Ok(-EFAULT),
                }
            }
            // FUTEX_WAKE, FUTEX_WAKE_BITSET
            1 | 10 => {
                let bitset = if op == 10 { a[5] as u32 } else { u32::MAX };
                Ok(self.futex_wake(addr, val.min(i32::MAX as u32) as usize, bitset) as i64)
            }
            _ => Ok(-ENOSYS),
        }
    }

    /// Ready up to `n` threads asleep on `addr` (whose bitset meets `bitset`), earliest first;
    /// returns how many.
    fn futex_wake(&mut self, addr: u64, n: usize, bitset: u32) -> usize {
        let mut sleepers: Vec<(u64, usize)> = self
            .threads
            .list
            .iter()
            .enumerate()
            .filter_map(|(k, t)| match t.state {
                State::Waiting {
                    addr: at,
                    bitset: b,
                    seq,
                    ..
                } if at == addr && b & bitset != 0 => Some((seq, k)),
                _ => None,
            })
            .collect();
        sleepers.sort_unstable();
        let woken = sleepers.len().min(n);
        for &(_, k) in &sleepers[..woken] {
            self.threads.list[k].state = State::Ready;
        }
        woken
    }
}
