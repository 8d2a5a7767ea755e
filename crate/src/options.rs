//! Link options and the GNU ld command line that gcc's collect2 passes. Parsing is pure (strings in,
//! a `Command` out) so the CLI and the wasm API share it; finding files on disk is the CLI's job.

use crate::diag::{err, Diagnostic, Result};
use crate::getopt::Token;
use object::elf;
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
    /// [`Options::entry`] came from a linker script's `ENTRY`, not `-e`: a shared object whose
    /// script names a missing entry (GNU ld's default script names `_start`) has none, unwarned.
    pub entry_from_script: bool,
    pub build_id: Option<BuildId>,
    pub eh_frame_hdr: bool,
    /// `--gc-sections`: drop the input sections nothing the output needs reaches.
    pub gc_sections: bool,
    /// `--print-gc-sections`: a note for each section `--gc-sections` drops.
    pub print_gc_sections: bool,
    /// `-z execstack` / `-z noexecstack`; None follows the inputs' `.note.GNU-stack`.
    pub execstack: Option<bool>,
    /// `-z stack-size=N`: the main thread's stack size the loader is asked for (`PT_GNU_STACK`'s
    /// `p_memsz`); 0 leaves it to the system.
    pub stack_size: u64,
    /// `--warn-execstack` (the default) / `--no-warn-execstack`: warn when the inputs make the
    /// stack executable.
    pub warn_execstack: bool,
    /// `-z text`: a dynamic relocation in a read-only section is an error (`-z notext`, the
    /// default: a warning, and `DT_TEXTREL`).
    pub z_text: bool,
    /// Symbols to treat as undefined from the start (`-u`), pulling archive members.
    pub undefined: Vec<String>,
    pub strip_all: bool,
    pub strip_debug: bool,
    /// `--oformat=binary`: the output is the memory image of the allocated sections with
    /// contents, from the lowest address to the end of the highest (gaps zero-filled), as GNU
    /// ld's `binary` BFD writes it; no ELF headers.
    pub oformat_binary: bool,
    /// `--retain-symbols-file`: `.symtab` holds only these names, as GNU ld writes it: the
    /// listed locals and globals (a kept local's file symbol too), no section symbols, and no
    /// undefined symbols unless listed. `.dynsym` is not affected.
    pub retain_symbols: Option<Vec<String>>,
    /// `-z start-stop-visibility=V`: the visibility of `__start_SEC`/`__stop_SEC` (GNU ld's
    /// default: protected).
    pub start_stop_visibility: u8,
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
    /// `--no-dynamic-linker`: no `.interp` (a static PIE, `gcc -static-pie`, relocates itself).
    pub no_dynamic_linker: bool,
    /// `-z dynamic-undefined-weak` / `-z nodynamic-undefined-weak`; `Some(false)`: a weakly
    /// referenced undefined symbol is resolved to 0 at link time, not left to the loader.
    pub dynamic_undefined_weak: Option<bool>,
    pub soname: Option<String>,
    /// `-rpath` entries, written as `DT_RUNPATH`.
    pub rpath: Vec<String>,
    /// `--audit=LIB` (`DT_AUDIT`) and `--depaudit=LIB`/`-P LIB` (`DT_DEPAUDIT`), in order.
    pub audit: Vec<String>,
    pub depaudit: Vec<String>,
    /// `-F NAME`/`--filter=NAME` (`DT_FILTER`, the last one given) and `-f NAME`/
    /// `--auxiliary=NAME` (`DT_AUXILIARY`, each): a shared object that filters another's symbols.
    pub filter: Option<String>,
    pub auxiliary: Vec<String>,
    /// `-E`/`--export-dynamic`: every global of an executable goes into `.dynsym`.
    pub export_dynamic: bool,
    /// `-z now`: `DF_BIND_NOW`, no lazy binding.
    pub bind_now: bool,
    /// `-Bsymbolic`: a shared object binds its own definitions.
    pub bsymbolic: bool,
    pub hash_style: HashStyle,
    /// `--init-stub=REGISTER[,DATA]`: the module-registration stub of Go's linker.
    pub init_stub: Option<InitStub>,
    /// `-init SYM` / `-fini SYM`: the functions `DT_INIT` / `DT_FINI` name (default `_init` /
    /// `_fini`); no entry when the symbol is not defined, as GNU ld.
    pub init: Option<String>,
    pub fini: Option<String>,
    /// `--enable-new-dtags` (the default) writes `-rpath` as `DT_RUNPATH`,
    /// `--disable-new-dtags` as `DT_RPATH`.
    pub new_dtags: bool,
    /// `-z relro` (the default) / `-z norelro`: whether a `PT_GNU_RELRO` segment is written.
    pub relro: bool,
    /// `DT_FLAGS` bits asked for by `-z` keywords (`-z origin`: `DF_ORIGIN`).
    pub dt_flags: u32,
    /// `DT_FLAGS_1` bits asked for by `-z` keywords (`initfirst`, `interpose`, `nodelete`,
    /// `nodlopen`, `nodefaultlib`, `origin`, `global`).
    pub dt_flags_1: u32,
    /// `-z ibt`, `-z shstk`: x86 CET feature bits the output's GNU property note has whatever
    /// the inputs say (`GNU_PROPERTY_X86_FEATURE_1_AND`).
    pub x86_features: u32,
    /// `-z x86-64-baseline|v2|v3|v4`: `GNU_PROPERTY_X86_ISA_1_NEEDED` bits added to the note.
    pub x86_isa_needed: u32,
    /// `-z cet-report=warning|error` (`Some(true)`: error): name the inputs without IBT/SHSTK.
    pub cet_report: Option<bool>,
    /// Names of [`Options::defsym`] that a linker script `PROVIDE`s: defined only if referred
    /// to and defined nowhere else.
    pub provide: Vec<String>,
    /// Names a linker script defines `HIDDEN` or `PROVIDE_HIDDEN`: bound locally, not exported,
    /// `STB_LOCAL` in `.symtab` (as GNU ld writes them).
    pub hidden: Vec<String>,
    /// `--allow-multiple-definition` / `-z muldefs`: the first definition wins, no error.
    pub allow_multiple_definition: bool,
    /// `--fatal-warnings`: a warning fails the link (exit 1, no output), as an error would.
    pub fatal_warnings: bool,
    /// `--noinhibit-exec`: undefined references and duplicate definitions are still reported
    /// as errors, but the output is written and the link succeeds (exit 0), as GNU ld does. An
    /// undefined symbol resolves to 0; of duplicates, the first definition wins.
    pub noinhibit_exec: bool,
    /// `--warn-common`: warn where a common symbol meets another common or a definition.
    pub warn_common: bool,
    /// `--exclude-libs=LIB,LIB...` (or `ALL`): the globals of these archives' members are not
    /// exported (nor preemptible), as if hidden.
    pub exclude_libs: Vec<String>,
    /// `--defsym=NAME=VALUE`, in order.
    pub defsym: Vec<(String, Defsym)>,
    /// The linker scripts' `SECTIONS` commands, in order: the layout follows them
    /// (`layout::script`) instead of GNU ld's built-in default script.
    #[serde(skip)]
    pub sections: Option<std::sync::Arc<crate::linker_script::Sections>>,
    /// `--no-undefined` / `-z defs`: a shared object's undefined references are errors too
    /// (`-z undefs` turns it off).
    pub no_undefined: bool,
    /// `--unresolved-symbols=ignore-all|ignore-in-object-files`: undefined references from the
    /// objects are not reported (they resolve to 0, as undefined weak ones do).
    pub ignore_undefined_in_objects: bool,
    /// `--warn-unresolved-symbols` (`--error-unresolved-symbols` turns it off): undefined
    /// references are reported as warnings and the output is written.
    pub warn_unresolved: bool,
    /// `-Bsymbolic-functions`: a shared object binds its own function definitions (its data
    /// stays preemptible).
    pub bsymbolic_functions: bool,
    /// `--export-dynamic-symbol=GLOB`: an executable exports the matching definitions; with a
    /// dynamic list or `-Bsymbolic`, a shared object leaves them preemptible.
    pub export_dynamic_symbols: Vec<String>,
    /// `--dynamic-list-data`: a shared object's data definitions stay preemptible (with a dynamic
    /// list, as if listed).
    pub dynamic_list_data: bool,
    /// `--dynamic-list-cpp-new` / `--dynamic-list-cpp-typeinfo`: C++'s `operator new`/`delete`,
    /// or its type information, as if in the dynamic list.
    pub dynamic_list_cpp_new: bool,
    pub dynamic_list_cpp_typeinfo: bool,
    /// `--default-symver`: every exported definition without a version gets one named after the
    /// output's soname (or file name).
    pub default_symver: bool,
    /// `--no-allow-shlib-undefined`: a shared object's references that nothing in the link
    /// defines are errors (`--allow-shlib-undefined`, the default here, leaves them).
    pub no_allow_shlib_undefined: bool,
    /// `--require-defined=SYMBOL`: like `-u`, and an error if nothing defines it.
    pub require_defined: Vec<String>,
    /// `--wrap=SYMBOL`, in order (a symbol named twice counts once).
    pub wrap: Vec<Wrap>,
    /// `-y SYMBOL`/`--trace-symbol=SYMBOL`: the names whose definitions and references are told.
    pub trace_symbols: Vec<String>,
    /// `--unique=PATTERN`: input sections whose names match keep them as their output
    /// sections' (`--unique` alone: orphans, which keep their names anyway).
    pub unique: Vec<String>,
    /// `--demangle` (the default) / `--no-demangle`: diagnostics show C++ and Rust names
    /// demangled.
    pub demangle: bool,
    /// `--section-start=NAME=ADDR`, `-Ttext`, `-Tdata`, `-Tbss`: output sections placed at an
    /// address, in command-line order (a later one for the same name wins).
    pub section_start: Vec<(String, u64)>,
    /// `-Ttext-segment=ADDR`: the first segment's address; a PIE so based is an `ET_EXEC`.
    pub text_segment: Option<u64>,
    /// `-z max-page-size=N`: the `PT_LOAD` alignment; file offsets are congruent to addresses
    /// modulo it.
    pub max_page_size: u64,
    /// `-z separate-code` (the default on x86-64) / `-z noseparate-code`: code in its own
    /// pages, or the headers, code and read-only data in one read-execute segment.
    pub separate_code: bool,
    /// `--compress-debug-sections=zlib|zstd`: the `.debug*` sections compressed
    /// (`SHF_COMPRESSED`).
    pub compress_debug: crate::compress::Codec,
    /// `--emit-relocs` (`-q`): the loaded sections' relocations kept, as `.rela<name>`
    /// sections rewritten for the output.
    pub emit_relocs: bool,
    /// `-r` (`--relocatable`, `-i`): the output is a relocatable object (`ET_REL`) that keeps
    /// the inputs' relocations, for a later link (`crate::relocatable`).
    pub relocatable: bool,
    /// `-d` (`-dc`, `-dp`): with `-r`, common symbols are given space in `.bss` rather than
    /// left common.
    pub define_common: bool,
    /// `--relocatable-merge-sections` (mold's): with `-r`, `.text.foo` joins `.text` (and so
    /// on for the final link's prefixes) instead of keeping its name.
    pub relocatable_merge_sections: bool,
    /// The second resolve of an LTO link ([`crate::lto`]): what the plugin's compiled objects
    /// replace.
    #[serde(skip)]
    pub lto_replaced: LtoReplaced,
}

/// What a linker plugin's compiled objects replace, in the second resolve of an LTO link.
#[derive(Debug, Clone, Default)]
pub struct LtoReplaced {
    /// The LTO objects it claimed: (file name, offset of the object in that file: an archive
    /// member's), left out of the link.
    pub objects: Vec<(String, u64)>,
    /// The compiled objects' file names.
    pub compiled: Vec<String>,
    /// COMDAT groups an LTO object kept whose definitions the compiled objects hold as plain
    /// globals: another object's copy of such a group (an archive member loaded only for the
    /// compiled code) is dropped, so that its references bind to those definitions.
    pub comdats: Vec<String>,
}

/// What `--defsym NAME=...` sets NAME to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Defsym {
    /// An absolute address (`0x1000`, `16`).
    Value(u64),
    /// Another symbol: NAME is an alias of it (its definition, or the linker-made symbol).
    Symbol(String),
    /// An address a linker script's `SECTIONS` gives as it lays the output out: a linker-made
    /// symbol whose value the assign phase sets (`Value` from then on).
    Layout,
}

/// `NAME=EXPR` of `--defsym`. GNU ld takes any linker-script expression; initlink takes a number
/// or a symbol name, and names anything else as unsupported.
pub(crate) fn parse_defsym(v: &str) -> Result<(String, Defsym)> {
    let bad = |why: &str| err(Diagnostic::error(format!("--defsym '{v}': {why}")));
    let Some((name, expr)) = v.split_once('=') else {
        return bad("expected NAME=VALUE");
    };
    let (name, expr) = (name.trim(), expr.trim());
    let ident = |s: &str| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.$@".contains(c))
    };
    if !ident(name) {
        return bad("not a symbol name before '='");
    }
    let number = match expr.strip_prefix("0x").or_else(|| expr.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if expr.starts_with(|c: char| c.is_ascii_digit()) => expr.parse().ok(),
        None => None,
    };
    match number {
        Some(n) => Ok((name.to_string(), Defsym::Value(n))),
        None if ident(expr) => Ok((name.to_string(), Defsym::Symbol(expr.to_string()))),
        None => bad("initlink takes a number or a symbol name (not yet an expression)"),
    }
}

impl Options {
    /// The function `DT_INIT` names: `-init`'s, else `_init`.
    pub fn init_symbol(&self) -> &str {
        self.init.as_deref().unwrap_or("_init")
    }
    /// The function `DT_FINI` names: `-fini`'s, else `_fini`.
    pub fn fini_symbol(&self) -> &str {
        self.fini.as_deref().unwrap_or("_fini")
    }
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
            entry_from_script: false,
            build_id: None,
            eh_frame_hdr: false,
            gc_sections: false,
            print_gc_sections: false,
            execstack: None,
            stack_size: 0,
            warn_execstack: true,
            z_text: false,
            undefined: Vec::new(),
            strip_all: false,
            oformat_binary: false,
            retain_symbols: None,
            start_stop_visibility: object::elf::STV_PROTECTED,
            strip_debug: false,
            report: false,
            map: false,
            time: false,
            defer_build_id: false,
            fork: true,
            ignored: Vec::new(),
            dynamic_linker: None,
            no_dynamic_linker: false,
            dynamic_undefined_weak: None,
            soname: None,
            rpath: Vec::new(),
            audit: Vec::new(),
            depaudit: Vec::new(),
            filter: None,
            auxiliary: Vec::new(),
            export_dynamic: false,
            bind_now: false,
            bsymbolic: false,
            hash_style: HashStyle::Gnu,
            init_stub: None,
            init: None,
            fini: None,
            new_dtags: true,
            relro: true,
            dt_flags: 0,
            dt_flags_1: 0,
            x86_features: 0,
            x86_isa_needed: 0,
            cet_report: None,
            provide: Vec::new(),
            hidden: Vec::new(),
            allow_multiple_definition: false,
            noinhibit_exec: false,
            fatal_warnings: false,
            warn_common: false,
            exclude_libs: Vec::new(),
            defsym: Vec::new(),
            sections: None,
            no_undefined: false,
            ignore_undefined_in_objects: false,
            warn_unresolved: false,
            bsymbolic_functions: false,
            export_dynamic_symbols: Vec::new(),
            dynamic_list_data: false,
            dynamic_list_cpp_new: false,
            dynamic_list_cpp_typeinfo: false,
            default_symver: false,
            no_allow_shlib_undefined: false,
            require_defined: Vec::new(),
            wrap: Vec::new(),
            trace_symbols: Vec::new(),
            unique: Vec::new(),
            demangle: true,
            section_start: Vec::new(),
            text_segment: None,
            max_page_size: 0x1000,
            separate_code: true,
            compress_debug: crate::compress::Codec::None,
            emit_relocs: false,
            relocatable: false,
            define_common: false,
            relocatable_merge_sections: false,
            lto_replaced: LtoReplaced::default(),
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
    /// `--whole-archive` state for the archives that follow.
    WholeArchive(bool),
    /// `--version-script FILE`: found as GNU ld finds it (as given, else in the search
    /// directories), read before any input.
    VersionScript(String),
    /// `--dynamic-list FILE` (`export: false`) or `--export-dynamic-symbol-list FILE`.
    DynamicList {
        path: String,
        export: bool,
    },
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
    /// `-R` values: a directory is an `-rpath`; a file would ask for GNU ld's `--just-symbols`,
    /// which initlink does not implement (the caller checks which it is).
    pub just_symbols: Vec<String>,
    /// `-t`/`--trace`: print each input file as it is opened (stdout, as GNU ld).
    pub trace: bool,
    /// `--verbose`: print the version and each file opened.
    pub verbose: bool,
    /// `--dependency-file=FILE`: a make rule, the output depending on every file read.
    pub dependency_file: Option<String>,
    /// `--retain-symbols-file=FILE`: the file naming the symbols `.symtab` keeps (read by the
    /// caller into [`Options::retain_symbols`]).
    pub retain_symbols_file: Option<String>,
    /// `--sysroot=DIR`: where `=`-prefixed paths (`-L=/lib`, `INPUT(=/x.o)`) and the absolute
    /// paths of a linker script inside DIR are looked for ([`sysroot_path`]).
    pub sysroot: Option<String>,
    /// Warnings about the command line itself (`-z` keywords ignored, as GNU ld warns).
    pub warnings: Vec<Diagnostic>,
    /// One of [`Command::warnings`] came after `--fatal-warnings`: the link fails.
    pub fatal_warning: bool,
    /// `-plugin PATH`: the linker plugin (GCC's `liblto_plugin.so`) the CLI loads for LTO
    /// objects (the last one given; GNU ld loads each, gcc passes one).
    pub plugin: Option<String>,
    /// `-plugin-opt OPT`, in order: handed to the plugin as it loads.
    pub plugin_opts: Vec<String>,
}

/// A path a linker script names, under `--sysroot`, as GNU ld finds it: `=/p` (or `$SYSROOT/p`)
/// is `SYSROOT/p`; an absolute `/p` in a script that is itself inside the sysroot is `SYSROOT/p`
/// first (the caller falls back to `/p` when that does not exist). None: the path as written.
pub fn sysroot_path(path: &str, sysroot: Option<&str>, script_in_sysroot: bool) -> Option<String> {
    let root = sysroot.unwrap_or("");
    if let Some(rest) = path
        .strip_prefix('=')
        .or_else(|| path.strip_prefix("$SYSROOT"))
    {
        return Some(format!("{root}{rest}"));
    }
    (script_in_sysroot && path.starts_with('/') && !root.is_empty())
        .then(|| format!("{root}{path}"))
}

/// Options that change nothing initlink writes: GCC's LTO options meant for the compiler (the
/// plugin gets its own through `-plugin-opt`), warnings initlink does not give, memory and speed
/// knobs. They are recorded (`Options::ignored`) so the report can say so.
const IGNORED: &[&str] = &[
    "flto",
    "flto-partition",
    "fuse-ld",
    "O",
    "Qy",
    "g",
    "EL",
    "qmagic",
    "map-whole-files",
    "no-map-whole-files",
    "rpath-link",
    "nostdlib",
    "warn-once",
    "warn-constructors",
    "warn-rwx-segments",
    "no-warn-rwx-segments",
    "warn-multiple-gp",
    "warn-section-align",
    "warn-alternate-em",
    "no-warn-mismatch",
    "no-warn-search-mismatch",
    "sort-common",
    "discard-locals",
    "discard-all",
    "copy-dt-needed-entries",
    "no-copy-dt-needed-entries",
    "relax",
    "no-relax",
    "no-keep-memory",
    "reduce-memory-overheads",
    "max-cache-size",
    "hash-size",
    "check-sections",
    "no-check-sections",
    "accept-unknown-input-arch",
    "no-accept-unknown-input-arch",
    "ld-generated-unwind-info",
    "no-ld-generated-unwind-info",
    "print-map-discarded",
    "no-print-map-discarded",
    "no-print-map-locals",
    "ctf-variables",
    "no-ctf-variables",
    "ctf-share-types",
    "traditional-format",
    "no-undefined-version",
    "undefined-version",
];

/// What the command line has said so far that later options depend on.
#[derive(Default)]
struct Parser {
    cmd: Command,
    /// `-Bstatic`: `-l` finds archives only.
    static_only: bool,
    as_needed: bool,
    /// `--push-state` saves (static_only, as_needed, is_static).
    state_stack: Vec<(bool, bool, bool)>,
    pie: Option<bool>,
    shared: bool,
    is_static: bool,
    group_depth: usize,
}

/// Parse GNU ld style arguments (without the program name): [`crate::getopt`] splits them as GNU
/// ld does, this says what each option means. An option GNU ld has and initlink does not
/// implement is an error naming it, unless it changes nothing initlink writes.
pub fn parse_args(args: &[String]) -> Result<Command> {
    let tokens = crate::getopt::tokenize(args).map_err(Diagnostic::error)?;
    let mut p = Parser::default();
    for token in tokens {
        match token {
            Token::Input(path) => p.cmd.inputs.push(InputArg::Path(path)),
            Token::Opt { id, value, spelled } => {
                if !p.input_option(id, value.as_deref())? {
                    p.option(id, value, spelled)?;
                }
            }
        }
    }
    p.finish()
}

impl Parser {
    /// An option whose place among the inputs matters (how `-l` searches, groups, as-needed,
    /// whole-archive); false when `id` is not one.
    fn input_option(&mut self, id: &str, value: Option<&str>) -> Result<bool> {
        let cmd = &mut self.cmd;
        let val = || value.unwrap_or_default().to_string();
        match id {
            "static" | "Bstatic" => {
                self.static_only = true;
                self.is_static |= id == "static";
            }
            // `-r` searches `-l` for archives from here on, as `-Bstatic` (GNU ld's).
            "relocatable" => {
                self.static_only = true;
                cmd.options.relocatable = true;
            }
            "Bdynamic" => self.static_only = false,
            "library-path" => cmd.search_dirs.push(val()),
            "library" => push_lib(cmd, &val(), self.static_only),
            "start-group" => {
                self.group_depth += 1;
                cmd.inputs.push(InputArg::StartGroup)
            }
            "end-group" => {
                if self.group_depth == 0 {
                    return err(Diagnostic::error("--end-group without --start-group"));
                }
                self.group_depth -= 1;
                cmd.inputs.push(InputArg::EndGroup)
            }
            // `-static` is GNU ld's `-Bstatic`: inside push/pop it makes no static link.
            "push-state" => {
                let state = (self.static_only, self.as_needed, self.is_static);
                self.state_stack.push(state)
            }
            "pop-state" => match self.state_stack.pop() {
                Some((s, a, is_static)) => {
                    self.static_only = s;
                    self.is_static = is_static;
                    if a != self.as_needed {
                        self.as_needed = a;
                        cmd.inputs.push(InputArg::AsNeeded(a));
                    }
                }
                None => return err(Diagnostic::error("--pop-state without --push-state")),
            },
            "whole-archive" | "no-whole-archive" => cmd
                .inputs
                .push(InputArg::WholeArchive(id == "whole-archive")),
            // `-T FILE`: a linker script, read where it stands (its INPUT, GROUP, VERSION...);
            // what initlink's script reader does not implement is an error naming it.
            "script" => cmd.inputs.push(InputArg::Path(val())),
            "version-script" => cmd.inputs.push(InputArg::VersionScript(val())),
            "dynamic-list" | "export-dynamic-symbol-list" => {
                cmd.inputs.push(InputArg::DynamicList {
                    path: val(),
                    export: id == "export-dynamic-symbol-list",
                })
            }
            "as-needed" | "no-as-needed" => {
                self.as_needed = id == "as-needed";
                cmd.inputs.push(InputArg::AsNeeded(self.as_needed));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Any other option: what the output is and how it is made.
    fn option(&mut self, id: &str, value: Option<String>, spelled: String) -> Result<()> {
        // The value of an option that takes one (the grammar guarantees it is there).
        let val = || value.clone().unwrap_or_default();
        let o = &mut self.cmd.options;
        match id {
            "output" => o.output = val(),
            "m" => {
                let v = val();
                if v != "elf_x86_64" {
                    return err(Diagnostic::error(format!(
                        "unsupported emulation '{v}': initlink links x86-64 ELF (elf_x86_64) only"
                    )));
                }
            }
            "allow-multiple-definition" => o.allow_multiple_definition = true,
            "noinhibit-exec" => o.noinhibit_exec = true,
            "fatal-warnings" => o.fatal_warnings = true,
            "no-fatal-warnings" => o.fatal_warnings = false,
            "warn-common" => o.warn_common = true,
            "no-undefined" => o.no_undefined = true,
            "unresolved-symbols" => unresolved_symbols(o, &val())?,
            "warn-unresolved-symbols" => o.warn_unresolved = true,
            "warn-execstack" | "no-warn-execstack" => o.warn_execstack = id == "warn-execstack",
            "error-unresolved-symbols" => o.warn_unresolved = false,
            "defsym" => o.defsym.push(parse_defsym(&val())?),
            "exclude-libs" => o.exclude_libs.extend(
                val()
                    .split([',', ':'])
                    .filter(|l| !l.is_empty())
                    .map(String::from),
            ),
            "export-dynamic" => o.export_dynamic = true,
            "no-export-dynamic" => o.export_dynamic = false,
            "Bsymbolic" => o.bsymbolic = true,
            "Bsymbolic-functions" => o.bsymbolic_functions = true,
            "Bno-symbolic" => {
                o.bsymbolic = false;
                o.bsymbolic_functions = false;
            }
            "export-dynamic-symbol" => o.export_dynamic_symbols.push(val()),
            "dynamic-list-data" => o.dynamic_list_data = true,
            "dynamic-list-cpp-new" => o.dynamic_list_cpp_new = true,
            "dynamic-list-cpp-typeinfo" => o.dynamic_list_cpp_typeinfo = true,
            "default-symver" => o.default_symver = true,
            "allow-shlib-undefined" => o.no_allow_shlib_undefined = false,
            "no-allow-shlib-undefined" => o.no_allow_shlib_undefined = true,
            "wrap" => push_wrap(&mut o.wrap, val()),
            "trace-symbol" => o.trace_symbols.push(val()),
            "unique" => o.unique.extend(value.clone()),
            "require-defined" => {
                // An undefined reference from the start, like `-u`, checked after resolve.
                o.undefined.push(val());
                o.require_defined.push(val());
            }
            "demangle" => o.demangle = value.as_deref().is_none_or(|s| s != "none"),
            "no-demangle" => o.demangle = false,
            "build-id" => o.build_id = build_id(value.as_deref())?,
            "eh-frame-hdr" => o.eh_frame_hdr = true,
            "no-eh-frame-hdr" => o.eh_frame_hdr = false,
            "hash-style" => o.hash_style = hash_style(&val())?,
            "z" => {
                if let Some(w) = apply_z(o, &val())? {
                    // GNU ld counts a warning as it gives it: only after `--fatal-warnings`.
                    self.cmd.fatal_warning |= o.fatal_warnings;
                    self.cmd.warnings.push(w);
                }
            }
            "entry" => o.entry = Some(val()),
            "undefined" => o.undefined.push(val()),
            "gc-sections" => o.gc_sections = true,
            "no-gc-sections" => o.gc_sections = false,
            "print-gc-sections" => o.print_gc_sections = true,
            "no-print-gc-sections" => o.print_gc_sections = false,
            "time" => o.time = true,
            "fork" => o.fork = true,
            "no-fork" => o.fork = false,
            "init-stub" => o.init_stub = Some(init_stub(&val())?),
            "dynamic-linker" => {
                o.dynamic_linker = Some(val());
                o.no_dynamic_linker = false;
            }
            "no-dynamic-linker" => o.no_dynamic_linker = true,
            "rpath" => push_rpath(&mut o.rpath, val()),
            "audit" => o.audit.push(val()),
            "filter" => o.filter = Some(val()),
            "auxiliary" => o.auxiliary.push(val()),
            "depaudit" => o.depaudit.push(val()),
            "soname" => o.soname = Some(val()),
            "init" => o.init = Some(val()),
            "fini" => o.fini = Some(val()),
            "enable-new-dtags" => o.new_dtags = true,
            "disable-new-dtags" => o.new_dtags = false,
            "strip-all" => o.strip_all = true,
            "oformat" => match val().as_str() {
                "binary" => o.oformat_binary = true,
                "elf64-x86-64" | "elf64-x86_64" | "default" => o.oformat_binary = false,
                other => {
                    return err(Diagnostic::error(format!(
                        "unsupported output format '{other}' (--oformat): initlink writes elf64-x86-64 or binary"
                    )))
                }
            },
            "strip-debug" => o.strip_debug = true,
            "emit-relocs" => o.emit_relocs = true,
            "dc" => o.define_common = true,
            "relocatable-merge-sections" => o.relocatable_merge_sections = true,
            "no-define-common" => o.define_common = false,
            "section-start" => {
                let v = val();
                let Some((name, addr)) = v.split_once('=') else {
                    return err(Diagnostic::error(format!(
                        "invalid argument to option \"--section-start\": '{v}'"
                    )));
                };
                o.section_start
                    .push((name.to_string(), parse_hex_address(addr)?));
            }
            "Ttext" | "Tdata" | "Tbss" => {
                let name = format!(".{}", &id[1..]);
                o.section_start.push((name, parse_hex_address(&val())?));
            }
            "Ttext-segment" => o.text_segment = Some(parse_hex_address(&val())?),
            "compress-debug-sections" => {
                use crate::compress::Codec;
                o.compress_debug = match val().as_str() {
                    "none" => Codec::None,
                    "zlib" | "zlib-gabi" => Codec::Zlib,
                    "zstd" => Codec::Zstd,
                    "zlib-gnu" => {
                        return err(Diagnostic::error(
                            "--compress-debug-sections=zlib-gnu (.zdebug sections) is not supported by initlink",
                        ))
                    }
                    v => {
                        return err(Diagnostic::error(format!(
                            "invalid --compress-debug-sections option: '{v}'"
                        )))
                    }
                };
            }
            _ => return self.command_option(id, value, spelled),
        }
        Ok(())
    }

    /// The options about the command itself: the output's kind, extra outputs (map, report),
    /// what to print, and the options initlink ignores as GNU ld allows.
    fn command_option(&mut self, id: &str, value: Option<String>, spelled: String) -> Result<()> {
        let val = || value.clone().unwrap_or_default();
        let cmd = &mut self.cmd;
        match id {
            // The last of -shared, -pie and -no-pie decides, as in GNU ld (`-shared -pie` is a
            // runnable shared object: a PIE).
            "pie" | "no-pie" => {
                self.pie = Some(id == "pie");
                self.shared = false;
            }
            "shared" => self.shared = true,
            "Map" => {
                cmd.map_path = Some(val());
                cmd.options.map = true;
            }
            "report" => {
                cmd.report_path = Some(val());
                cmd.options.report = true;
            }
            // `-R DIR` is `-rpath DIR` (Solaris); `-R FILE` links only FILE's symbols, which
            // initlink does not do: the caller, who sees the files, rejects that case.
            "just-symbols" => {
                push_rpath(&mut cmd.options.rpath, val());
                cmd.just_symbols.push(val());
            }
            "sysroot" => cmd.sysroot = Some(val()),
            "plugin" => cmd.plugin = Some(val()),
            "plugin-opt" => cmd.plugin_opts.push(val()),
            "version" | "V" => cmd.version = true,
            "trace" => cmd.trace = true,
            "dependency-file" => cmd.dependency_file = Some(val()),
            "retain-symbols-file" => cmd.retain_symbols_file = Some(val()),
            "verbose" => {
                cmd.verbose = true;
                cmd.version = true;
            }
            "help" => cmd.help = true,
            _ if IGNORED.contains(&id) => cmd.options.ignored.push(match &value {
                Some(v) if !spelled.contains('=') && !spelled.ends_with(v.as_str()) => {
                    format!("{spelled} {v}")
                }
                _ => spelled,
            }),
            other => {
                return err(Diagnostic::error(format!(
                    "option '{spelled}' (--{other}) is not supported by initlink yet"
                )))
            }
        }
        Ok(())
    }

    /// Checks that need the whole command line, and the output's kind.
    fn finish(mut self) -> Result<Command> {
        if self.group_depth != 0 {
            return err(Diagnostic::error("--start-group without --end-group"));
        }
        if self.cmd.options.relocatable {
            // GNU ld's words: a relocatable object is neither of the loadable kinds.
            if self.shared {
                return err(Diagnostic::error("-r and -shared may not be used together"));
            }
            if self.pie == Some(true) {
                return err(Diagnostic::error("-r and -pie may not be used together"));
            }
        }
        let cmd = &mut self.cmd;
        // `-L=DIR` and `-L$SYSROOT/DIR` are in the sysroot (whichever --sysroot came last).
        for d in &mut cmd.search_dirs {
            if let Some(p) = sysroot_path(d, cmd.sysroot.as_deref(), false) {
                *d = p;
            }
        }
        cmd.options.kind = if self.shared {
            OutputKind::Shared
        } else if self.is_static && self.pie == Some(true) {
            // `-static -pie` (gcc's `-static-pie`): a PIE that needs no shared object.
            OutputKind::Pie
        } else if self.is_static {
            OutputKind::Static
        } else {
            match self.pie {
                Some(true) => OutputKind::Pie,
                // Without -pie: ET_EXEC, dynamic only if a shared object ends up needed.
                _ => OutputKind::Exec,
            }
        };
        let o = &cmd.options;
        if o.kind != OutputKind::Shared && (o.filter.is_some() || !o.auxiliary.is_empty()) {
            let which = if o.filter.is_some() { "-F" } else { "-f" };
            return err(Diagnostic::error(format!(
                "{which} may not be used without -shared"
            )));
        }
        Ok(self.cmd)
    }
}

/// Whether the parser gives option `id` a meaning (or ignores it as GNU ld allows), rather than
/// naming it as not supported yet.
fn accepted(id: &'static str) -> bool {
    let mut p = Parser::default();
    let value = Some(String::new());
    p.input_option(id, value.as_deref()).unwrap_or(true)
        || match p.option(id, value, String::new()) {
            Ok(()) => true,
            Err(e) => {
                !e.0.iter()
                    .any(|d| d.message.contains("is not supported by initlink"))
            }
        }
}

/// `--help`: GNU ld's shape, listing the long options initlink accepts, and the targets line
/// build systems look for (libtool decides a linker can make shared libraries from
/// `: supported targets:.* elf`).
pub fn help_text(program: &str) -> String {
    let mut names: Vec<(&str, crate::getopt::Arg)> = crate::getopt::long_options()
        .filter(|&(_, _, id)| accepted(id))
        .map(|(name, arg, _)| (name, arg))
        .collect();
    names.sort_by_key(|n| n.0);
    names.dedup_by_key(|n| n.0);
    let mut out = format!("Usage: {program} [options] file...\nOptions:\n");
    for (name, arg) in names {
        let value = match arg {
            crate::getopt::Arg::No => "",
            crate::getopt::Arg::Required => " ARG",
            crate::getopt::Arg::Optional => "[=ARG]",
        };
        out.push_str(&format!("  --{name}{value}\n"));
    }
    out.push_str(&format!(
        "{program}: supported targets: elf64-x86-64\n{program}: supported emulations: elf_x86_64\n"
    ));
    out
}

/// `--hash-style=STYLE`.
fn hash_style(v: &str) -> Result<HashStyle> {
    Ok(match v {
        "gnu" => HashStyle::Gnu,
        "sysv" => HashStyle::Sysv,
        "both" => HashStyle::Both,
        _ => return err(Diagnostic::error(format!("invalid hash style '{v}'"))),
    })
}

/// `--init-stub=REGISTER[,DATA]`.
fn init_stub(v: &str) -> Result<InitStub> {
    let mut parts = v.splitn(2, ',');
    let register = parts.next().unwrap_or("").trim().to_string();
    let data = parts
        .next()
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if register.is_empty() {
        return err(Diagnostic::error("--init-stub needs REGISTER[,DATA]"));
    }
    Ok(InitStub { register, data })
}

/// `--build-id[=STYLE]`: plain `--build-id` is `fast`; None for `none`.
fn build_id(style: Option<&str>) -> Result<Option<BuildId>> {
    Ok(match style {
        None | Some("fast") => Some(BuildId::Fast),
        Some("sha1") | Some("tree") | Some("md5") | Some("uuid") => Some(BuildId::Sha1),
        Some("none") => None,
        Some(h) if h.starts_with("0x") => match parse_hex(&h[2..]) {
            Some(bytes) => Some(BuildId::Hex(bytes)),
            None => return err(Diagnostic::error(format!("invalid --build-id value '{h}'"))),
        },
        Some(other) => {
            return err(Diagnostic::error(format!(
                "unknown --build-id style '{other}'"
            )))
        }
    })
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

/// An address as GNU ld reads `--section-start` and `-T*` values: hexadecimal, `0x` optional.
fn parse_hex_address(v: &str) -> Result<u64> {
    let digits = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or(v);
    match u64::from_str_radix(digits, 16) {
        Ok(a) if !digits.starts_with(['+', '-']) => Ok(a),
        _ => err(Diagnostic::error(format!("invalid hex number '{v}'"))),
    }
}

/// `-z max-page-size=N`: a power of two (GNU ld reads N as C does: `0x` hex, `0` octal).
fn page_size(kw: &str, v: &str) -> Result<u64> {
    let n = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if v.len() > 1 && v.starts_with('0') {
        u64::from_str_radix(&v[1..], 8).ok()
    } else {
        v.parse().ok()
    };
    match n {
        Some(n) if n.is_power_of_two() => Ok(n),
        _ => err(Diagnostic::error(format!("invalid -z {kw} value '{v}'"))),
    }
}

/// Apply `-z KEYWORD`. A keyword GNU ld does not know (or initlink does not implement) is
/// ignored with a warning, as GNU ld ignores it: the warning is returned.
fn apply_z(o: &mut Options, kw: &str) -> Result<Option<Diagnostic>> {
    match kw {
        "execstack" => o.execstack = Some(true),
        "noexecstack" => o.execstack = Some(false),
        "now" => o.bind_now = true,
        "lazy" => o.bind_now = false,
        "relro" => o.relro = true,
        "norelro" => o.relro = false,
        "initfirst" => o.dt_flags_1 |= elf::DF_1_INITFIRST,
        "interpose" => o.dt_flags_1 |= elf::DF_1_INTERPOSE,
        "nodelete" => o.dt_flags_1 |= elf::DF_1_NODELETE,
        "nodlopen" => o.dt_flags_1 |= elf::DF_1_NOOPEN,
        "nodefaultlib" => o.dt_flags_1 |= elf::DF_1_NODEFLIB,
        "nodump" => o.dt_flags_1 |= elf::DF_1_NODUMP,
        "global" => o.dt_flags_1 |= elf::DF_1_GLOBAL,
        "origin" => {
            o.dt_flags |= elf::DF_ORIGIN;
            o.dt_flags_1 |= elf::DF_1_ORIGIN;
        }
        "defs" => o.no_undefined = true,
        "undefs" => o.no_undefined = false,
        "ibt" => o.x86_features |= crate::arch::PROPERTY_X86_FEATURE_1_IBT,
        "shstk" => o.x86_features |= crate::arch::PROPERTY_X86_FEATURE_1_SHSTK,
        "separate-code" => o.separate_code = true,
        "noseparate-code" => o.separate_code = false,
        "text" | "notext" => o.z_text = kw == "text",
        "nodefs" | "noexecheap" | "combreloc" | "nocombreloc" | "nognustack" => {
            o.ignored.push(format!("-z {kw}"))
        }
        "muldefs" => o.allow_multiple_definition = true,
        k if k.starts_with("start-stop-visibility=") => {
            o.start_stop_visibility = match &k["start-stop-visibility=".len()..] {
                "default" => object::elf::STV_DEFAULT,
                "internal" => object::elf::STV_INTERNAL,
                "hidden" => object::elf::STV_HIDDEN,
                "protected" => object::elf::STV_PROTECTED,
                _ => {
                    return err(Diagnostic::error(format!(
                        "-z {kw}: the visibility is default, internal, hidden or protected"
                    )))
                }
            }
        }
        "cet-report=none" => o.cet_report = None,
        "cet-report=warning" => o.cet_report = Some(false),
        "cet-report=error" => o.cet_report = Some(true),
        k if k.starts_with("x86-64-") && crate::arch::isa_level_bit(&k[7..]).is_some() => {
            o.x86_isa_needed |= crate::arch::isa_level_bit(&k[7..]).unwrap_or(0)
        }
        "dynamic-undefined-weak" => o.dynamic_undefined_weak = Some(true),
        "nodynamic-undefined-weak" => o.dynamic_undefined_weak = Some(false),
        k if k.starts_with("stack-size=") => match parse_z_number(&k["stack-size=".len()..]) {
            Some(n) => o.stack_size = n,
            None => return err(Diagnostic::error(format!("invalid number in -z {kw}"))),
        },
        k if k.starts_with("max-page-size=") => {
            o.max_page_size = page_size("max-page-size", &k["max-page-size=".len()..])?
        }
        k if k.starts_with("common-page-size=") => o.ignored.push(format!("-z {kw}")),
        _ => {
            o.ignored.push(format!("-z {kw}"));
            return Ok(Some(Diagnostic::warning(format!("-z {kw} ignored"))));
        }
    }
    Ok(None)
}

/// `--wrap=SYMBOL`: an object's undefined reference to SYMBOL binds to `__wrap_SYMBOL`, and one
/// to `__real_SYMBOL` binds to SYMBOL (definitions are not renamed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wrap {
    pub symbol: String,
    pub wrapper: String,
    pub real: String,
}

/// `--unresolved-symbols=METHOD`: which undefined references are reported.
fn unresolved_symbols(o: &mut Options, v: &str) -> Result<()> {
    let (objects, shlibs) = match v {
        "ignore-all" => (true, true),
        "report-all" => (false, false),
        "ignore-in-object-files" => (true, false),
        "ignore-in-shared-libs" => (false, true),
        _ => {
            return err(Diagnostic::error(format!(
                "bad --unresolved-symbols option: {v}"
            )))
        }
    };
    o.ignore_undefined_in_objects = objects;
    if shlibs {
        o.no_allow_shlib_undefined = false;
    }
    Ok(())
}

/// `--wrap=SYMBOL`, once per symbol.
fn push_wrap(list: &mut Vec<Wrap>, symbol: String) {
    if !list.iter().any(|w| w.symbol == symbol) {
        list.push(Wrap {
            wrapper: format!("__wrap_{symbol}"),
            real: format!("__real_{symbol}"),
            symbol,
        });
    }
}

/// Add an `-rpath` directory unless it is already listed (GNU ld writes each once, first place
/// kept).
fn push_rpath(list: &mut Vec<String>, dir: String) {
    if !list.contains(&dir) {
        list.push(dir);
    }
}

/// A `-z KEYWORD=N` value as GNU ld reads it (`bfd_scan_vma` base 0: `0x` hex, `0` octal, else
/// decimal).
fn parse_z_number(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
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
    fn static_between_push_and_pop_state_is_bstatic_only() {
        let c = p("-push-state -static -lfoo -pop-state -lbar x.o").unwrap();
        assert_eq!(c.options.kind, OutputKind::Exec);
        assert!(matches!(
            &c.inputs[0],
            InputArg::Lib {
                static_only: true,
                ..
            }
        ));
        assert!(matches!(
            &c.inputs[1],
            InputArg::Lib {
                static_only: false,
                ..
            }
        ));
        assert_eq!(p("-static x.o").unwrap().options.kind, OutputKind::Static);
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
    fn defsym_values() {
        let d = |s: &str| parse_defsym(s);
        assert_eq!(d("a=0x10").unwrap(), ("a".into(), Defsym::Value(16)));
        assert_eq!(d("a=42").unwrap(), ("a".into(), Defsym::Value(42)));
        assert_eq!(
            d("bar=foo").unwrap(),
            ("bar".into(), Defsym::Symbol("foo".into()))
        );
        for bad in ["a", "=1", "a=", "a=b+1", "1a=2", "a=0xzz"] {
            let e = d(bad).unwrap_err();
            assert!(e.0[0].message.contains(bad), "{bad}");
        }
        let c = p("-defsym=a=1 --defsym b=a a.o").unwrap();
        assert_eq!(c.options.defsym.len(), 2);
    }
    #[test]
    fn sysroot_paths() {
        let r = Some("/r/");
        assert_eq!(sysroot_path("=/a", r, false).as_deref(), Some("/r//a"));
        assert_eq!(sysroot_path("=a", r, false).as_deref(), Some("/r/a"));
        assert_eq!(
            sysroot_path("$SYSROOT/a", r, false).as_deref(),
            Some("/r//a")
        );
        assert_eq!(sysroot_path("/a", r, false), None);
        assert_eq!(sysroot_path("/a", r, true).as_deref(), Some("/r//a"));
        assert_eq!(sysroot_path("a", r, true), None);
        assert_eq!(sysroot_path("=/a", None, false).as_deref(), Some("/a"));
        let c = p("--sysroot=/s -L=/lib -L/usr/lib a.o").unwrap();
        assert_eq!(c.search_dirs, vec!["/s/lib", "/usr/lib"]);
    }
    #[test]
    fn unknown_option_is_named() {
        let e = p("--frobnicate a.o").unwrap_err();
        assert!(e.0[0].message.contains("--frobnicate"));
    }
    #[test]
    fn versioning_and_export_options() {
        let c = p(
            "-version-script a.ver --dynamic-list=d.list --export-dynamic-symbol-list e.list \
                   --export-dynamic-symbol=foo* -Bsymbolic-functions --default-symver \
                   --no-allow-shlib-undefined --require-defined=bar --no-demangle x.o",
        )
        .unwrap();
        assert_eq!(c.inputs[0], InputArg::VersionScript("a.ver".into()));
        assert_eq!(
            c.inputs[1],
            InputArg::DynamicList {
                path: "d.list".into(),
                export: false
            }
        );
        assert_eq!(
            c.inputs[2],
            InputArg::DynamicList {
                path: "e.list".into(),
                export: true
            }
        );
        let o = &c.options;
        assert_eq!(o.export_dynamic_symbols, ["foo*"]);
        assert!(o.bsymbolic_functions && !o.bsymbolic);
        assert!(o.default_symver && o.no_allow_shlib_undefined && !o.demangle);
        assert_eq!(o.require_defined, ["bar"]);
        assert_eq!(o.undefined, ["bar"]);
        assert!(p("--demangle x.o").unwrap().options.demangle);
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
