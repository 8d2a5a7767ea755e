//! Link options and the GNU ld command line that gcc's collect2 passes. Parsing is pure (strings in,
//! a `Command` out) so the CLI and the wasm API share it; finding files on disk is the CLI's job.

use crate::diag::{err, Diagnostic, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OutputKind {
    /// `-static`: an `ET_EXEC` with no dynamic section, glibc's `libc.a` style.
    Static,
    /// `ET_EXEC` at 0x400000 (`-no-pie`); dynamically linked when a shared object is needed,
    /// otherwise the same as static.
    #[default]
    Exec,
    /// `-pie` (gcc's default on Debian).
    Pie,
    /// `-shared`.
    Shared,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuildId {
    Sha1,
    /// Plain `--build-id` (what gcc passes) and `fast`: SHA-1 like `sha1` for a file of one
    /// chunk, a faster hash of a bigger file's chunks (see `write::build_id_fast`).
    Fast,
    Hex(Vec<u8>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Options {
    /// The output file's name (used for the report and module names, not opened by the core).
    pub output: String,
    pub kind: OutputKind,
    pub entry: Option<String>,
    pub build_id: Option<BuildId>,
    pub eh_frame_hdr: bool,
    /// `--gc-sections` is accepted; the report says it was not applied.
    pub gc_sections: bool,
    /// `-z execstack` / `-z noexecstack`; None follows the inputs' `.note.GNU-stack`.
    pub execstack: Option<bool>,
    /// Symbols to treat as undefined from the start (`-u`), pulling archive members.
    pub undefined: Vec<String>,
    pub strip_all: bool,
    pub strip_debug: bool,
    /// Build the JSON link report.
    pub report: bool,
    /// Build the text map (implies the report, which the map is printed from).
    pub map: bool,
    /// Print per-phase timings (native CLI only).
    pub time: bool,
    /// Leave a SHA-1 build ID zero and say where it goes ([`crate::LinkOutput::build_id_at`]),
    /// for a caller that hashes faster than this code can (the JavaScript API, with Web Crypto).
    /// Ignored when a report or map is asked for: they are built from the finished bytes.
    #[serde(skip)]
    pub defer_build_id: bool,
    /// Exit as soon as the output is in place, leaving the teardown of the link's memory and the
    /// old output's removal to a helper process nobody waits for (native CLI only; mold and wild
    /// fork for the same). `--no-fork` turns it off.
    pub fork: bool,
    /// Non-fatal options that were accepted and ignored, for the report.
    pub ignored: Vec<String>,
    /// `-dynamic-linker`: the `PT_INTERP` path of a dynamic executable.
    pub dynamic_linker: Option<String>,
    pub soname: Option<String>,
    /// `-rpath` entries, written as `DT_RUNPATH`.
    pub rpath: Vec<String>,
    /// `-E`/`--export-dynamic`: every global of an executable goes into `.dynsym`.
    pub export_dynamic: bool,
    /// `-z now`: `DF_BIND_NOW`, no lazy binding.
    pub bind_now: bool,
    /// `-Bsymbolic`: a shared object binds its own definitions.
    pub bsymbolic: bool,
    pub hash_style: HashStyle,
    /// `--init-stub=REGISTER[,DATA]`: the module-registration stub of Go's linker.
    pub init_stub: Option<InitStub>,
}

/// Go's `go.link.addmoduledata`: a linker-made function, first in `.init_array`, that passes this
/// module's data to `REGISTER`. `data` names a symbol to pass; None: initlink describes the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitStub {
    pub register: String,
    pub data: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HashStyle {
    #[default]
    Gnu,
    Sysv,
    Both,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output: "a.out".into(),
            kind: OutputKind::Static,
            entry: None,
            build_id: None,
            eh_frame_hdr: false,
            gc_sections: false,
            execstack: None,
            undefined: Vec::new(),
            strip_all: false,
            strip_debug: false,
            report: false,
            map: false,
            time: false,
            defer_build_id: false,
            fork: true,
            ignored: Vec::new(),
            dynamic_linker: None,
            soname: None,
            rpath: Vec::new(),
            export_dynamic: false,
            bind_now: false,
            bsymbolic: false,
            hash_style: HashStyle::Gnu,
            init_stub: None,
        }
    }
}

/// One positional item of the command line, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputArg {
    Path(String),
    /// `-lNAME`; `static_only` under `-Bstatic`/`-static`; `exact` for `-l:file.a`.
    Lib {
        name: String,
        static_only: bool,
        exact: bool,
    },
    StartGroup,
    EndGroup,
    /// `--as-needed` state for the shared objects that follow.
    AsNeeded(bool),
}

#[derive(Debug, Clone, Default)]
pub struct Command {
    pub options: Options,
    pub inputs: Vec<InputArg>,
    pub search_dirs: Vec<String>,
    pub report_path: Option<String>,
    pub map_path: Option<String>,
    pub version: bool,
    pub help: bool,
}

/// Parse GNU ld style arguments (without the program name).
pub fn parse_args(args: &[String]) -> Result<Command> {
    let mut cmd = Command::default();
    let mut static_only = false;
    let mut as_needed = false;
    let mut state_stack: Vec<(bool, bool)> = Vec::new();
    let mut i = 0;
    let mut pie: Option<bool> = None;
    let mut shared = false;
    let mut is_static = false;
    let mut group_depth = 0usize;
    // Fetch an option's value: attached (`-oX`, `--opt=X`) or the next argument.
    fn value(args: &[String], i: &mut usize, attached: Option<&str>, opt: &str) -> Result<String> {
        if let Some(v) = attached {
            return Ok(v.to_string());
        }
        *i += 1;
        match args.get(*i) {
            Some(v) => Ok(v.clone()),
            None => err(Diagnostic::error(format!("option '{opt}' needs a value"))),
        }
    }
    while i < args.len() {
        let a = args[i].as_str();
        if !a.starts_with('-') || a == "-" {
            cmd.inputs.push(InputArg::Path(a.to_string()));
            i += 1;
            continue;
        }
        // Normalise `--opt` to `-opt` for the long options GNU ld accepts with one or two dashes.
        let (name, attached) = match a.find('=') {
            Some(p)
                if a.starts_with("--") || a.starts_with("-plugin-opt") || a.starts_with("-Map") =>
            {
                (&a[..p], Some(&a[p + 1..]))
            }
            _ => (a, None),
        };
        let long = name
            .strip_prefix("--")
            .or_else(|| name.strip_prefix('-'))
            .unwrap_or(name);
        match long {
            "static" | "Bstatic" | "dn" | "non_shared" => {
                static_only = true;
                if long == "static" {
                    is_static = true;
                }
            }
            "Bdynamic" | "dy" | "call_shared" => static_only = false,
            "o" | "output" => cmd.options.output = value(args, &mut i, attached, a)?,
            "L" | "library-path" => cmd.search_dirs.push(value(args, &mut i, attached, a)?),
            "l" | "library" => {
                let v = value(args, &mut i, attached, a)?;
                push_lib(&mut cmd, &v, static_only);
            }
            "m" => {
                let v = value(args, &mut i, attached, a)?;
                if v != "elf_x86_64" {
                    return err(Diagnostic::error(format!(
                        "unsupported emulation '{v}': initlink links x86-64 ELF (elf_x86_64) only"
                    )));
                }
            }
            "start-group" | "(" => {
                group_depth += 1;
                cmd.inputs.push(InputArg::StartGroup)
            }
            "end-group" | ")" => {
                if group_depth == 0 {
                    return err(Diagnostic::error("--end-group without --start-group"));
                }
                group_depth -= 1;
                cmd.inputs.push(InputArg::EndGroup)
            }
            "push-state" => state_stack.push((static_only, as_needed)),
            "pop-state" => match state_stack.pop() {
                Some((s, a)) => {
                    static_only = s;
                    if a != as_needed {
                        as_needed = a;
                        cmd.inputs.push(InputArg::AsNeeded(a));
                    }
                }
                None => return err(Diagnostic::error("--pop-state without --push-state")),
            },
            "as-needed" | "no-as-needed" => {
                as_needed = long == "as-needed";
                cmd.inputs.push(InputArg::AsNeeded(as_needed));
            }
            "E" | "export-dynamic" => cmd.options.export_dynamic = true,
            "Bsymbolic" | "Bsymbolic-functions" => cmd.options.bsymbolic = true,
            "no-undefined"
            | "fatal-warnings"
            | "no-fatal-warnings"
            | "warn-common"
            | "sort-common"
            | "X"
            | "discard-locals"
            | "x"
            | "discard-all"
            | "no-copy-dt-needed-entries"
            | "copy-dt-needed-entries"
            | "warn-once"
            | "relax"
            | "no-relax"
            | "enable-new-dtags"
            | "disable-new-dtags"
            | "no-warn-rwx-segments"
            | "no-warn-execstack"
            | "nostdlib"
            | "demangle"
            | "no-demangle"
            | "color-diagnostics"
            | "Qy" => cmd.options.ignored.push(a.to_string()),
            "build-id" => {
                cmd.options.build_id = match attached {
                    None | Some("fast") => Some(BuildId::Fast),
                    Some("sha1") | Some("tree") | Some("md5") | Some("uuid") => Some(BuildId::Sha1),
                    Some("none") => None,
                    Some(h) if h.starts_with("0x") => match parse_hex(&h[2..]) {
                        Some(bytes) => Some(BuildId::Hex(bytes)),
                        None => {
                            return err(Diagnostic::error(format!(
                                "invalid --build-id value '{h}'"
                            )))
                        }
                    },
                    Some(other) => {
                        return err(Diagnostic::error(format!(
                            "unknown --build-id style '{other}'"
                        )))
                    }
                }
            }
            "eh-frame-hdr" => cmd.options.eh_frame_hdr = true,
            "no-eh-frame-hdr" => cmd.options.eh_frame_hdr = false,
            "hash-style" => {
                let v = value(args, &mut i, attached, a)?;
                cmd.options.hash_style = match v.as_str() {
                    "gnu" => HashStyle::Gnu,
                    "sysv" => HashStyle::Sysv,
                    "both" => HashStyle::Both,
                    _ => return err(Diagnostic::error(format!("unknown --hash-style '{v}'"))),
                };
            }
            "z" => {
                let v = value(args, &mut i, attached, a)?;
                apply_z(&mut cmd.options, &v)?;
            }
            "e" | "entry" => cmd.options.entry = Some(value(args, &mut i, attached, a)?),
            "u" | "undefined" => {
                let v = value(args, &mut i, attached, a)?;
                cmd.options.undefined.push(v)
            }
            "plugin" | "plugin-opt" => {
                if attached.is_none() {
                    value(args, &mut i, None, a)?;
                }
            }
            "gc-sections" => cmd.options.gc_sections = true,
            "no-gc-sections" => cmd.options.gc_sections = false,
            "Map" => {
                cmd.map_path = Some(value(args, &mut i, attached, a)?);
                cmd.options.map = true;
            }
            "report" => {
                cmd.report_path = Some(value(args, &mut i, attached, a)?);
                cmd.options.report = true;
            }
            "time" => cmd.options.time = true,
            "fork" => cmd.options.fork = true,
            "no-fork" => cmd.options.fork = false,
            "init-stub" => {
                let v = value(args, &mut i, attached, a)?;
                let mut parts = v.splitn(2, ',');
                let register = parts.next().unwrap_or("").trim().to_string();
                let data = parts
                    .next()
                    .map(|d| d.trim().to_string())
                    .filter(|d| !d.is_empty());
                if register.is_empty() {
                    return err(Diagnostic::error("--init-stub needs REGISTER[,DATA]"));
                }
                cmd.options.init_stub = Some(InitStub { register, data });
            }
            "pie" | "pic-executable" => pie = Some(true),
            "no-pie" => pie = Some(false),
            "shared" | "Bshareable" => shared = true,
            "dynamic-linker" | "I" => {
                cmd.options.dynamic_linker = Some(value(args, &mut i, attached, a)?)
            }
            "rpath" | "R" => {
                let v = value(args, &mut i, attached, a)?;
                cmd.options.rpath.push(v)
            }
            "soname" | "h" => cmd.options.soname = Some(value(args, &mut i, attached, a)?),
            "rpath-link" | "O" => {
                let v = value(args, &mut i, attached, a)?;
                cmd.options.ignored.push(format!("{a} {v}"));
            }
            "s" | "strip-all" => cmd.options.strip_all = true,
            "S" | "strip-debug" => cmd.options.strip_debug = true,
            "v" | "version" | "V" => cmd.version = true,
            "help" => cmd.help = true,
            _ => {
                // Attached short forms: -lfoo, -Lpath, -ofile, -zkeyword, -efoo, -O1, -m elf_x86_64.
                // (`a` starts with '-': split after the next character, which may be multi-byte.)
                let cut = a.char_indices().nth(2).map_or(a.len(), |(p, _)| p);
                let (flag, rest) = a.split_at(cut);
                match flag {
                    "-l" if !rest.is_empty() => push_lib(&mut cmd, rest, static_only),
                    "-L" if !rest.is_empty() => cmd.search_dirs.push(rest.to_string()),
                    "-o" if !rest.is_empty() => cmd.options.output = rest.to_string(),
                    "-z" if !rest.is_empty() => apply_z(&mut cmd.options, rest)?,
                    "-e" if !rest.is_empty() => cmd.options.entry = Some(rest.to_string()),
                    "-u" if !rest.is_empty() => cmd.options.undefined.push(rest.to_string()),
                    "-O" if !rest.is_empty() => cmd.options.ignored.push(a.to_string()),
                    "-m" if !rest.is_empty() => {
                        if rest != "elf_x86_64" {
                            return err(Diagnostic::error(format!(
                                "unsupported emulation '{rest}': initlink links x86-64 ELF (elf_x86_64) only"
                            )));
                        }
                    }
                    _ => return err(Diagnostic::error(format!("unknown option: {a}"))),
                }
            }
        }
        i += 1;
    }
    if group_depth != 0 {
        return err(Diagnostic::error("--start-group without --end-group"));
    }
    cmd.options.kind = if shared {
        OutputKind::Shared
    } else if is_static {
        OutputKind::Static
    } else {
        match pie {
            Some(true) => OutputKind::Pie,
            // Without -pie: ET_EXEC, dynamic only if a shared object ends up needed.
            _ => OutputKind::Exec,
        }
    };
    Ok(cmd)
}

fn push_lib(cmd: &mut Command, v: &str, static_only: bool) {
    let (name, exact) = match v.strip_prefix(':') {
        Some(n) => (n.to_string(), true),
        None => (v.to_string(), false),
    };
    cmd.inputs.push(InputArg::Lib {
        name,
        static_only,
        exact,
    });
}

fn apply_z(o: &mut Options, kw: &str) -> Result<()> {
    match kw {
        "execstack" => o.execstack = Some(true),
        "noexecstack" => o.execstack = Some(false),
        "now" => o.bind_now = true,
        "lazy" => o.bind_now = false,
        "relro" | "norelro" | "text" | "notext" | "defs" | "nodefs" | "origin" | "nodelete"
        | "noexecheap" | "separate-code" | "noseparate-code" | "combreloc" | "nocombreloc"
        | "ibt" | "shstk" | "cet-report=none" | "nognustack" | "muldefs" | "initfirst"
        | "interpose" | "nodlopen" | "global" => o.ignored.push(format!("-z {kw}")),
        k if k.starts_with("max-page-size=")
            || k.starts_with("common-page-size=")
            || k.starts_with("stack-size=") =>
        {
            o.ignored.push(format!("-z {kw}"))
        }
        _ => return err(Diagnostic::error(format!("unknown -z keyword: {kw}"))),
    }
    Ok(())
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s: String = s.chars().filter(|c| *c != '-').collect();
    if s.is_empty()
        || !s.len().is_multiple_of(2)
        || s.len() > 128
        || !s.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    fn p(s: &str) -> Result<Command> {
        parse_args(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }
    #[test]
    fn gcc_static_command_line() {
        let c = p("-plugin /x/liblto_plugin.so -plugin-opt=-pass-through=-lgcc --build-id -m elf_x86_64 \
                   --hash-style=gnu --as-needed -static -o h crt1.o -L/usr/lib main.o --start-group -lgcc -lc \
                   --end-group crtn.o")
        .unwrap();
        assert_eq!(c.options.output, "h");
        assert_eq!(c.options.kind, OutputKind::Static);
        assert_eq!(c.options.build_id, Some(BuildId::Fast));
        assert_eq!(c.search_dirs, vec!["/usr/lib"]);
        assert_eq!(c.inputs[0], InputArg::AsNeeded(true));
        let g = c
            .inputs
            .iter()
            .position(|i| *i == InputArg::StartGroup)
            .expect("group");
        assert_eq!(
            c.inputs[g + 1],
            InputArg::Lib {
                name: "gcc".into(),
                static_only: true,
                exact: false
            }
        );
    }
    #[test]
    fn non_ascii_arguments_are_errors_not_panics() {
        for a in [
            "-é",
            "-lé",
            "--build-id=0xaéa",
            "--build-id=0xéé",
            "-\u{10000}",
            "--é=1",
        ] {
            let _ = parse_args(&[a.to_string(), "a.o".to_string()]);
        }
        assert!(parse_args(&["-é".to_string()]).is_err());
        assert!(parse_args(&["--build-id=0xaéa".to_string()]).is_err());
    }
    #[test]
    fn unknown_option_is_named() {
        let e = p("--frobnicate a.o").unwrap_err();
        assert!(e.0[0].message.contains("--frobnicate"));
    }
    #[test]
    fn attached_and_separate_values() {
        let c = p("-oprog -e main -zexecstack -Map=m.txt --report r.json -lfoo").unwrap();
        assert_eq!(c.options.output, "prog");
        assert_eq!(c.options.entry.as_deref(), Some("main"));
        assert_eq!(c.options.execstack, Some(true));
        assert_eq!(c.map_path.as_deref(), Some("m.txt"));
        assert_eq!(c.report_path.as_deref(), Some("r.json"));
    }
}
