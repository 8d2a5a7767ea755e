//! The JSON face of the emulator, for the playground: trace points read from initlink's report,
//! [`run_json`], which takes a request and returns the result as the issue's JS API describes
//! it (`{ok, exitCode, signal, stdout, stderr, trace, syscalls, instructions, diagnostics}`), with
//! the files a dynamic program opens (its loader, libc...) passed beside it ([`run_json_with_files`]),
//! and [`needs_json`], which says which of them a program needs.

use std::collections::BTreeMap;
use std::ops::Range;

use serde_json::{json, Value};

use crate::elf::Elf;
use crate::{Config, Outcome, TraceKind, TracePoint, Vfs};

/// What to watch in a program initlink linked, from its report (`--report` JSON): every
/// `.preinit_array`, `.init_array` and `.fini_array` entry, `_init`/`_fini`, `main`, the
/// synthesized `_start` (the entry) and the other linker-made code that is not a PLT entry
/// (the `--init-stub` registration stub).
pub fn trace_points_from_report(report: &Value) -> Vec<TracePoint> {
    let mut points = Vec::new();
    let mut add = |address: Option<u64>, kind, symbol: &str| {
        if let Some(address) = address {
            points.push(TracePoint {
                address,
                kind,
                symbol: symbol.to_string(),
                library: None,
            });
        }
    };
    let ia = &report["init_arrays"];
    for (key, kind) in [
        ("preinit", TraceKind::Preinit),
        ("init", TraceKind::Init),
        ("fini", TraceKind::Fini),
    ] {
        for e in ia[key].as_array().into_iter().flatten() {
            add(
                e["target_address"].as_u64(),
                kind,
                e["symbol"].as_str().unwrap_or("?"),
            );
        }
    }
    for s in ia["sequence"].as_array().into_iter().flatten() {
        let step = s["step"].as_str().unwrap_or("");
        let kind = if step == "main" {
            TraceKind::Main
        } else if step.starts_with("_init") {
            TraceKind::DtInit
        } else if step.starts_with("_fini") {
            TraceKind::DtFini
        } else {
            continue;
        };
        add(
            s["address"].as_u64(),
            kind,
            s["symbol"].as_str().unwrap_or(step),
        );
    }
    for st in report["stubs"].as_array().into_iter().flatten() {
        let name = st["name"].as_str().unwrap_or("?");
        if name.contains("@plt") || name.contains("@iplt") || name.contains("PLT") {
            continue;
        }
        let kind = if name == "_start" {
            TraceKind::Entry
        } else {
            TraceKind::Stub
        };
        add(st["address"].as_u64(), kind, name);
    }
    points
}

fn strings(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .map(|s| s.as_bytes().to_vec())
        .collect()
}

/// Files held in one buffer (borrowed, or owned by a session that outlives the request): a
/// path's bytes are a range of it.
pub(crate) struct Files<B> {
    blob: B,
    at: BTreeMap<String, Range<usize>>,
}

impl<B: AsRef<[u8]>> Vfs for Files<B> {
    fn read(&self, path: &str) -> Option<&[u8]> {
        self.blob.as_ref().get(self.at.get(path)?.clone())
    }
}

impl<B: AsRef<[u8]>> Files<B> {
    /// The files `request.files` (`[{path, size}]`) describes, cut from `blob` in order.
    pub(crate) fn new(req: &Value, blob: B) -> Result<Files<B>, String> {
        let mut at = BTreeMap::new();
        let mut end = 0usize;
        let len = blob.as_ref().len();
        for (k, f) in req["files"].as_array().into_iter().flatten().enumerate() {
            let (Some(path), Some(size)) = (f["path"].as_str(), f["size"].as_u64()) else {
                return Err(format!("files[{k}]: expected {{path, size}}"));
            };
            let start = end;
            end = usize::try_from(size)
                .ok()
                .and_then(|n| start.checked_add(n))
                .filter(|&e| e <= len)
                .ok_or_else(|| {
                    format!("files[{k}] ({path}): {size} bytes past the end of the files given")
                })?;
            at.insert(path.to_string(), start..end);
        }
        Ok(Files { blob, at })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

fn bad_request(message: String) -> String {
    json!({"ok": false, "diagnostics": [message]}).to_string()
}

/// Run `elf` as `request` says and describe the result. The request (all keys optional):
/// `{args: [..], env: [..], stdin: "..", maxInstructions: N, report: {initlink's report},
/// trace: [{address, kind, symbol}]}`. `args` starts at `argv[0]` (default `["prog"]`).
/// Never fails: a bad request or ELF comes back as `ok: false` with a diagnostic.
pub fn run_json(elf: &[u8], request: &str) -> String {
    run_json_with_files(elf, request, &[])
}

/// [`run_json`] with a virtual file system: `request.files` lists `[{path, size}]`, whose bytes
/// follow one another in `blob` (the dynamic loader at the program's `PT_INTERP` path, the
/// libraries where the loader looks for them, files the program opens); `request.cwd` is the
/// directory relative paths start from (default `/`).
pub fn run_json_with_files(elf: &[u8], request: &str, blob: &[u8]) -> String {
    let req = match parse_request(request) {
        Ok(v) => v,
        Err(e) => return bad_request(e),
    };
    let fs = match Files::new(&req, blob) {
        Ok(fs) => fs,
        Err(e) => return bad_request(format!("bad request: {e}")),
    };
    let mut config = config_from(&req);
    if !fs.is_empty() {
        config.vfs = Some(&fs);
    }
    outcome_json(&crate::run(elf, &config)).to_string()
}

/// The request's JSON (an empty one is `{}`).
pub(crate) fn parse_request(request: &str) -> Result<Value, String> {
    let text = if request.trim().is_empty() {
        "{}"
    } else {
        request
    };
    serde_json::from_str(text).map_err(|e| format!("bad request: {e}"))
}

/// The run's configuration from the request (all but its files).
pub(crate) fn config_from(req: &Value) -> Config<'static> {
    let mut config = Config::default();
    if let Some(cwd) = req["cwd"].as_str().filter(|c| c.starts_with('/')) {
        config.cwd = cwd.to_string();
    }
    if req["args"].is_array() {
        config.args = strings(&req["args"]);
    }
    config.env = strings(&req["env"]);
    config.stdin = req["stdin"].as_str().unwrap_or("").as_bytes().to_vec();
    if let Some(n) = req["maxInstructions"].as_u64() {
        config.max_instructions = n;
    }
    if req["report"].is_object() {
        config.trace_points = trace_points_from_report(&req["report"]);
    }
    for t in req["trace"].as_array().into_iter().flatten() {
        if let (Some(address), Some(kind)) = (
            t["address"].as_u64(),
            t["kind"].as_str().and_then(TraceKind::from_name),
        ) {
            let symbol = t["symbol"].as_str().unwrap_or("").to_string();
            config.trace_points.push(TracePoint {
                address,
                kind,
                symbol,
                library: None,
            });
        }
    }
    config
}

/// A trace event as the JS API gives it.
pub(crate) fn trace_json(t: &crate::TraceEvent) -> Value {
    json!({"kind": t.kind.name(), "symbol": t.symbol, "address": t.address, "caller": t.caller,
           "args": t.args, "instruction": t.instruction, "library": t.library})
}

/// A system call as the JS API gives it; the arguments as signed numbers, as the kernel reads
/// an `int` (`AT_FDCWD` is -100) and so that JavaScript holds them exactly (a JSON number past
/// 2^53 would lose bits; addresses stay under 2^47).
pub(crate) fn syscall_json(s: &crate::SyscallRecord) -> Value {
    let args: Vec<i64> = s.args.iter().map(|&a| a as i64).collect();
    json!({"number": s.number, "name": s.name, "args": args, "result": s.result,
           "instruction": s.instruction, "tid": s.tid, "path": s.path})
}

/// The result of a run: `{ok, exitCode, signal, stdout, stderr, trace, syscalls, instructions,
/// diagnostics}`.
pub(crate) fn outcome_json(out: &Outcome) -> Value {
    json!({
        "ok": out.error.is_none(),
        "exitCode": out.exit_code,
        "signal": out.signal,
        "stdout": String::from_utf8_lossy(&out.stdout),
        "stderr": String::from_utf8_lossy(&out.stderr),
        "trace": out.trace.iter().map(trace_json).collect::<Vec<_>>(),
        "syscalls": out.syscalls.iter().map(syscall_json).collect::<Vec<_>>(),
        "instructions": out.instructions,
        "diagnostics": out.error.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
}

/// What a program needs to run besides itself: `{interp, needed}`, its `PT_INTERP` path (null
/// for a static program) and its `DT_NEEDED` names; `{error}` when it is not an ELF program.
pub fn needs_json(elf: &[u8]) -> String {
    match Elf::parse(elf) {
        Ok(e) => json!({
            "interp": e.interp().map(|i| String::from_utf8_lossy(i).into_owned()),
            "needed": e.needed(),
        }),
        Err(m) => json!({ "error": m }),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_request_or_file_is_a_result_not_a_panic() {
        let r: Value = serde_json::from_str(&run_json(b"junk", "{")).unwrap();
        assert_eq!(r["ok"], false);
        let r: Value = serde_json::from_str(&run_json(b"junk", "{}")).unwrap();
        assert_eq!(r["ok"], false);
        assert!(r["diagnostics"][0].as_str().unwrap().contains("not an ELF"));
    }

    #[test]
    fn files_past_the_end_of_the_blob_are_a_diagnostic() {
        let req = r#"{"files": [{"path": "/a", "size": 3}, {"path": "/b", "size": 18446744073709551615}]}"#;
        let r: Value = serde_json::from_str(&run_json_with_files(b"junk", req, b"abcd")).unwrap();
        assert_eq!(r["ok"], false);
        assert!(r["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("files[1] (/b)"));
        let r: Value =
            serde_json::from_str(&run_json_with_files(b"junk", r#"{"files": [{}]}"#, b"")).unwrap();
        assert!(r["diagnostics"][0].as_str().unwrap().contains("files[0]"));
    }

    #[test]
    fn needs_names_the_loader_and_libraries_or_says_why_not() {
        let r: Value = serde_json::from_str(&needs_json(b"junk")).unwrap();
        assert!(r["error"].as_str().unwrap().contains("not an ELF"));
    }

    #[test]
    fn report_entries_become_trace_points() {
        let report = json!({
            "init_arrays": {
                "preinit": [{"target_address": 16, "symbol": "p"}],
                "init": [{"target_address": 32, "symbol": "i"}],
                "fini": [{"target_address": 48, "symbol": "f"}],
                "sequence": [{"step": "main", "symbol": "main", "address": 64},
                             {"step": "_init (.init: crti.o + crtn.o pieces)", "symbol": "_init", "address": 80}]
            },
            "stubs": [{"name": "_start", "address": 96}, {"name": "puts@plt", "address": 112},
                      {"name": "__initlink_register_module", "address": 128}]
        });
        let p = trace_points_from_report(&report);
        let kinds: Vec<(&str, u64)> = p.iter().map(|t| (t.kind.name(), t.address)).collect();
        assert_eq!(
            kinds,
            [
                ("preinit", 16),
                ("init", 32),
                ("fini", 48),
                ("main", 64),
                ("dt_init", 80),
                ("entry", 96),
                ("stub", 128)
            ]
        );
    }
}
