//! Demangled names for diagnostics and `extern "C++"` version-script patterns, hiding where the
//! demangler lives: natively it is linked in; in the playground it is a separate wasm module
//! (`initlink-demangle`, a sixth of the linker's gzipped size) that the page loads only when a
//! link first needs it. There the linker reads the answers the page sent with the request
//! ([`supply`]) and lists the names it lacked ([`take_wanted`]); the page then loads the demangler
//! and links again with them, so the output never depends on whether it was loaded.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// `name` demangled as GNU ld shows it; None when it is not mangled (or not validly).
pub fn demangle(name: &str) -> Option<String> {
    if !initlink_demangle::looks_mangled(name) {
        return None;
    }
    #[cfg(not(target_arch = "wasm32"))]
    return initlink_demangle::demangle(name);
    #[cfg(target_arch = "wasm32")]
    return supplied(name);
}

/// The demangled names a playground link was given, and those it asked for in vain.
#[derive(Default)]
struct Supplied {
    answers: HashMap<String, Option<String>>,
    wanted: BTreeSet<String>,
}

thread_local! {
    // Set for the length of one playground link; wasm32 runs the link on this one thread.
    static SUPPLIED: RefCell<Supplied> = Default::default();
}

/// Start a playground link with the page's answers (None: not validly mangled).
pub fn supply(answers: HashMap<String, Option<String>>) {
    SUPPLIED.with(|s| {
        *s.borrow_mut() = Supplied {
            answers,
            wanted: BTreeSet::new(),
        }
    });
}

/// End a playground link: the names it needed and was not given, sorted.
pub fn take_wanted() -> Vec<String> {
    let s = SUPPLIED.with(|s| std::mem::take(&mut *s.borrow_mut()));
    s.wanted.into_iter().collect()
}

/// `name` as the page demangled it, else None, noting that the link wanted it.
pub fn supplied(name: &str) -> Option<String> {
    SUPPLIED.with(|s| {
        let mut s = s.borrow_mut();
        match s.answers.get(name) {
            Some(answer) => answer.clone(),
            None => {
                s.wanted.insert(name.to_owned());
                None
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supplied_answers_or_lists_the_name() {
        let mut answers = HashMap::new();
        answers.insert("_Z1fv".to_owned(), Some("f()".to_owned()));
        answers.insert("_Zbad".to_owned(), None);
        supply(answers);
        assert_eq!(supplied("_Z1fv").as_deref(), Some("f()"));
        assert_eq!(supplied("_Zbad"), None);
        assert_eq!(supplied("_Z1gv"), None);
        assert_eq!(take_wanted(), ["_Z1gv"]);
        assert!(take_wanted().is_empty());
    }
}
