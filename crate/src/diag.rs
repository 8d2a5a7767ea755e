//! Diagnostics as data: every error names what it can (file, section, offset, symbol) so the CLI, the
//! report and the playground word it the same way. The core never prints and never panics on input.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Extra lines (referencing sites of an undefined symbol, the other definition of a duplicate).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            section: None,
            offset: None,
            symbol: None,
            notes: Vec::new(),
        }
    }
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }
    /// Information, not a problem (`--print-gc-sections`' lines): printed as its message alone,
    /// as GNU ld prints such lines.
    pub fn info(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Note,
            ..Self::error(message)
        }
    }
    pub fn file(mut self, f: impl Into<String>) -> Self {
        self.file = Some(f.into());
        self
    }
    pub fn section(mut self, s: impl Into<String>) -> Self {
        self.section = Some(s.into());
        self
    }
    pub fn offset(mut self, o: u64) -> Self {
        self.offset = Some(o);
        self
    }
    pub fn symbol(mut self, s: impl Into<String>) -> Self {
        self.symbol = Some(s.into());
        self
    }
    pub fn note(mut self, n: impl Into<String>) -> Self {
        self.notes.push(n.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.severity {
            Severity::Error => write!(f, "error: ")?,
            Severity::Warning => write!(f, "warning: ")?,
            Severity::Note => {}
        }
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(sec) = &self.section {
            match self.offset {
                Some(o) => write!(f, "{sec}+0x{o:x}: ")?,
                None => write!(f, "{sec}: ")?,
            }
        } else if let Some(o) = self.offset {
            write!(f, "offset 0x{o:x}: ")?;
        }
        write!(f, "{}", self.message)?;
        for n in &self.notes {
            write!(f, "\n>>> {n}")?;
        }
        Ok(())
    }
}

/// A failed phase: the diagnostics that explain why (at least one error).
#[derive(Debug, Clone)]
pub struct Errors(pub Vec<Diagnostic>);

impl From<Diagnostic> for Errors {
    fn from(d: Diagnostic) -> Self {
        Errors(vec![d])
    }
}

pub type Result<T> = std::result::Result<T, Errors>;

/// Shorthand for an error diagnostic wrapped as a phase failure.
pub fn err<T>(d: Diagnostic) -> Result<T> {
    Err(Errors(vec![d]))
}

/// Demangled-enough printable name for raw symbol bytes.
pub fn name_str(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
