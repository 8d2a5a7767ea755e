//! Demangled symbol names as GNU ld shows them (libiberty's `DMGL_PARAMS | DMGL_ANSI`): Itanium
//! C++ (`_Z...`) with parameter lists, Rust v0 (`_R...`) and legacy Rust (`_ZN...17h<hash>E`)
//! without their hashes.
//!
//! A crate of its own because the demangler is large (about 80 KB of the playground's gzipped
//! wasm, a sixth of the linker): natively the linker calls [`demangle`]; the playground builds
//! this crate as a second wasm module (feature `bindings`) that the page loads only when a link
//! first meets a name [`looks_mangled`] accepts.

/// Whether `name` may be mangled: only such names are worth asking [`demangle`] about (the
/// playground's linker asks the page for exactly these).
pub fn looks_mangled(name: &str) -> bool {
    name.starts_with("_Z") || name.starts_with("_R")
}

/// `name` demangled; None when it is not mangled (or not validly).
pub fn demangle(name: &str) -> Option<String> {
    if name.starts_with("_R") || is_legacy_rust(name) {
        return rustc_demangle::try_demangle(name)
            .ok()
            .map(|d| format!("{d:#}"));
    }
    if !name.starts_with("_Z") {
        return None;
    }
    let sym = cpp_demangle::Symbol::new(name.as_bytes()).ok()?;
    sym.demangle(&cpp_demangle::DemangleOptions::default()).ok()
}

/// A legacy Rust symbol: `_ZN ... 17h<16 hex digits>E`.
fn is_legacy_rust(name: &str) -> bool {
    // Bytes, not characters: a name may hold any UTF-8 before its hash.
    let b = name.as_bytes();
    let Some(inner) = b.strip_prefix(b"_ZN").and_then(|s| s.strip_suffix(b"E")) else {
        return false;
    };
    inner.len() > 19
        && inner[inner.len() - 19..].starts_with(b"17h")
        && inner[inner.len() - 16..].iter().all(u8::is_ascii_hexdigit)
}

/// The playground's demangler module: `demangle(name)` for the page, which passes the answers to
/// the linker with its next link request.
#[cfg(all(feature = "bindings", target_arch = "wasm32"))]
mod bindings {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    pub fn demangle(name: &str) -> Option<String> {
        super::demangle(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_as_gnu_ld_shows() {
        assert_eq!(demangle("_Z3bazi").as_deref(), Some("baz(int)"));
        assert_eq!(demangle("_ZN3foo3barE").as_deref(), Some("foo::bar"));
        assert_eq!(demangle("foo"), None);
        assert!(looks_mangled("_Z3bazi") && looks_mangled("_RNvC1a1b") && !looks_mangled("main"));
    }
}
