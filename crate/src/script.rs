//! GNU ld linker scripts given as inputs, as glibc and gcc install them (`libc.so`, `libm.a` are
//! text: `GROUP ( ... AS_NEEDED ( ... ) )`). Only the input-naming commands are understood; they
//! expand to command-line items. `VERSION { ... }` holds version nodes (`version_script`).
//! `SECTIONS { ... }` and `MEMORY { ... }` are parsed by [`crate::linker_script`] and laid out
//! by `layout::script`; `INCLUDE FILE` reads another script in place (through the caller's
//! [`Includer`]); `PHDRS`, `OVERLAY` and `INSERT` are refused with their position.

use crate::linker_script as sections;
use crate::linker_script::Includer;

use crate::diag::{err, Diagnostic, Result};
use crate::options::InputArg;

/// Items a script names, in order, plus `SEARCH_DIR`s.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Script {
    /// `AS_NEEDED ( ... )` becomes `AsNeeded(true)` ... `AsNeeded(false)`; the caller replaces the
    /// closing `AsNeeded(false)` by the `--as-needed` state in force where the script was named.
    pub items: Vec<InputArg>,
    pub search_dirs: Vec<String>,
    /// The nodes of its `VERSION { ... }` commands, in order.
    pub versions: crate::version_script::Script,
    /// Its symbol assignments (`NAME = VALUE;`, `PROVIDE (NAME = VALUE)`) and `ENTRY`, in order;
    /// its `SECTIONS` last.
    pub assignments: Vec<Assignment>,
}

/// What a script's top level says about symbols, applied as the command line's options are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignment {
    /// `NAME = VALUE;` (as `--defsym NAME=VALUE`); `provide`: `PROVIDE (NAME = VALUE)`, only
    /// when something refers to NAME and nothing defines it; `hidden`: `HIDDEN (NAME = VALUE)`
    /// or `PROVIDE_HIDDEN`, bound locally.
    Define {
        name: String,
        value: crate::options::Defsym,
        provide: bool,
        hidden: bool,
    },
    /// `ENTRY (NAME)` (as `-e NAME`, which wins over it).
    Entry(String),
    /// The commands of its `SECTIONS { ... }`: the layout follows them.
    Sections(sections::Sections),
}

use crate::linker_script::position;

/// The assignment `NAME = VALUE` in `words` (spelled `NAME=VALUE`, `NAME = VALUE`...).
fn assignment(words: &[String]) -> std::result::Result<(String, crate::options::Defsym), String> {
    let joined = words.concat();
    crate::options::parse_defsym(&joined).map_err(|e| {
        let why = e.0.first().map_or(String::new(), |d| d.message.clone());
        why.replacen("--defsym", "assignment", 1)
    })
}

/// Take the `VERSION { ... }` commands out of `text` (blanked, newlines kept, so the rest keeps
/// its positions) and parse their insides as version nodes.
fn take_versions(name: &str, text: &str) -> Result<(String, crate::version_script::Script)> {
    let mut out = String::with_capacity(text.len());
    let mut script = crate::version_script::Script::default();
    let (mut line, mut col) = (1, 1);
    let mut rest = text;
    let blank = |s: &str, out: &mut String| {
        out.extend(s.chars().map(|c| if c == '\n' { '\n' } else { ' ' }))
    };
    let advance = |s: &str, line: &mut usize, col: &mut usize| {
        for c in s.chars() {
            if c == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
        }
    };
    while let Some(at) = find_word(rest, "VERSION") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        advance(before, &mut line, &mut col);
        let after = from["VERSION".len()..].trim_start();
        let open = from.len() - after.len();
        if !after.starts_with('{') {
            return err(Diagnostic::error("expected '{' after VERSION")
                .file(format!("{name}:{line}:{col}")));
        }
        let Some(close) = matching_brace(after) else {
            // A comment that never closes hides the closing brace: say so, as GNU ld does.
            let unclosed = after
                .rfind("/*")
                .is_some_and(|c| !after[c..].contains("*/"));
            let why = if unclosed {
                "unclosed comment in VERSION { ... }"
            } else {
                "VERSION { without its closing '}'"
            };
            return err(Diagnostic::error(why).file(format!("{name}:{line}:{col}")));
        };
        let (mut l, mut c) = (line, col);
        advance(&from[..open + 1], &mut l, &mut c);
        let origin = crate::version_script::Origin { line: l, column: c };
        let inner = &after[1..close];
        script
            .nodes
            .extend(crate::version_script::parse_at(name, inner, origin)?.nodes);
        let whole = &from[..open + close + 1];
        blank(whole, &mut out);
        advance(whole, &mut line, &mut col);
        rest = &from[open + close + 1..];
    }
    out.push_str(rest);
    Ok((out, script))
}

/// A script's layout commands, each with the offset where it stands in its script (an
/// `INCLUDE`d file's at its `INCLUDE`), to be put in that order.
type Layouts = Vec<(usize, sections::Sections)>;

/// Take the `SECTIONS { ... }` and `MEMORY { ... }` commands out of `text` (blanked, newlines
/// kept) and parse them; `INCLUDE`s inside them read through `include`, `depth` includes deep.
fn take_layout(
    name: &str,
    text: &str,
    include: &mut Includer<'_>,
    depth: usize,
) -> Result<(String, Layouts)> {
    let mut out = String::with_capacity(text.len());
    let mut found = Layouts::new();
    let mut done = 0;
    loop {
        let next = |w: &'static str| find_word(&text[done..], w).map(|at| (at, w));
        let Some((rel, word)) = [next("SECTIONS"), next("MEMORY")]
            .into_iter()
            .flatten()
            .min()
        else {
            break;
        };
        let at = done + rel;
        out.push_str(&text[done..at]);
        let mut p =
            sections::Parser::new(name, text, at + word.len()).with_include(&mut *include, depth);
        let mut block = sections::Sections {
            laid_out: word == "SECTIONS",
            ..Default::default()
        };
        let r = if word == "MEMORY" {
            p.expect_memory_open()
                .and_then(|()| p.memory_body(&mut block.memory))
        } else {
            p.expect_open()
                .and_then(|()| p.sections_body(&mut block.commands))
        };
        if let Err(e) = r {
            return err(Diagnostic::error(e.0.clone()).file(p.error_at(&e)));
        }
        found.push((at, block));
        let end = p.pos();
        out.extend(
            text[at..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        done = end;
    }
    out.push_str(&text[done..]);
    Ok((out, found))
}

/// The byte offset of `word` standing alone in `text` outside comments and quoted strings.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"/*") {
            i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
        } else if b[i] == b'"' {
            i += text[i + 1..].find('"').map_or(b.len(), |e| e + 2);
        } else if b[i..].starts_with(word.as_bytes())
            && (i == 0 || !is_word_byte(b[i - 1]))
            && b.get(i + word.len()).is_none_or(|&c| !is_word_byte(c))
        {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'$'
}

/// The offset of the `}` that closes the `{` at the start of `text` (braces in comments and
/// quoted strings do not count).
fn matching_brace(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map(|e| i + 2 + e + 1)?;
            }
            b'#' => i = text[i..].find('\n').map_or(b.len(), |e| i + e),
            b'"' => i = text[i + 1..].find('"').map(|e| i + 1 + e)?,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Split a script into tokens with their byte offsets: words, quoted strings, `(`, `)`, `,` and
/// `;`; comments dropped. Errors (as plain messages) for an unterminated comment or string and
/// for binary data.
fn tokens(text: &str) -> std::result::Result<Vec<(String, usize)>, String> {
    if let Some(p) = text
        .char_indices()
        .find(|&(_, c)| (c.is_control() && !c.is_whitespace()) || c == char::REPLACEMENT_CHARACTER)
    {
        return Err(format!(
            "not a linker script: binary data at offset {}",
            p.0
        ));
    }
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(out);
        };
        if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(e) => rest = &r[e + 2..],
                None => return Err("unterminated comment".into()),
            }
            continue;
        }
        let at = text.len() - rest.len();
        if c == '(' || c == ')' || c == ',' || c == ';' {
            out.push((c.to_string(), at));
            rest = &rest[1..];
            continue;
        }
        if c == '"' {
            let Some(end) = rest[1..].find('"') else {
                return Err("unterminated quoted string".into());
            };
            out.push((rest[1..end + 1].to_string(), at));
            rest = &rest[end + 2..];
            continue;
        }
        let end = rest
            .find(|ch: char| ch.is_whitespace() || "(),;".contains(ch))
            .unwrap_or(rest.len());
        out.push((rest[..end].to_string(), at));
        rest = &rest[end..];
    }
}

/// A script's commands, its `INCLUDE`s refused (nothing to read them from).
pub fn parse(name: &str, text: &str) -> Result<Script> {
    parse_with(
        name,
        text,
        &mut |_| Err("No such file or directory".into()),
        0,
    )
}

/// A script's commands, each `INCLUDE FILE` read through `include` (the name it goes by and
/// its text) and taken where it stands; `nest`: how many includes deep `text` is.
pub fn parse_with(
    name: &str,
    text: &str,
    include: &mut Includer<'_>,
    nest: usize,
) -> Result<Script> {
    let bad = |m: String| Diagnostic::error(m).file(name.to_string());
    let (text, versions) = take_versions(name, text)?;
    let (text, mut layout) = take_layout(name, &text, include, nest)?;
    let (toks, offs): (Vec<String>, Vec<usize>) = tokens(&text).map_err(bad)?.into_iter().unzip();
    let at = |i: usize| position(name, &text, offs.get(i).copied().unwrap_or(text.len()));
    let bad_at = |i: usize, m: String| Diagnostic::error(m).file(at(i));
    let mut s = Script {
        versions,
        ..Script::default()
    };
    let mut i = 0;
    let mut depth: Vec<&str> = Vec::new();
    while i < toks.len() {
        let t = toks[i].as_str();
        match t {
            "INPUT" | "GROUP" | "AS_NEEDED" | "OUTPUT_FORMAT" | "SEARCH_DIR" | "OUTPUT_ARCH" | "TARGET" => {
                if toks.get(i + 1).map(String::as_str) != Some("(") {
                    return err(bad(format!("expected '(' after {t}")));
                }
                match t {
                    "GROUP" => s.items.push(InputArg::StartGroup),
                    "OUTPUT_FORMAT" | "OUTPUT_ARCH" | "TARGET" | "SEARCH_DIR" => {
                        let mut j = i + 2;
                        while toks.get(j).is_some_and(|t| t != ")") {
                            if toks[j] == "(" {
                                return err(bad(format!("unexpected '(' in {t}")));
                            }
                            if t == "SEARCH_DIR" && toks[j] != "," {
                                s.search_dirs.push(toks[j].clone());
                            } else if t == "OUTPUT_FORMAT" && toks[j] != "," && !toks[j].contains("x86-64") {
                                return err(bad(format!("unsupported OUTPUT_FORMAT {}", toks[j])));
                            }
                            j += 1;
                        }
                        if j >= toks.len() {
                            return err(bad(format!("unterminated {t} ( at end of script")));
                        }
                        i = j + 1;
                        continue;
                    }
                    _ => {}
                }
                if t == "AS_NEEDED" {
                    s.items.push(InputArg::AsNeeded(true));
                }
                depth.push(match t {
                    "GROUP" => "GROUP",
                    "AS_NEEDED" => "AS_NEEDED",
                    _ => "INPUT",
                });
                i += 2;
            }
            ")" => {
                match depth.pop() {
                    Some("GROUP") => s.items.push(InputArg::EndGroup),
                    // Closes AS_NEEDED: the caller turns this into the state it had before.
                    Some("AS_NEEDED") => s.items.push(InputArg::AsNeeded(false)),
                    Some(_) => {}
                    None => return err(bad("unbalanced ')'".into())),
                }
                i += 1;
            }
            "," => i += 1,
            ";" if depth.is_empty() => i += 1,
            "ENTRY" | "PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN" if depth.is_empty() => {
                if toks.get(i + 1).map(String::as_str) != Some("(") {
                    return err(bad_at(i, format!("expected '(' after {t}")));
                }
                let Some(close) = toks[i + 2..].iter().position(|t| t == ")") else {
                    return err(bad_at(i, format!("{t} ( without its ')'")));
                };
                let inner = &toks[i + 2..i + 2 + close];
                let simple = !inner.is_empty() && !inner.iter().any(|w| w == "(" || w == ";");
                if t != "ENTRY" && !(simple && assignment(inner).is_ok()) {
                    // An expression: evaluated where it stands, as in SECTIONS.
                    i = expr_assignment(name, &text, &offs, i, &mut layout)?;
                    continue;
                }
                if !simple {
                    return err(bad_at(i + 2, format!("expected a symbol assignment in {t} ( )")));
                }
                s.assignments.push(match t {
                    "ENTRY" if inner.len() == 1 => Assignment::Entry(inner[0].clone()),
                    "ENTRY" => return err(bad_at(i + 2, "ENTRY takes one symbol name".into())),
                    _ => {
                        let (name, value) = assignment(inner).map_err(|m| bad_at(i + 2, m))?;
                        Assignment::Define {
                            name,
                            value,
                            provide: t != "HIDDEN",
                            hidden: t != "PROVIDE",
                        }
                    }
                });
                i += 3 + close;
            }
            _ if depth.is_empty() && (toks.get(i + 1).is_some_and(|n| n == "=") || t.contains('=')) => {
                i = top_assignment(name, &text, (&toks, &offs, i), &mut s, &mut layout)?;
            }
            "(" => return err(bad("unexpected '('".into())),
            "INCLUDE" if depth.is_empty() => {
                let file = toks.get(i + 1).map(String::as_str);
                let inner = include_script(file, include, nest).map_err(|m| bad_at(i, m))?;
                merge_included(&mut s, &mut layout, inner?, offs[i]);
                i += 2;
            }
            "PHDRS" | "OVERLAY" | "INSERT" if depth.is_empty() => {
                return err(bad_at(i, format!("{t} is not supported by initlink")))
            }
            _ if depth.is_empty() => {
                return err(bad_at(i, format!("unsupported linker script command '{t}' (only INPUT, GROUP, AS_NEEDED, OUTPUT_FORMAT, SEARCH_DIR, VERSION, SECTIONS, ENTRY, PROVIDE, PROVIDE_HIDDEN, HIDDEN and NAME = VALUE; are understood)")))
            }
            _ => {
                match t.strip_prefix("-l") {
                    Some("") | Some(":") => {
                        return err(bad("'-l' with no library name".into()))
                    }
                    Some(l) => s.items.push(match l.strip_prefix(':') {
                        Some(file) => InputArg::Lib { name: file.to_string(), static_only: false, exact: true },
                        None => InputArg::Lib { name: l.to_string(), static_only: false, exact: false },
                    }),
                    None => s.items.push(InputArg::Path(t.to_string())),
                }
                i += 1;
            }
        }
    }
    if !depth.is_empty() {
        return err(bad("unterminated '(' at end of script".into()));
    }
    s.assignments
        .extend(joined(layout).map(Assignment::Sections));
    Ok(s)
}

/// `NAME = VALUE ;` at token `i` of `toks` (at `offs`): a number or a symbol's name as
/// `--defsym`'s, else an expression (`_estack = ORIGIN(RAM) + LENGTH(RAM);`), evaluated where
/// it stands as in `SECTIONS`. The index of the token after it.
fn top_assignment(
    name: &str,
    text: &str,
    (toks, offs, i): (&[String], &[usize], usize),
    s: &mut Script,
    layout: &mut Layouts,
) -> Result<usize> {
    let Some(end) = toks[i..].iter().position(|t| t == ";") else {
        return err(Diagnostic::error("symbol assignment without its ';'")
            .file(position(name, text, offs[i])));
    };
    let words = &toks[i..i + end];
    let plain = !words.iter().any(|w| w == "(" || w == ")" || w == ",");
    let Some(Ok((target, value))) = plain.then(|| assignment(words)) else {
        return expr_assignment(name, text, offs, i, layout);
    };
    s.assignments.push(Assignment::Define {
        name: target,
        value,
        provide: false,
        hidden: false,
    });
    Ok(i + end + 1)
}

/// The assignment with an expression at token `i` (`NAME = EXPR;`, `PROVIDE (...)`), parsed
/// as `SECTIONS`' assignments are: it joins the layout where it stands (GNU ld evaluates it
/// there). The index of the token after it.
fn expr_assignment(
    name: &str,
    text: &str,
    offs: &[usize],
    i: usize,
    layout: &mut Layouts,
) -> Result<usize> {
    let mut p = sections::Parser::new(name, text, offs[i]);
    let a = match p.assignment() {
        Ok(a) => a,
        Err(e) => return err(Diagnostic::error(e.0.clone()).file(p.error_at(&e))),
    };
    let end = p.pos();
    let mut l = sections::Sections::default();
    l.commands.push(sections::Command::Assign(a));
    layout.push((offs[i], l));
    Ok(offs.partition_point(|&o| o < end))
}

/// A script's layout commands in the order they stand, an included file's where its
/// `INCLUDE` is (None: it has no `SECTIONS`, `MEMORY` or expression).
fn joined(mut layout: Layouts) -> Option<sections::Sections> {
    if layout.is_empty() {
        return None;
    }
    layout.sort_by_key(|l| l.0);
    let mut all = sections::Sections::default();
    for (_, l) in layout {
        all.commands.extend(l.commands);
        all.memory.extend(l.memory);
        all.laid_out |= l.laid_out;
    }
    Some(all)
}

/// The script top-level `INCLUDE FILE` names, read and parsed (`Err`: why it cannot be read;
/// `Ok(Err)`: what is wrong in it).
fn include_script(
    file: Option<&str>,
    include: &mut Includer<'_>,
    depth: usize,
) -> std::result::Result<Result<Script>, String> {
    let file = file.ok_or("expected a file name after INCLUDE")?;
    if depth >= sections::MAX_INCLUDE_DEPTH {
        return Err(format!(
            "INCLUDE {file}: files included more than {} deep",
            sections::MAX_INCLUDE_DEPTH
        ));
    }
    let (name, text) =
        include(file).map_err(|why| format!("cannot open linker script file {file}: {why}"))?;
    Ok(parse_with(&name, &text, include, depth + 1))
}

/// An included script's commands into the including one's, its layout at offset `at`.
fn merge_included(s: &mut Script, layout: &mut Layouts, inner: Script, at: usize) {
    s.items.extend(inner.items);
    s.search_dirs.extend(inner.search_dirs);
    s.versions.nodes.extend(inner.versions.nodes);
    for a in inner.assignments {
        match a {
            Assignment::Sections(l) => layout.push((at, l)),
            other => s.assignments.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn glibc_libc_so() {
        let s = parse(
            "libc.so",
            "/* GNU ld script\n */\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( /lib/libc.so.6 /usr/lib/libc_nonshared.a  AS_NEEDED ( /lib64/ld-linux-x86-64.so.2 ) )\n",
        )
        .unwrap();
        assert_eq!(
            s.items,
            vec![
                InputArg::StartGroup,
                InputArg::Path("/lib/libc.so.6".into()),
                InputArg::Path("/usr/lib/libc_nonshared.a".into()),
                InputArg::AsNeeded(true),
                InputArg::Path("/lib64/ld-linux-x86-64.so.2".into()),
                InputArg::AsNeeded(false),
                InputArg::EndGroup
            ]
        );
    }
    #[test]
    fn malformed_scripts_are_errors() {
        for bad in [
            "GROUP ( a.o /* unterminated comment",
            "INPUT ( \"unterminated.o )",
            "SEARCH_DIR ( /x",
            "OUTPUT_FORMAT ( elf64-x86-64",
            "GROUP ( ( a.o ) )",
            "INPUT ( -l )",
            "INPUT ( -l: )",
            "INPUT ( a.o \u{1} )",
            "INPUT ( \u{fffd} )",
            "GROUP ) (",
        ] {
            let e = parse("bad.ld", bad).expect_err(bad);
            assert_eq!(e.0[0].file.as_deref(), Some("bad.ld"), "{bad}");
        }
    }
    #[test]
    fn exact_library_names() {
        let s = parse("x.ld", "INPUT ( -l:libfoo.a -lbar )").unwrap();
        assert_eq!(
            s.items,
            vec![
                InputArg::Lib {
                    name: "libfoo.a".into(),
                    static_only: false,
                    exact: true
                },
                InputArg::Lib {
                    name: "bar".into(),
                    static_only: false,
                    exact: false
                },
            ]
        );
    }
    #[test]
    fn version_commands() {
        let s = parse(
            "v.ld",
            "/* VERSION { x } */ INPUT(a.o)\nVERSION {\n  ver_a { global: foo; };\n}\nVERSION{ver_b{bar;};}",
        )
        .unwrap();
        assert_eq!(s.items, vec![InputArg::Path("a.o".into())]);
        let names: Vec<_> = s
            .versions
            .nodes
            .iter()
            .map(|n| n.name.clone().unwrap())
            .collect();
        assert_eq!(names, ["ver_a", "ver_b"]);
        assert_eq!(s.versions.nodes[0].at, "v.ld:3:3");
        let e = parse("v.ld", "INPUT(a.o)\nVERSION { v { foo } }").unwrap_err();
        assert_eq!(e.0[0].file.as_deref(), Some("v.ld:2:19"));
        for bad in [
            "VERSION",
            "VERSION {",
            "VERSION ( x )",
            "VERSION { \"}",
            "VERSION { /* }",
        ] {
            assert!(parse("v.ld", bad).is_err(), "{bad}");
        }
    }
    #[test]
    fn symbol_assignments() {
        use crate::options::Defsym;
        let s = parse(
            "a.ld",
            "bar = foo;\nbaz=0x10 ; PROVIDE ( qux = bar ) ENTRY(start);\nINPUT(a.o)\nHIDDEN(h = 1); PROVIDE_HIDDEN(p = 2);",
        )
        .unwrap();
        let def = |n: &str, v: Defsym, provide| Assignment::Define {
            name: n.into(),
            value: v,
            provide,
            hidden: false,
        };
        let hidden = |n: &str, v: u64, provide| Assignment::Define {
            name: n.into(),
            value: Defsym::Value(v),
            provide,
            hidden: true,
        };
        assert_eq!(
            s.assignments,
            [
                def("bar", Defsym::Symbol("foo".into()), false),
                def("baz", Defsym::Value(16), false),
                def("qux", Defsym::Symbol("bar".into()), true),
                Assignment::Entry("start".into()),
                hidden("h", 1, false),
                hidden("p", 2, true),
            ]
        );
        assert_eq!(s.items, [InputArg::Path("a.o".into())]);
        for (bad, at) in [
            ("INPUT(a.o)\n  bar = foo", "a.ld:2:3"),
            ("x = 1 +;", "a.ld:1:8"),
            ("PROVIDE(x = ADDR(.text) +);", "a.ld:1:26"),
            ("\nENTRY(a b)", "a.ld:2:7"),
            ("ENTRY a", "a.ld:1:1"),
            ("PROVIDE(x = 1", "a.ld:1:1"),
            ("  SECTIONS { .text : { *(.text) }", "a.ld:1:34"),
            ("  SECTIONS ( }", "a.ld:1:12"),
            ("\nPHDRS { }", "a.ld:2:1"),
            ("\nMEMORY { ram : ORIGIN = 0, SIZE = 1K }", "a.ld:2:28"),
            ("\n INCLUDE x.ld", "a.ld:2:2"),
        ] {
            let e = parse("a.ld", bad).expect_err(bad);
            assert_eq!(e.0[0].file.as_deref(), Some(at), "{bad}: {}", e.0[0]);
        }
    }
    #[test]
    fn assignments_with_expressions_join_the_layout_where_they_stand() {
        let text = "_estack = ORIGIN(RAM) + LENGTH(RAM);\nSECTIONS { .text : { *(.text) } }\n\
                    PROVIDE(end_text = ADDR(.text) + SIZEOF(.text));\nplain = 4;";
        let s = parse("a.ld", text).unwrap();
        assert!(matches!(&s.assignments[0], Assignment::Define { name, .. } if name == "plain"));
        let Some(Assignment::Sections(l)) = s.assignments.last() else {
            panic!("{s:?}")
        };
        assert!(l.laid_out);
        let targets: Vec<Option<&str>> = l
            .commands
            .iter()
            .map(|c| match c {
                sections::Command::Assign(a) => a.target.as_deref(),
                _ => None,
            })
            .collect();
        assert_eq!(targets, [Some("_estack"), None, Some("end_text")]);
    }

    #[test]
    fn include_reads_files_where_they_stand() {
        let files = [
            (
                "mem.ld",
                "MEMORY { INCLUDE rom.ld ram (rw) : o = 0x2000, l = 1K }",
            ),
            ("rom.ld", "rom (rx) : org = 0x1000, len = 4K,"),
            ("out.ld", ".data : { INCLUDE in.ld } > ram AT > rom"),
            ("in.ld", "*(.data)"),
            ("bad.ld", "\n  .x : { *(.x) } = ;"),
            ("loop.ld", "INCLUDE loop.ld"),
        ];
        let mut include = |name: &str| {
            let f = files.iter().find(|f| f.0 == name).ok_or("No such file")?;
            Ok((f.0.to_string(), f.1.to_string()))
        };
        let text = "INCLUDE mem.ld\nSECTIONS { .text : { *(.text) } > rom INCLUDE out.ld }";
        let s = parse_with("a.ld", text, &mut include, 0).unwrap();
        let Some(Assignment::Sections(l)) = s.assignments.last() else {
            panic!("{s:?}")
        };
        let names: Vec<&str> = l.memory.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["rom", "ram"]);
        assert_eq!(l.memory[0].attrs, "rx");
        assert_eq!(l.commands.len(), 2);
        let sections::Command::Output(data) = &l.commands[1] else {
            panic!()
        };
        assert_eq!(data.region.as_deref(), Some("ram"));
        assert_eq!(data.lma_region.as_deref(), Some("rom"));
        assert_eq!(data.items.len(), 1);
        for (text, at) in [
            ("SECTIONS { INCLUDE bad.ld }", "bad.ld:2:20"),
            ("SECTIONS {\n INCLUDE none.ld }", "a.ld:2:2"),
            ("INCLUDE loop.ld", "loop.ld:1:1"),
        ] {
            let e = parse_with("a.ld", text, &mut include, 0).expect_err(text);
            assert_eq!(e.0[0].file.as_deref(), Some(at), "{text}: {}", e.0[0]);
        }
    }

    #[test]
    fn sections_are_taken_out() {
        let s = parse("x.ld", "ENTRY(go) SECTIONS { . = 0x1000; } INPUT(a.o)").unwrap();
        assert_eq!(s.items, [InputArg::Path("a.o".into())]);
        assert!(matches!(&s.assignments[1], Assignment::Sections(c) if c.commands.len() == 1));
        assert!(parse("x.ld", "GROUP ( a.o").is_err());
    }
}
