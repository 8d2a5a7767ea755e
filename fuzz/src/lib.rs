//! Shared harness for the fuzz targets: how a fuzz input becomes files, options and an archive.
//! `tests/hostile.rs` replays crash inputs with the same scheme (keep the two in step).

use initlink::input::{Input, InputItem, Object, E};
use initlink::options::{BuildId, Options, OutputKind};
use object::elf;

/// Separator between files in a multi-file fuzz input.
pub const SEP: &[u8] = b"\n--8<--\n";
/// At most this many files per input.
pub const MAX_FILES: usize = 8;

/// Split `data` into at most `MAX_FILES` files at `SEP` (the last one keeps any further separators).
pub fn split(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < MAX_FILES {
        match rest.windows(SEP.len()).position(|w| w == SEP) {
            Some(p) => {
                out.push(&rest[..p]);
                rest = &rest[p + SEP.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// Options from the option byte: bit 0 report and map, 1 `--eh-frame-hdr`, 2 `--build-id`,
/// 3 a dynamic-capable executable (`-no-pie`, shared objects allowed) instead of `-static`,
/// 4 `-s` (with bit 1) or `-S` (without), 5 `-e main`, 6 `-u lib_add`, 7 `--start-group` around
/// every file.
pub fn options(flags: u8) -> Options {
    let strip = flags & 0x10 != 0;
    Options {
        output: "out".into(),
        kind: if flags & 0x08 != 0 {
            OutputKind::Exec
        } else {
            OutputKind::Static
        },
        report: flags & 0x01 != 0,
        map: flags & 0x01 != 0,
        eh_frame_hdr: flags & 0x02 != 0,
        build_id: (flags & 0x04 != 0).then_some(BuildId::Sha1),
        strip_all: strip && flags & 0x02 != 0,
        strip_debug: strip && flags & 0x02 == 0,
        entry: (flags & 0x20 != 0).then(|| "main".to_string()),
        undefined: if flags & 0x40 != 0 {
            vec!["lib_add".to_string()]
        } else {
            Vec::new()
        },
        ..Options::default()
    }
}

/// Panics at these locations (`file.rs:LINE` substrings, comma-separated in the environment
/// variable `INITLINK_FUZZ_IGNORE`) are known bugs already filed: they are swallowed so that a long
/// run can look past them. Any other panic aborts as libFuzzer expects.
fn install_ignore_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let ignore: Vec<String> = std::env::var("INITLINK_FUZZ_IGNORE")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        if ignore.is_empty() {
            return;
        }
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let loc = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if ignore.iter().any(|p| loc.ends_with(p.as_str())) {
                return;
            }
            prev(info)
        }));
    });
}

/// Link `files` (named f0.o, f1.o, ...) with the options from `flags`; panics only on a broken
/// promise of the core (a failed link with no error diagnostic), never on input.
pub fn link_files(files: &[&[u8]], flags: u8) {
    install_ignore_hook();
    let opts = options(flags);
    let mut items = Vec::new();
    let group = flags & 0x80 != 0;
    if group {
        items.push(InputItem::StartGroup);
    }
    for (i, f) in files.iter().enumerate() {
        items.push(InputItem::File(Input {
            name: format!("f{i}.o"),
            data: f,
            lib_search: false,
            members: Vec::new(),
        }));
    }
    if group {
        items.push(InputItem::EndGroup);
    }
    let Ok(out) = std::panic::catch_unwind(|| initlink::link(&items, &opts)) else {
        return; // a known, ignored panic (any other one has aborted in the hook)
    };
    if std::env::var_os("INITLINK_FUZZ_DEBUG").is_some() {
        for d in &out.diagnostics {
            eprintln!("initlink: {d}");
        }
        eprintln!("output: {:?} bytes", out.elf.as_ref().map(Vec::len));
    }
    if out.failed() {
        assert!(
            out.diagnostics
                .iter()
                .any(|d| d.severity == initlink::Severity::Error),
            "failed link without an error diagnostic"
        );
    }
    if let Some(r) = &out.report {
        let _ = serde_json::to_string(r);
        let _ = initlink::report::map_text(r);
    }
    for d in &out.diagnostics {
        let _ = d.to_string();
    }
}

fn ar_header(out: &mut Vec<u8>, name: &str, size: usize) {
    let h = format!(
        "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
        name, 0, 0, 0, 644, size
    );
    debug_assert_eq!(h.len(), 60);
    out.extend_from_slice(h.as_bytes());
}

/// A GNU `ar` archive of `members` (named m0.o, m1.o, ...), with a symbol index of every defined
/// global of the members that parse when `index` is set.
pub fn make_archive(members: &[&[u8]], index: bool) -> Vec<u8> {
    let mut syms: Vec<(usize, Vec<u8>)> = Vec::new();
    if index {
        for (k, m) in members.iter().enumerate() {
            if let Ok(obj) = Object::parse(format!("m{k}.o"), m) {
                for i in obj.first_global..obj.symbols.len() {
                    if obj.symbols[i].st_shndx.get(E) == elf::SHN_UNDEF {
                        continue;
                    }
                    if let Ok(n) = obj.sym_name(i) {
                        syms.push((k, n.to_vec()));
                    }
                }
            }
        }
    }
    let mut out = b"!<arch>\n".to_vec();
    let index_size = if index {
        4 + 4 * syms.len() + syms.iter().map(|s| s.1.len() + 1).sum::<usize>()
    } else {
        0
    };
    let mut member_offsets = Vec::new();
    let mut off = 8 + if index {
        60 + index_size + index_size % 2
    } else {
        0
    };
    for m in members {
        member_offsets.push(off);
        off += 60 + m.len() + m.len() % 2;
    }
    if index {
        ar_header(&mut out, "/", index_size);
        out.extend_from_slice(&(syms.len() as u32).to_be_bytes());
        for (k, _) in &syms {
            out.extend_from_slice(&(member_offsets[*k] as u32).to_be_bytes());
        }
        for (_, n) in &syms {
            out.extend_from_slice(n);
            out.push(0);
        }
        if index_size % 2 == 1 {
            out.push(b'\n');
        }
    }
    for (k, m) in members.iter().enumerate() {
        ar_header(&mut out, &format!("m{k}.o/"), m.len());
        out.extend_from_slice(m);
        if m.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}
