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
