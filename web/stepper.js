// The run's details, loaded with the emulator (on the first Run or Step, not with the page): the
// list of system calls with their arguments and results, and the step mode's panel (the next
// instruction, the registers and flags, the top of the stack).
import { h, hex, count } from './views.js';

// Each system call's arguments by name (as in its man page), so that a call reads
// write(fd=1, buf=0x402000, count=33); a call not listed shows all six registers.
const ARGS = {
  read: ['fd', 'buf', 'count'], write: ['fd', 'buf', 'count'], open: ['path', 'flags', 'mode'], close: ['fd'],
  stat: ['path', 'buf'], fstat: ['fd', 'buf'], lstat: ['path', 'buf'], poll: ['fds', 'nfds', 'timeout'],
  lseek: ['fd', 'offset', 'whence'], mmap: ['addr', 'length', 'prot', 'flags', 'fd', 'offset'],
  mprotect: ['addr', 'len', 'prot'], munmap: ['addr', 'len'], brk: ['addr'],
  rt_sigaction: ['sig', 'act', 'oact', 'sigsetsize'], rt_sigprocmask: ['how', 'set', 'oset', 'sigsetsize'],
  rt_sigreturn: [], ioctl: ['fd', 'cmd', 'arg'], pread64: ['fd', 'buf', 'count', 'pos'],
  pwrite64: ['fd', 'buf', 'count', 'pos'], readv: ['fd', 'iov', 'iovcnt'], writev: ['fd', 'iov', 'iovcnt'],
  access: ['path', 'mode'], pipe: ['fds'], sched_yield: [], mremap: ['old', 'old_len', 'new_len', 'flags', 'new'],
  madvise: ['addr', 'len', 'advice'], dup: ['fd'], dup2: ['old', 'new'], nanosleep: ['req', 'rem'], getpid: [],
  clone: ['flags', 'stack', 'parent_tid', 'child_tid', 'tls'], fork: [], execve: ['path', 'argv', 'envp'],
  exit: ['status'], wait4: ['pid', 'status', 'options', 'rusage'], kill: ['pid', 'sig'], uname: ['buf'],
  fcntl: ['fd', 'cmd', 'arg'], getcwd: ['buf', 'size'], readlink: ['path', 'buf', 'size'],
  gettimeofday: ['tv', 'tz'], getrlimit: ['resource', 'rlim'], getuid: [], getgid: [], geteuid: [], getegid: [],
  getppid: [], sigaltstack: ['ss', 'old_ss'], arch_prctl: ['code', 'addr'], gettid: [], tkill: ['tid', 'sig'],
  time: ['t'], futex: ['uaddr', 'op', 'val', 'timeout', 'uaddr2', 'val3'], sched_getaffinity: ['pid', 'len', 'mask'],
  set_tid_address: ['tidptr'], clock_gettime: ['clock', 'tp'], clock_getres: ['clock', 'res'],
  clock_nanosleep: ['clock', 'flags', 'req', 'rem'], exit_group: ['status'], tgkill: ['tgid', 'tid', 'sig'],
  openat: ['dirfd', 'path', 'flags', 'mode'], newfstatat: ['dirfd', 'path', 'buf', 'flags'],
  readlinkat: ['dirfd', 'path', 'buf', 'size'], faccessat: ['dirfd', 'path', 'mode'],
  set_robust_list: ['head', 'len'], prlimit64: ['pid', 'resource', 'new', 'old'], getrandom: ['buf', 'len', 'flags'],
  statx: ['dirfd', 'path', 'flags', 'mask', 'buf'], rseq: ['rseq', 'len', 'flags', 'sig'], clone3: ['args', 'size'],
};

// Linux's errno names for the results the emulator gives.
const ERRNO = { 1: 'EPERM', 2: 'ENOENT', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 14: 'EFAULT', 22: 'EINVAL', 25: 'ENOTTY', 27: 'EFBIG', 29: 'ESPIPE', 38: 'ENOSYS', 110: 'ETIMEDOUT' };

// Arguments the kernel reads as a C `int`: only the low 32 bits count (glibc passes AT_FDCWD as
// 0xffffff9c, which is -100).
const INT = new Set(['fd', 'dirfd', 'sig', 'pid', 'tid', 'tgid', 'status', 'how', 'resource', 'clock', 'whence', 'iovcnt', 'nfds', 'timeout', 'advice', 'old', 'new', 'options']);

/** A number as a system call's argument reads best: small ones in decimal, addresses in hex. */
const num = (v) => (Math.abs(v) < 0x10000 ? String(v) : hex(v));
const arg = (name, v) => num(INT.has(name) ? (v | 0) : v);

function result(s) {
  if (s.result < 0 && s.result > -4096) return `-1 ${ERRNO[-s.result] ?? `errno ${-s.result}`}`;
  return ['mmap', 'brk'].includes(s.name) ? hex(s.result) : String(s.result);
}

/** `write(fd=1, buf=0x402000, count=33)`. */
export function syscallText(s) {
  const names = ARGS[s.name];
  const args = names ? names.map((n, i) => `${n}=${n === 'path' && s.path != null ? JSON.stringify(s.path) : arg(n, s.args[i])}`) : s.args.map(num);
  return `${s.name}(${args.join(', ')})`;
}

/** The system calls as a folding table: each with its arguments and result, the instruction
 *  count it came at, and the thread that made it when there were several. */
export function renderSyscalls(syscalls, { open = false } = {}) {
  const threads = new Set(syscalls.map((s) => s.tid)).size > 1;
  const LIMIT = 2000;
  const rows = syscalls.slice(0, LIMIT).map((s, i) => h('tr', { 'data-testid': 'syscall', class: s.result < 0 && s.result > -4096 ? 'failed' : null },
    h('td', { class: 'n' }, String(i + 1)),
    threads ? h('td', { class: 'n' }, String(s.tid)) : null,
    h('td', {}, h('code', {}, syscallText(s))),
    h('td', {}, h('code', {}, result(s))),
    h('td', { class: 'n muted' }, count(s.instruction))));
  return h('details', { class: 'syscalls', 'data-testid': 'syscalls', open: open || null },
    h('summary', {}, `System calls (${syscalls.length})`, syscalls.length > LIMIT ? ` · first ${LIMIT} shown` : ''),
    h('div', { class: 'scroll' }, h('table', { class: 'grid syscall-table' },
      h('thead', {}, h('tr', {}, ['#', ...(threads ? ['thread'] : []), 'call', 'result', 'at instruction'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))));
}

const REGS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const FLAGS = [['CF', 'carry'], ['PF', 'parity'], ['AF', 'adjust'], ['ZF', 'zero'], ['SF', 'sign'], ['DF', 'direction'], ['OF', 'overflow']];

const KIND = { entry: 'the entry point', preinit: '.preinit_array', init: 'initializer', dt_init: 'DT_INIT', main: 'main', fini: 'finalizer', dt_fini: 'DT_FINI', stub: 'linker-made stub' };

/** A trace event as the step mode names it: `setup (initializer)`, `libc.so.6: .init_array[0] (initializer)`. */
function traced(t) {
  if (!t) return 'a traced address';
  return `${t.library ? `${t.library}: ` : ''}${t.symbol} (${KIND[t.kind] ?? t.kind})`;
}

/** A 64-bit hex string shown as 16 digits, the leading zeros dimmed. */
function wide(v) {
  const digits = v.replace(/^0x/, '').padStart(16, '0');
  const lead = digits.match(/^0*/)[0].length;
  const cut = Math.min(lead, 15);
  return [h('span', { class: 'zeros' }, digits.slice(0, cut)), digits.slice(cut)];
}

/**
 * The step mode's panel for `s` (a state of run.js's stepThrough), compared with `prev` (the
 * state before this step: changed registers are marked). `ctx`: {linkerMade (the current
 * instruction is in the Linker-made code view), busy (a command is running), onStep(),
 * onNextInit(), onContinue(), onClose()}.
 */
export function renderStepper(panel, s, prev, ctx) {
  const done = s.done;
  const why = { loaded: 'stopped at the entry point, before its first instruction', step: 'stepped', breakpoint: 'at a breakpoint',
    traced: `arrived at ${traced(s.trace.at(-1))}`, end: 'the program ended' }[s.stopped] ?? s.stopped;
  const status = done
    ? (s.exitCode != null ? `exited with status ${s.exitCode}` : s.signal != null ? `killed by signal ${s.signal}` : 'stopped')
    : why;
  const btn = (label, testid, title, onclick, primary = false) => h('button', { type: 'button', class: primary ? 'primary small' : 'small', 'data-testid': testid, title, disabled: done || ctx.busy || null, onclick }, label);
  const ins = s.instruction;
  const next = ins
    ? h('div', { class: 'next-ins', 'data-testid': 'step-instruction' },
      h('span', { class: 'muted' }, 'Next: '),
      h('code', { class: 'addr' }, hex(ins.address)),
      ins.symbol ? h('code', { class: 'sym' }, ` <${ins.symbol}>`) : null,
      h('code', { class: 'bytes' }, ins.bytes),
      h('code', { class: 'asm' }, ins.text),
      ctx.linkerMade ? h('span', { class: 'badge linker', title: 'Highlighted in the Linker-made code view' }, 'linker-made') : null)
    : null;
  const changed = (r) => prev?.regs && s.regs && prev.regs[r] !== s.regs[r];
  const regs = s.regs ? h('table', { class: 'regs', 'data-testid': 'step-registers' },
    h('tbody', {}, [0, 2, 4, 6, 8, 10, 12, 14].map((k) => h('tr', {}, REGS.slice(k, k + 2).flatMap((r) => [
      h('th', {}, r),
      h('td', { class: changed(r) ? 'changed' : null, 'data-reg': r, title: BigInt(s.regs[r]).toString() }, wide(s.regs[r]))]))))) : null;
  const flags = s.regs ? h('div', { class: 'flags', 'data-testid': 'step-flags' },
    h('span', { class: 'muted' }, `rflags ${s.rflags} `),
    FLAGS.map(([f, name]) => h('span', { class: `flag ${s.flags.includes(f) ? 'on' : 'off'}`, title: `${name} flag: ${s.flags.includes(f) ? 1 : 0}` }, f)),
    s.fsBase && s.fsBase !== '0x0' ? h('span', { class: 'muted' }, ` · fs base ${s.fsBase}`) : null,
    s.threads > 1 ? h('span', { class: 'muted' }, ` · thread ${s.tid} of ${s.threads}`) : null) : null;
  const stack = s.stack?.length ? h('table', { class: 'stack', 'data-testid': 'step-stack' },
    h('caption', {}, 'Top of the stack'),
    h('tbody', {}, s.stack.map((w, i) => h('tr', {},
      h('td', { class: 'muted' }, i === 0 ? 'rsp →' : `+${8 * i}`),
      h('td', {}, h('code', {}, w.address)),
      h('td', {}, w.value == null ? h('span', { class: 'muted' }, 'unmapped') : h('code', {}, wide(w.value))))))) : null;
  panel.replaceChildren(...[
    h('div', { class: 'step-head' },
      h('strong', {}, 'Step mode'),
      h('span', { 'data-testid': 'step-status' }, ` · ${status}`),
      h('span', { class: 'muted', 'data-testid': 'step-count' }, ` · ${count(s.instructions)} instructions`)),
    h('div', { class: 'step-buttons' },
      btn('Step', 'step-one', 'Execute the next instruction', ctx.onStep, true),
      btn('Run to next initializer', 'step-next-init', 'Run until the next call into a start-up entry: a .preinit_array or .init_array function, _init, main, a finalizer (a library\'s too, in a dynamic program), or the program\'s entry point when the dynamic loader jumps there', ctx.onNextInit),
      btn('Continue', 'step-continue', 'Run to the end, as Run does', ctx.onContinue),
      h('button', { type: 'button', class: 'small ghost', 'data-testid': 'step-close', onclick: ctx.onClose }, 'Close')),
    next,
    s.diagnostics.length ? h('ul', { class: 'diagnostics' }, s.diagnostics.map((d) => h('li', { class: 'error' }, d.text))) : null,
    h('div', { class: 'step-state' }, regs, stack),
    flags,
    // Once the program has ended the console below has its output and system calls.
    s.stdout && !done ? h('pre', { class: 'stdout', 'aria-label': 'Standard output so far' }, s.stdout) : null,
    s.syscalls.length && !done ? renderSyscalls(s.syscalls) : null,
  ].filter(Boolean));
}
