//! The link report's relocation listing and partial report, on real inputs compiled by gcc here:
//! a PIE's `.init_array` slot is filled by an `R_X86_64_RELATIVE` whose addend is the value the
//! file holds; a static glibc link shows crt1.o's GOT loads relaxed to `lea`/`addr32 call`; a link
//! with an undefined symbol exits 1 and still writes a report naming the inputs and the error.

use std::path::{Path, PathBuf};
use std::process::Command;

fn initlink() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_initlink"))
}

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("initlink-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::os::unix::fs::symlink(initlink(), d.join("bin/ld")).unwrap();
    d
}

fn sh(dir: &Path, cmd: &[&str]) -> std::process::Output {
    let o = Command::new(cmd[0])
        .args(&cmd[1..])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn report(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sites<'a>(r: &'a serde_json::Value, input: &str, section: &str) -> &'a Vec<serde_json::Value> {
    r["relocations"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["input"].as_str().unwrap().ends_with(input) && s["section"] == section)
        .unwrap_or_else(|| panic!("no {input}:{section}"))["relocs"]
        .as_array()
        .unwrap()
}

#[test]
fn pie_init_array_slot_is_filled_by_a_relative_relocation() {
    let d = work("pie");
    std::fs::write(
        d.join("d.c"),
        "#include <stdio.h>\nint x = 5; int *px = &x;\nstatic void early(void) { puts(\"early\"); }\n\
         __attribute__((section(\".init_array\"))) void (*pe)(void) = early;\n\
         int main(void) { printf(\"%d\\n\", *px); return 0; }\n",
    )
    .unwrap();
    sh(&d, &["gcc", "-O1", "-fPIE", "-c", "d.c"]);
    sh(
        &d,
        &[
            "gcc",
            "-pie",
            "-B",
            "bin/",
            "d.o",
            "-o",
            "d",
            "-Wl,--report=d.json",
        ],
    );
    let out = sh(&d, &["./d"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "early\n5\n");
    let r = report(&d.join("d.json"));
    let slot = &sites(&r, "d.o", ".init_array")[0];
    assert_eq!(slot["type"], "R_X86_64_64");
    assert_eq!(slot["target"], "early");
    assert_eq!(slot["before"], "00 00 00 00 00 00 00 00");
    let dynr = &slot["dynamic"];
    assert_eq!(dynr["type"], "R_X86_64_RELATIVE");
    // GNU ld and initlink leave the addend in the file too: the slot's bytes are the addend.
    assert_eq!(dynr["addend"].as_i64(), slot["value"].as_i64());
    let mains = r["symbols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "main")
        .count();
    assert_eq!(mains, 1);
    // Calls to libc go through the PLT: S is the PLT entry.
    let call = sites(&r, "d.o", ".text")
        .iter()
        .find(|s| s["symbol"] == "puts")
        .unwrap();
    let plt = r["stubs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "puts@plt")
        .unwrap();
    assert_eq!(call["S"], plt["address"]);
    assert_eq!(call["before"], "e8 00 00 00 00");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn static_glibc_link_shows_relaxed_got_loads() {
    let d = work("static");
    std::fs::write(d.join("m.c"), "int main(void) { return 0; }\n").unwrap();
    sh(&d, &["gcc", "-O1", "-c", "m.c"]);
    sh(
        &d,
        &[
            "gcc",
            "-static",
            "-B",
            "bin/",
            "m.o",
            "-o",
            "m",
            "-Wl,--report=m.json",
        ],
    );
    let r = report(&d.join("m.json"));
    let crt1 = sites(&r, "crt1.o", ".text");
    let main = crt1
        .iter()
        .find(|s| s["symbol"] == "main" && s["type"] == "R_X86_64_REX_GOTPCRELX")
        .expect("crt1.o loads main's address from the GOT");
    assert!(main["relaxation"].as_str().unwrap().contains("lea"));
    assert!(main["asm_after"].as_str().unwrap().starts_with("lea "));
    assert!(main["asm_before"].as_str().unwrap().starts_with("mov "));
    // The relaxed field holds S + A - P.
    let (s, a, p) = (
        main["S"].as_i64().unwrap(),
        main["A"].as_i64().unwrap(),
        main["P"].as_i64().unwrap(),
    );
    assert_eq!(main["value"].as_i64().unwrap(), s + a - p);
    // Archive members are not listed.
    assert!(r["relocations"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| !s["input"].as_str().unwrap().contains(".a(")));
    assert_eq!(r["relocations"]["truncated"], false);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn undefined_symbol_still_writes_a_partial_report() {
    let d = work("undef");
    std::fs::write(
        d.join("u.c"),
        "int helper(int);\nint main(void) { return helper(1); }\n",
    )
    .unwrap();
    sh(
        &d,
        &["gcc", "-O1", "-ffreestanding", "-fno-pie", "-c", "u.c"],
    );
    let o = Command::new(initlink())
        .args(["-o", "u", "u.o", "--report=u.json", "-Map=u.map"])
        .current_dir(&d)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("undefined symbol: helper"));
    assert!(!d.join("u").exists(), "no output for a failed link");
    let r = report(&d.join("u.json"));
    assert_eq!(r["partial"], true);
    assert_eq!(r["inputs"][0]["name"], "u.o");
    assert_eq!(r["inputs"][0]["why"], "named on the command line");
    let diag = &r["diagnostics"][0];
    assert_eq!(diag["severity"], "error");
    assert_eq!(diag["symbol"], "helper");
    assert!(r.get("relocations").is_none());
    assert!(std::fs::read_to_string(d.join("u.map"))
        .unwrap()
        .contains("initlink link map"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn shared_object_sequence_has_its_initializers_and_no_main() {
    let d = work("shared");
    std::fs::write(
        d.join("p.c"),
        "#include <stdio.h>\n__attribute__((constructor)) static void up(void) { puts(\"up\"); }\n\
         __attribute__((destructor)) static void down(void) { puts(\"down\"); }\n\
         int main(void) { return 0; }\n",
    )
    .unwrap();
    sh(&d, &["gcc", "-O1", "-fPIC", "-c", "p.c"]);
    sh(
        &d,
        &[
            "gcc",
            "-shared",
            "-B",
            "bin/",
            "p.o",
            "-o",
            "libp.so",
            "-Wl,--report=p.json",
        ],
    );
    let r = report(&d.join("p.json"));
    let steps: Vec<(String, String)> = r["init_arrays"]["sequence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["symbol"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(steps.iter().all(|(step, _)| step != "main"), "{steps:?}");
    let pos = |sym: &str| steps.iter().position(|(_, s)| s == sym);
    assert!(pos("up").is_some() && pos("down").is_some(), "{steps:?}");
    assert!(pos("up") < pos("down"), "{steps:?}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The relocation listing says what the relocate phase did (its trace), not what the bytes look
/// like: a shared object's general-dynamic TLS access stays a `__tls_get_addr` call through the
/// PLT (no relaxation, the call relocated), and an instruction holding two relocated fields is
/// not "rewritten" because the other field was written.
#[test]
fn relocation_notes_come_from_what_the_linker_did() {
    let d = work("trace");
    std::fs::write(
        d.join("t.c"),
        "__thread int tv = 1;\nint get(void) { return tv; }\n",
    )
    .unwrap();
    std::fs::write(
        d.join("two.c"),
        "const char *p;\nint main(void) { p = \"hi\"; return 0; }\n",
    )
    .unwrap();
    sh(&d, &["gcc", "-O1", "-fPIC", "-c", "t.c"]);
    sh(&d, &["gcc", "-O1", "-fno-pie", "-c", "two.c"]);
    sh(
        &d,
        &[
            "gcc",
            "-shared",
            "-B",
            "bin/",
            "t.o",
            "-o",
            "libt.so",
            "-Wl,--report=t.json",
        ],
    );
    let r = report(&d.join("t.json"));
    let text = sites(&r, "t.o", ".text");
    let gd = text.iter().find(|s| s["type"] == "R_X86_64_TLSGD").unwrap();
    assert!(gd.get("relaxation").is_none(), "{gd}");
    assert!(gd["got_entry"].is_u64(), "the TLSGD pair's GOT entry: {gd}");
    let call = text
        .iter()
        .find(|s| s["symbol"] == "__tls_get_addr")
        .unwrap();
    assert!(call.get("relaxation").is_none(), "{call}");
    assert_eq!(call["field_size"], 4);
    assert!(call["asm_after"].as_str().unwrap().starts_with("call "));
    sh(
        &d,
        &[
            "gcc",
            "-no-pie",
            "-B",
            "bin/",
            "two.o",
            "-o",
            "two",
            "-Wl,--report=two.json",
        ],
    );
    let r = report(&d.join("two.json"));
    let text = sites(&r, "two.o", ".text");
    // movq $.LC0, p(%rip): a PC32 and a 32S in one instruction.
    assert_eq!(text.len(), 2, "{text:?}");
    assert!(
        text.iter().all(|s| s.get("relaxation").is_none()),
        "{text:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}
