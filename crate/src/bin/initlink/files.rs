//! The CLI's input files: the file system as the core's input resolver sees it
//! ([`initlink::inputs::FileSource`]), each file mapped when large and read when small, with the
//! descriptors of small files left open for the process's exit to close.

use initlink::inputs::{FileSource, Opened};
use initlink::options::InputArg;
use std::path::Path;
use std::sync::Mutex;

/// The file system, for [`initlink::inputs::resolve`]: a file's name is its path as given.
pub struct Disk {
    /// Every file opened, in order, when `--dependency-file` wants them.
    pub opened: Option<Mutex<Vec<String>>>,
}

impl Disk {
    fn record(&self, path: &str) {
        if let Some(m) = &self.opened {
            m.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(path.to_string());
        }
    }

    fn open_file(path: &str) -> Result<Opened<FileData>, String> {
        match FileData::open(Path::new(path)) {
            Ok(data) => Ok(Opened {
                name: path.to_string(),
                data,
            }),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl FileSource for Disk {
    type Data = FileData;

    fn open(&self, path: &str) -> Result<Opened<FileData>, String> {
        let f = Self::open_file(path)?;
        self.record(path);
        Ok(f)
    }

    fn exists(&self, path: &str) -> bool {
        Path::new(path).exists()
    }

    fn is_file(&self, path: &str) -> bool {
        Path::new(path).is_file()
    }

    fn inside(&self, path: &str, dir: &str) -> bool {
        match (std::fs::canonicalize(dir), std::fs::canonicalize(path)) {
            (Ok(dir), Ok(path)) => path.starts_with(dir),
            _ => false,
        }
    }

    /// The command line's own paths, opened in parallel (opening thousands of objects one by
    /// one is a large share of a link); one that fails here is looked for again in turn.
    fn open_ahead(&self, inputs: &[InputArg]) -> Vec<Option<Opened<FileData>>> {
        use rayon::prelude::*;
        let opened: Vec<Option<Opened<FileData>>> = inputs
            .par_iter()
            .map(|a| match a {
                InputArg::Path(p) => Self::open_file(p).ok(),
                _ => None,
            })
            .collect();
        for f in opened.iter().flatten() {
            self.record(&f.name);
        }
        opened
    }
}

/// An input file's bytes: mapped when large (a link reads a fraction of a big archive or of
/// libc.so.6, and copying them in was most of a small link's time), read when small.
pub enum FileData {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl FileData {
    fn open(path: &Path) -> std::io::Result<FileData> {
        use std::io::Read;
        let mut file = std::fs::File::open(path)?;
        // Most objects are small: a read that comes back short of HEAD bytes has the whole file
        // (a regular file reads short only at its end), without asking its size first: one
        // system call fewer per object.
        let mut head = [0u8; HEAD];
        let n = loop {
            match file.read(&mut head) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n < HEAD {
            keep_open(file);
            return Ok(FileData::Owned(head[..n].to_vec()));
        }
        let len = file.metadata()?.len();
        if len >= MAP_MIN {
            // SAFETY: the map is read-only; like every linker that maps its inputs, we assume
            // they are not truncated while the link runs.
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                // Its first page faulted in here, on this thread, not one by one in the
                // in-order pass that reads every input's header.
                std::hint::black_box(map.first().copied());
                return Ok(FileData::Mapped(map));
            }
        }
        // The rest, in one read of the size fstat gave.
        let mut bytes = vec![0u8; (len as usize).max(HEAD)];
        bytes[..HEAD].copy_from_slice(&head);
        file.read_exact(&mut bytes[HEAD..])?;
        keep_open(file);
        Ok(FileData::Owned(bytes))
    }
}

/// Bytes read before asking a file's size.
const HEAD: usize = 4096;
/// Files this big are mapped (a link reads a fraction of a big archive or of libc.so.6, and
/// copying them in was most of a small link's time); smaller ones are read.
const MAP_MIN: u64 = 64 * 1024;

/// How many more descriptors [`keep_open`] may keep (set by [`room_for_open_files`]).
static KEEP_BUDGET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Leave a small file's descriptor open for the process's exit to close: a `close` per object is
/// a system call per object on the critical path, and by default the helper the process exits
/// handing off to closes them (see `exit::exit_handing_off`).
fn keep_open(file: std::fs::File) {
    use std::sync::atomic::Ordering;
    let room = KEEP_BUDGET
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok();
    if room {
        std::mem::forget(file);
    }
}

/// Make the descriptor table big enough for `n` inputs kept open, before any thread exists: a
/// threaded process that grows its table waits for an RCU grace period at each doubling. The
/// soft open-file limit is raised toward the
/// hard one if need be, as mold does; without room, files are closed as they are read.
pub fn room_for_open_files(n: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls; the descriptor F_DUPFD makes is closed at once.
    unsafe {
        let Ok(top) = i32::try_from(n + 63) else {
            return;
        };
        let want = (n + 64) as libc::rlim_t;
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_cur < want && lim.rlim_max >= want {
            lim.rlim_cur = want;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return;
            }
        }
        // The lowest free descriptor from `top` on (none past the limit: then nothing is
        // kept), so that the table holds `top`; unlike dup2, no inherited descriptor is closed.
        let fd = libc::fcntl(2, libc::F_DUPFD, top);
        if fd >= top {
            libc::close(fd);
            KEEP_BUDGET.store(n, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl std::ops::Deref for FileData {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileData::Owned(v) => v,
            FileData::Mapped(m) => m,
        }
    }
}
