//! The CLI and the JS API find a command line's inputs the same way: both give their files to
//! `initlink::inputs::resolve`, the CLI from disk and the JS API from the files of a request.
//! The same arguments (`-L`, `-l` with `.so` and `.a` side by side, `-Bstatic`, `-l:FILE`,
//! linker scripts with `GROUP`, `AS_NEEDED`, `-l` and `=` paths, `--whole-archive`) must link the
//! same files in the same order (`-t`) into the same bytes, and fail the same way.

use initlink::wasm::link_request;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ok(dir: &Path, prog: &str, args: &[&str]) {
    let o = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{prog}: {e}"));
    assert!(
        o.status.success(),
        "{prog} {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir`, by absolute path, in name order.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Link `args` with the JS API, the request carrying every file under `dir` by its absolute path.
fn js_link(dir: &Path, args: &[String]) -> initlink::wasm::Response {
    let mut paths = Vec::new();
    files_under(dir, &mut paths);
    let mut data = Vec::new();
    let mut inputs = Vec::new();
    for p in &paths {
        let bytes = fs::read(p).unwrap();
        inputs.push(serde_json::json!({"name": p.to_str().unwrap(), "size": bytes.len()}));
        data.extend(bytes);
    }
    let request = serde_json::json!({
        "inputs": inputs,
        "options": {"report": false, "args": args},
    });
    link_request(&request.to_string(), &data, false)
}

/// A directory of objects, archives, shared objects and linker scripts in two library
/// directories and a sysroot.
fn setup() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("inputs-cli-js");
    let _ = fs::remove_dir_all(&d);
    for sub in ["lib1", "lib2", "root/lib", "src"] {
        fs::create_dir_all(d.join(sub)).unwrap();
    }
    let src = |name: &str, body: &str| fs::write(d.join("src").join(name), body).unwrap();
    src(
        "main.c",
        "int foo(void), bar(void), baz(void), qux(void), rooted(void), thin(void);\n\
         int entry(void) { return foo() + bar() + baz() + qux() + rooted() + thin(); }\n",
    );
    for f in ["foo", "bar", "baz", "qux", "rooted", "whole", "thin"] {
        src(
            &format!("{f}.c"),
            &format!("int {f}(void) {{ return 1; }}\n"),
        );
    }
    let c = |args: &[&str]| ok(&d.join("src"), "gcc", args);
    c(&["-c", "-fPIC", "main.c", "foo.c", "bar.c", "baz.c", "qux.c"]);
    c(&["-c", "-fPIC", "rooted.c", "whole.c", "thin.c"]);
    let ar = |lib: &str, obj: &str| ok(&d, "ar", &["rcs", lib, &format!("src/{obj}")]);
    let so = |lib: &str, c: &str| {
        let out = format!("../{lib}");
        ok(
            &d.join("src"),
            "gcc",
            &["-shared", "-fPIC", "-nostdlib", "-o", &out, c],
        )
    };
    fs::rename(d.join("src/main.o"), d.join("main.o")).unwrap();
    // -lfoo finds the .so before the .a in the same directory; through a script, as needed.
    so("lib1/libfoo.so", "foo.c");
    ar("lib1/libfoo.a", "foo.o");
    fs::write(
        d.join("lib1/libf.so"),
        "/* GNU ld script */\nGROUP ( AS_NEEDED ( libfoo.so ) )\n",
    )
    .unwrap();
    // -Bstatic -lbar finds a script whose -lbaz is then searched for an archive only.
    ar("lib2/libbar1.a", "bar.o");
    fs::write(d.join("lib2/libbar.a"), "GROUP ( libbar1.a -lbaz )\n").unwrap();
    so("lib1/libbaz.so", "baz.c");
    ar("lib2/libbaz.a", "baz.o");
    ar("lib2/libqux.a", "qux.o");
    // `=` in a script: in the sysroot.
    fs::rename(d.join("src/rooted.o"), d.join("root/lib/rooted.o")).unwrap();
    fs::write(d.join("s.ld"), "INPUT ( =/lib/rooted.o )\n").unwrap();
    ar("libwhole.a", "whole.o");
    // A thin archive: its member is a file beside it, named relative to the archive.
    fs::create_dir_all(d.join("objs")).unwrap();
    fs::rename(d.join("src/thin.o"), d.join("objs/thin.o")).unwrap();
    ok(&d, "ar", &["rcsT", "libthin.a", "objs/thin.o"]);
    fs::remove_dir_all(d.join("src")).unwrap();
    d
}

#[test]
fn the_cli_and_the_js_api_find_the_same_inputs() {
    let d = setup();
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();
    let mut args: Vec<String> = ["-shared", "-t", "-o", &p("out.so")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(format!("--sysroot={}", p("root")));
    args.extend(["-L", &p("lib1"), "-L", &p("lib2")].map(String::from));
    args.push(p("main.o"));
    args.extend(
        [
            "--start-group",
            "-lf",
            "--end-group",
            "-Bstatic",
            "-lbar",
            "-Bdynamic",
            "-l:libqux.a",
            "--whole-archive",
        ]
        .map(String::from),
    );
    args.push(p("libwhole.a"));
    args.push("--no-whole-archive".into());
    args.push(p("s.ld"));
    args.push(p("libthin.a"));

    let cli = Command::new(env!("CARGO_BIN_EXE_initlink"))
        .args(&args)
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli_trace: Vec<String> = String::from_utf8_lossy(&cli.stdout)
        .lines()
        .map(String::from)
        .collect();
    let lib = |s: &str| p(s);
    assert_eq!(
        cli_trace,
        [
            p("main.o"),
            lib("lib1/libfoo.so"),
            lib("lib2/libbar1.a"),
            lib("lib2/libbaz.a"),
            lib("lib2/libqux.a"),
            p("libwhole.a"),
            p("root/lib/rooted.o"),
            p("libthin.a"),
        ]
    );
    let out = fs::read(d.join("out.so")).unwrap();
    // The thin archive's member was read from its own file and linked.
    let syms = Command::new("readelf")
        .args(["--dyn-syms", "-W"])
        .arg(d.join("out.so"))
        .output()
        .unwrap();
    let syms = String::from_utf8_lossy(&syms.stdout);
    assert!(
        syms.lines()
            .any(|l| l.ends_with(" thin") && !l.contains(" UND ")),
        "{syms}"
    );
    fs::remove_file(d.join("out.so")).unwrap();

    let js = js_link(&d, &args);
    let js_trace: Vec<String> = js
        .diagnostics
        .iter()
        .filter_map(|d| d.diag.message.strip_prefix("trace: ").map(String::from))
        .collect();
    let texts: Vec<&str> = js.diagnostics.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(js_trace, cli_trace, "{texts:?}");
    assert!(js.elf.as_deref() == Some(&out[..]), "{texts:?}");

    // What cannot be found is named the same way.
    let missing: Vec<String> = ["-L", &p("lib1"), &p("main.o"), "-lnope", "-l:nope.a"]
        .map(String::from)
        .to_vec();
    let cli = Command::new(env!("CARGO_BIN_EXE_initlink"))
        .args(&missing)
        .current_dir(&d)
        .output()
        .unwrap();
    assert!(!cli.status.success());
    let js = js_link(&d, &missing);
    let js_text: String = js
        .diagnostics
        .iter()
        .map(|d| d.text.clone() + "\n")
        .collect();
    assert_eq!(String::from_utf8_lossy(&cli.stderr), js_text);
    assert_eq!(
        js_text,
        "initlink: error: cannot find -lnope\ninitlink: error: cannot find -l:nope.a\n"
    );
}
