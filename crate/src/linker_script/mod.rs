//! `SECTIONS { ... }` and `MEMORY { ... }`: output section descriptions, input section
//! descriptions, symbol assignments and expressions ([`expr`]), memory regions, parsed from a
//! script's text with GNU ld's grammar (`script` finds the commands in the script). `INCLUDE`
//! inside them reads another file through the caller's [`Includer`] and parses it in place.
//! What the layout does with them is `layout::script`'s. Every error names `file:line:column`.

pub mod expr;

use expr::{Binary, Expr, Func, SectionFn, Unary};

/// A script's layout commands, in order (assignments outside `SECTIONS` among them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sections {
    pub commands: Vec<Command>,
    /// `MEMORY`'s regions, in order.
    pub memory: Vec<Region>,
    /// A `SECTIONS` command was read (the commands may also be a script's top-level
    /// assignments with expressions, which the layout evaluates as it walks `SECTIONS`).
    pub laid_out: bool,
}

/// `NAME [(ATTR)] : ORIGIN = EXPR, LENGTH = EXPR` in `MEMORY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    /// The attribute letters as written (`rwx`, `!w`...); the layout reads them.
    pub attrs: String,
    pub origin: Expr,
    pub length: Expr,
    pub at: String,
}

/// Reads the file an `INCLUDE` names: its name for diagnostics and its text, or why not.
pub type Includer<'h> = dyn FnMut(&str) -> Result<(String, String), String> + 'h;

/// Most files one `INCLUDE` chain nests: files that include each other would recurse forever.
pub const MAX_INCLUDE_DEPTH: usize = 16;

impl Sections {
    /// Every symbol or `.` assignment, at the top level and inside output sections, in order.
    pub fn assignments(&self) -> impl Iterator<Item = &Assign> {
        self.commands.iter().flat_map(|c| {
            let (top, inner): (Option<&Assign>, &[Item]) = match c {
                Command::Assign(a) => (Some(a), &[]),
                Command::Output(o) => (None, &o.items),
                Command::Assert(_) => (None, &[]),
            };
            top.into_iter().chain(inner.iter().filter_map(|i| match i {
                Item::Assign(a) => Some(a),
                _ => None,
            }))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Assign(Assign),
    Output(Box<OutputSection>),
    Assert(Assert),
}

/// `NAME op EXPR;` (`op` one of `=`, `+=`, `-=`, ...), `. = EXPR;`, optionally inside
/// `PROVIDE`, `PROVIDE_HIDDEN` or `HIDDEN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assign {
    /// None: the location counter.
    pub target: Option<String>,
    /// None for `=`; else the operator of `+=`, `-=`, ...
    pub op: Option<Binary>,
    pub expr: Expr,
    pub provide: bool,
    pub hidden: bool,
    /// `file:line:column`.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assert {
    pub expr: Expr,
    pub message: String,
    pub at: String,
}

/// `ONLY_IF_RO` / `ONLY_IF_RW`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    None,
    ReadOnly,
    ReadWrite,
}

/// `NAME [ADDRESS] [(TYPE)] : [AT(LMA)] [ALIGN(N)] [SUBALIGN(N)] [constraint] { ... } [=FILL]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSection {
    pub name: String,
    pub addr: Option<Expr>,
    /// `(NOLOAD)`: no file bytes.
    pub noload: bool,
    pub align: Option<Expr>,
    pub subalign: Option<Expr>,
    pub constraint: Constraint,
    pub items: Vec<Item>,
    pub fill: Option<Expr>,
    /// `> REGION`: the address comes from the region's next free location.
    pub region: Option<String>,
    /// `AT > REGION`: the load address comes from that region's next free location.
    pub lma_region: Option<String>,
    /// `AT(LMA)`: the load address.
    pub lma: Option<Expr>,
    pub at: String,
}

impl OutputSection {
    pub fn is_discard(&self) -> bool {
        self.name == "/DISCARD/"
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Input(InputDesc),
    Assign(Assign),
    /// `BYTE`, `SHORT`, `LONG`, `QUAD` (1, 2, 4, 8 bytes).
    Data {
        size: u8,
        expr: Expr,
        at: String,
    },
    Assert(Assert),
}

/// `[KEEP(] FILE(SECTIONS...) [)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputDesc {
    pub keep: bool,
    pub file: Pattern,
    /// `EXCLUDE_FILE(...)` before the file pattern.
    pub exclude_files: Vec<Pattern>,
    pub sections: Vec<SectionPattern>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionPattern {
    pub pattern: Pattern,
    /// `EXCLUDE_FILE(...)` before this section pattern.
    pub exclude_files: Vec<Pattern>,
    pub sort: Sort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    None,
    Name,
    Alignment,
    InitPriority,
}

/// A wildcard pattern (`*`, `?`, `[...]`), matched as `fnmatch` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(pub String);

impl Pattern {
    pub fn matches(&self, s: &str) -> bool {
        let p = self.0.as_str();
        if p == "*" {
            return true;
        }
        if !p.contains(['*', '?', '[', '\\']) {
            return p == s;
        }
        crate::version_script::glob_match(p, s)
    }

    /// Whether it matches every file (`*`): no need to look at file names.
    pub fn is_any(&self) -> bool {
        self.0 == "*"
    }
}

/// `name:line:column` of byte `at` of `text`.
pub fn position(name: &str, text: &str, at: usize) -> String {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{name}:{line}:{column}")
}

/// A parse error: a message and the byte offset it is about.
pub struct ParseError(pub String, pub usize);

type R<T> = Result<T, ParseError>;

/// What a `{ ... }` block of a script holds: its keyword (for messages), the separators allowed
/// between its items, and how one item is read (given the items before it).
struct Block<T> {
    keyword: &'static str,
    separators: &'static [char],
    item: fn(&mut Parser<'_>, &[T]) -> R<T>,
}

const SECTIONS_BLOCK: Block<Command> = Block {
    keyword: "SECTIONS",
    separators: &[';'],
    item: |p, _| p.sections_command(),
};

/// GNU ld's grammar allows a comma between regions; a `;` is as harmless.
const MEMORY_BLOCK: Block<Region> = Block {
    keyword: "MEMORY",
    separators: &[',', ';'],
    item: |p, before| p.memory_item(before),
};

/// The parser over the script's whole text (so offsets are the text's own).
pub struct Parser<'t> {
    text: &'t str,
    pos: usize,
    name: &'t str,
    /// Reads what `INCLUDE` names (None: `INCLUDE` is an error).
    include: Option<&'t mut Includer<'t>>,
    /// How many `INCLUDE`s this text is nested in.
    depth: usize,
    /// Where the last error is, when it is in an included file (its offset is that file's).
    error_at: Option<String>,
}

const ASSIGN_OPS: [(&str, Option<Binary>); 9] = [
    ("<<=", Some(Binary::Shl)),
    (">>=", Some(Binary::Shr)),
    ("+=", Some(Binary::Add)),
    ("-=", Some(Binary::Sub)),
    ("*=", Some(Binary::Mul)),
    ("/=", Some(Binary::Div)),
    ("&=", Some(Binary::And)),
    ("|=", Some(Binary::Or)),
    ("=", None),
];

const BINARY_OPS: [(&str, Binary); 18] = [
    ("<<", Binary::Shl),
    (">>", Binary::Shr),
    ("<=", Binary::Le),
    (">=", Binary::Ge),
    ("==", Binary::Eq),
    ("!=", Binary::Ne),
    ("&&", Binary::LogAnd),
    ("||", Binary::LogOr),
    ("*", Binary::Mul),
    ("/", Binary::Div),
    ("%", Binary::Rem),
    ("+", Binary::Add),
    ("-", Binary::Sub),
    ("<", Binary::Lt),
    (">", Binary::Gt),
    ("&", Binary::And),
    ("^", Binary::Xor),
    ("|", Binary::Or),
];

/// Nesting limit of expressions and statements: a hostile script cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '$')
}

impl<'t> Parser<'t> {
    pub fn new(name: &'t str, text: &'t str, pos: usize) -> Self {
        Parser {
            text,
            pos,
            name,
            include: None,
            depth: 0,
            error_at: None,
        }
    }

    /// The parser that reads `INCLUDE`d files through `include`, `depth` includes deep.
    pub fn with_include(mut self, include: &'t mut Includer<'t>, depth: usize) -> Self {
        self.include = Some(include);
        self.depth = depth;
        self
    }

    /// `file:line:column` of error `e` (in an included file when it arose there).
    pub fn error_at(&self, e: &ParseError) -> String {
        self.error_at.clone().unwrap_or_else(|| self.at(e.1))
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// `file:line:column` of byte `at`.
    pub fn at(&self, at: usize) -> String {
        position(self.name, self.text, at)
    }

    fn fail<T>(&self, msg: impl Into<String>) -> R<T> {
        Err(ParseError(msg.into(), self.pos))
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    /// Skip white space and comments.
    fn skip(&mut self) -> R<()> {
        loop {
            let r = self.rest();
            let t = r.trim_start();
            self.pos += r.len() - t.len();
            if let Some(after) = t.strip_prefix("/*") {
                match after.find("*/") {
                    Some(e) => self.pos += 2 + e + 2,
                    None => return self.fail("unterminated comment"),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn peek(&mut self) -> R<Option<char>> {
        self.skip()?;
        Ok(self.rest().chars().next())
    }

    /// Consume `s` if the text goes on with it.
    fn eat(&mut self, s: &str) -> R<bool> {
        self.skip()?;
        if self.rest().starts_with(s) {
            self.pos += s.len();
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, s: &str, what: &str) -> R<()> {
        if !self.eat(s)? {
            let found = self.rest().chars().next();
            return self.fail(match found {
                Some(c) => format!("expected {what}, found '{c}'"),
                None => format!("expected {what} at end of script"),
            });
        }
        Ok(())
    }

    /// A symbol or keyword (`[A-Za-z0-9_.$]+`), or a quoted string.
    fn name(&mut self) -> R<String> {
        self.skip()?;
        if let Some(q) = self.quoted()? {
            return Ok(q);
        }
        let n = self
            .rest()
            .find(|c| !is_name_char(c))
            .unwrap_or(self.rest().len());
        if n == 0 {
            return self.fail("expected a name");
        }
        let s = self.rest()[..n].to_string();
        self.pos += n;
        Ok(s)
    }

    fn quoted(&mut self) -> R<Option<String>> {
        if let Some(r) = self.rest().strip_prefix('"') {
            let Some(end) = r.find('"') else {
                return self.fail("unterminated quoted string");
            };
            self.pos += end + 2;
            return Ok(Some(r[..end].to_string()));
        }
        Ok(None)
    }

    /// A file or section name or pattern: anything up to white space or `(){};,`.
    fn word(&mut self) -> R<String> {
        self.skip()?;
        if let Some(q) = self.quoted()? {
            return Ok(q);
        }
        let n = self
            .rest()
            .find(|c: char| c.is_whitespace() || "(){};,\"".contains(c))
            .unwrap_or(self.rest().len());
        let w = &self.rest()[..n];
        // A comment right after a word ends it.
        let n = w.find("/*").unwrap_or(n);
        if n == 0 {
            return self.fail("expected a name or pattern");
        }
        let s = self.rest()[..n].to_string();
        self.pos += n;
        Ok(s)
    }

    /// An output section's name: a word that stops before `:`.
    fn section_name(&mut self) -> R<String> {
        self.skip()?;
        let start = self.pos;
        // A quoted name is the name whatever it holds.
        if self.rest().starts_with('"') {
            return self.word();
        }
        let w = self.word()?;
        match w.find(':') {
            Some(0) => self.fail("expected an output section name"),
            Some(k) => {
                self.pos = start;
                self.skip()?;
                self.pos += k;
                Ok(w[..k].to_string())
            }
            None => Ok(w),
        }
    }

    /// The `{` after `SECTIONS`.
    pub fn expect_open(&mut self) -> R<()> {
        self.expect("{", "'{' after SECTIONS")
    }

    /// The body of `SECTIONS { ... }` after its `{`, up to and past its `}`.
    pub fn sections_body(&mut self, out: &mut Vec<Command>) -> R<()> {
        self.block(out, true, &SECTIONS_BLOCK)
    }

    /// The `{` after `MEMORY`.
    pub fn expect_memory_open(&mut self) -> R<()> {
        self.expect("{", "'{' after MEMORY")
    }

    /// The body of `MEMORY { ... }` after its `{`, up to and past its `}`.
    pub fn memory_body(&mut self, out: &mut Vec<Region>) -> R<()> {
        self.block(out, true, &MEMORY_BLOCK)
    }

    /// A block's items up to its `}` (`closed`) or to the end of an included file, which may
    /// hold items of the block too.
    fn block<T>(&mut self, out: &mut Vec<T>, closed: bool, b: &Block<T>) -> R<()> {
        loop {
            match self.peek()? {
                None if closed => {
                    return self.fail(format!("{} {{ without its closing '}}'", b.keyword))
                }
                None => return Ok(()),
                Some('}') if closed => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(c) if b.separators.contains(&c) => self.pos += 1,
                Some(_) => match self.keyword("INCLUDE")? {
                    Some(start) => self.include_file(start, |p| p.block(out, false, b))?,
                    None => {
                        let item = (b.item)(self, out)?;
                        out.push(item);
                    }
                },
            }
        }
    }

    /// A `MEMORY` region, whose name none of `before` has.
    fn memory_item(&mut self, before: &[Region]) -> R<Region> {
        let start = self.pos;
        let r = self.region()?;
        if before.iter().any(|o| o.name == r.name) {
            return Err(ParseError(
                format!("redefinition of memory region `{}'", r.name),
                start,
            ));
        }
        Ok(r)
    }

    /// `NAME [(ATTR)] : ORIGIN = EXPR [,] LENGTH = EXPR` (`org`/`o`, `len`/`l` as well).
    fn region(&mut self) -> R<Region> {
        self.skip()?;
        let start = self.pos;
        let name = self.name()?;
        let mut attrs = String::new();
        if self.eat("(")? {
            self.skip()?;
            let n = self.rest().find(')').unwrap_or(self.rest().len());
            attrs = self.rest()[..n].trim().to_string();
            if let Some(c) = attrs.chars().find(|c| !"rRwWxXaAiIlL!".contains(*c)) {
                return self.fail(format!("invalid memory region attribute '{c}'"));
            }
            self.pos += n;
            self.expect(")", "')' after the region's attributes")?;
        }
        self.expect(":", &format!("':' after memory region {name}"))?;
        let origin = self.region_field(&["ORIGIN", "org", "o"], "ORIGIN")?;
        self.eat(",")?;
        let length = self.region_field(&["LENGTH", "len", "l"], "LENGTH")?;
        Ok(Region {
            name,
            attrs,
            origin,
            length,
            at: self.at(start),
        })
    }

    /// `ORIGIN = EXPR` (or one of its other `names`).
    fn region_field(&mut self, names: &[&str], what: &str) -> R<Expr> {
        self.skip()?;
        let at = self.pos;
        let w = self.name()?;
        if !names.contains(&w.as_str()) {
            return Err(ParseError(
                format!("expected {what} in a MEMORY region, found '{w}'"),
                at,
            ));
        }
        self.expect("=", &format!("'=' after {w}"))?;
        self.expr(0)
    }

    /// Whether keyword `kw` comes next (consumed, and its offset given back).
    fn keyword(&mut self, kw: &str) -> R<Option<usize>> {
        self.skip()?;
        let r = self.rest();
        let alone = r
            .strip_prefix(kw)
            .is_some_and(|after| !after.starts_with(is_name_char));
        if !alone {
            return Ok(None);
        }
        let start = self.pos;
        self.pos += kw.len();
        Ok(Some(start))
    }

    /// `INCLUDE FILE` (its keyword at `start`, read): the file, read through the includer,
    /// parsed by `body` to its end in a parser of its own; an error in it names its own
    /// `file:line:column`.
    fn include_file<T>(
        &mut self,
        start: usize,
        body: impl FnOnce(&mut Parser<'_>) -> R<T>,
    ) -> R<T> {
        let file = self.word()?;
        self.eat(";")?;
        if self.depth >= MAX_INCLUDE_DEPTH {
            return Err(ParseError(
                format!("INCLUDE {file}: files included more than {MAX_INCLUDE_DEPTH} deep"),
                start,
            ));
        }
        let cannot = |why: String| {
            ParseError(
                format!("cannot open linker script file {file}: {why}"),
                start,
            )
        };
        let Some(include) = self.include.as_deref_mut() else {
            return Err(cannot("INCLUDE reads no files here".into()));
        };
        let (name, text) = include(&file).map_err(cannot)?;
        let mut p = Parser::new(&name, &text, 0).with_include(include, self.depth + 1);
        let r = body(&mut p);
        if let Err(e) = &r {
            self.error_at = Some(p.error_at(e));
        }
        r.map_err(|e| ParseError(e.0, start))
    }

    fn sections_command(&mut self) -> R<Command> {
        let start = self.pos;
        let w = self.word()?;
        match w.as_str() {
            "ASSERT" => return Ok(Command::Assert(self.assert(start)?)),
            "OVERLAY" | "INSERT" => {
                return Err(ParseError(
                    format!("{w} is not supported by initlink"),
                    start,
                ))
            }
            "ENTRY" | "MEMORY" | "PHDRS" => {
                return Err(ParseError(
                    format!("{w} cannot stand inside SECTIONS"),
                    start,
                ))
            }
            "PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN" => {
                self.pos = start;
                return Ok(Command::Assign(self.assignment()?));
            }
            _ => {}
        }
        // `NAME op EXPR;` or an output section: the name then an assignment operator or not.
        self.pos = start;
        self.skip()?;
        let name_start = self.pos;
        let n = self.rest().find(|c| !is_name_char(c)).unwrap_or(0);
        if n > 0 {
            self.pos += n;
            self.skip()?;
            let is_assign = ASSIGN_OPS.iter().any(|(op, _)| {
                self.rest().starts_with(op) && !(op == &"=" && self.rest().starts_with("=="))
            });
            self.pos = name_start;
            if is_assign {
                return Ok(Command::Assign(self.assignment()?));
            }
        }
        Ok(Command::Output(Box::new(self.output_section()?)))
    }

    /// `[PROVIDE|PROVIDE_HIDDEN|HIDDEN (] TARGET op EXPR [)] ;`
    pub fn assignment(&mut self) -> R<Assign> {
        self.skip()?;
        let start = self.pos;
        let first = self.name()?;
        let (provide, hidden, wrapped) = match first.as_str() {
            "PROVIDE" => (true, false, true),
            "PROVIDE_HIDDEN" => (true, true, true),
            "HIDDEN" => (false, true, true),
            _ => (false, false, false),
        };
        let target = if wrapped {
            self.expect("(", &format!("'(' after {first}"))?;
            self.name()?
        } else {
            first
        };
        self.skip()?;
        let Some(&(op_text, op)) = ASSIGN_OPS.iter().find(|(o, _)| self.rest().starts_with(o))
        else {
            return self.fail("expected an assignment operator ('=', '+=', ...)");
        };
        self.pos += op_text.len();
        let expr = self.expr(0)?;
        if wrapped {
            self.expect(")", "')'")?;
        }
        if (provide || hidden) && target == "." {
            return Err(ParseError("'.' cannot be PROVIDEd or HIDDEN".into(), start));
        }
        // A wrapped assignment may go without its `;` (GNU ld's grammar).
        if !self.eat(";")? && !wrapped {
            return self.fail("expected ';' after the assignment");
        }
        Ok(Assign {
            target: (target != ".").then_some(target),
            op,
            expr,
            provide,
            hidden,
            at: self.at(start),
        })
    }

    fn assert(&mut self, start: usize) -> R<Assert> {
        self.expect("(", "'(' after ASSERT")?;
        let expr = self.expr(0)?;
        self.expect(",", "',' in ASSERT")?;
        self.skip()?;
        let message = match self.quoted()? {
            Some(q) => q,
            None => self.word()?,
        };
        self.expect(")", "')'")?;
        self.eat(";")?;
        Ok(Assert {
            expr,
            message,
            at: self.at(start),
        })
    }

    fn output_section(&mut self) -> R<OutputSection> {
        self.skip()?;
        let start = self.pos;
        let name = self.section_name()?;
        let mut s = OutputSection {
            name,
            addr: None,
            noload: false,
            align: None,
            subalign: None,
            constraint: Constraint::None,
            items: Vec::new(),
            fill: None,
            region: None,
            lma_region: None,
            lma: None,
            at: self.at(start),
        };
        // `[ADDRESS] [(TYPE)] :`
        if self.peek()? == Some('(') {
            self.type_or_addr(&mut s)?;
        } else if self.peek()? != Some(':') {
            s.addr = Some(self.expr(0)?);
            if self.peek()? == Some('(') {
                self.type_or_addr(&mut s)?;
            }
        }
        self.expect(":", &format!("':' after output section {}", s.name))?;
        loop {
            self.skip()?;
            let kw_at = self.pos;
            if self.peek()? == Some('{') {
                break;
            }
            let kw = self.name()?;
            match kw.as_str() {
                "AT" => s.lma = Some(self.paren_expr()?),
                "ALIGN" => s.align = Some(self.paren_expr()?),
                "SUBALIGN" => s.subalign = Some(self.paren_expr()?),
                "ONLY_IF_RO" => s.constraint = Constraint::ReadOnly,
                "ONLY_IF_RW" => s.constraint = Constraint::ReadWrite,
                "ALIGN_WITH_INPUT" => {}
                _ => {
                    return Err(ParseError(
                        format!("expected '{{' of output section {}, found '{kw}'", s.name),
                        kw_at,
                    ))
                }
            }
        }
        self.expect("{", "'{'")?;
        self.section_items(&mut s.items, true)?;
        self.section_tail(&mut s)?;
        self.eat(",")?;
        Ok(s)
    }

    /// After an output section's `}`: `>REGION`, `AT>REGION`, `=FILL` (`:PHDR` is refused).
    fn section_tail(&mut self, s: &mut OutputSection) -> R<()> {
        loop {
            self.skip()?;
            let r = self.rest();
            if r.starts_with(':') && !r.starts_with(":=") {
                return self.fail("program headers (:PHDR, PHDRS) are not supported by initlink");
            }
            if r.starts_with('>') {
                self.pos += 1;
                s.region = Some(self.name()?);
                continue;
            }
            let at = self.pos;
            if r.starts_with("AT") && r[2..].trim_start().starts_with('>') {
                self.pos += 2;
                self.expect(">", "'>' after AT")?;
                s.lma_region = Some(self.name()?);
                if s.lma.is_some() {
                    return Err(ParseError(
                        format!(
                            "section {} has both a load address and a load region",
                            s.name
                        ),
                        at,
                    ));
                }
                continue;
            }
            if r.starts_with('=') && !r.starts_with("==") {
                self.pos += 1;
                s.fill = Some(self.expr(0)?);
                continue;
            }
            return Ok(());
        }
    }

    /// `(TYPE)` after a section name (or an address expression that begins with `(`).
    fn type_or_addr(&mut self, s: &mut OutputSection) -> R<()> {
        let save = self.pos;
        self.expect("(", "'('")?;
        self.skip()?;
        let n = self.rest().find(|c| !is_name_char(c)).unwrap_or(0);
        let word = &self.rest()[..n];
        if matches!(
            word,
            "NOLOAD" | "DSECT" | "COPY" | "INFO" | "OVERLAY" | "READONLY"
        ) {
            s.noload = word == "NOLOAD";
            self.pos += n;
            self.expect(")", "')' after the section type")?;
            return Ok(());
        }
        self.pos = save;
        if s.addr.is_some() {
            return self.fail("expected a section type (NOLOAD, ...)");
        }
        s.addr = Some(self.expr(0)?);
        if self.peek()? == Some('(') {
            self.type_or_addr(s)?;
        }
        Ok(())
    }

    fn paren_expr(&mut self) -> R<Expr> {
        self.expect("(", "'('")?;
        let e = self.expr(0)?;
        self.expect(")", "')'")?;
        Ok(e)
    }

    /// The commands of an output section, after its `{`, up to and past its `}` (`closed`), or
    /// to the end of an included file.
    fn section_items(&mut self, out: &mut Vec<Item>, closed: bool) -> R<()> {
        loop {
            match self.peek()? {
                None if closed => return self.fail("output section without its closing '}'"),
                None => return Ok(()),
                Some('}') if closed => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(';') => self.pos += 1,
                Some(_) => {
                    if let Some(start) = self.keyword("INCLUDE")? {
                        self.include_file(start, |p| p.section_items(out, false))?;
                    } else if let Some(item) = self.section_item()? {
                        out.push(item);
                    }
                }
            }
        }
    }

    fn section_item(&mut self) -> R<Option<Item>> {
        let start = self.pos;
        let w = self.word()?;
        let size = match w.as_str() {
            "BYTE" => Some(1),
            "SHORT" => Some(2),
            "LONG" => Some(4),
            "QUAD" | "SQUAD" => Some(8),
            _ => None,
        };
        if let Some(size) = size {
            let expr = self.paren_expr()?;
            self.eat(";")?;
            return Ok(Some(Item::Data {
                size,
                expr,
                at: self.at(start),
            }));
        }
        match w.as_str() {
            "ASSERT" => return Ok(Some(Item::Assert(self.assert(start)?))),
            "PROVIDE" | "PROVIDE_HIDDEN" | "HIDDEN" => {
                self.pos = start;
                return Ok(Some(Item::Assign(self.assignment()?)));
            }
            // C++ constructors of non-ELF formats: nothing to do for ELF.
            "CONSTRUCTORS" => return Ok(None),
            "SORT" if self.rest().trim_start().starts_with("(CONSTRUCTORS") => {
                self.paren_words()?;
                return Ok(None);
            }
            "FILL" => {
                self.paren_expr()?;
                self.eat(";")?;
                return Ok(None);
            }
            "KEEP" => {
                self.expect("(", "'(' after KEEP")?;
                let mut d = self.input_desc()?;
                self.expect(")", "')' closing KEEP")?;
                d.keep = true;
                return Ok(Some(Item::Input(d)));
            }
            "INPUT_SECTION_FLAGS" => {
                return Err(ParseError(format!("{w} is not supported yet"), start))
            }
            _ => {}
        }
        // An assignment (`. = ...`, `sym += ...`), else an input section description.
        self.pos = start;
        self.skip()?;
        let n = self.rest().find(|c| !is_name_char(c)).unwrap_or(0);
        if n > 0 {
            let save = self.pos;
            self.pos += n;
            self.skip()?;
            let is_assign = ASSIGN_OPS.iter().any(|(op, _)| {
                self.rest().starts_with(op) && !(op == &"=" && self.rest().starts_with("=="))
            });
            self.pos = save;
            if is_assign {
                return Ok(Some(Item::Assign(self.assignment()?)));
            }
        }
        Ok(Some(Item::Input(self.input_desc()?)))
    }

    fn paren_words(&mut self) -> R<Vec<String>> {
        self.expect("(", "'('")?;
        let mut v = Vec::new();
        while !self.eat(")")? {
            if self.peek()?.is_none() {
                return self.fail("expected ')'");
            }
            v.push(self.word()?);
        }
        Ok(v)
    }

    /// `[EXCLUDE_FILE(...)] FILE ( SECTION-PATTERNS )`, or a bare file pattern.
    fn input_desc(&mut self) -> R<InputDesc> {
        let mut exclude_files = Vec::new();
        let mut file = self.word()?;
        if file == "EXCLUDE_FILE" {
            exclude_files = self.paren_words()?.into_iter().map(Pattern).collect();
            file = self.word()?;
        }
        let mut d = InputDesc {
            keep: false,
            file: Pattern(file),
            exclude_files,
            sections: Vec::new(),
        };
        if self.peek()? != Some('(') {
            // A bare file name: all its sections.
            d.sections.push(SectionPattern {
                pattern: Pattern("*".into()),
                exclude_files: Vec::new(),
                sort: Sort::None,
            });
            return Ok(d);
        }
        self.pos += 1;
        let mut exclude = Vec::new();
        loop {
            match self.peek()? {
                None => return self.fail("input section description without its ')'"),
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                Some(',') => self.pos += 1,
                Some(_) => {
                    let w = self.word()?;
                    if w == "EXCLUDE_FILE" {
                        exclude = self.paren_words()?.into_iter().map(Pattern).collect();
                        continue;
                    }
                    let sort = match w.as_str() {
                        "SORT" | "SORT_BY_NAME" => Some(Sort::Name),
                        "SORT_BY_ALIGNMENT" => Some(Sort::Alignment),
                        "SORT_BY_INIT_PRIORITY" => Some(Sort::InitPriority),
                        "SORT_NONE" | "REVERSE" => Some(Sort::None),
                        _ => None,
                    };
                    let (pattern, sort) = match sort {
                        Some(sort) => (self.sorted_pattern()?, sort),
                        None => (w, Sort::None),
                    };
                    d.sections.push(SectionPattern {
                        pattern: Pattern(pattern),
                        exclude_files: std::mem::take(&mut exclude),
                        sort,
                    });
                }
            }
        }
        Ok(d)
    }

    /// The pattern inside `SORT_...( ... )`, possibly nested (`SORT(SORT_BY_ALIGNMENT(x))`).
    fn sorted_pattern(&mut self) -> R<String> {
        self.expect("(", "'(' after SORT")?;
        let mut w = self.word()?;
        if w.starts_with("SORT") {
            w = self.sorted_pattern()?;
        }
        self.expect(")", "')' closing SORT")?;
        Ok(w)
    }

    /// An expression whose operators bind tighter than `min`: precedence climbing.
    pub fn expr(&mut self, min: u8) -> R<Expr> {
        self.expr_at(min, 0)
    }

    fn expr_at(&mut self, min: u8, depth: usize) -> R<Expr> {
        if depth > MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        let mut lhs = self.unary(depth)?;
        loop {
            self.skip()?;
            let r = self.rest();
            if r.starts_with('?') && min == 0 {
                self.pos += 1;
                let a = self.expr_at(0, depth + 1)?;
                self.expect(":", "':' of '?:'")?;
                let b = self.expr_at(0, depth + 1)?;
                lhs = Expr::Cond(Box::new(lhs), Box::new(a), Box::new(b));
                continue;
            }
            // An assignment operator ends the expression (`a += 1` is not `a + (= 1)`).
            let Some(&(text, op)) = BINARY_OPS.iter().find(|(t, _)| r.starts_with(t)) else {
                return Ok(lhs);
            };
            if r[text.len()..].starts_with('=') && !matches!(text, "<" | ">" | "!" | "=") {
                return Ok(lhs);
            }
            let p = op.precedence();
            if p <= min {
                return Ok(lhs);
            }
            self.pos += text.len();
            let rhs = self.expr_at(p, depth + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
    }

    fn unary(&mut self, depth: usize) -> R<Expr> {
        if depth > MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        self.skip()?;
        for (c, op) in [('-', Unary::Neg), ('!', Unary::Not), ('~', Unary::BitNot)] {
            if self.rest().starts_with(c) && !self.rest().starts_with("!=") {
                self.pos += 1;
                return Ok(Expr::Unary(op, Box::new(self.unary(depth + 1)?)));
            }
        }
        if self.eat("+")? {
            return self.unary(depth + 1);
        }
        if self.eat("(")? {
            let e = self.expr_at(0, depth + 1)?;
            self.expect(")", "')'")?;
            return Ok(e);
        }
        match self.rest().chars().next() {
            Some(c) if c.is_ascii_digit() => return self.number(),
            Some('"') => {
                let n = self.name()?;
                return Ok(Expr::Symbol(n));
            }
            Some(c) if is_name_char(c) => {}
            Some(c) => return self.fail(format!("expected an expression, found '{c}'")),
            None => return self.fail("expected an expression at end of script"),
        }
        let name_at = self.pos;
        let name = self.name()?;
        if name == "." {
            return Ok(Expr::Dot);
        }
        if self.peek()? != Some('(') {
            return Ok(match name.as_str() {
                "SIZEOF_HEADERS" => Expr::SizeofHeaders,
                _ => Expr::Symbol(name),
            });
        }
        self.call(&name, name_at, depth)
    }

    fn call(&mut self, name: &str, name_at: usize, depth: usize) -> R<Expr> {
        let section_fn = match name {
            "ADDR" => Some(SectionFn::Addr),
            "SIZEOF" => Some(SectionFn::Sizeof),
            "LOADADDR" => Some(SectionFn::LoadAddr),
            "ALIGNOF" => Some(SectionFn::AlignOf),
            _ => None,
        };
        self.pos += 1; // `(`
        let e = if let Some(f) = section_fn {
            Expr::Section(f, self.section_name()?)
        } else {
            match name {
                "DEFINED" => Expr::Defined(self.name()?),
                "CONSTANT" => match self.name()?.as_str() {
                    "MAXPAGESIZE" => Expr::Constant(true),
                    "COMMONPAGESIZE" => Expr::Constant(false),
                    other => return self.fail(format!("unknown CONSTANT({other})")),
                },
                "ORIGIN" | "LENGTH" => Expr::Region(name == "ORIGIN", self.name()?),
                "SEGMENT_START" => {
                    let seg = self.name()?;
                    self.expect(",", "',' in SEGMENT_START")?;
                    Expr::SegmentStart(seg, Box::new(self.expr_at(0, depth + 1)?))
                }
                _ => {
                    let (f, n) = match name {
                        "ALIGN" => (Func::Align, 0),
                        "MAX" => (Func::Max, 2),
                        "MIN" => (Func::Min, 2),
                        "ABSOLUTE" => (Func::Absolute, 1),
                        "DATA_SEGMENT_ALIGN" => (Func::DataSegmentAlign, 2),
                        "DATA_SEGMENT_RELRO_END" => (Func::DataSegmentRelroEnd, 2),
                        "DATA_SEGMENT_END" => (Func::DataSegmentEnd, 1),
                        "NEXT" => (Func::Align, 1),
                        _ => {
                            return Err(ParseError(
                                format!("unknown function {name} in an expression"),
                                name_at,
                            ))
                        }
                    };
                    let mut args = vec![self.expr_at(0, depth + 1)?];
                    while self.eat(",")? {
                        args.push(self.expr_at(0, depth + 1)?);
                    }
                    let ok = match f {
                        Func::Align => args.len() == 1 || args.len() == 2,
                        _ => args.len() == n,
                    };
                    if !ok {
                        return Err(ParseError(
                            format!("wrong number of arguments to {name}"),
                            name_at,
                        ));
                    }
                    Expr::Call(f, args)
                }
            }
        };
        self.expect(")", &format!("')' closing {name}"))?;
        Ok(e)
    }

    /// `0x1F`, `123`, `4K`, `1M` (and GNU's `h`/`o`/`b` radix suffixes are not taken).
    fn number(&mut self) -> R<Expr> {
        let start = self.pos;
        let n = self
            .rest()
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(self.rest().len());
        let word = &self.rest()[..n];
        let (digits, mult) = match word.as_bytes().last() {
            Some(b'K' | b'k') if !word.starts_with("0x") && !word.starts_with("0X") => {
                (&word[..n - 1], 1024)
            }
            Some(b'M' | b'm') if !word.starts_with("0x") && !word.starts_with("0X") => {
                (&word[..n - 1], 1024 * 1024)
            }
            Some(b'K' | b'M') => (
                &word[..n - 1],
                if word.ends_with('K') { 1024 } else { 1 << 20 },
            ),
            _ => (word, 1),
        };
        let v = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(h) => u64::from_str_radix(h, 16),
            None => digits.parse::<u64>(),
        };
        let bad = |m: String| Err(ParseError(m, start));
        let Ok(v) = v else {
            return bad(format!("bad number '{word}'"));
        };
        let Some(v) = v.checked_mul(mult) else {
            return bad(format!("number '{word}' overflows 64 bits"));
        };
        self.pos += n;
        Ok(Expr::Num(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Command>, String> {
        let mut p = Parser::new("t.ld", text, 0);
        let mut out = Vec::new();
        p.sections_body(&mut out)
            .map_err(|e| format!("{}: {}", p.at(e.1), e.0))?;
        Ok(out)
    }

    #[test]
    fn expressions_bind_as_in_c() {
        let mut p = Parser::new("t", "1 + 2 * 3 << 1 == 14 ? 4K : 1M", 0);
        let e = p.expr(0).ok().unwrap();
        assert_eq!(e.constant(), Some(4096));
        let mut p = Parser::new("t", "-1 & 0xff | ~0 >> 60", 0);
        assert_eq!(p.expr(0).ok().unwrap().constant(), Some(0xff));
    }

    #[test]
    fn embedded_layout() {
        let c = parse(
            ". = 0x400000; .text : { *(.text.boot) *(.text*) } \
             .bss (NOLOAD) : ALIGN(16) { __bss_start = .; *(.bss*) ; __bss_end = .; } \
             /DISCARD/ : { *(.comment) } }",
        )
        .unwrap();
        assert_eq!(c.len(), 4);
        let Command::Output(bss) = &c[2] else {
            panic!()
        };
        assert!(bss.noload && bss.align.is_some());
        assert_eq!(bss.items.len(), 3);
        let Command::Output(d) = &c[3] else { panic!() };
        assert!(d.is_discard());
    }

    #[test]
    fn fuzz_findings() {
        // A quoted output section name holding `:`: offsets in the name are not the text's.
        assert!(parse("\"s\u{fffd}s!co\u{fffd}:dexterN[!a-z] \"C++\" }").is_err());
        assert!(parse("\"a:b\" : { *(.x) } }").is_ok());
    }

    #[test]
    fn errors_name_line_and_column() {
        for (bad, at) in [
            (".text : { *(.text) ", "t.ld:1:20"),
            ("\n  .text : { *(.text }", "t.ld:2:21"),
            (". = 1 +;", "t.ld:1:8"),
            (".data : AT 0x1000 { }", "t.ld:1:12"),
            (".text : { } :text }", "t.ld:1:13"),
            (".text : AT(1) { } AT> rom }", "t.ld:1:19"),
            ("INCLUDE x.ld }", "t.ld:1:1"),
            (". = FOO(1);", "t.ld:1:5"),
            ("x = 99999999999999999999;", "t.ld:1:5"),
            ("x = 1", "t.ld:1:6"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.starts_with(at), "{bad}: {e}");
        }
    }
}
