//! The playground's entry into the core: one request (a JSON manifest plus the input files' bytes
//! concatenated) in, one result (the ELF, the report, the map and the diagnostics) out, errors as
//! values. Options arrive either as named fields, translated to the GNU ld arguments they stand for,
//! or as raw `args`; both go through [`crate::options::parse_args`], so the playground means exactly
//! what the CLI means. The files play the part of one flat directory in which
//! [`crate::inputs::resolve`] finds a path or `-lNAME` in `args` by the rules it finds them by on
//! disk for the CLI.
//!
//! The request logic is plain Rust (tested natively); only the thin `bindings` module at the end
//! depends on `wasm-bindgen` and exists on wasm32 only.

use crate::diag::Diagnostic;
use crate::input::InputItem;
use crate::inputs::{self, FileSource, Opened};
use crate::options::{parse_args, InputArg};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the JavaScript side sends: the files (sizes only; their bytes follow in one buffer, in the
/// same order), group markers, the named options and raw arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Request {
    pub inputs: Vec<RequestItem>,
    pub options: serde_json::Map<String, Value>,
    /// Names the page demangled for this link (None: not validly mangled), from the names an
    /// earlier attempt listed in [`Response::demangle_wanted`].
    pub demangled: std::collections::HashMap<String, Option<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RequestItem {
    File { name: String, size: usize },
    Group { group: String },
}

/// Everything a playground link returns.
#[derive(Debug, Default)]
pub struct Response {
    pub elf: Option<Vec<u8>>,
    /// The JSON report exactly as `--report=FILE` writes it; empty when the link failed early.
    pub report_json: String,
    /// The text map exactly as `-Map=FILE` writes it; empty when there is no report.
    pub map: String,
    pub diagnostics: Vec<JsDiagnostic>,
    /// The GNU ld arguments the request stood for (shown to the learner as a command line).
    pub command_line: Vec<String>,
    /// Where the SHA-1 build ID goes, left zero for the JavaScript side to hash with Web Crypto
    /// (native SHA-1, on every core) rather than in wasm: software SHA-1 was a sixth of a link.
    pub build_id_at: Option<usize>,
    /// With `time` (or `--time`): each phase and its wall time in milliseconds, as the CLI's
    /// `--time` prints them.
    pub timings: Vec<(&'static str, f64)>,
    /// Mangled names the link needed demangled and the request did not answer (sorted). When not
    /// empty the page loads the demangler and links again with the answers; this response is
    /// then discarded (see `crate::demangle`).
    pub demangle_wanted: Vec<String>,
}

/// A diagnostic plus the line the CLI prints for it.
#[derive(Debug, Clone, Serialize)]
pub struct JsDiagnostic {
    #[serde(flatten)]
    pub diag: Diagnostic,
    /// `initlink: error: FILE: SECTION+0xOFF: message`, as the CLI prints it.
    pub text: String,
}

impl From<Diagnostic> for JsDiagnostic {
    fn from(d: Diagnostic) -> Self {
        JsDiagnostic {
            text: format!("initlink: {d}"),
            diag: d,
        }
    }
}

impl Response {
    fn failed(diags: Vec<Diagnostic>, command_line: Vec<String>) -> Self {
        Response {
            diagnostics: diags.into_iter().map(Into::into).collect(),
            command_line,
            ..Default::default()
        }
    }

    /// Everything but the ELF bytes, as one JSON object for the JavaScript side.
    pub fn meta_json(&self) -> String {
        #[derive(Serialize)]
        struct Meta<'a> {
            diagnostics: &'a [JsDiagnostic],
            command_line: &'a [String],
            build_id_at: Option<usize>,
            timings: Vec<Timing>,
            demangle_wanted: &'a [String],
        }
        #[derive(Serialize)]
        struct Timing {
            phase: &'static str,
            ms: f64,
        }
        serde_json::to_string(&Meta {
            diagnostics: &self.diagnostics,
            command_line: &self.command_line,
            build_id_at: self.build_id_at,
            timings: self
                .timings
                .iter()
                .map(|&(phase, ms)| Timing { phase, ms })
                .collect(),
            demangle_wanted: &self.demangle_wanted,
        })
        .unwrap_or_else(|_| "{}".into())
    }
}

fn want_bool(key: &str, v: &Value) -> Result<bool, Box<Diagnostic>> {
    v.as_bool().ok_or_else(|| {
        Box::new(Diagnostic::error(format!(
            "option '{key}' must be true or false"
        )))
    })
}

fn want_str<'v>(key: &str, v: &'v Value) -> Result<&'v str, Box<Diagnostic>> {
    v.as_str().ok_or_else(|| {
        Box::new(Diagnostic::error(format!(
            "option '{key}' must be a string"
        )))
    })
}

/// Translate the named options (`{output, kind, entry, buildId, ...}`) into the GNU ld arguments
/// they mirror, then append `args` verbatim.
pub fn options_to_args(o: &serde_json::Map<String, Value>) -> Result<Vec<String>, Box<Diagnostic>> {
    let mut a: Vec<String> = Vec::new();
    for (key, v) in o {
        if v.is_null() {
            continue;
        }
        match key.as_str() {
            "output" => {
                a.push("-o".into());
                a.push(want_str(key, v)?.into());
            }
            "kind" => a.push(
                match want_str(key, v)? {
                    "static" => "-static",
                    "pie" => "-pie",
                    "exec" => "-no-pie",
                    "shared" => "-shared",
                    other => {
                        return Err(Box::new(Diagnostic::error(format!(
                            "option 'kind' must be \"static\", \"exec\", \"pie\" or \"shared\", not \"{other}\""
                        ))))
                    }
                }
                .into(),
            ),
            "entry" => {
                a.push("-e".into());
                a.push(want_str(key, v)?.into());
            }
            "buildId" => match v {
                Value::Bool(true) => a.push("--build-id".into()),
                Value::Bool(false) => {}
                Value::String(s) => a.push(format!("--build-id={s}")),
                _ => {
                    return Err(Box::new(Diagnostic::error(
                        "option 'buildId' must be true, false, \"fast\", \"sha1\", \"none\" or \"0xHEX\"",
                    )))
                }
            },
            "ehFrameHdr" => {
                if want_bool(key, v)? {
                    a.push("--eh-frame-hdr".into())
                }
            }
            "gcSections" => {
                if want_bool(key, v)? {
                    a.push("--gc-sections".into())
                }
            }
            "time" => {
                if want_bool(key, v)? {
                    a.push("--time".into())
                }
            }
            "execstack" => {
                a.push("-z".into());
                a.push(if want_bool(key, v)? { "execstack" } else { "noexecstack" }.into());
            }
            "stripAll" => {
                if want_bool(key, v)? {
                    a.push("-s".into())
                }
            }
            "stripDebug" => {
                if want_bool(key, v)? {
                    a.push("-S".into())
                }
            }
            "undefined" => {
                let list = v.as_array().ok_or_else(|| {
                    Diagnostic::error("option 'undefined' must be a list of symbol names")
                })?;
                for s in list {
                    a.push("-u".into());
                    a.push(want_str(key, s)?.into());
                }
            }
            // Not a linker argument: whether the report (and map) are built; see link_request.
            "report" => {
                want_bool(key, v)?;
            }
            "args" => {}
            other => {
                return Err(Box::new(Diagnostic::error(format!(
                "unknown option '{other}' (known: output, kind, entry, buildId, ehFrameHdr, gcSections, time, execstack, undefined, stripAll, stripDebug, report, args)"
            ))))
            }
        }
    }
    if let Some(v) = o.get("args") {
        let list = v
            .as_array()
            .ok_or_else(|| Diagnostic::error("option 'args' must be a list of strings"))?;
        for s in list {
            a.push(want_str("args", s)?.into());
        }
    }
    Ok(a)
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// The given files as a flat directory: a path is found by its full name, else by its last
/// component; the first file of a name wins. Hashed: a link with many objects looks up each one.
struct Directory<'f> {
    files: &'f [(String, &'f [u8])],
    full: rustc_hash::FxHashMap<&'f str, usize>,
    base: rustc_hash::FxHashMap<&'f str, usize>,
}

impl<'f> Directory<'f> {
    fn new(files: &'f [(String, &'f [u8])]) -> Self {
        let mut d = Directory {
            files,
            full: Default::default(),
            base: Default::default(),
        };
        for (k, (n, _)) in files.iter().enumerate() {
            d.full.entry(n.as_str()).or_insert(k);
            d.base.entry(basename(n)).or_insert(k);
        }
        d
    }

    fn find(&self, path: &str) -> Option<usize> {
        self.full
            .get(path)
            .or_else(|| self.base.get(basename(path)))
            .copied()
    }
}

/// The request's files for the input resolver: a file is called by the name it was given.
impl<'f> FileSource for Directory<'f> {
    type Data = &'f [u8];

    fn open(&self, path: &str) -> Result<Opened<&'f [u8]>, String> {
        let (name, data) = self
            .find(path)
            .map(|k| &self.files[k])
            .ok_or("no such file among the inputs")?;
        Ok(Opened {
            name: name.clone(),
            data,
        })
    }

    fn exists(&self, path: &str) -> bool {
        self.find(path).is_some()
    }

    fn is_file(&self, path: &str) -> bool {
        self.find(path).is_some()
    }
}

/// A request taken apart: the GNU ld arguments it stands for, its files (name and bytes), and
/// its inputs in the order given.
struct Parts<'d> {
    args: Vec<String>,
    files: Vec<(String, &'d [u8])>,
    order: Vec<InputArg>,
}

/// Take a request apart, the files' bytes cut from `data` in order; the response to give
/// instead when the request is malformed.
fn read_request<'d>(req: &Request, data: &'d [u8]) -> Result<Parts<'d>, Box<Response>> {
    let args = options_to_args(&req.options)
        .map_err(|d| Box::new(Response::failed(vec![*d], Vec::new())))?;
    let fail = |m: String| Box::new(Response::failed(vec![Diagnostic::error(m)], args.clone()));
    let mut files: Vec<(String, &[u8])> = Vec::new();
    let mut order: Vec<InputArg> = Vec::new();
    let mut at = 0usize;
    for item in &req.inputs {
        match item {
            RequestItem::File { name, size } => {
                let end = at.saturating_add(*size);
                let Some(bytes) = data.get(at..end) else {
                    return Err(fail(format!(
                        "link request: file '{name}' claims {size} bytes but the buffer holds {} more",
                        data.len().saturating_sub(at)
                    )));
                };
                at = end;
                order.push(InputArg::Path(name.clone()));
                files.push((name.clone(), bytes));
            }
            RequestItem::Group { group } => order.push(match group.as_str() {
                "start" => InputArg::StartGroup,
                "end" => InputArg::EndGroup,
                g => {
                    return Err(fail(format!(
                        "link request: group marker must be \"start\" or \"end\", not \"{g}\""
                    )))
                }
            }),
        }
    }
    Ok(Parts { args, files, order })
}

/// Link a request: `data` holds the bytes of every file item, concatenated in order.
/// `defer_build_id`: leave a SHA-1 build ID for the caller to hash ([`Response::build_id_at`]).
pub fn link_request(request_json: &str, data: &[u8], defer_build_id: bool) -> Response {
    let mut req: Request = match serde_json::from_str(request_json) {
        Ok(r) => r,
        Err(e) => {
            return Response::failed(
                vec![Diagnostic::error(format!("malformed link request: {e}"))],
                Vec::new(),
            )
        }
    };
    crate::demangle::supply(std::mem::take(&mut req.demangled));
    let mut resp = link_parsed(&req, data, defer_build_id);
    resp.demangle_wanted = crate::demangle::take_wanted();
    resp
}

/// [`link_request`] once the request is read.
fn link_parsed(req: &Request, data: &[u8], defer_build_id: bool) -> Response {
    let Parts { args, files, order } = match read_request(req, data) {
        Ok(p) => p,
        Err(failed) => return *failed,
    };
    let mut cmd = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => return Response::failed(e.0, args),
    };
    // Inputs named in `args` (paths, -l, groups) set the link order, the files being the directory
    // they are found in; otherwise the files link in the order given.
    let named = cmd
        .inputs
        .iter()
        .any(|a| matches!(a, InputArg::Path(_) | InputArg::Lib { .. }));
    let inputs = if named {
        std::mem::take(&mut cmd.inputs)
    } else {
        // A file `args` names as a version script or dynamic list is read as that, not linked.
        let lists: Vec<&str> = cmd
            .inputs
            .iter()
            .filter_map(|a| match a {
                InputArg::VersionScript(p) | InputArg::DynamicList { path: p, .. } => {
                    Some(p.as_str())
                }
                _ => None,
            })
            .collect();
        let mut all: Vec<InputArg> = order
            .into_iter()
            .filter(|a| !matches!(a, InputArg::Path(p) if lists.contains(&p.as_str())))
            .collect();
        all.append(&mut cmd.inputs);
        all
    };
    // The files are one flat directory, searched first; a `-L` directory names the same files.
    let dirs = std::iter::once(String::new())
        .chain(cmd.search_dirs.iter().cloned())
        .collect();
    let found = match inputs::resolve(
        &Directory::new(&files),
        inputs,
        dirs,
        cmd.sysroot.as_deref(),
    ) {
        Ok(f) => f,
        Err(errors) => return Response::failed(errors, args),
    };
    let items = inputs::items(&found);
    if !items.iter().any(|i| matches!(i, InputItem::File(_))) {
        return Response::failed(vec![Diagnostic::error("no input files")], args);
    }
    // The playground builds the report (every view is drawn from it) unless told not to: a
    // benchmark comparing with the CLI's plain link passes `report: false`.
    let mut opts = cmd.options;
    inputs::apply_assignments(&found, &mut opts);
    opts.report = req
        .options
        .get("report")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    opts.defer_build_id = defer_build_id;
    let mut out = crate::link(&items, &opts);
    out.diagnostics.splice(0..0, cmd.warnings.iter().cloned());
    if cmd.fatal_warning {
        // A command-line warning after `--fatal-warnings`: no output, as the CLI.
        out.linked = false;
        out.elf = None;
    }
    if cmd.trace {
        // `-t`: the files linked, in order, ahead of the link's own diagnostics.
        let traced = items.iter().filter_map(|i| match i {
            InputItem::File(f) => Some(Diagnostic {
                severity: crate::Severity::Note,
                ..Diagnostic::error(format!("trace: {}", f.name))
            }),
            _ => None,
        });
        out.diagnostics.splice(0..0, traced.collect::<Vec<_>>());
    }
    respond(out, args)
}

/// The response to a link that ran: its output unless an error was reported, its report and
/// map, its diagnostics and timings.
fn respond(out: crate::LinkOutput<'_>, command_line: Vec<String>) -> Response {
    // `--noinhibit-exec` keeps the output despite its errors, as the CLI does.
    let failed = !out.keep_despite_errors
        && out
            .diagnostics
            .iter()
            .any(|d| d.severity == crate::Severity::Error);
    let report_json = out
        .report
        .as_ref()
        .and_then(|r| serde_json::to_string_pretty(r).ok())
        .unwrap_or_default();
    let map = out
        .report
        .as_ref()
        .map(crate::report::map_text)
        .unwrap_or_default();
    Response {
        // Like the CLI: no output file when any error was reported.
        elf: if failed { None } else { out.elf },
        report_json,
        map,
        diagnostics: out.diagnostics.into_iter().map(Into::into).collect(),
        command_line,
        build_id_at: if failed { None } else { out.build_id_at },
        timings: out
            .timings
            .iter()
            .map(|&(phase, us, _)| (phase, us as f64 / 1000.0))
            .collect(),
        demangle_wanted: Vec::new(),
    }
}

#[cfg(target_arch = "wasm32")]
mod bindings {
    //! wasm-bindgen exports. A panic cannot unwind on wasm32-unknown-unknown: the hook records its
    //! message, then the instance traps (`WebAssembly.RuntimeError`); the JavaScript wrapper catches
    //! the trap, reads the message with `take_panic`, reports it as a diagnostic and starts a fresh
    //! instance for the next link.
    use std::sync::Mutex;
    use wasm_bindgen::prelude::*;

    static PANIC: Mutex<Option<String>> = Mutex::new(None);

    #[wasm_bindgen(start)]
    pub fn start() {
        std::panic::set_hook(Box::new(|info| {
            if let Ok(mut p) = PANIC.lock() {
                *p = Some(format!("initlink panicked (a bug in the linker): {info}"));
            }
        }));
    }

    /// The message of the panic that trapped the last call, if any.
    #[wasm_bindgen]
    pub fn take_panic() -> Option<String> {
        PANIC.lock().ok().and_then(|mut p| p.take())
    }

    /// Panics on purpose, so tests can check that a panic becomes a diagnostic.
    #[wasm_bindgen]
    pub fn test_panic() {
        panic!("test_panic called");
    }

    #[wasm_bindgen]
    pub fn version() -> String {
        env!("CARGO_PKG_VERSION").into()
    }

    #[wasm_bindgen]
    pub struct LinkResult(super::Response);

    #[wasm_bindgen]
    impl LinkResult {
        /// The output file, or undefined when the link failed.
        pub fn elf(&mut self) -> Option<Vec<u8>> {
            self.0.elf.take()
        }
        /// The output file's length, or undefined when the link failed: with `elf_ptr`, for
        /// JavaScript to copy it out of the module's memory into a buffer of its choice.
        pub fn elf_len(&self) -> Option<usize> {
            self.0.elf.as_ref().map(Vec::len)
        }
        /// Where the output file's bytes start in the module's memory (valid until `free`).
        pub fn elf_ptr(&self) -> *const u8 {
            self.0.elf.as_ref().map_or(std::ptr::null(), |e| e.as_ptr())
        }
        pub fn report_json(&mut self) -> String {
            std::mem::take(&mut self.0.report_json)
        }
        pub fn map(&mut self) -> String {
            std::mem::take(&mut self.0.map)
        }
        /// `{diagnostics, command_line, build_id_at}` as JSON.
        pub fn meta_json(&self) -> String {
            self.0.meta_json()
        }
    }

    /// Link: `request` is the JSON manifest, `data` the files' bytes concatenated.
    #[wasm_bindgen]
    pub fn link(request: &str, data: &[u8]) -> LinkResult {
        LinkResult(super::link_request(request, data, false))
    }

    /// The SHA-1 build ID of `elf` (its ID still zero), for a caller without Web Crypto.
    #[wasm_bindgen]
    pub fn build_id_sha1(elf: &[u8]) -> Vec<u8> {
        crate::write::build_id_sha1(elf).to_vec()
    }

    /// The files' bytes, written by JavaScript straight into the wasm memory at the address
    /// `stage_inputs` returns: one copy instead of packing them in JavaScript and copying that
    /// into the module. The stage is kept from one link to the next, so it is not zeroed
    /// afresh each time, and the memory a wasm instance grows is never given back anyway.
    static STAGE: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    /// Make the stage `len` bytes long (its old bytes stay until JavaScript overwrites them) and
    /// return where it starts.
    #[wasm_bindgen]
    pub fn stage_inputs(len: usize) -> *mut u8 {
        let mut s = STAGE.lock().unwrap_or_else(|e| e.into_inner());
        s.resize(len, 0);
        s.as_mut_ptr()
    }

    /// Link with the files on the stage. A SHA-1 build ID is left zero for the caller, at
    /// `build_id_at` in the meta JSON (initlink.js hashes it with Web Crypto).
    #[wasm_bindgen]
    pub fn link_staged(request: &str) -> LinkResult {
        let s = STAGE.lock().unwrap_or_else(|e| e.into_inner());
        LinkResult(super::link_request(request, &s, true))
    }

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
    }

    /// The host's clock in microseconds (`--time` in wasm).
    pub(crate) fn now_us() -> u128 {
        (performance_now() * 1000.0) as u128
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) use bindings::now_us;

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(j: &str) -> serde_json::Map<String, Value> {
        serde_json::from_str(j).unwrap()
    }

    #[test]
    fn named_options_become_ld_arguments() {
        let a = options_to_args(&opts(
            r#"{"output":"prog","kind":"static","entry":"main","buildId":"0xab","ehFrameHdr":true,
                "execstack":false,"undefined":["x"],"args":["--gc-sections"]}"#,
        ))
        .unwrap();
        let c = parse_args(&a).unwrap();
        assert_eq!(c.options.output, "prog");
        assert_eq!(c.options.entry.as_deref(), Some("main"));
        assert_eq!(
            c.options.build_id,
            Some(crate::options::BuildId::Hex(vec![0xab]))
        );
        assert!(c.options.eh_frame_hdr && c.options.gc_sections);
        assert_eq!(c.options.execstack, Some(false));
        assert_eq!(c.options.undefined, vec!["x"]);
    }

    #[test]
    fn bad_options_are_diagnostics() {
        let e = options_to_args(&opts(r#"{"frobnicate":1}"#)).unwrap_err();
        assert!(e.message.contains("frobnicate"));
        let e = options_to_args(&opts(r#"{"kind":"weird"}"#)).unwrap_err();
        assert!(e.message.contains("weird"));
        let e = options_to_args(&opts(r#"{"report":1}"#)).unwrap_err();
        assert!(e.message.contains("report"), "{}", e.message);
        assert_eq!(
            options_to_args(&opts(r#"{"report":false}"#)).unwrap(),
            Vec::<String>::new()
        );
        let r = link_request(r#"{"options":{"args":["--nope"]}}"#, &[], false);
        assert!(r.diagnostics[0].text.contains("unknown option: --nope"));
    }

    #[test]
    fn malformed_requests_never_panic() {
        for (req, data) in [
            ("", &b""[..]),
            ("{", &b""[..]),
            (r#"{"inputs":[{"name":"a.o","size":100}]}"#, &b"abc"[..]),
            (r#"{"inputs":[{"group":"middle"}]}"#, &b""[..]),
            (r#"{"inputs":[]}"#, &b""[..]),
            (r#"{"inputs":[{"name":"a.o","size":3}]}"#, &b"abc"[..]),
            (
                r#"{"inputs":[{"name":"a.o","size":8}]}"#,
                &b"\x7fELF\x02\x01\x01\x00"[..],
            ),
        ] {
            let r = link_request(req, data, false);
            assert!(r.elf.is_none(), "{req}");
            assert!(
                r.diagnostics
                    .iter()
                    .any(|d| d.diag.severity == crate::Severity::Error),
                "{req}: {:?}",
                r.diagnostics
            );
        }
    }

    #[test]
    fn a_version_script_among_the_files_is_read_as_one() {
        let ver = b"V1 { foo };";
        let req = format!(
            r#"{{"inputs":[{{"name":"v.ver","size":{}}}],"options":{{"args":["--version-script","v.ver"]}}}}"#,
            ver.len()
        );
        let r = link_request(&req, ver, false);
        let texts: Vec<&str> = r.diagnostics.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            texts,
            ["initlink: error: v.ver:1:10: expected ';' after 'foo', found '}'"]
        );
    }

    #[test]
    fn args_name_files_and_libraries_by_name() {
        let r = link_request(
            r#"{"inputs":[{"name":"dir/a.o","size":0}],"options":{"args":["x.o","-lfoo"]}}"#,
            &[],
            false,
        );
        let texts: Vec<&str> = r.diagnostics.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "initlink: error: x.o: cannot open: no such file among the inputs",
                "initlink: error: cannot find -lfoo"
            ]
        );
        let files: Vec<(String, &[u8])> = vec![
            ("dir/a.o".into(), &[]),
            ("a.o".into(), &[]),
            ("b/a.o".into(), &[]),
        ];
        let dir = Directory::new(&files);
        // A full name first, else the first file of that last component.
        assert_eq!(dir.find("a.o"), Some(1));
        assert_eq!(dir.find("b/a.o"), Some(2));
        assert_eq!(dir.find("/x/a.o"), Some(0));
        assert_eq!(dir.find("c.o"), None);
    }
}
