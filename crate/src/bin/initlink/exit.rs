//! Exiting early: the command returns as soon as the output is in place, and the teardown of a
//! big address space (the link's memory, the mapped inputs) and the removal of the old output
//! happen in a helper process nobody waits for. mold and wild fork at the start for the same
//! reason; docs/design.md says why initlink hands off at the end instead.

use std::path::Path;

/// Exit with `code` now, leaving the teardown to a helper (see the module comment).
///
/// The helper is made with `clone(CLONE_VM | CLONE_FILES)`: it shares this process's memory and
/// descriptor table, so making it copies neither. It is sound because the helper touches
/// nothing this process or the kernel changes under it:
/// - it reads only a leaked, immutable [`Helper`] and its own static stack;
/// - it makes raw `syscall` instructions ([`sys`]), never a libc function, so it never reads or
///   writes thread-local storage (errno included), which it would otherwise share with the
///   thread that cloned it (`%fs` is inherited without `CLONE_SETTLS`);
/// - it starts with every signal blocked (the mask is set before the clone and inherited), so no
///   handler of this process's runs on its stack.
///
/// This process closes its standard streams first, so that a reader of its pipes sees their end
/// when it exits, then calls only `_exit`. The helper waits for that exit (its pidfd polls
/// readable), closes every descriptor, unlinks the old output and exits, the last user of the
/// memory. Where pidfds are missing (Linux before 5.3), or on another architecture, or when
/// clone fails, this process removes the old output itself and exits the plain way.
pub fn exit_handing_off(code: u8, old: Option<&Path>) -> ! {
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    hand_off(code, old);
    if let Some(p) = old {
        let _ = std::fs::remove_file(p);
    }
    std::process::exit(i32::from(code))
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
struct Helper {
    pidfd: usize,
    old: Option<std::ffi::CString>,
}

/// A raw system call with up to three arguments: no libc, so no errno and no thread-local
/// storage (see [`exit_handing_off`]). Returns the kernel's result (negative errno on failure).
///
/// # Safety
/// The arguments must be valid for the call `n`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn sys(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: the caller vouches for the arguments; `syscall` clobbers only rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
extern "C" fn helper(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the leaked Helper made before the clone and never written after it; the
    // calls below pass valid pointers to it and to this stack.
    unsafe {
        let h = &*(arg as *const Helper);
        let mut p = libc::pollfd {
            fd: h.pidfd as i32,
            events: libc::POLLIN,
            revents: 0,
        };
        // Signals are blocked, so EINTR is not expected; bounded all the same.
        for _ in 0..1000 {
            if sys(
                libc::SYS_poll,
                &mut p as *mut libc::pollfd as usize,
                1,
                usize::MAX,
            ) >= 0
            {
                break;
            }
        }
        sys(libc::SYS_close_range, 0, u32::MAX as usize, 0);
        if let Some(old) = &h.old {
            sys(libc::SYS_unlink, old.as_ptr() as usize, 0, 0);
        }
    }
    0
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn hand_off(code: u8, old: Option<&Path>) {
    use std::os::unix::ffi::OsStrExt;
    const STACK: usize = 64 << 10;
    #[repr(C, align(64))]
    struct Stack([u8; STACK]);
    static mut HELPER_STACK: Stack = Stack([0; STACK]);
    let _ = std::io::Write::flush(&mut std::io::stdout());
    // SAFETY: plain system calls. The helper's side is argued at `exit_handing_off`; after the
    // clone this thread calls nothing but `_exit`.
    unsafe {
        let pidfd = libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0u32);
        let Ok(pidfd) = usize::try_from(pidfd) else {
            return;
        };
        let h = Box::leak(Box::new(Helper {
            pidfd,
            old: old.and_then(|p| std::ffi::CString::new(p.as_os_str().as_bytes()).ok()),
        }));
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        for fd in 0..3 {
            libc::close(fd);
        }
        let top = (std::ptr::addr_of_mut!(HELPER_STACK) as *mut u8).add(STACK);
        let pid = libc::clone(
            helper,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_FILES | libc::SIGCHLD,
            (h as *mut Helper).cast(),
        );
        if pid < 0 {
            if let Some(old) = &h.old {
                libc::unlink(old.as_ptr());
            }
        }
        libc::_exit(i32::from(code));
    }
}
