//! Putting the output (and the report and map files) at its path, by what the path names
//! ([`Target::of`]; docs/design.md has the table):
//! - nothing, a regular file, or a symlink to a regular file: written under a temporary name
//!   beside it and renamed into place, so nobody sees a half-written file and a failed link
//!   leaves the previous one. A symlink is replaced by the output and its target left alone,
//!   and a dangling symlink is written through (its target created), as GNU ld does.
//! - anything else (a character or block device such as `/dev/null`, a FIFO, a socket, a
//!   terminal) and a descriptor's link (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`): opened
//!   and written in place, from start to end, once the link cannot fail. Such a path is never
//!   unlinked, renamed, truncated unless it is a regular file, or chmod-ed.
//!
//! A previous regular output with no other hard link is overwritten in place (renamed aside,
//! rewritten, renamed back): rewriting pages already in the page cache is much faster than
//! filling fresh ones, and mold and wild do the same. Its blocks are reserved first
//! (`fallocate`), so a full file system or a file size limit is found before a byte of it
//! changes, and the previous output goes back untouched.

use crate::cleanup::{Critical, Temp};
use initlink::{Diagnostic, OutputSink};
use std::path::{Path, PathBuf};

/// Where and how an output is written.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// Written beside this path and renamed over it.
    Replace(PathBuf),
    /// Opened and written in place (see the module comment).
    InPlace { path: PathBuf, regular: bool },
}

impl Target {
    pub fn of(path: &Path) -> Target {
        Target::resolve(path, 0)
    }

    fn resolve(path: &Path, depth: usize) -> Target {
        let in_place = |regular| Target::InPlace {
            path: path.to_path_buf(),
            regular,
        };
        if is_system_path(path) {
            let regular = std::fs::metadata(path).is_ok_and(|m| m.is_file());
            return in_place(regular);
        }
        let Ok(own) = std::fs::symlink_metadata(path) else {
            return Target::Replace(path.to_path_buf());
        };
        if own.file_type().is_symlink() {
            return match std::fs::metadata(path) {
                // GNU ld removes a symlink to a regular file and writes a new file.
                Ok(m) if m.is_file() => Target::Replace(path.to_path_buf()),
                Ok(_) => in_place(false),
                // Dangling: GNU ld writes through it, creating its target. Links to links are
                // followed as the kernel follows them (40 at most, then ELOOP at open).
                Err(_) if depth < 40 => match std::fs::read_link(path) {
                    Ok(to) => {
                        let dir = path.parent().unwrap_or(Path::new(""));
                        Target::resolve(&dir.join(to), depth + 1)
                    }
                    Err(_) => Target::Replace(path.to_path_buf()),
                },
                Err(_) => Target::Replace(path.to_path_buf()),
            };
        }
        if own.is_file() || own.is_dir() {
            // A directory fails at the rename, naming the path.
            Target::Replace(path.to_path_buf())
        } else {
            in_place(false)
        }
    }
}

/// A descriptor's magic link, which must be written through, never replaced: anything under
/// `/proc` or `/dev/fd` (made absolute without following links), and a symlink into `/proc`
/// (`/dev/stdout` -> `/proc/self/fd/1`).
fn is_system_path(path: &Path) -> bool {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    abs.starts_with("/proc")
        || abs.starts_with("/dev/fd")
        || std::fs::read_link(path).is_ok_and(|to| to.starts_with("/proc"))
}

/// The output file. Over a previous output (see [`reusable`]) or in place, it is built in
/// memory and written once no link error is left to find; otherwise it is written window by
/// window into a new file while the link finishes (see [`initlink::FileWriter`]).
pub struct OutputFile {
    bytes: Vec<u8>,
    /// A big output's bytes: fresh anonymous pages (see `buffer`).
    map: Option<memmap2::MmapMut>,
    file: EarlyFile,
    /// The previous output, set aside by [`replace`], removed last (by the helper the process
    /// exits handing off to: see `crate::exit`).
    pub old: Option<Old>,
}

/// A previous output set aside under a temporary name, to be removed.
pub struct Old {
    pub path: PathBuf,
    /// Removed by the signal handler if the process dies before the old output is.
    _temp: Temp,
}

/// The temporary file an output is written into, opened at the first write.
struct EarlyFile {
    target: Target,
    /// The output's length, once known: a reused previous output is extended to it first.
    len: std::sync::atomic::AtomicU64,
    open: std::sync::OnceLock<Result<Opened, String>>,
    /// The end of the furthest write: the file's length.
    end: std::sync::atomic::AtomicU64,
    /// The written file mapped for reading, once read back.
    read: std::sync::OnceLock<Result<memmap2::Mmap, String>>,
}

/// A temporary file being written, registered for removal on a signal.
struct Opened {
    file: std::fs::File,
    tmp: PathBuf,
    _temp: Temp,
    /// Held while a reused previous output is being rewritten: from then until it is in place,
    /// a signal waits (see `crate::cleanup`).
    _critical: Option<Critical>,
}

impl EarlyFile {
    fn path(&self) -> &Path {
        match &self.target {
            Target::Replace(p) | Target::InPlace { path: p, .. } => p,
        }
    }

    fn file(&self) -> Result<&std::fs::File, String> {
        let len = self.len.load(std::sync::atomic::Ordering::Relaxed);
        match self.open.get_or_init(|| {
            open_beside(self.path(), Some(len).filter(|&n| n > 0)).map_err(|e| e.to_string())
        }) {
            Ok(o) => Ok(&o.file),
            Err(e) => Err(e.clone()),
        }
    }

    fn take(&mut self) -> Option<Opened> {
        self.open.take().and_then(Result::ok)
    }
}

impl initlink::FileWriter for EarlyFile {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), String> {
        std::os::unix::fs::FileExt::write_all_at(self.file()?, bytes, offset)
            .map_err(|e| e.to_string())?;
        let end = offset.saturating_add(bytes.len() as u64);
        self.end
            .fetch_max(end, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    fn read_back(&self, len: usize) -> Result<&[u8], String> {
        self.file()?;
        let map = self.read.get_or_init(|| {
            // Through a descriptor of its own, opened for reading only: a mapping keeps its file
            // open, and the output must not be open for writing once in place (execve would
            // fail with ETXTBSY) while the mapping lives on until the process's teardown.
            let tmp = match self.open.get() {
                Some(Ok(o)) => &o.tmp,
                _ => return Err("output file not open".to_string()),
            };
            let file = std::fs::File::open(tmp).map_err(|e| e.to_string())?;
            // SAFETY: the file is this process's temporary, which nobody else writes to.
            unsafe { memmap2::MmapOptions::new().len(len).populate().map(&file) }
                .map_err(|e| e.to_string())
        });
        match map {
            Ok(m) => m
                .get(..len)
                .ok_or_else(|| "file shorter than written".to_string()),
            Err(e) => Err(e.clone()),
        }
    }
}

impl OutputFile {
    pub fn new(path: &Path) -> OutputFile {
        OutputFile {
            bytes: Vec::new(),
            map: None,
            file: EarlyFile {
                target: Target::of(path),
                len: std::sync::atomic::AtomicU64::new(0),
                open: std::sync::OnceLock::new(),
                end: std::sync::atomic::AtomicU64::new(0),
                read: std::sync::OnceLock::new(),
            },
            old: None,
        }
    }

    /// Put the complete output at its path, executable (mode 0755) or not (0644).
    pub fn commit(&mut self, executable: bool) -> Result<(), Vec<Diagnostic>> {
        let bytes = match &self.map {
            Some(m) => &m[..],
            None => &self.bytes[..],
        };
        if let Target::InPlace { path, regular } = &self.file.target {
            return write_in_place(path, bytes, *regular).map_err(|e| cannot_write(path, e));
        }
        // Written window by window (see `file`), the buffer is empty.
        let len = (bytes.len() as u64).max(*self.file.end.get_mut());
        let path = self.file.path().to_path_buf();
        let placed = match self.file.take() {
            Some(o) => place(o, &path, len, executable),
            // Nothing written yet (an empty output): all of it now.
            None => write_beside(&path, bytes, executable),
        };
        self.old = placed.map_err(|e| cannot_write(&path, e))?;
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        // Written to but not committed: the link failed while writing. Like GNU ld, leave no
        // output (a reused previous output included: its blocks were reserved up front, so the
        // write errors that remain are the rare ones).
        if let Some(o) = self.file.take() {
            let Opened { file, tmp, .. } = o;
            drop(file);
            let _ = std::fs::remove_file(tmp);
        }
        if let Some(old) = self.old.take() {
            let _ = std::fs::remove_file(&old.path);
        }
    }
}

impl OutputSink for OutputFile {
    /// Window by window, into a new file, when there is no previous output to reuse: that file's
    /// pages are fresh either way, and this spares a buffer of fresh pages as big. Not over a
    /// previous output: a link error found while writing would leave it half overwritten, where
    /// a failed link must leave it intact; from a buffer it is written only once the link
    /// cannot fail. Not in place either: a FIFO or a terminal takes bytes in order, once.
    fn file(&mut self) -> Option<&(dyn initlink::FileWriter + Sync)> {
        match &self.file.target {
            Target::Replace(p) if !reusable(p) => Some(&self.file),
            _ => None,
        }
    }

    fn buffer(&mut self, len: usize) -> Result<initlink::OutputBuffer<'_>, String> {
        self.file
            .len
            .store(len as u64, std::sync::atomic::Ordering::Relaxed);
        let writer: Option<&(dyn initlink::FileWriter + Sync)> = match self.file.target {
            Target::Replace(_) => Some(&self.file),
            Target::InPlace { .. } => None,
        };
        // Mapped directly, not taken from malloc: glibc serves blocks under its mmap threshold
        // (raised by `tune_malloc`) from the heap, which calloc must clear page by page; fresh
        // pages come zeroed, on first touch, in the writing threads.
        if len >= 1 << 20 {
            if let Ok(m) = memmap2::MmapMut::map_anon(len) {
                return Ok(initlink::OutputBuffer {
                    bytes: &mut self.map.insert(m)[..],
                    writer,
                });
            }
        }
        let b = self.bytes.buffer(len)?;
        Ok(initlink::OutputBuffer {
            bytes: b.bytes,
            writer,
        })
    }
}

/// Open a path that is not replaced (a device, a FIFO, a descriptor's link) and write `bytes`
/// from its start. Only a regular file reached that way is truncated to the new length.
fn write_in_place(path: &Path, bytes: &[u8], regular: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(regular)
        .open(path)?;
    file.write_all(bytes)
}

/// `.NAME.initlink-TAGPID` in the directory of `path`.
fn temp_beside(path: &Path, tag: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    dir.join(format!(".{name}.initlink-{tag}{}", std::process::id()))
}

/// Write a whole file (the report, the map) at `path` the way the output is written.
pub fn write_atomic(path: &Path, bytes: &[u8], executable: bool) -> Result<(), Vec<Diagnostic>> {
    let written = match Target::of(path) {
        Target::InPlace { path, regular } => write_in_place(&path, bytes, regular).map(|()| None),
        Target::Replace(path) => write_beside(&path, bytes, executable),
    };
    match written {
        Ok(Some(old)) => {
            let _ = std::fs::remove_file(&old.path);
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => Err(cannot_write(path, e)),
    }
}

/// Write `bytes` beside `path` and rename them over it; the previous file, set aside, is
/// returned for the caller to remove when it suits. On failure no temporary file is left.
fn write_beside(path: &Path, bytes: &[u8], executable: bool) -> std::io::Result<Option<Old>> {
    use std::io::Write;
    let mut o = open_beside(path, Some(bytes.len() as u64))?;
    if let Err(e) = o.file.write_all(bytes) {
        let _ = std::fs::remove_file(&o.tmp);
        return Err(e);
    }
    place(o, path, bytes.len() as u64, executable)
}

/// The file to write an output into, under a temporary name beside `path`: the previous output
/// set aside (see [`reuse_previous`]) when `len` is known, else a new file.
fn open_beside(path: &Path, len: Option<u64>) -> std::io::Result<Opened> {
    let tmp = temp_beside(path, "");
    if let Some((file, critical)) = len.and_then(|len| reuse_previous(path, &tmp, len)) {
        return Ok(Opened {
            file,
            _temp: Temp::new(&tmp),
            tmp,
            _critical: Some(critical),
        });
    }
    // Registered before it exists: a signal between creating and registering it would leave it.
    let temp = Temp::new(&tmp);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    Ok(Opened {
        file,
        _temp: temp,
        tmp,
        _critical: None,
    })
}

/// Put a written output in place: cut to `len` (a reused previous output can be longer), its
/// mode set, renamed over `path` (see [`replace`]). On failure it is removed.
fn place(o: Opened, path: &Path, len: u64, executable: bool) -> std::io::Result<Option<Old>> {
    let Opened {
        file,
        tmp,
        _temp,
        _critical,
    } = o;
    let placed = finish_file(&file, len, executable).and_then(|()| {
        drop(file);
        replace(&tmp, path)
    });
    match placed {
        Ok(old) => {
            _temp.keep();
            Ok(old)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn cannot_write(path: &Path, e: std::io::Error) -> Vec<Diagnostic> {
    vec![Diagnostic::error(format!("cannot write output: {e}")).file(path.display().to_string())]
}

/// Whether `path` holds a previous output that [`reuse_previous`] may overwrite: a regular file
/// with no other hard link (other links keep the old contents, as with GNU ld).
fn reusable(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.nlink() == 1)
}

/// The previous output, moved to `tmp`, opened for writing and extended to `len` bytes of
/// reserved blocks, when it can be overwritten in place (see the module comment). Not when it is
/// running (ETXTBSY), or when its blocks cannot be reserved (a full file system, a file size
/// limit, a file system without `fallocate`): then it goes back as it was. From the rename on,
/// a signal waits until the output is in place ([`Critical`]).
fn reuse_previous(path: &Path, tmp: &Path, len: u64) -> Option<(std::fs::File, Critical)> {
    use std::os::unix::io::AsRawFd;
    if !reusable(path) {
        return None;
    }
    let critical = Critical::enter();
    std::fs::rename(path, tmp).ok()?;
    let file = std::fs::OpenOptions::new().read(true).write(true).open(tmp);
    let reserved = file.and_then(|f| {
        let n = i64::try_from(len).map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))?;
        // SAFETY: fallocate on a descriptor this function owns; mode 0 only allocates.
        match unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, n) } {
            0 => Ok(f),
            _ => Err(std::io::Error::last_os_error()),
        }
    });
    match reserved {
        Ok(f) => Some((f, critical)),
        Err(_) => {
            let _ = std::fs::rename(tmp, path);
            None
        }
    }
}

/// Cut a written file to its length and set its mode.
fn finish_file(file: &std::fs::File, len: u64, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_len(len)?;
    let mode = if executable { 0o755 } else { 0o644 };
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

/// Rename the complete file `tmp` to `path`; the previous file at `path`, if any, is returned
/// (under a temporary name) for the caller to remove. Renaming over an existing file makes ext4
/// (auto_da_alloc) flush the new one to disk first, so the old output steps aside under a
/// temporary name, the new one takes its place (no target: no flush), and only then is the old
/// one removed; if the second rename fails, the old output goes back. A signal waits while the
/// path is empty between the two renames.
fn replace(tmp: &Path, path: &Path) -> std::io::Result<Option<Old>> {
    let _critical = Critical::enter();
    let aside = temp_beside(path, "old-");
    let moved = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_file() && std::fs::rename(path, &aside).is_ok() => Some(Old {
            _temp: Temp::new(&aside),
            path: aside,
        }),
        _ => None,
    };
    match std::fs::rename(tmp, path) {
        Ok(()) => Ok(moved),
        Err(e) => {
            if let Some(old) = moved {
                let _ = std::fs::rename(&old.path, path);
            }
            Err(e)
        }
    }
}
