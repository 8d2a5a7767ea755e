//! The linker-script expression language, as GNU ld evaluates it: 64-bit unsigned values,
//! C's operators and precedence, and the built-in functions (`ALIGN`, `ADDR`, `SIZEOF`,
//! `DATA_SEGMENT_ALIGN`, ...). Parsing is [`super`]'s; evaluation asks an [`Env`]
//! (the layout) for what only it knows. Arithmetic is checked: an overflow, a division by zero
//! or a shift past 63 is an error, never a wrapped value.

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Num(u64),
    /// `.`, the location counter.
    Dot,
    Symbol(String),
    Unary(Unary, Box<Expr>),
    Binary(Binary, Box<Expr>, Box<Expr>),
    /// `c ? a : b`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    /// `ADDR(sec)`, `SIZEOF(sec)`, `LOADADDR(sec)`, `ALIGNOF(sec)`.
    Section(SectionFn, String),
    Defined(String),
    /// `SEGMENT_START("name", default)`.
    SegmentStart(String, Box<Expr>),
    /// `CONSTANT(MAXPAGESIZE)` (true) or `CONSTANT(COMMONPAGESIZE)` (false).
    Constant(bool),
    SizeofHeaders,
    /// `ORIGIN(region)` (true) or `LENGTH(region)` (false).
    Region(bool, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unary {
    Neg,
    Not,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Xor,
    Or,
    LogAnd,
    LogOr,
}

impl Binary {
    /// Binding strength, C's (higher binds tighter).
    pub fn precedence(self) -> u8 {
        use Binary::*;
        match self {
            Mul | Div | Rem => 10,
            Add | Sub => 9,
            Shl | Shr => 8,
            Lt | Le | Gt | Ge => 7,
            Eq | Ne => 6,
            And => 5,
            Xor => 4,
            Or => 3,
            LogAnd => 2,
            LogOr => 1,
        }
    }
}

/// Functions of expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `ALIGN(n)` (of `.`) or `ALIGN(e, n)`.
    Align,
    Max,
    Min,
    Absolute,
    DataSegmentAlign,
    DataSegmentRelroEnd,
    DataSegmentEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionFn {
    Addr,
    Sizeof,
    LoadAddr,
    AlignOf,
}

/// What an expression may ask of the link; each answer is an error message when it cannot
/// be given.
pub trait Env {
    fn dot(&self) -> Result<u64, String>;
    fn symbol(&self, name: &str) -> Result<u64, String>;
    fn section(&self, f: SectionFn, name: &str) -> Result<u64, String>;
    fn defined(&self, name: &str) -> bool;
    fn segment_start(&self, name: &str) -> Option<u64>;
    fn page(&self, max: bool) -> u64;
    fn sizeof_headers(&self) -> u64;
    /// `DATA_SEGMENT_ALIGN(max, common)` at `dot`.
    fn data_segment_align(&mut self, dot: u64, max: u64, common: u64) -> Result<u64, String>;
    /// `DATA_SEGMENT_RELRO_END(offset, value)`.
    fn data_segment_relro_end(&mut self, offset: u64, value: u64) -> u64;
    /// `ORIGIN(name)` (`origin`) or `LENGTH(name)`: an environment without `MEMORY` has none.
    fn region(&self, origin: bool, name: &str) -> Result<u64, String> {
        let f = if origin { "ORIGIN" } else { "LENGTH" };
        Err(format!("{f}({name}): no memory region {name}"))
    }
}

fn checked(v: Option<u64>, what: &str) -> Result<u64, String> {
    v.ok_or_else(|| format!("{what} overflows 64 bits"))
}

/// `v` rounded up to a multiple of `a` (a power of two, or any nonzero value as GNU ld allows).
pub fn align_to(v: u64, a: u64) -> Result<u64, String> {
    if a <= 1 {
        return Ok(v);
    }
    let up = checked(v.checked_add(a - 1), "ALIGN")?;
    Ok(up - up % a)
}

impl Expr {
    /// Whether the expression reads `.` (GNU ld takes a constant assigned to `.` inside an
    /// output section as an offset from its start).
    pub fn uses_dot(&self) -> bool {
        match self {
            Expr::Dot => true,
            Expr::Unary(_, a) => a.uses_dot(),
            Expr::Binary(_, a, b) => a.uses_dot() || b.uses_dot(),
            Expr::Cond(c, a, b) => c.uses_dot() || a.uses_dot() || b.uses_dot(),
            // `ALIGN(n)` is `ALIGN(., n)`.
            Expr::Call(Func::Align, args) if args.len() == 1 => true,
            Expr::Call(Func::DataSegmentAlign | Func::DataSegmentEnd, _) => true,
            Expr::Call(_, args) => args.iter().any(Expr::uses_dot),
            Expr::SegmentStart(_, d) => d.uses_dot(),
            _ => false,
        }
    }

    /// Whether the expression is made of numbers only (a data command's value at plan time).
    pub fn constant(&self) -> Option<u64> {
        struct NoEnv;
        impl Env for NoEnv {
            fn dot(&self) -> Result<u64, String> {
                Err(String::new())
            }
            fn symbol(&self, _: &str) -> Result<u64, String> {
                Err(String::new())
            }
            fn section(&self, _: SectionFn, _: &str) -> Result<u64, String> {
                Err(String::new())
            }
            fn defined(&self, _: &str) -> bool {
                false
            }
            fn segment_start(&self, _: &str) -> Option<u64> {
                None
            }
            fn page(&self, _: bool) -> u64 {
                0x1000
            }
            fn sizeof_headers(&self) -> u64 {
                0
            }
            fn data_segment_align(&mut self, _: u64, _: u64, _: u64) -> Result<u64, String> {
                Err(String::new())
            }
            fn data_segment_relro_end(&mut self, _: u64, v: u64) -> u64 {
                v
            }
        }
        self.pure().then(|| self.eval(&mut NoEnv).ok()).flatten()
    }

    /// Made of numbers and operators only.
    fn pure(&self) -> bool {
        match self {
            Expr::Num(_) => true,
            Expr::Unary(_, a) => a.pure(),
            Expr::Binary(_, a, b) => a.pure() && b.pure(),
            Expr::Cond(c, a, b) => c.pure() && a.pure() && b.pure(),
            Expr::Call(Func::Max | Func::Min | Func::Absolute, args) => args.iter().all(Expr::pure),
            _ => false,
        }
    }

    /// The value, or what went wrong.
    pub fn eval(&self, env: &mut dyn Env) -> Result<u64, String> {
        Ok(match self {
            Expr::Num(n) => *n,
            Expr::Dot => env.dot()?,
            Expr::Symbol(s) => env.symbol(s)?,
            Expr::Unary(op, a) => {
                let v = a.eval(env)?;
                match op {
                    // Two's complement, as GNU ld's `bfd_vma`: `-1` is all ones.
                    Unary::Neg => v.wrapping_neg(),
                    Unary::Not => u64::from(v == 0),
                    Unary::BitNot => !v,
                }
            }
            Expr::Binary(op, a, b) => {
                let l = a.eval(env)?;
                // `&&` and `||` do not evaluate what they do not need.
                match op {
                    Binary::LogAnd if l == 0 => return Ok(0),
                    Binary::LogOr if l != 0 => return Ok(1),
                    _ => {}
                }
                binary(*op, l, b.eval(env)?)?
            }
            Expr::Cond(c, a, b) => {
                if c.eval(env)? != 0 {
                    a.eval(env)?
                } else {
                    b.eval(env)?
                }
            }
            Expr::Call(f, args) => call(*f, args, env)?,
            Expr::Section(f, name) => env.section(*f, name)?,
            Expr::Defined(s) => u64::from(env.defined(s)),
            Expr::SegmentStart(name, d) => match env.segment_start(name) {
                Some(v) => v,
                None => d.eval(env)?,
            },
            Expr::Constant(max) => env.page(*max),
            Expr::SizeofHeaders => env.sizeof_headers(),
            Expr::Region(origin, name) => env.region(*origin, name)?,
        })
    }
}

fn binary(op: Binary, l: u64, r: u64) -> Result<u64, String> {
    use Binary::*;
    Ok(match op {
        Mul => checked(l.checked_mul(r), "multiplication")?,
        Div => l.checked_div(r).ok_or("division by zero")?,
        Rem => l.checked_rem(r).ok_or("division by zero (in %)")?,
        Add => checked(l.checked_add(r), "addition")?,
        Sub => l
            .checked_sub(r)
            .ok_or_else(|| format!("subtraction {l:#x} - {r:#x} goes below zero"))?,
        Shl => {
            let v = u32::try_from(r).ok().and_then(|s| l.checked_shl(s));
            match v {
                Some(v) if r < 64 && (v >> r) == l => v,
                _ => return Err(format!("shift {l:#x} << {r} overflows 64 bits")),
            }
        }
        Shr => u32::try_from(r)
            .ok()
            .and_then(|s| l.checked_shr(s))
            .ok_or_else(|| format!("shift by {r} is past 63"))?,
        Lt => u64::from(l < r),
        Le => u64::from(l <= r),
        Gt => u64::from(l > r),
        Ge => u64::from(l >= r),
        Eq => u64::from(l == r),
        Ne => u64::from(l != r),
        And => l & r,
        Xor => l ^ r,
        Or => l | r,
        LogAnd => u64::from(l != 0 && r != 0),
        LogOr => u64::from(l != 0 || r != 0),
    })
}

fn call(f: Func, args: &[Expr], env: &mut dyn Env) -> Result<u64, String> {
    let mut v = Vec::with_capacity(args.len());
    for a in args {
        v.push(a.eval(env)?);
    }
    Ok(match (f, v.as_slice()) {
        (Func::Align, &[n]) => align_to(env.dot()?, n)?,
        (Func::Align, &[e, n]) => align_to(e, n)?,
        (Func::Max, &[a, b]) => a.max(b),
        (Func::Min, &[a, b]) => a.min(b),
        (Func::Absolute, &[a]) => a,
        (Func::DataSegmentAlign, &[max, common]) => {
            let dot = env.dot()?;
            env.data_segment_align(dot, max, common)?
        }
        (Func::DataSegmentRelroEnd, &[offset, value]) => env.data_segment_relro_end(offset, value),
        (Func::DataSegmentEnd, &[e]) => e,
        _ => return Err(format!("wrong number of arguments to {f:?}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_arithmetic() {
        assert_eq!(binary(Binary::Add, 1, 2), Ok(3));
        assert!(binary(Binary::Add, u64::MAX, 1).is_err());
        assert!(binary(Binary::Sub, 1, 2).is_err());
        assert!(binary(Binary::Div, 1, 0).is_err());
        assert!(binary(Binary::Rem, 1, 0).is_err());
        assert!(binary(Binary::Shl, 1, 64).is_err());
        assert!(binary(Binary::Shl, 3, 63).is_err());
        assert_eq!(binary(Binary::Shl, 1, 63), Ok(1 << 63));
        assert!(binary(Binary::Shr, 1, 64).is_err());
        assert_eq!(align_to(0x1001, 0x1000), Ok(0x2000));
        assert!(align_to(u64::MAX, 16).is_err());
    }
}
