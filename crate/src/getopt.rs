//! GNU ld's option grammar: which argument is which option, and where its value is. GNU ld parses
//! with glibc's `getopt_long_only`, so every long option may be spelled `-opt` or `--opt`, with its
//! value as `=V` or as the next argument, and may be abbreviated to any unique prefix. A single-dash
//! argument is tried as a long option first and only then as a short option with its value glued
//! on: `-emit-relocs` is `--emit-relocs`, not `-e mit-relocs`, and `-soname=x` is `--soname=x`.
//! A few long options (`--output`, `--omagic`, `--oformat`, `--export-dynamic-symbol`...) take
//! exactly two dashes, because `-ofile` must stay `-o file`. Two rewrites come before the parse, as
//! in GNU ld: `-lNAME` is always a library (never an abbreviation of `--library-path`), and `-G`
//! not followed by a number is `--shared`.
//!
//! This module only splits the command line into [`Token`]s naming each option by its canonical
//! (long) name; `options.rs` says what each one means. The tables list GNU ld 2.40's options for
//! the `elf_x86_64` emulation (plus initlink's own), so that prefixes and ambiguities come out as
//! GNU ld's do (`-hash` is ambiguous: `--hash-size` or `--hash-style`).

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    No,
    /// `--opt=V`, `--opt V`, or for a short option `-oV`, `-o V`.
    Required,
    /// Only `--opt=V` (a following argument is never taken).
    Optional,
}

/// One long option: its name, value, whether one dash is accepted, and its canonical name (the
/// name a synonym stands for: `-dy` is `Bdynamic`).
struct Long {
    name: &'static str,
    arg: Arg,
    two_dashes_only: bool,
    id: &'static str,
}

const fn l(name: &'static str, arg: Arg) -> Long {
    Long {
        name,
        arg,
        two_dashes_only: false,
        id: name,
    }
}

/// A synonym: `name` means the option `id`.
const fn syn(name: &'static str, arg: Arg, id: &'static str) -> Long {
    Long {
        name,
        arg,
        two_dashes_only: false,
        id,
    }
}

/// Accepted only as `--name` (`-name` is the short option with a glued value).
const fn l2(name: &'static str, arg: Arg) -> Long {
    Long {
        name,
        arg,
        two_dashes_only: true,
        id: name,
    }
}

use Arg::{No, Optional as Opt, Required as Req};

/// GNU ld 2.40's long options (`ld --help`, elf_x86_64), then initlink's own.
const LONG: &[Long] = &[
    l("architecture", Req),
    l("format", Req),
    l("mri-script", Req),
    syn("dc", No, "dc"),
    syn("dp", No, "dc"),
    l("dependency-file", Req),
    l("force-group-allocation", No),
    l("entry", Req),
    l("export-dynamic", No),
    l("no-export-dynamic", No),
    l("enable-non-contiguous-regions", No),
    l("enable-non-contiguous-regions-warnings", No),
    l("EB", No),
    l("EL", No),
    l("auxiliary", Req),
    l("filter", Req),
    l("gpsize", Req),
    l("soname", Req),
    l("dynamic-linker", Req),
    l("no-dynamic-linker", No),
    l("library", Req),
    l("library-path", Req),
    l("sysroot", Req),
    l("print-map", No),
    l("nmagic", No),
    l2("omagic", No),
    l2("no-omagic", No),
    l2("output", Req),
    l("out-implib", Req),
    l("plugin", Req),
    l("plugin-opt", Req),
    l("flto", Opt),
    l("flto-partition", Req),
    l("fuse-ld", Req),
    l("map-whole-files", Opt),
    l("no-map-whole-files", Opt),
    l("Qy", No),
    l("emit-relocs", No),
    l("relocatable", No),
    l("just-symbols", Req),
    l("remap-inputs-file", Req),
    l("remap-inputs", Req),
    l("strip-all", No),
    l("strip-debug", No),
    l("strip-discarded", No),
    l("no-strip-discarded", No),
    l("trace", No),
    l("script", Req),
    l("default-script", Req),
    syn("dT", Req, "default-script"),
    l("undefined", Req),
    l("require-defined", Req),
    l("unique", Opt),
    l("Ur", No),
    l("version", No),
    l("discard-all", No),
    l("discard-locals", No),
    l("discard-none", No),
    l("trace-symbol", Req),
    l("start-group", No),
    l("end-group", No),
    l("accept-unknown-input-arch", No),
    l("no-accept-unknown-input-arch", No),
    syn("add-needed", No, "copy-dt-needed-entries"),
    syn("no-add-needed", No, "no-copy-dt-needed-entries"),
    l("as-needed", No),
    l("no-as-needed", No),
    l("assert", Req),
    l("Bdynamic", No),
    syn("dy", No, "Bdynamic"),
    syn("call_shared", No, "Bdynamic"),
    l("Bstatic", No),
    syn("dn", No, "Bstatic"),
    syn("non_shared", No, "Bstatic"),
    // GNU ld treats `-static` as `-Bstatic`; initlink also takes it to mean a static executable.
    l("static", No),
    l("Bno-symbolic", No),
    l("Bsymbolic", No),
    l("Bsymbolic-functions", No),
    l("check-sections", No),
    l("no-check-sections", No),
    l("copy-dt-needed-entries", No),
    l("no-copy-dt-needed-entries", No),
    l("cref", No),
    l("defsym", Req),
    l("demangle", Opt),
    l("disable-multiple-abs-defs", No),
    l("embedded-relocs", No),
    l("fatal-warnings", No),
    l("no-fatal-warnings", No),
    l("fini", Req),
    l("force-exe-suffix", No),
    l("gc-sections", No),
    l("no-gc-sections", No),
    l("print-gc-sections", No),
    l("no-print-gc-sections", No),
    l("gc-keep-exported", No),
    l("hash-size", Req),
    l("help", No),
    l("init", Req),
    l("Map", Req),
    l("no-define-common", No),
    l("no-demangle", No),
    l("no-keep-memory", No),
    l("no-undefined", No),
    l("no-warnings", No),
    l("allow-shlib-undefined", No),
    l("no-allow-shlib-undefined", No),
    l("allow-multiple-definition", No),
    l("error-handling-script", Req),
    l2("undefined-version", No),
    l("no-undefined-version", No),
    l("default-symver", No),
    l("default-imported-symver", No),
    l("no-warn-mismatch", No),
    l("no-warn-search-mismatch", No),
    l("no-whole-archive", No),
    l("noinhibit-exec", No),
    syn("noinhibit_exec", No, "noinhibit-exec"),
    l("nostdlib", No),
    l2("oformat", Req),
    l("print-output-format", No),
    l("print-sysroot", No),
    l("qmagic", No),
    l("reduce-memory-overheads", No),
    l("max-cache-size", Req),
    l("relax", No),
    l("no-relax", No),
    l("retain-symbols-file", Req),
    l("rpath", Req),
    l("rpath-link", Req),
    l("shared", No),
    syn("Bshareable", No, "shared"),
    l("pie", No),
    syn("pic-executable", No, "pie"),
    l("no-pie", No),
    l("sort-common", Opt),
    syn("sort_common", No, "sort-common"),
    l("sort-section", Req),
    l("spare-dynamic-tags", Req),
    l("split-by-file", Opt),
    l("split-by-reloc", Opt),
    l("stats", No),
    l("target-help", No),
    l("task-link", Req),
    l("traditional-format", No),
    l("section-start", Req),
    l("Tbss", Req),
    l("Tdata", Req),
    l("Ttext", Req),
    l("Ttext-segment", Req),
    l("Trodata-segment", Req),
    l("Tldata-segment", Req),
    l("unresolved-symbols", Req),
    l("verbose", Opt),
    syn("dll-verbose", No, "verbose"),
    l("version-script", Req),
    l("version-exports-section", Req),
    l("dynamic-list-data", No),
    l("dynamic-list-cpp-new", No),
    l("dynamic-list-cpp-typeinfo", No),
    l("dynamic-list", Req),
    l2("export-dynamic-symbol", Req),
    l2("export-dynamic-symbol-list", Req),
    l("warn-common", No),
    l("warn-constructors", No),
    l("warn-execstack", No),
    l("no-warn-execstack", No),
    l("warn-rwx-segments", No),
    l("no-warn-rwx-segments", No),
    l("warn-multiple-gp", No),
    l("warn-once", No),
    l("warn-section-align", No),
    l("warn-textrel", No),
    syn("warn-shared-textrel", No, "warn-textrel"),
    l("warn-alternate-em", No),
    l("warn-unresolved-symbols", No),
    l("error-unresolved-symbols", No),
    l("whole-archive", No),
    l("wrap", Req),
    l("ignore-unresolved-symbol", Req),
    l("push-state", No),
    l("pop-state", No),
    l("print-memory-usage", No),
    l("orphan-handling", Req),
    l("print-map-discarded", No),
    l("no-print-map-discarded", No),
    l("print-map-locals", No),
    l("no-print-map-locals", No),
    l("ctf-variables", No),
    l("no-ctf-variables", No),
    l("ctf-share-types", Req),
    // The ELF emulation's.
    l("audit", Req),
    l("Bgroup", No),
    l("build-id", Opt),
    l("package-metadata", Opt),
    l("compress-debug-sections", Req),
    l("depaudit", Req),
    l("disable-new-dtags", No),
    l("enable-new-dtags", No),
    l("eh-frame-hdr", No),
    l("no-eh-frame-hdr", No),
    l("exclude-libs", Req),
    l("hash-style", Req),
    l("ld-generated-unwind-info", No),
    l("no-ld-generated-unwind-info", No),
    // initlink's own.
    l("report", Req),
    l("time", No),
    l("fork", No),
    l("no-fork", No),
    l("init-stub", Req),
    // mold's: with -r, `.text.foo` goes into `.text` as in a final link.
    l("relocatable-merge-sections", No),
];

/// GNU ld's short options and the long option each stands for (its own letter when none).
const SHORT: &[(char, Arg, &str)] = &[
    ('a', Req, "a"),
    ('A', Req, "architecture"),
    ('b', Req, "format"),
    ('c', Req, "mri-script"),
    ('d', No, "dc"),
    ('e', Req, "entry"),
    ('E', No, "export-dynamic"),
    ('f', Req, "auxiliary"),
    ('F', Req, "filter"),
    ('g', No, "g"),
    ('G', Req, "gpsize"),
    ('h', Req, "soname"),
    ('I', Req, "dynamic-linker"),
    ('l', Req, "library"),
    ('L', Req, "library-path"),
    ('m', Req, "m"),
    ('M', No, "print-map"),
    ('n', No, "nmagic"),
    ('N', No, "omagic"),
    ('o', Req, "output"),
    ('O', Req, "O"),
    ('q', No, "emit-relocs"),
    ('r', No, "relocatable"),
    ('i', No, "relocatable"),
    ('R', Req, "just-symbols"),
    ('s', No, "strip-all"),
    ('S', No, "strip-debug"),
    ('t', No, "trace"),
    ('T', Req, "script"),
    ('u', Req, "undefined"),
    ('v', No, "version"),
    ('V', No, "V"),
    ('x', No, "discard-all"),
    ('X', No, "discard-locals"),
    ('y', Req, "trace-symbol"),
    ('Y', Req, "Y"),
    ('(', No, "start-group"),
    (')', No, "end-group"),
    ('w', No, "no-warnings"),
    ('z', Req, "z"),
    ('P', Req, "depaudit"),
];

/// Every long option GNU ld has (and initlink's own), as (name, takes a value, canonical id),
/// synonyms included.
pub fn long_options() -> impl Iterator<Item = (&'static str, Arg, &'static str)> {
    LONG.iter().map(|l| (l.name, l.arg, l.id))
}

/// One command-line item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// A file name (or anything not starting with `-`, and `-` itself).
    Input(String),
    /// An option by its canonical name (`output` for `-o`), its value, and the argument as
    /// written (for messages).
    Opt {
        id: &'static str,
        value: Option<String>,
        spelled: String,
    },
}

/// Where a long-option lookup landed.
enum Found {
    One(&'static Long),
    Ambiguous(Vec<&'static str>),
    None,
}

/// `getopt`'s long-option match: an exact name, else a unique prefix. `long_only` is
/// `getopt_long_only`'s rule that any two prefix matches are ambiguous (otherwise matches that
/// are the same option are not).
fn find_long(name: &str, two_dashes: bool, long_only: bool) -> Found {
    let table = LONG.iter().filter(move |o| o.two_dashes_only == two_dashes);
    if let Some(o) = table.clone().find(|o| o.name == name) {
        return Found::One(o);
    }
    if name.is_empty() {
        return Found::None;
    }
    let matches: Vec<&'static Long> = table.filter(|o| o.name.starts_with(name)).collect();
    match matches.as_slice() {
        [] => Found::None,
        [one] => Found::One(one),
        [first, rest @ ..]
            if !long_only && rest.iter().all(|o| o.id == first.id && o.arg == first.arg) =>
        {
            Found::One(first)
        }
        many => Found::Ambiguous(many.iter().map(|o| o.name).collect()),
    }
}

fn short(c: char) -> Option<(Arg, &'static str)> {
    SHORT
        .iter()
        .find(|(s, _, _)| *s == c)
        .map(|&(_, a, id)| (a, id))
}

/// Split `args` (without the program name) into options and inputs as GNU ld does. Errors name
/// the argument.
pub fn tokenize(args: &[String]) -> Result<Vec<Token>, String> {
    let mut out = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            // Everything after `--` is a file name.
            out.extend(args[i..].iter().cloned().map(Token::Input));
            break;
        }
        if !a.starts_with('-') || a == "-" {
            out.push(Token::Input(a.to_string()));
            continue;
        }
        // GNU ld's rewrites: `-lNAME` is always `--library=NAME`; `-G` without a number after it
        // is `--shared`.
        if let Some(name) = a.strip_prefix("-l").filter(|n| !n.is_empty()) {
            out.push(opt("library", Some(name.to_string()), a));
            continue;
        }
        if a == "-G"
            && !args
                .get(i)
                .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
        {
            out.push(opt("shared", None, a));
            continue;
        }
        if let Some(body) = a.strip_prefix("--") {
            // `--name`: a long option of either table.
            let found = match find_long(split_eq(body).0, false, true) {
                Found::One(o) => Found::One(o),
                first => match find_long(split_eq(body).0, true, false) {
                    Found::None => first,
                    second => second,
                },
            };
            match found {
                Found::One(o) => out.push(long_value(o, body, a, args, &mut i)?),
                Found::Ambiguous(names) => return Err(ambiguous(a, &names)),
                Found::None => return Err(format!("unknown option: {a}")),
            }
            continue;
        }
        let body = &a[1..];
        let first = body.chars().next().unwrap_or('-');
        let first_short = short(first);
        // `-name`: a long option if it is one (or a prefix of exactly one), else short options.
        if body.chars().nth(1).is_some() || first_short.is_none() {
            match find_long(split_eq(body).0, false, true) {
                Found::One(o) => {
                    out.push(long_value(o, body, a, args, &mut i)?);
                    continue;
                }
                Found::Ambiguous(names) => return Err(ambiguous(a, &names)),
                Found::None if first_short.is_none() => return Err(format!("unknown option: {a}")),
                Found::None => {}
            }
        }
        // Short options: `-oFILE`, `-o FILE`; letters taking no value may be grouped (`-sS`).
        let mut rest = body;
        while let Some(c) = rest.chars().next() {
            let after = &rest[c.len_utf8()..];
            let Some((arg, id)) = short(c) else {
                return Err(format!("unknown option: {a}"));
            };
            if arg == Arg::No {
                out.push(opt(id, None, a));
                rest = after;
                continue;
            }
            if rest.len() != body.len() {
                // A value-taking letter after others: `-static-pie` is not `-s -t -a tic-pie`.
                return Err(format!("unable to disambiguate: {a} (did you mean -{a} ?)"));
            }
            let value = if !after.is_empty() {
                after.to_string()
            } else {
                match args.get(i) {
                    Some(v) => {
                        i += 1;
                        v.clone()
                    }
                    None => return Err(format!("option '{a}' needs a value")),
                }
            };
            out.push(opt(id, Some(value), a));
            break;
        }
    }
    Ok(out)
}

fn opt(id: &'static str, value: Option<String>, spelled: &str) -> Token {
    Token::Opt {
        id,
        value,
        spelled: spelled.to_string(),
    }
}

/// `name=value` → (`name`, Some(`value`)).
fn split_eq(body: &str) -> (&str, Option<&str>) {
    match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    }
}

/// The token for long option `o` written as `spelled` (its name part being `body`), taking the
/// next argument as its value if it needs one and none is attached.
fn long_value(
    o: &'static Long,
    body: &str,
    spelled: &str,
    args: &[String],
    i: &mut usize,
) -> Result<Token, String> {
    let (name, attached) = split_eq(body);
    let dashes = &spelled[..spelled.len() - body.len()];
    let value = match (o.arg, attached) {
        (Arg::No, Some(_)) => {
            return Err(format!("option '{dashes}{name}' doesn't allow an argument"))
        }
        (Arg::No, None) | (Arg::Optional, None) => None,
        (_, Some(v)) => Some(v.to_string()),
        (Arg::Required, None) => match args.get(*i) {
            Some(v) => {
                *i += 1;
                Some(v.clone())
            }
            None => return Err(format!("option '{spelled}' needs a value")),
        },
    };
    Ok(opt(o.id, value, spelled))
}

fn ambiguous(spelled: &str, names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| format!("--{n}")).collect();
    format!(
        "option '{spelled}' is ambiguous; possibilities: {}",
        list.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Result<Vec<Token>, String> {
        tokenize(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }
    fn one(s: &str) -> (&'static str, Option<String>) {
        match t(s).unwrap().as_slice() {
            [Token::Opt { id, value, .. }] => (id, value.clone()),
            other => panic!("{s}: {other:?}"),
        }
    }
    fn v(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn every_long_option_takes_one_or_two_dashes_and_either_value_form() {
        for s in [
            "-soname=x",
            "--soname=x",
            "-soname x",
            "--soname x",
            "-h x",
            "-hx",
        ] {
            assert_eq!(one(s), ("soname", v("x")), "{s}");
        }
        for s in ["-rpath=/a", "--rpath=/a", "-rpath /a", "--rpath /a"] {
            assert_eq!(one(s), ("rpath", v("/a")), "{s}");
        }
        assert_eq!(one("-hash-style=gnu"), ("hash-style", v("gnu")));
        assert_eq!(one("-version-script F"), ("version-script", v("F")));
        assert_eq!(one("-defsym=a=b"), ("defsym", v("a=b")));
        assert_eq!(one("--defsym a=b"), ("defsym", v("a=b")));
        assert_eq!(one("-whole-archive"), ("whole-archive", None));
        assert_eq!(one("-Map=m"), ("Map", v("m")));
    }

    #[test]
    fn single_dash_long_options_win_over_glued_short_values() {
        assert_eq!(one("-emit-relocs"), ("emit-relocs", None));
        assert_eq!(one("-export-dynamic"), ("export-dynamic", None));
        assert_eq!(one("-entry=main"), ("entry", v("main")));
        assert_eq!(one("-eh-frame-hdr"), ("eh-frame-hdr", None));
        assert_eq!(one("-static"), ("static", None));
        // Not a long option (nor a prefix of one): the short option and its glued value.
        assert_eq!(one("-emain"), ("entry", v("main")));
        assert_eq!(one("-e main"), ("entry", v("main")));
        assert_eq!(one("-zexecstack"), ("z", v("execstack")));
        assert_eq!(one("-melf_x86_64"), ("m", v("elf_x86_64")));
        assert_eq!(one("-O1"), ("O", v("1")));
        assert_eq!(one("-Lfoo"), ("library-path", v("foo")));
    }

    #[test]
    fn two_dash_only_options_are_short_options_with_one_dash() {
        assert_eq!(one("-omagic"), ("output", v("magic")));
        assert_eq!(one("-output=x"), ("output", v("utput=x")));
        assert_eq!(one("--output=x"), ("output", v("x")));
        assert_eq!(one("--output x"), ("output", v("x")));
        assert_eq!(one("--omagic"), ("omagic", None));
    }

    #[test]
    fn dash_l_is_always_a_library() {
        assert_eq!(one("-lm"), ("library", v("m")));
        assert_eq!(one("-library=m"), ("library", v("ibrary=m")));
        assert_eq!(one("-lib"), ("library", v("ib")));
        assert_eq!(one("--library=m"), ("library", v("m")));
        assert_eq!(one("-l:libc.a"), ("library", v(":libc.a")));
    }

    #[test]
    fn prefixes_and_ambiguity() {
        assert_eq!(one("--whole"), ("whole-archive", None));
        assert_eq!(one("-export-dyn"), ("export-dynamic", None));
        assert_eq!(one("--sysroot=/s"), ("sysroot", v("/s")));
        for s in ["-hash", "-stat", "-tr", "-Bsym", "-rpat=x", "--hash"] {
            let e = t(s).unwrap_err();
            assert!(e.contains("ambiguous") && e.contains(s), "{s}: {e}");
        }
    }

    #[test]
    fn synonyms_and_short_forms_share_the_canonical_name() {
        assert_eq!(one("-dy"), ("Bdynamic", None));
        assert_eq!(one("-call_shared"), ("Bdynamic", None));
        assert_eq!(one("-dn"), ("Bstatic", None));
        assert_eq!(one("-Bshareable"), ("shared", None));
        assert_eq!(one("-(").0, "start-group");
        assert_eq!(one("-t"), ("trace", None));
        assert_eq!(one("-v"), ("version", None));
        assert_eq!(one("-G"), ("shared", None));
        assert_eq!(one("-G 8"), ("gpsize", v("8")));
        assert_eq!(one("-q"), ("emit-relocs", None));
    }

    #[test]
    fn grouped_short_options() {
        let toks = t("-sS").unwrap();
        assert_eq!(toks.len(), 2);
        assert!(t("-static-pie").unwrap_err().contains("disambiguate"));
    }

    #[test]
    fn errors_name_the_argument() {
        assert_eq!(
            t("--frobnicate").unwrap_err(),
            "unknown option: --frobnicate"
        );
        assert!(t("-soname")
            .unwrap_err()
            .contains("'-soname' needs a value"));
        assert!(t("-o").unwrap_err().contains("'-o' needs a value"));
        assert!(t("--static=1").unwrap_err().contains("doesn't allow"));
        assert_eq!(t("-é").unwrap_err(), "unknown option: -é");
        assert_eq!(
            t("a.o - -- -x").unwrap(),
            vec![
                Token::Input("a.o".into()),
                Token::Input("-".into()),
                Token::Input("-x".into())
            ]
        );
    }

    #[test]
    fn table_has_no_duplicate_names() {
        let mut names: Vec<&str> = LONG.iter().map(|o| o.name).collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(n, names.len());
    }
}
