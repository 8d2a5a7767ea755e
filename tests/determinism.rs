//! Same inputs and options, same bytes: run after run, with one thread or several. (Native vs
//! wasm byte identity is tested under Node in tests/web.)

use std::path::PathBuf;
use std::process::Command;

#[test]
fn output_is_identical_run_after_run_and_across_thread_counts() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("determinism-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ld")).unwrap();
    let _ = std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_initlink"), dir.join("ld/ld"));
    std::fs::write(
        dir.join("p.cc"),
        "#include <iostream>\n#include <map>\n#include <string>\n\
         static std::map<std::string, int> m{{\"a\", 1}, {\"b\", 2}};\n\
         __attribute__((constructor(150))) static void early() { std::puts(\"early\"); }\n\
         int main() { for (auto &p : m) std::cout << p.first << p.second << '\\n'; return 0; }\n",
    )
    .unwrap();
    let st = Command::new("g++")
        .current_dir(&dir)
        .args(["-O1", "-c", "p.cc"])
        .status()
        .unwrap();
    assert!(st.success());
    for kind in ["-static", "-pie"] {
        let mut first: Option<Vec<u8>> = None;
        for (run, threads) in ["1", "2", "4", "1"].iter().enumerate() {
            let out = format!("out{run}{kind}");
            let r = Command::new("g++")
                .current_dir(&dir)
                .env("RAYON_NUM_THREADS", threads)
                .args([kind, "-B", "ld/", "-o", &out, "p.o", "-Wl,--build-id"])
                .output()
                .unwrap();
            assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
            let bytes = std::fs::read(dir.join(&out)).unwrap();
            match &first {
                None => first = Some(bytes),
                Some(f) => assert!(
                    *f == bytes,
                    "{kind}: run {run} with {threads} threads differs from run 0"
                ),
            }
        }
    }
}

/// What the CLI offers for a new output: a file to write window by window, no buffer.
struct FileOnly {
    bytes: std::sync::Mutex<Vec<u8>>,
    read: std::sync::OnceLock<Vec<u8>>,
}

impl initlink::FileWriter for FileOnly {
    fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), String> {
        let mut b = self.bytes.lock().unwrap();
        let (at, end) = (offset as usize, offset as usize + bytes.len());
        if b.len() < end {
            b.resize(end, 0);
        }
        b[at..end].copy_from_slice(bytes);
        Ok(())
    }
    fn read_back(&self, len: usize) -> Result<&[u8], String> {
        let b = self.read.get_or_init(|| self.bytes.lock().unwrap().clone());
        b.get(..len).ok_or_else(|| "short".to_string())
    }
}

impl initlink::OutputSink for FileOnly {
    fn buffer(&mut self, _: usize) -> Result<initlink::OutputBuffer<'_>, String> {
        Err("asked for a buffer".into())
    }
    fn file(&mut self) -> Option<&(dyn initlink::FileWriter + Sync)> {
        Some(self)
    }
}

/// The library writes the output into a buffer, or window by window into a file its caller
/// offers. Both ways give the same bytes, whatever the file held before (zeros where no part of
/// the output goes), with the build ID and `.eh_frame_hdr` made from the file read back.
#[test]
fn output_written_window_by_window_over_any_bytes_is_the_buffered_one() {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("windows-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Freestanding: 10,000 functions with their unwind records and strings, aligned data.
    let mut src = String::from("_Alignas(4096) char page[400000] = {1};\n");
    for k in 0..10_000 {
        src += &format!("const char *f{k}(int x) {{ return x ? \"s{k}\" : page; }}\n");
    }
    src += "void _start(void) { f0(1); for (;;) {} }\n";
    std::fs::write(dir.join("w.c"), src).unwrap();
    let st = Command::new("gcc")
        .current_dir(&dir)
        .args(["-O1", "-c", "w.c"])
        .status()
        .unwrap();
    assert!(st.success());
    let obj = std::fs::read(dir.join("w.o")).unwrap();
    let args: Vec<String> = ["-static", "--build-id", "--eh-frame-hdr", "-o", "w", "w.o"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let opts = initlink::options::parse_args(&args).unwrap().options;
    let items = [initlink::InputItem::File(initlink::Input {
        name: "w.o".into(),
        data: &obj,
        lib_search: false,
        members: Vec::new(),
    })];
    let out = initlink::link(&items, &opts);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let buffered = out.elf.expect("no output");
    assert!(
        buffered.len() > 1 << 20,
        "{} bytes: one build-ID chunk",
        buffered.len()
    );
    for fill in [0u8, 0xa5] {
        let mut sink = FileOnly {
            bytes: std::sync::Mutex::new(vec![fill; buffered.len() + 12345]),
            read: Default::default(),
        };
        let out = initlink::link_into(&items, &opts, &mut sink);
        assert!(
            out.linked && out.diagnostics.is_empty(),
            "{:?}",
            out.diagnostics
        );
        let written = sink.bytes.into_inner().unwrap();
        assert!(
            written[..buffered.len()] == buffered[..],
            "over bytes {fill:#x}: differs from the buffered output"
        );
    }
}
