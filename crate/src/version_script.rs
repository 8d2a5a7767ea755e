//! Version scripts (`--version-script FILE`, `VERSION { ... }` in a linker script) and dynamic
//! lists (`--dynamic-list FILE`), read as GNU ld reads them: version nodes with their `global:`
//! and `local:` patterns, `extern "C++" { ... }` blocks matched against demangled names, and
//! parents (`} PARENT;`). Malformed text is a diagnostic naming `file:line:column`.
//!
//! A symbol is matched the way GNU ld's `bfd_find_version_for_sym` does: in each node, an exact
//! name wins outright; a wildcard keeps looking for something more explicit in later nodes and in
//! the `local:` patterns, where an exact name overrides a global wildcard; a lone `*` is the
//! weakest match of all. Patterns are tried in GNU ld's order: exact names first, then the
//! wildcards from the last written to the first.

pub use crate::demangle::demangle;
use crate::diag::{Diagnostic, Errors, Result};
use rustc_hash::FxHashSet;

/// The language an `extern "..."` block names: how a symbol is demangled before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    C,
    Cxx,
}

/// One pattern of a node or a dynamic list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The name (backslash escapes removed) or, for a wildcard, the glob as written.
    pub text: String,
    pub lang: Lang,
    /// A wildcard (`*`, `?` or `[...]` not escaped): matched with `fnmatch` rules.
    pub glob: bool,
}

/// A version node: `NAME { global: ...; local: ...; } PARENT...;`, or the anonymous `{ ... };`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: Option<String>,
    pub parents: Vec<String>,
    pub globals: Vec<Pattern>,
    pub locals: Vec<Pattern>,
    /// Where the node starts (`file:line:column`), for diagnostics about it.
    pub at: String,
}

/// A parsed version script, or the one anonymous list of a dynamic list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub nodes: Vec<Node>,
}

/// Where text starts in its file (a `VERSION` block inside a linker script), 1-based.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub line: usize,
    pub column: usize,
}

impl Default for Origin {
    fn default() -> Self {
        Origin { line: 1, column: 1 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LBrace,
    RBrace,
    Semi,
    Colon,
    /// An unquoted name or wildcard.
    Word(String),
    /// A quoted name: always exact.
    Quoted(String),
}

struct Lexer<'t> {
    file: &'t str,
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
    end: (usize, usize),
}

/// Characters of an unquoted name or wildcard (GNU ld's `V_IDENTIFIER`, with digits anywhere).
fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.$*?[]-!^\\".contains(c)
}

fn tokenize<'t>(file: &'t str, text: &str, origin: Origin) -> Result<Lexer<'t>> {
    let mut toks = Vec::new();
    let (mut line, mut col) = (origin.line, origin.column);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let err = |l: usize, c: usize, m: String| {
        Errors::from(Diagnostic::error(m).file(format!("{file}:{l}:{c}")))
    };
    // Advance over chars[i..j], keeping line and column.
    let step = |from: usize, to: usize, line: &mut usize, col: &mut usize| {
        for &c in &chars[from..to] {
            if c == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let (l, cl) = (line, col);
        let j = if c.is_whitespace() {
            i + 1
        } else if c == '#' {
            chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |n| i + n)
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            match (i + 2..chars.len().saturating_sub(1))
                .find(|&k| chars[k] == '*' && chars[k + 1] == '/')
            {
                Some(k) => k + 2,
                None => return Err(err(l, cl, "unterminated comment".into())),
            }
        } else if c == '"' {
            let Some(n) = chars[i + 1..].iter().position(|&c| c == '"') else {
                return Err(err(l, cl, "unterminated quoted string".into()));
            };
            toks.push((Tok::Quoted(chars[i + 1..i + 1 + n].iter().collect()), l, cl));
            i + n + 2
        } else if let Some(t) = match c {
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            ';' => Some(Tok::Semi),
            ':' if chars.get(i + 1) != Some(&':') => Some(Tok::Colon),
            _ => None,
        } {
            toks.push((t, l, cl));
            i + 1
        } else if word_char(c) || c == ':' {
            let mut j = i;
            while j < chars.len() {
                if word_char(chars[j]) {
                    j += 1;
                } else if chars[j] == ':' && chars.get(j + 1) == Some(&':') {
                    j += 2;
                } else {
                    break;
                }
            }
            toks.push((Tok::Word(chars[i..j].iter().collect()), l, cl));
            j
        } else {
            return Err(err(
                l,
                cl,
                format!("unexpected character '{}'", c.escape_default()),
            ));
        };
        step(i, j, &mut line, &mut col);
        i = j;
    }
    Ok(Lexer {
        file,
        toks,
        pos: 0,
        end: (line, col),
    })
}

impl Lexer<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }

    fn peek2(&self) -> Option<&Tok> {
        self.toks.get(self.pos + 1).map(|t| &t.0)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.0.clone());
        self.pos += 1;
        t
    }

    /// `file:line:column` of the next token (or of the end of the text).
    fn here(&self) -> String {
        let (l, c) = self
            .toks
            .get(self.pos)
            .map_or(self.end, |&(_, l, c)| (l, c));
        format!("{}:{l}:{c}", self.file)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T> {
        Err(Diagnostic::error(message).file(self.here()).into())
    }

    /// What the next token is, for a message.
    fn describe(&self) -> String {
        match self.peek() {
            None => "the end of the file".into(),
            Some(Tok::LBrace) => "'{'".into(),
            Some(Tok::RBrace) => "'}'".into(),
            Some(Tok::Semi) => "';'".into(),
            Some(Tok::Colon) => "':'".into(),
            Some(Tok::Word(w)) => format!("'{w}'"),
            Some(Tok::Quoted(q)) => format!("\"{q}\""),
        }
    }

    fn expect(&mut self, t: Tok, what: &str) -> Result<()> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            return Ok(());
        }
        self.error(format!("expected {what}, found {}", self.describe()))
    }
}

/// An unquoted pattern as GNU ld's `realsymbol` reads it: a wildcard if `*`, `?` or `[` appear
/// unescaped, else an exact name with its backslashes removed.
pub fn pattern(word: &str, lang: Lang) -> Pattern {
    let mut text = String::with_capacity(word.len());
    let mut escaped = false;
    for c in word.chars() {
        if escaped {
            text.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '*' | '?' | '[') {
            return Pattern {
                text: word.to_string(),
                lang,
                glob: true,
            };
        } else {
            text.push(c);
        }
    }
    if escaped {
        text.push('\\');
    }
    Pattern {
        text,
        lang,
        glob: false,
    }
}

/// The patterns of one node body, up to (not including) its closing `}`.
fn body(lx: &mut Lexer<'_>) -> Result<(Vec<Pattern>, Vec<Pattern>)> {
    let (mut globals, mut locals) = (Vec::new(), Vec::new());
    let mut local = false;
    // GNU ld's grammar: names alone, or `global:` and `local:` each at most once, in either
    // order, each followed by at least one name.
    let mut labels: Vec<bool> = Vec::new();
    let mut names_since_label = 0usize;
    loop {
        match (lx.peek().cloned(), lx.peek2()) {
            (Some(Tok::RBrace), _) => {
                if !labels.is_empty() && names_since_label == 0 {
                    return lx.error("expected a symbol name after the scope label");
                }
                return Ok((globals, locals));
            }
            (Some(Tok::Word(w)), Some(Tok::Colon)) if w == "global" || w == "local" => {
                let this = w == "local";
                if names_since_label > 0 && labels.is_empty() {
                    return lx.error(format!(
                        "'{w}:' after names without a scope label (write 'global:' before them)"
                    ));
                }
                if labels.contains(&this) {
                    return lx.error(format!("a second '{w}:' in one version node"));
                }
                if !labels.is_empty() && names_since_label == 0 {
                    return lx.error("expected a symbol name after the scope label");
                }
                labels.push(this);
                names_since_label = 0;
                local = this;
                lx.pos += 2;
                continue;
            }
            (Some(Tok::Word(w)), Some(Tok::Quoted(_))) if w == "extern" => {
                lx.pos += 1;
                let Some(Tok::Quoted(l)) = lx.next() else {
                    unreachable!("peeked a quoted string")
                };
                let lang = match l.to_ascii_lowercase().as_str() {
                    "c" => Lang::C,
                    "c++" => Lang::Cxx,
                    _ => {
                        lx.pos -= 1;
                        return lx.error(format!(
                            "unknown language \"{l}\" in version information (C and C++ are understood)"
                        ));
                    }
                };
                lx.expect(Tok::LBrace, "'{' after extern \"...\"")?;
                let list = if local { &mut locals } else { &mut globals };
                extern_block(lx, lang, list)?;
                lx.expect(Tok::Semi, "';' after the extern block")?;
                names_since_label += 1;
            }
            (Some(Tok::Word(w)), _) => {
                lx.pos += 1;
                (if local { &mut locals } else { &mut globals }).push(pattern(&w, Lang::C));
                lx.expect(Tok::Semi, &format!("';' after '{w}'"))?;
                names_since_label += 1;
            }
            (Some(Tok::Quoted(q)), _) => {
                lx.pos += 1;
                (if local { &mut locals } else { &mut globals }).push(Pattern {
                    text: q.clone(),
                    lang: Lang::C,
                    glob: false,
                });
                lx.expect(Tok::Semi, &format!("';' after \"{q}\""))?;
                names_since_label += 1;
            }
            _ => {
                return lx.error(format!(
                    "expected a symbol name, 'global:', 'local:', 'extern' or '}}', found {}",
                    lx.describe()
                ))
            }
        }
    }
}

/// The patterns of `extern "LANG" { ... }` after its `{`, through its `}` (the last `;` is
/// optional there).
fn extern_block(lx: &mut Lexer<'_>, lang: Lang, list: &mut Vec<Pattern>) -> Result<()> {
    loop {
        match lx.next() {
            Some(Tok::RBrace) => return Ok(()),
            Some(Tok::Word(w)) => list.push(pattern(&w, lang)),
            Some(Tok::Quoted(q)) => list.push(Pattern {
                text: q,
                lang,
                glob: false,
            }),
            _ => {
                lx.pos -= 1;
                return lx.error(format!(
                    "expected a symbol name or '}}' in the extern block, found {}",
                    lx.describe()
                ));
            }
        }
        match lx.peek() {
            Some(Tok::Semi) => lx.pos += 1,
            Some(Tok::RBrace) => {}
            _ => {
                return lx.error(format!(
                    "expected ';' or '}}' in the extern block, found {}",
                    lx.describe()
                ))
            }
        }
    }
}

/// Parse a version script (`file` names it in diagnostics).
pub fn parse(file: &str, text: &str) -> Result<Script> {
    parse_at(file, text, Origin::default())
}

/// Parse version nodes that start at `origin` of `file` (the inside of a linker script's
/// `VERSION { ... }`).
pub fn parse_at(file: &str, text: &str, origin: Origin) -> Result<Script> {
    let mut lx = tokenize(file, text, origin)?;
    let mut nodes: Vec<Node> = Vec::new();
    while lx.peek().is_some() {
        let at = lx.here();
        let name = match lx.next() {
            Some(Tok::LBrace) => None,
            Some(Tok::Word(w)) => {
                lx.expect(Tok::LBrace, &format!("'{{' after version name '{w}'"))?;
                Some(w)
            }
            _ => {
                lx.pos -= 1;
                return lx.error(format!(
                    "expected a version name or '{{', found {}",
                    lx.describe()
                ));
            }
        };
        let (globals, locals) = body(&mut lx)?;
        lx.expect(Tok::RBrace, "'}'")?;
        let mut parents = Vec::new();
        while let Some(Tok::Word(p)) = lx.peek().cloned() {
            if !nodes.iter().any(|n| n.name.as_deref() == Some(p.as_str())) {
                return lx.error(format!("unable to find version dependency '{p}'"));
            }
            parents.push(p);
            lx.pos += 1;
        }
        lx.expect(Tok::Semi, "';' after the version node")?;
        if let Some(n) = &name {
            if nodes.iter().any(|m| m.name.as_ref() == Some(n)) {
                return Err(Diagnostic::error(format!("duplicate version tag '{n}'"))
                    .file(at)
                    .into());
            }
        }
        nodes.push(Node {
            name,
            parents,
            globals,
            locals,
            at,
        });
    }
    if nodes.len() > 1 && nodes.iter().any(|n| n.name.is_none()) {
        let at = nodes
            .iter()
            .find(|n| n.name.is_none())
            .map(|n| n.at.clone());
        return Err(Diagnostic::error(
            "anonymous version tag cannot be combined with other version tags",
        )
        .file(at.unwrap_or_default())
        .into());
    }
    Ok(Script { nodes })
}

/// Parse a dynamic list: one or more `{ PATTERN; ... };` blocks, read as anonymous nodes whose
/// patterns are all global.
pub fn parse_dynamic_list(file: &str, text: &str) -> Result<Vec<Pattern>> {
    let mut lx = tokenize(file, text, Origin::default())?;
    let mut out = Vec::new();
    if lx.peek().is_none() {
        return lx.error("expected '{' (a dynamic list is `{ symbol; ... };`)");
    }
    while lx.peek().is_some() {
        lx.expect(Tok::LBrace, "'{'")?;
        let (globals, locals) = body(&mut lx)?;
        if !locals.is_empty() {
            return lx.error("'local:' has no meaning in a dynamic list");
        }
        out.extend(globals);
        lx.expect(Tok::RBrace, "'}'")?;
        lx.expect(Tok::Semi, "';' after '}'")?;
    }
    Ok(out)
}

/// `fnmatch(pattern, name, 0)`: `*` and `?` match any characters (`/` and a leading `.`
/// included), `[...]` a set (`!` or `^` negates it, `a-z` ranges), `\` escapes. A `[` without
/// its `]` matches itself.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    // Where to resume after the last `*`: (pattern index after it, name index it took up to).
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ni));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => match class(&p[pi..], n[ni]) {
                Some((true, len)) => Some(len),
                Some((false, _)) => None,
                None => (n[ni] == '[').then_some(1),
            },
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == n[ni]).then_some(2),
            Some(&c) => (c == n[ni]).then_some(1),
            None => None,
        };
        match step {
            Some(len) => {
                pi += len;
                ni += 1;
            }
            None => match star {
                Some((sp, sn)) => {
                    pi = sp;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A bracket expression at the start of `p` against `c`: (matched, its length in the pattern),
/// or None when the `[` is not closed.
fn class(p: &[char], c: char) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        let (lo, mut next) = if lo == '\\' {
            (*p.get(i + 1)?, i + 2)
        } else {
            (lo, i + 1)
        };
        if p.get(next) == Some(&'-') && p.get(next + 1).is_some_and(|&h| h != ']') {
            let hi = p[next + 1];
            matched |= lo <= c && c <= hi;
            next += 2;
        } else {
            matched |= lo == c;
        }
        i = next;
    }
}

/// A pattern list compiled for matching: exact names by language in sets, wildcards in GNU ld's
/// order (last written first).
#[derive(Debug, Default)]
pub struct List {
    exact_c: FxHashSet<String>,
    exact_cxx: FxHashSet<String>,
    globs: Vec<Pattern>,
}

/// What a pattern list matched a symbol with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// An exact name.
    Exact,
    /// A wildcard other than a lone `*`.
    Glob,
    /// A lone `*`.
    Star,
}

impl List {
    pub fn new(patterns: &[Pattern]) -> List {
        let mut l = List::default();
        for p in patterns {
            match (p.glob, p.lang) {
                (false, Lang::C) => {
                    l.exact_c.insert(p.text.clone());
                }
                (false, Lang::Cxx) => {
                    l.exact_cxx.insert(p.text.clone());
                }
                (true, _) => l.globs.push(p.clone()),
            }
        }
        l.globs.reverse();
        l
    }

    pub fn is_empty(&self) -> bool {
        self.exact_c.is_empty() && self.exact_cxx.is_empty() && self.globs.is_empty()
    }

    /// Whether any pattern is C++ (so the symbol's demangled name is needed).
    pub fn wants_cxx(&self) -> bool {
        !self.exact_cxx.is_empty() || self.globs.iter().any(|g| g.lang == Lang::Cxx)
    }

    /// Every match of `name` (`cxx`: its demangled name, when C++ patterns need it) in GNU ld's
    /// order: an exact match alone, else each wildcard that matches.
    pub fn hits(&self, name: &str, cxx: Option<&str>) -> Vec<Hit> {
        if self.exact_c.contains(name) || cxx.is_some_and(|d| self.exact_cxx.contains(d)) {
            return vec![Hit::Exact];
        }
        self.globs
            .iter()
            .filter_map(|g| {
                if g.text == "*" {
                    return Some(Hit::Star);
                }
                let s = match g.lang {
                    Lang::C => name,
                    Lang::Cxx => cxx.unwrap_or(name),
                };
                glob_match(&g.text, s).then_some(Hit::Glob)
            })
            .collect()
    }

    /// Whether anything matches (a dynamic list's question).
    pub fn matches(&self, name: &str, cxx: Option<&str>) -> bool {
        !self.hits(name, cxx).is_empty()
    }
}

/// Where a version script puts a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// In node `n`'s global list.
    Global(usize),
    /// Matched by node `n`'s local list: bound locally, not exported.
    Local(usize),
}

/// A version script's nodes compiled for matching.
#[derive(Debug, Default)]
pub struct Matcher {
    pub globals: Vec<List>,
    pub locals: Vec<List>,
    wants_cxx: bool,
}

impl Matcher {
    pub fn new(nodes: &[Node]) -> Matcher {
        let globals: Vec<List> = nodes.iter().map(|n| List::new(&n.globals)).collect();
        let locals: Vec<List> = nodes.iter().map(|n| List::new(&n.locals)).collect();
        let wants_cxx = globals.iter().chain(&locals).any(List::wants_cxx);
        Matcher {
            globals,
            locals,
            wants_cxx,
        }
    }

    pub fn wants_cxx(&self) -> bool {
        self.wants_cxx
    }

    /// The node `name` belongs to (GNU ld's `bfd_find_version_for_sym`), None when no pattern
    /// names it.
    pub fn place(&self, name: &str, cxx: Option<&str>) -> Option<Placed> {
        let (mut global, mut star_global, mut local, mut star_local) = (None, None, None, None);
        for (t, (g, l)) in self.globals.iter().zip(&self.locals).enumerate() {
            let hits = g.hits(name, cxx);
            for h in &hits {
                match h {
                    Hit::Exact | Hit::Glob => global = Some(t),
                    Hit::Star => star_global = Some(t),
                }
            }
            if hits.first() == Some(&Hit::Exact) {
                break;
            }
            let hits = l.hits(name, cxx);
            for h in &hits {
                match h {
                    Hit::Exact | Hit::Glob => local = Some(t),
                    Hit::Star => star_local = Some(t),
                }
            }
            if hits.first() == Some(&Hit::Exact) {
                // An exact local name overrides any global wildcard.
                global = None;
                star_global = None;
                break;
            }
        }
        if global.is_none() && local.is_none() {
            global = star_global;
        }
        if let Some(t) = global {
            return Some(Placed::Global(t));
        }
        local.or(star_local).map(Placed::Local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(script: &str, sym: &str) -> Option<Placed> {
        let s = parse("t.ver", script).unwrap();
        Matcher::new(&s.nodes).place(sym, demangle(sym).as_deref())
    }

    #[test]
    fn nodes_parents_and_scopes() {
        let s = parse(
            "a.ver",
            "# comment\nV1 { global: foo; \"quoted name\"; local: *; };\n/* c */ V2 { bar[12]; } V1;\n",
        )
        .unwrap();
        assert_eq!(s.nodes.len(), 2);
        assert_eq!(s.nodes[0].name.as_deref(), Some("V1"));
        assert_eq!(s.nodes[0].globals.len(), 2);
        assert_eq!(s.nodes[0].locals[0].text, "*");
        assert_eq!(s.nodes[1].parents, vec!["V1"]);
        assert!(s.nodes[1].globals[0].glob);
        assert_eq!(s.nodes[1].at, "a.ver:3:9");
        let s = parse(
            "a.ver",
            "{ global: extern \"C++\" { foo::bar; \"baz(int)\" }; local: *; };",
        )
        .unwrap();
        assert_eq!(s.nodes[0].name, None);
        assert_eq!(s.nodes[0].globals[0].lang, Lang::Cxx);
        assert!(!s.nodes[0].globals[0].glob);
        assert_eq!(s.nodes[0].globals[1].text, "baz(int)");
        // `local` without a colon is a name.
        let s = parse("a.ver", "V { local; *; };").unwrap();
        assert_eq!(s.nodes[0].globals[0].text, "local");
        assert!(parse("a.ver", "V1 {}; V2 {};").is_ok());
    }

    #[test]
    fn errors_have_file_line_column() {
        for (text, at, words) in [
            ("V1 { foo }", "x.ver:1:10", "expected ';'"),
            ("V1 {\n  foo;\n", "x.ver:3:1", "expected"),
            ("V1 { foo; } V0;", "x.ver:1:13", "version dependency 'V0'"),
            ("V1 {}; V1 {};", "x.ver:1:8", "duplicate version tag"),
            ("{}; V1 {};", "x.ver:1:1", "anonymous"),
            (
                "V1 { extern \"Ada\" { x; }; };",
                "x.ver:1:13",
                "unknown language",
            ),
            ("V1 { @; };", "x.ver:1:6", "unexpected character"),
            ("V1 { \"x; };", "x.ver:1:6", "unterminated"),
            ("/* x", "x.ver:1:1", "unterminated comment"),
            (
                "V1 { extern \"C\" { x; ; }; };",
                "x.ver:1:22",
                "in the extern block",
            ),
        ] {
            let e = parse("x.ver", text).expect_err(text);
            let d = &e.0[0];
            assert_eq!(d.file.as_deref(), Some(at), "{text}: {d}");
            assert!(d.message.contains(words), "{text}: {d}");
        }
    }

    #[test]
    fn dynamic_lists() {
        let l = parse_dynamic_list("d", "{ foo; extern \"C++\" { \"baz(int)\"; }; };").unwrap();
        assert_eq!(l.len(), 2);
        assert!(parse_dynamic_list("d", "").is_err());
        assert!(parse_dynamic_list("d", "{ foo; }").is_err());
        assert!(parse_dynamic_list("d", "{ local: foo; };").is_err());
        let list = List::new(&parse_dynamic_list("d", "{ xyz; foo*bar*[abc]x; };").unwrap());
        assert!(list.matches("xyz", None));
        assert!(list.matches("foobarcx", None));
        assert!(list.matches("foo123bar456bx", None));
        assert!(!list.matches("foobarzx", None));
        assert!(!list.matches("foo123bar456c", None));
    }

    #[test]
    fn globs_follow_fnmatch() {
        for (p, n, m) in [
            ("f*o", "foo", true),
            ("f*o", "fo", true),
            ("f*o", "fob", false),
            ("?oo", "zoo", true),
            ("foo[12]", "foo2", true),
            ("foo[12]", "foo3", false),
            ("foo[!12]", "foo3", true),
            ("foo[^1-5]", "foo3", false),
            ("[]]x", "]x", true),
            ("a[b", "a[b", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("*", "", true),
            ("*a*b*c*", "xaybzc", true),
            ("*a*b*c*", "xaybz", false),
        ] {
            assert_eq!(glob_match(p, n), m, "{p} {n}");
        }
    }

    #[test]
    fn precedence_is_gnu_lds() {
        use Placed::*;
        // An exact name wins over a wildcard in an earlier node.
        assert_eq!(
            place("VER1 { foo_x; }; VER2 { foo*; };", "foo_x"),
            Some(Global(0))
        );
        assert_eq!(
            place("VER1 { foo_x; }; VER2 { foo*; };", "foo_y"),
            Some(Global(1))
        );
        // A local wildcard beats a global `*`; a global wildcard beats a local one.
        assert_eq!(place("V { global: *; local: b*; };", "bar"), Some(Local(0)));
        assert_eq!(
            place("V { global: *; local: b*; };", "foo"),
            Some(Global(0))
        );
        assert_eq!(
            place("{ global: *; *foo_*; local: *foo*; };", "foo_bar"),
            Some(Global(0))
        );
        assert_eq!(
            place("{ global: *; *foo_*; local: *foo*; };", "foo123"),
            Some(Local(0))
        );
        // An exact local name beats a global `*`.
        assert_eq!(place("{ global: *; local: foo; };", "foo"), Some(Local(0)));
        assert_eq!(
            place("{ global: *; local: foo; };", "foobar"),
            Some(Global(0))
        );
        assert_eq!(place("V { global: foo; };", "bar"), None);
        // C++ patterns see demangled names.
        let s = "{ global: extern \"C++\" { *libalpha::*; }; local: *libbeta*; };";
        assert_eq!(
            place(s, "_ZN8libalpha3fooIN7libbeta3BarEEEvv"),
            Some(Global(0))
        );
        assert_eq!(
            place(
                "{ global: extern \"C++\" { foo::bar; }; local: *; };",
                "_ZN3foo3barE"
            ),
            Some(Global(0))
        );
        assert_eq!(
            place(
                "{ global: extern \"C++\" { foo::bar; }; local: *; };",
                "bar"
            ),
            Some(Local(0))
        );
    }

    #[test]
    fn demangling() {
        assert_eq!(demangle("_Z3bazi").as_deref(), Some("baz(int)"));
        assert_eq!(demangle("_ZN3foo3barE").as_deref(), Some("foo::bar"));
        assert_eq!(demangle("foo"), None);
        assert_eq!(
            demangle("_RNCINkXs25_NgCsbmNqQUJIY6D_4core5sliceINyB9_4IterhENuNgNoBb_4iter8iterator8Iterator9rpositionNCNgNpB9_6memchr7memrchrs_0E0Bb_").as_deref(),
            Some("<core::slice::Iter<u8> as core::iter::iterator::Iterator>::rposition::<core::slice::memchr::memrchr::{closure#1}>::{closure#0}")
        );
        assert_eq!(
            demangle("_ZN3foo3bar17h0123456789abcdefE").as_deref(),
            Some("foo::bar")
        );
    }

    #[test]
    fn hostile_text_is_an_error_not_a_panic() {
        for t in [
            "{",
            "}",
            ";",
            "V {",
            "V { extern",
            "V { extern \"C\"",
            "V { extern \"C\" {",
            "V { global",
            "V { global:",
            "\u{0}",
            "V { a:: ; };",
            ":",
            "V { [ ; };",
            "é",
        ] {
            let _ = parse("h", t);
            let _ = parse_dynamic_list("h", t);
        }
        // Found by fuzzing: a multi-byte character where a legacy Rust hash would start.
        assert_eq!(demangle("_ZNé0123456789abcdef0E"), None);
        assert!(!glob_match("[", "x"));
        assert!(glob_match("[", "["));
        assert!(!glob_match("[a-", "a"));
    }
}
