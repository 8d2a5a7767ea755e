//! What a link interrupted by a signal leaves behind: none of its temporary files, and at the
//! output's path either what was there before or a complete new output, never a mix.
//!
//! Temporary files are registered in a fixed table ([`Temp`]) that the signal handler unlinks
//! before the process dies of the signal. Some steps cannot be undone halfway: overwriting a
//! reused previous output, and the two renames that put an output in place. They run inside a
//! [`Critical`] section; a signal that arrives during one is held until the section ends and
//! then acted on, so the output it leaves is complete.
//!
//! Everything the handler touches is an atomic or an async-signal-safe call (unlink, sigaction,
//! sigprocmask, raise, _exit).

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// Temporary files a link has open at once: the output's temporary, the previous output set
/// aside, and the same for the report and the map.
const SLOTS: usize = 8;

static TEMPS: [AtomicPtr<libc::c_char>; SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// Low 32 bits: critical sections open. High 32 bits: a signal that arrived while one was.
static STATE: AtomicU64 = AtomicU64::new(0);
const OPEN: u64 = 0xffff_ffff;

/// Catch SIGINT, SIGTERM and SIGHUP (unless they are ignored, as under `nohup`), and ignore
/// SIGXFSZ so that a write past `RLIMIT_FSIZE` fails with EFBIG, which is reported, instead of
/// killing the process with its temporary file in place.
pub fn install() {
    // SAFETY: sigaction with a handler that is async-signal-safe (see the module comment).
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0
                || old.sa_sigaction == libc::SIG_IGN
            {
                continue;
            }
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
            act.sa_flags = libc::SA_RESTART;
            libc::sigfillset(&mut act.sa_mask);
            libc::sigaction(sig, &act, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_signal(sig: libc::c_int) {
    let mut s = STATE.load(Ordering::SeqCst);
    loop {
        if s & OPEN == 0 {
            die(sig);
        }
        let held = (s & OPEN) | ((sig as u64) << 32);
        match STATE.compare_exchange_weak(s, held, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return,
            Err(now) => s = now,
        }
    }
}

/// Remove every registered temporary file, then die of `sig` as if it had not been caught.
fn die(sig: libc::c_int) -> ! {
    for slot in &TEMPS {
        let p = slot.swap(std::ptr::null_mut(), Ordering::SeqCst);
        if !p.is_null() {
            // SAFETY: `p` is a NUL-terminated path leaked by `Temp::new`.
            unsafe { libc::unlink(p) };
        }
    }
    // SAFETY: async-signal-safe calls; the default action of these signals ends the process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig)
    }
}

/// A temporary file the signal handler removes. Dropping it (or [`Temp::keep`]) only forgets
/// it: the owner removes or renames the file itself.
pub struct Temp {
    slot: Option<usize>,
}

impl Temp {
    pub fn new(path: &Path) -> Temp {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
            return Temp { slot: None };
        };
        let p = c.into_raw();
        for (k, slot) in TEMPS.iter().enumerate() {
            if slot
                .compare_exchange(std::ptr::null_mut(), p, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Temp { slot: Some(k) };
            }
        }
        // No free slot: not removed on a signal (more than SLOTS temporaries at once never
        // happens in one link).
        // SAFETY: `p` came from `into_raw` above and was not shared.
        drop(unsafe { CString::from_raw(p) });
        Temp { slot: None }
    }

    /// The file stays when the process exits, whatever happens (it was put in place).
    pub fn keep(self) {}
}

impl Drop for Temp {
    fn drop(&mut self) {
        if let Some(k) = self.slot {
            let p = TEMPS[k].swap(std::ptr::null_mut(), Ordering::SeqCst);
            if !p.is_null() {
                // SAFETY: leaked by `Temp::new`; the swap took it out of the handler's reach.
                drop(unsafe { CString::from_raw(p) });
            }
        }
    }
}

/// A step that must not be cut short by a signal (see the module comment). Sections nest; a
/// signal held during them is acted on when the last one ends.
pub struct Critical(());

impl Critical {
    pub fn enter() -> Critical {
        STATE.fetch_add(1, Ordering::SeqCst);
        Critical(())
    }
}

impl Drop for Critical {
    fn drop(&mut self) {
        let mut s = STATE.load(Ordering::SeqCst);
        loop {
            let next = s - 1;
            match STATE.compare_exchange_weak(s, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => {
                    if next & OPEN == 0 && next >> 32 != 0 {
                        die((next >> 32) as libc::c_int);
                    }
                    return;
                }
                Err(now) => s = now,
            }
        }
    }
}
