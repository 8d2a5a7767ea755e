//! The linker plugin (`-plugin`, GCC's `liblto_plugin.so`), driven as GNU ld drives it: loaded
//! with libloading, handed the plugin API's transfer vector (`plugin-api.h`) by `onload`, offered
//! every LTO object the first resolve loads (the core's `ir::Claim`), told how each IR symbol
//! resolved once all are read, which makes it run GCC's `lto-wrapper` and add the compiled
//! objects, then asked to clean up. The API calls back through plain C functions with no
//! context pointer, so what they hand over lives in one process-wide [`STATE`], locked inside
//! each callback only, never while the plugin runs.

use initlink::diag::name_str;
use initlink::ir::{visibility_from_api, Claim, IrKind, IrSymbol, Offered, Resolution};
use initlink::{Diagnostic, Options, OutputKind};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::{Mutex, MutexGuard};

type Status = c_int;
const LDPS_OK: Status = 0;
const LDPS_BAD_HANDLE: Status = 2;
const LDPS_ERR: Status = 3;

/// `struct ld_plugin_tv`: a tag and an int, string or function pointer (a union of pointer
/// size; an int sits in its low bytes on little-endian x86-64).
#[repr(C)]
struct Tv {
    tag: c_int,
    value: usize,
}

/// `struct ld_plugin_input_file`.
#[repr(C)]
struct InputFile {
    name: *const c_char,
    fd: c_int,
    offset: i64,
    filesize: i64,
    handle: *mut c_void,
}

/// `struct ld_plugin_symbol` (little-endian field order).
#[repr(C)]
struct Symbol {
    name: *mut c_char,
    version: *mut c_char,
    def: c_char,
    symbol_type: c_char,
    section_kind: c_char,
    unused: c_char,
    visibility: c_int,
    size: u64,
    comdat_key: *mut c_char,
    resolution: c_int,
}

type ClaimFileHook = unsafe extern "C" fn(*const InputFile, *mut c_int) -> Status;
type Hook = unsafe extern "C" fn() -> Status;
type Onload = unsafe extern "C" fn(*const Tv) -> Status;

/// The transfer vector's tags initlink offers (`enum ld_plugin_tag`).
mod tag {
    pub const NULL: i32 = 0;
    pub const API_VERSION: i32 = 1;
    pub const LINKER_OUTPUT: i32 = 3;
    pub const OPTION: i32 = 4;
    pub const REGISTER_CLAIM_FILE_HOOK: i32 = 5;
    pub const REGISTER_ALL_SYMBOLS_READ_HOOK: i32 = 6;
    pub const REGISTER_CLEANUP_HOOK: i32 = 7;
    pub const ADD_SYMBOLS: i32 = 8;
    pub const GET_SYMBOLS: i32 = 9;
    pub const ADD_INPUT_FILE: i32 = 10;
    pub const MESSAGE: i32 = 11;
    pub const ADD_INPUT_LIBRARY: i32 = 14;
    pub const OUTPUT_NAME: i32 = 15;
    pub const SET_EXTRA_LIBRARY_PATH: i32 = 16;
    pub const GET_SYMBOLS_V2: i32 = 25;
    pub const GET_SYMBOLS_V3: i32 = 28;
    pub const ADD_SYMBOLS_V2: i32 = 33;
}

/// What the plugin registered and handed back through the callbacks.
struct State {
    claim_file: Option<ClaimFileHook>,
    all_symbols_read: Option<Hook>,
    cleanup: Option<Hook>,
    /// The symbols `add_symbols` gave during the claim under way.
    added: Option<Vec<IrSymbol>>,
    /// The resolutions `get_symbols` answers, by handle (claim order, from 1).
    resolutions: Vec<Vec<Resolution>>,
    /// `add_input_file`, `add_input_library`, `set_extra_library_path`, in order.
    files: Vec<String>,
    libraries: Vec<String>,
    library_paths: Vec<String>,
    /// Errors the plugin reported (`message` at `LDPL_ERROR`), and bad calls it made.
    errors: Vec<String>,
}

static STATE: Mutex<State> = Mutex::new(State {
    claim_file: None,
    all_symbols_read: None,
    cleanup: None,
    added: None,
    resolutions: Vec::new(),
    files: Vec::new(),
    libraries: Vec::new(),
    library_paths: Vec::new(),
    errors: Vec::new(),
});

fn state() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A loaded plugin. Its library stays loaded (and the strings the transfer vector points at
/// stay alive) until this is dropped, after the link.
pub struct Plugin {
    path: String,
    _strings: Vec<CString>,
    _library: libloading::Library,
    claims: usize,
}

/// What the plugin added once it compiled the claimed objects.
pub struct Added {
    pub files: Vec<String>,
    pub libraries: Vec<String>,
    pub library_paths: Vec<String>,
}

fn fail(path: &str, msg: String) -> Vec<Diagnostic> {
    vec![Diagnostic::error(msg).file(path.to_string())]
}

impl Plugin {
    /// Load the plugin at `path` and call its `onload` with `plugin_opts` and the link's output.
    pub fn load(
        path: &str,
        plugin_opts: &[String],
        opts: &Options,
    ) -> Result<Plugin, Vec<Diagnostic>> {
        // SAFETY: loading runs the library's initializers; a linker plugin is code the command
        // line asked to run, as in GNU ld.
        let library = unsafe { libloading::Library::new(path) }
            .map_err(|e| fail(path, format!("cannot load plugin: {e}")))?;
        // SAFETY: `onload` has the plugin API's signature (`ld_plugin_onload`).
        let onload: Onload = unsafe { library.get::<Onload>(b"onload\0") }
            .map(|f| *f)
            .map_err(|_| fail(path, "not a linker plugin: it has no `onload`".into()))?;
        let cstring = |s: &str| CString::new(s).map_err(|_| fail(path, format!("NUL in `{s}`")));
        let mut strings = vec![cstring(&opts.output)?];
        for o in plugin_opts {
            strings.push(cstring(o)?);
        }
        let output = match opts.kind {
            OutputKind::Static | OutputKind::Exec => 1, // LDPO_EXEC
            OutputKind::Shared => 2,                    // LDPO_DYN
            OutputKind::Pie => 3,                       // LDPO_PIE
        };
        let mut tv = vec![
            Tv {
                tag: tag::MESSAGE,
                value: message as *const () as usize,
            },
            Tv {
                tag: tag::API_VERSION,
                value: 1,
            },
            Tv {
                tag: tag::LINKER_OUTPUT,
                value: output,
            },
            Tv {
                tag: tag::OUTPUT_NAME,
                value: strings[0].as_ptr() as usize,
            },
        ];
        for s in &strings[1..] {
            tv.push(Tv {
                tag: tag::OPTION,
                value: s.as_ptr() as usize,
            });
        }
        let callbacks: [(i32, usize); 12] = [
            (
                tag::REGISTER_CLAIM_FILE_HOOK,
                register_claim_file as *const () as usize,
            ),
            (
                tag::REGISTER_ALL_SYMBOLS_READ_HOOK,
                register_all_symbols_read as *const () as usize,
            ),
            (
                tag::REGISTER_CLEANUP_HOOK,
                register_cleanup as *const () as usize,
            ),
            (tag::ADD_SYMBOLS, add_symbols as *const () as usize),
            (tag::ADD_SYMBOLS_V2, add_symbols as *const () as usize),
            (tag::GET_SYMBOLS, get_symbols_v1 as *const () as usize),
            (tag::GET_SYMBOLS_V2, get_symbols_v2 as *const () as usize),
            (tag::GET_SYMBOLS_V3, get_symbols_v2 as *const () as usize),
            (tag::ADD_INPUT_FILE, add_input_file as *const () as usize),
            (
                tag::ADD_INPUT_LIBRARY,
                add_input_library as *const () as usize,
            ),
            (
                tag::SET_EXTRA_LIBRARY_PATH,
                set_extra_library_path as *const () as usize,
            ),
            (tag::NULL, 0),
        ];
        for (t, f) in callbacks {
            tv.push(Tv { tag: t, value: f });
        }
        // SAFETY: the vector ends with LDPT_NULL; every pointer in it (strings, callbacks)
        // outlives the plugin's use of it: the strings are kept in the returned `Plugin`.
        let status = unsafe { onload(tv.as_ptr()) };
        let errors = std::mem::take(&mut state().errors);
        if status != LDPS_OK || !errors.is_empty() {
            let mut d = fail(path, "the plugin failed to load".into());
            d.extend(errors.into_iter().map(Diagnostic::error));
            return Err(d);
        }
        Ok(Plugin {
            path: path.to_string(),
            _strings: strings,
            _library: library,
            claims: 0,
        })
    }

    /// Tell the plugin how every IR symbol resolved and let it compile: the objects and
    /// libraries it adds.
    pub fn all_symbols_read(
        &mut self,
        resolutions: Vec<Vec<Resolution>>,
    ) -> Result<Added, Vec<Diagnostic>> {
        state().resolutions = resolutions;
        let hook = state().all_symbols_read;
        if let Some(hook) = hook {
            // SAFETY: a hook the plugin registered, called once, after every claim.
            let status = unsafe { hook() };
            let errors = std::mem::take(&mut state().errors);
            if status != LDPS_OK || !errors.is_empty() {
                let mut d = fail(
                    &self.path,
                    "the plugin failed to compile the LTO objects".into(),
                );
                d.extend(errors.into_iter().map(Diagnostic::error));
                return Err(d);
            }
        }
        let mut s = state();
        Ok(Added {
            files: std::mem::take(&mut s.files),
            libraries: std::mem::take(&mut s.libraries),
            library_paths: std::mem::take(&mut s.library_paths),
        })
    }

    /// The plugin's cleanup (it removes its temporary files).
    pub fn cleanup(&mut self) {
        let hook = state().cleanup.take();
        if let Some(hook) = hook {
            // SAFETY: a hook the plugin registered, called once.
            unsafe { hook() };
        }
    }
}

impl<'a> Claim<'a> for Plugin {
    fn claim(&mut self, o: &Offered<'_>) -> initlink::diag::Result<Option<Vec<IrSymbol>>> {
        let Some(hook) = state().claim_file else {
            return Ok(None);
        };
        let here = |msg: String| Diagnostic::error(msg).file(o.name.to_string());
        let file = std::fs::File::open(o.file)
            .map_err(|e| here(format!("cannot open for the plugin: {e}")))?;
        let name = CString::new(o.file).map_err(|_| here("NUL in the file name".into()))?;
        let input = InputFile {
            name: name.as_ptr(),
            fd: std::os::fd::AsRawFd::as_raw_fd(&file),
            offset: o.offset as i64,
            filesize: o.data.len() as i64,
            // Handles count claims from 1: `get_symbols` finds the resolutions by it.
            handle: (self.claims + 1) as *mut c_void,
        };
        state().added = None;
        let mut claimed: c_int = 0;
        // SAFETY: the hook the plugin registered; `input` and its name and descriptor live
        // through the call, and the plugin reads the file only during it.
        let status = unsafe { hook(&input, &mut claimed) };
        let errors = std::mem::take(&mut state().errors);
        if status != LDPS_OK || !errors.is_empty() {
            let mut e: initlink::diag::Errors = here("the plugin failed to read it".into()).into();
            e.0.extend(errors.into_iter().map(Diagnostic::error));
            return Err(e);
        }
        if claimed == 0 {
            return Ok(None);
        }
        self.claims += 1;
        Ok(Some(state().added.take().unwrap_or_default()))
    }

    fn keep(&mut self, bytes: Vec<u8>) -> &'a [u8] {
        // The stand-in must live as long as the inputs, which live until the process ends:
        // leaked, like the descriptors of small inputs (files.rs).
        Box::leak(bytes.into_boxed_slice())
    }
}

/// A C string from the plugin, as bytes (empty for a null pointer).
///
/// SAFETY (for callers): `p` is null or points at a NUL-terminated string.
unsafe fn bytes<'p>(p: *const c_char) -> &'p [u8] {
    if p.is_null() {
        &[]
    } else {
        CStr::from_ptr(p).to_bytes()
    }
}

unsafe extern "C" fn register_claim_file(hook: ClaimFileHook) -> Status {
    state().claim_file = Some(hook);
    LDPS_OK
}

unsafe extern "C" fn register_all_symbols_read(hook: Hook) -> Status {
    state().all_symbols_read = Some(hook);
    LDPS_OK
}

unsafe extern "C" fn register_cleanup(hook: Hook) -> Status {
    state().cleanup = Some(hook);
    LDPS_OK
}

/// `add_symbols` (and `_v2`, whose symbols also fill `symbol_type`): the claimed object's table.
unsafe extern "C" fn add_symbols(_handle: *mut c_void, n: c_int, syms: *const Symbol) -> Status {
    let n = usize::try_from(n).unwrap_or(0);
    if n > 0 && syms.is_null() {
        return LDPS_ERR;
    }
    let mut list = Vec::with_capacity(n);
    for k in 0..n {
        // SAFETY: the plugin passes `n` symbols at `syms`, their strings NUL-terminated.
        let s = &*syms.add(k);
        let Some(kind) = IrKind::from_api(s.def as u8) else {
            state()
                .errors
                .push(format!("symbol {k}: unknown kind {}", s.def));
            return LDPS_ERR;
        };
        let comdat = bytes(s.comdat_key);
        list.push(IrSymbol {
            name: bytes(s.name).to_vec(),
            kind,
            visibility: visibility_from_api(s.visibility),
            size: s.size,
            comdat: (!comdat.is_empty()).then(|| comdat.to_vec()),
            function: match s.symbol_type {
                1 => Some(true),
                2 => Some(false),
                _ => None,
            },
        });
    }
    state().added = Some(list);
    LDPS_OK
}

/// `get_symbols`: each symbol's resolution; the first version of the API knows no `IRONLY_EXP`.
unsafe fn get_symbols(handle: *const c_void, n: c_int, syms: *mut Symbol, v1: bool) -> Status {
    let st = state();
    let Some(list) = (handle as usize)
        .checked_sub(1)
        .and_then(|i| st.resolutions.get(i))
    else {
        return LDPS_BAD_HANDLE;
    };
    let n = usize::try_from(n).unwrap_or(0);
    if n > 0 && syms.is_null() {
        return LDPS_ERR;
    }
    for (k, &r) in list.iter().enumerate().take(n) {
        let r = match r {
            Resolution::PrevailingDefIronlyExp if v1 => Resolution::PrevailingDef,
            r => r,
        };
        // SAFETY: the plugin passes room for `n` symbols at `syms`.
        (*syms.add(k)).resolution = r as c_int;
    }
    LDPS_OK
}

unsafe extern "C" fn get_symbols_v1(h: *const c_void, n: c_int, syms: *mut Symbol) -> Status {
    get_symbols(h, n, syms, true)
}

unsafe extern "C" fn get_symbols_v2(h: *const c_void, n: c_int, syms: *mut Symbol) -> Status {
    get_symbols(h, n, syms, false)
}

unsafe extern "C" fn add_input_file(path: *const c_char) -> Status {
    let p = name_str(bytes(path));
    state().files.push(p);
    LDPS_OK
}

unsafe extern "C" fn add_input_library(name: *const c_char) -> Status {
    let n = name_str(bytes(name));
    state().libraries.push(n);
    LDPS_OK
}

unsafe extern "C" fn set_extra_library_path(path: *const c_char) -> Status {
    let p = name_str(bytes(path));
    state().library_paths.push(p);
    LDPS_OK
}

/// `message(level, format, ...)`, a C variadic function. On x86-64 (System V) the variadic
/// arguments travel as fixed ones would: the first four integer or pointer arguments after the
/// two fixed ones in rdx, rcx, r8 and r9 (al's count of vector registers is only read by a
/// variadic callee). So `a`..`d` hold them, or meaningless values where fewer were passed,
/// and [`format`] reads only as many as the format's conversions take.
#[cfg(target_arch = "x86_64")]
unsafe extern "C" fn message(
    level: c_int,
    fmt: *const c_char,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
) -> Status {
    report(level, &format(fmt, [a, b, c, d]));
    LDPS_OK
}

/// Elsewhere the arguments cannot be reached: the format is shown as it is.
#[cfg(not(target_arch = "x86_64"))]
unsafe extern "C" fn message(level: c_int, fmt: *const c_char) -> Status {
    report(level, &name_str(bytes(fmt)));
    LDPS_OK
}

/// How many integer or pointer arguments `fmt` takes, or None when it takes anything else
/// (a floating-point value, `*`, `%n`) or more than four.
fn conversions(fmt: &[u8]) -> Option<usize> {
    let mut n = 0;
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            i += 1;
            continue;
        }
        while i < fmt.len() && b"-+ #0123456789.hlqjzt".contains(&fmt[i]) {
            i += 1;
        }
        match fmt.get(i) {
            Some(b'd' | b'i' | b'o' | b'u' | b'x' | b'X' | b'c' | b's' | b'p') => n += 1,
            _ => return None,
        }
        i += 1;
    }
    (n <= 4).then_some(n)
}

/// The message `fmt` formats with `args`, by C's own `snprintf`.
#[cfg(target_arch = "x86_64")]
unsafe fn format(fmt: *const c_char, args: [usize; 4]) -> String {
    let text = bytes(fmt);
    if conversions(text).is_none() {
        return name_str(text);
    }
    let mut buf = vec![0u8; 4096];
    // SAFETY: the format's conversions take at most four integer or pointer arguments, which
    // are the plugin's own (see `message`); snprintf writes at most `buf.len()` bytes.
    let n = libc::snprintf(
        buf.as_mut_ptr().cast(),
        buf.len(),
        fmt,
        args[0],
        args[1],
        args[2],
        args[3],
    );
    let n = usize::try_from(n).unwrap_or(0).min(buf.len() - 1);
    name_str(&buf[..n])
}

/// Show a message the plugin sent. An error fails the link; a fatal one ends it at once (the
/// plugin does not expect to go on), after the plugin's cleanup removes its temporary files, as
/// GNU ld's exit does.
fn report(level: c_int, text: &str) {
    match level {
        0 => eprintln!("initlink: {text}"),
        1 => eprintln!("initlink: {}", Diagnostic::warning(text.to_string())),
        2 => state().errors.push(text.to_string()),
        _ => {
            eprintln!("initlink: {}", Diagnostic::error(text.to_string()));
            let cleanup = state().cleanup.take();
            if let Some(hook) = cleanup {
                // SAFETY: a hook the plugin registered, called once (taken out of the state).
                unsafe { hook() };
            }
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::conversions;

    #[test]
    fn only_integer_and_pointer_conversions_are_formatted() {
        assert_eq!(conversions(b"%s: %s"), Some(2));
        assert_eq!(conversions(b"100%% done, %d files"), Some(1));
        assert_eq!(conversions(b"%lu %zx %-8s %p"), Some(4));
        assert_eq!(conversions(b"%s %s %s %s %s"), None);
        assert_eq!(conversions(b"%f"), None);
        assert_eq!(conversions(b"%*d"), None);
        assert_eq!(conversions(b"%n"), None);
        assert_eq!(conversions(b"trailing %"), None);
    }
}
