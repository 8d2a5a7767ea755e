//! Finding the command line's inputs, as GNU ld does: `-lNAME` in the search directories
//! (`libNAME.so`, then `libNAME.a`; only the `.a` under `-Bstatic`; `-l:FILE` as named), linker
//! scripts given as inputs expanded in place (`INPUT`, `GROUP`, `AS_NEEDED`, `SEARCH_DIR`, at most
//! [`MAX_SCRIPTS`] of them), `--sysroot` and `=` paths, and the group, `--as-needed` and
//! `--whole-archive` markers passed on in order. The result is the files' bytes in link order,
//! which [`items`] turns into the [`InputItem`]s [`crate::link`] takes.
//!
//! Where files come from is a [`FileSource`]: the CLI's is the file system (mapped or read), the
//! wasm bindings' the files a request carries. Both find the same inputs by the same rules here.

use crate::diag::Diagnostic;
use crate::input::{classify, FileKind, Input, InputItem};
use crate::options::{sysroot_path, InputArg};
use std::collections::VecDeque;
use std::ops::Deref;

/// Most linker scripts one link expands: scripts that name each other would expand forever.
pub const MAX_SCRIPTS: usize = 64;

/// A file a source opened: the name the link calls it by, and its bytes.
pub struct Opened<D> {
    pub name: String,
    pub data: D,
}

/// Where the resolver finds files. Paths are the command line's strings (a script's own paths,
/// `dir/name` joined as `Path::join` joins them on Unix).
pub trait FileSource {
    /// A file's bytes (a mapping, a `Vec`, a slice of wasm memory).
    type Data: Deref<Target = [u8]>;
    /// The file at `path`, or why it cannot be read (the text after "cannot open: ").
    fn open(&self, path: &str) -> Result<Opened<Self::Data>, String>;
    fn exists(&self, path: &str) -> bool;
    fn is_file(&self, path: &str) -> bool;
    /// Whether `path` lies inside the directory `dir`, both with symlinks followed (under
    /// `--sysroot`, a script inside the sysroot names its absolute paths in it). A source without
    /// directories says no.
    fn inside(&self, _path: &str, _dir: &str) -> bool {
        false
    }
    /// The files `inputs` name by path, opened before the walk starts (at their index; None to
    /// open in turn, and a failure here is only a retry later): the CLI opens them in parallel.
    fn open_ahead(&self, _inputs: &[InputArg]) -> Vec<Option<Opened<Self::Data>>> {
        Vec::new()
    }
}

/// One input once found: a file with its bytes, or a marker, in command-line order.
pub enum Found<D> {
    File {
        file: Opened<D>,
        /// Found by `-lNAME` (see [`Input::lib_search`]).
        lib_search: bool,
        /// A thin archive's members, the files its headers name (see [`Input::members`]).
        members: Vec<Opened<D>>,
    },
    StartGroup,
    EndGroup,
    AsNeeded(bool),
    WholeArchive(bool),
    /// A version script read (`command_line`), or a linker script's `VERSION` nodes.
    Versions {
        script: crate::version_script::Script,
        command_line: bool,
    },
    /// A dynamic list read (`export`: from `--export-dynamic-symbol-list`).
    DynamicList {
        patterns: Vec<crate::version_script::Pattern>,
        export: bool,
    },
    /// A linker script's symbol assignments and `ENTRY` ([`apply_assignments`] gives them to
    /// the options).
    Assignments(Vec<crate::script::Assignment>),
}

/// What the scripts among `found` assign: `NAME = VALUE` as `--defsym` (after the command
/// line's), `PROVIDE` also listed in [`Options::provide`], `ENTRY` unless `-e` was given.
pub fn apply_assignments<D>(found: &[Found<D>], opts: &mut crate::options::Options) {
    let entry_given = opts.entry.is_some();
    for f in found {
        let Found::Assignments(list) = f else {
            continue;
        };
        for a in list {
            match a {
                crate::script::Assignment::Define {
                    name,
                    value,
                    provide,
                    hidden,
                } => {
                    opts.defsym.push((name.clone(), value.clone()));
                    if *provide {
                        opts.provide.push(name.clone());
                    }
                    if *hidden {
                        opts.hidden.push(name.clone());
                    }
                }
                crate::script::Assignment::Entry(e) if !entry_given => {
                    opts.entry = Some(e.clone());
                    opts.entry_from_script = true;
                }
                crate::script::Assignment::Entry(_) => {}
                crate::script::Assignment::Sections(sections) => {
                    apply_sections(sections, opts);
                }
            }
        }
    }
}

/// A script's `SECTIONS`: its commands join the options' (the layout follows them) and each
/// symbol it assigns becomes a linker-made symbol: a constant one absolute, as `--defsym`'s,
/// the others with the address the layout gives (`PROVIDE`d ones only if referred to and
/// defined nowhere else).
fn apply_sections(sections: &crate::linker_script::Sections, opts: &mut crate::options::Options) {
    use crate::options::Defsym;
    let mut all = opts.sections.as_deref().cloned().unwrap_or_default();
    all.commands.extend(sections.commands.iter().cloned());
    all.memory.extend(sections.memory.iter().cloned());
    all.laid_out |= sections.laid_out;
    for a in sections.assignments() {
        let Some(name) = &a.target else {
            continue;
        };
        let value = match (a.op, a.expr.constant()) {
            (None, Some(v)) => Defsym::Value(v),
            _ => Defsym::Layout,
        };
        opts.defsym.push((name.clone(), value));
        if a.provide {
            opts.provide.push(name.clone());
        }
        if a.hidden {
            opts.hidden.push(name.clone());
        }
    }
    opts.sections = Some(std::sync::Arc::new(all));
}

/// Find every input `inputs` names, in order: `dirs` are the library search directories (the
/// command line's `-L`, in order; scripts' `SEARCH_DIR`s are added after them), `sysroot` the
/// `--sysroot`. All the inputs that cannot be found or read are reported together.
pub fn resolve<S: FileSource>(
    source: &S,
    inputs: Vec<InputArg>,
    dirs: Vec<String>,
    sysroot: Option<&str>,
) -> Result<Vec<Found<S::Data>>, Vec<Diagnostic>> {
    let mut ahead = source.open_ahead(&inputs).into_iter();
    let queue = inputs
        .into_iter()
        .map(|a| (a, ahead.next().flatten()))
        .collect();
    let mut walk = Walk {
        source,
        dirs,
        sysroot,
        queue,
        found: Vec::new(),
        errors: Vec::new(),
        scripts: 0,
        as_needed: false,
    };
    while let Some((arg, opened)) = walk.queue.pop_front() {
        if !walk.step(arg, opened) {
            break;
        }
    }
    if walk.errors.is_empty() {
        Ok(walk.found)
    } else {
        Err(walk.errors)
    }
}

/// The items [`crate::link`] takes, borrowing the files' bytes from `found`.
pub fn items<D: Deref<Target = [u8]>>(found: &[Found<D>]) -> Vec<InputItem<'_>> {
    found
        .iter()
        .filter_map(|f| {
            Some(match f {
                Found::File {
                    file,
                    lib_search,
                    members,
                } => InputItem::File(Input {
                    name: file.name.clone(),
                    data: &file.data,
                    lib_search: *lib_search,
                    members: members.iter().map(|m| &*m.data).collect(),
                }),
                // Options, not inputs (`apply_assignments`).
                Found::Assignments(_) => return None,
                Found::StartGroup => InputItem::StartGroup,
                Found::EndGroup => InputItem::EndGroup,
                Found::AsNeeded(a) => InputItem::AsNeeded(*a),
                Found::WholeArchive(w) => InputItem::WholeArchive(*w),
                Found::Versions {
                    script,
                    command_line,
                } => InputItem::Versions {
                    script,
                    command_line: *command_line,
                },
                Found::DynamicList { patterns, export } => InputItem::DynamicList {
                    patterns,
                    export: *export,
                },
            })
        })
        .collect()
}

/// The walk over the inputs: a queue, because a script's items take its place at the front.
struct Walk<'s, S: FileSource> {
    source: &'s S,
    dirs: Vec<String>,
    sysroot: Option<&'s str>,
    queue: VecDeque<(InputArg, Option<Opened<S::Data>>)>,
    found: Vec<Found<S::Data>>,
    errors: Vec<Diagnostic>,
    scripts: usize,
    /// The `--as-needed` state in force, which the end of a script's `AS_NEEDED(...)` restores.
    as_needed: bool,
}

impl<S: FileSource> Walk<'_, S> {
    /// Find, open and place one item; false when the walk must stop (too many scripts).
    fn step(&mut self, arg: InputArg, opened: Option<Opened<S::Data>>) -> bool {
        // `Some(static_only)` for a file found by `-l`.
        let (path, lib) = match arg {
            InputArg::StartGroup => return self.place(Found::StartGroup),
            InputArg::EndGroup => return self.place(Found::EndGroup),
            InputArg::AsNeeded(a) => {
                self.as_needed = a;
                return self.place(Found::AsNeeded(a));
            }
            InputArg::WholeArchive(w) => return self.place(Found::WholeArchive(w)),
            InputArg::VersionScript(p) => return self.read_list(p, None),
            InputArg::DynamicList { path, export } => return self.read_list(path, Some(export)),
            InputArg::Path(p) if opened.is_some() => (p, None),
            InputArg::Path(p) => (self.find_path(p), None),
            InputArg::Lib {
                name,
                static_only,
                exact,
            } => match self.find_library(&name, exact, static_only) {
                Some(p) => (p, Some(static_only)),
                None => {
                    let colon = if exact { ":" } else { "" };
                    self.errors
                        .push(Diagnostic::error(format!("cannot find -l{colon}{name}")));
                    return true;
                }
            },
        };
        let file = match opened.map_or_else(|| self.source.open(&path), Ok) {
            Ok(f) => f,
            Err(e) => {
                self.errors
                    .push(Diagnostic::error(format!("cannot open: {e}")).file(path));
                return true;
            }
        };
        if classify(&file.data) == FileKind::Text && !crate::dso::is_description(&file.data) {
            return self.expand_script(&path, file, lib == Some(true));
        }
        let members = if classify(&file.data) == FileKind::ThinArchive {
            match self.thin_members(&path, &file.data) {
                Ok(m) => m,
                Err(d) => {
                    self.errors.push(*d);
                    return true;
                }
            }
        } else {
            Vec::new()
        };
        self.place(Found::File {
            file,
            lib_search: lib.is_some(),
            members,
        })
    }

    /// The files a thin archive at `path` names, opened: each path is relative to the
    /// archive's directory unless absolute, as GNU ar writes them and GNU ld reads them.
    fn thin_members(
        &self,
        path: &str,
        data: &[u8],
    ) -> Result<Vec<Opened<S::Data>>, Box<Diagnostic>> {
        let names = crate::input::thin_member_names(data)
            .map_err(|e| Box::new(Diagnostic::error(e).file(path.to_string())))?;
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            let p = if n.starts_with('/') || dir.is_empty() {
                n
            } else {
                format!("{dir}/{n}")
            };
            match self.source.open(&p) {
                Ok(f) => out.push(f),
                Err(e) => {
                    let msg = format!("cannot open thin archive member {p}: {e}");
                    return Err(Box::new(Diagnostic::error(msg).file(path.to_string())));
                }
            }
        }
        Ok(out)
    }

    fn place(&mut self, f: Found<S::Data>) -> bool {
        self.found.push(f);
        true
    }

    /// A version script (`export` None) or a dynamic list, found as a path is (as given, else
    /// in the search directories), read and parsed.
    fn read_list(&mut self, path: String, export: Option<bool>) -> bool {
        let path = self.find_path(path);
        let file = match self.source.open(&path) {
            Ok(f) => f,
            Err(e) => {
                self.errors
                    .push(Diagnostic::error(format!("cannot open: {e}")).file(path));
                return true;
            }
        };
        let text = String::from_utf8_lossy(&file.data);
        let found = match export {
            None => crate::version_script::parse(&file.name, &text).map(|script| Found::Versions {
                script,
                command_line: true,
            }),
            Some(export) => crate::version_script::parse_dynamic_list(&file.name, &text)
                .map(|patterns| Found::DynamicList { patterns, export }),
        };
        match found {
            Ok(f) => self.place(f),
            Err(e) => {
                self.errors.extend(e.0);
                true
            }
        }
    }

    /// A path as given, or, when nothing is there and it is relative (a bare name in a script),
    /// the first search directory that has it.
    fn find_path(&self, p: String) -> String {
        if self.source.exists(&p) || p.starts_with('/') {
            return p;
        }
        self.dirs
            .iter()
            .map(|d| join(d, &p))
            .find(|c| self.source.is_file(c))
            .unwrap_or(p)
    }

    /// A relative file a script names that is not in the current directory but beside the
    /// script: that one, as GNU ld finds it (else the search directories will be tried).
    fn beside_script(&self, script: &str, p: String) -> String {
        if p.starts_with('/') || self.source.exists(&p) {
            return p;
        }
        match script.rsplit_once('/') {
            Some((dir, _)) if self.source.is_file(&join(dir, &p)) => join(dir, &p),
            _ => p,
        }
    }

    /// The file `INCLUDE NAME` in script `script` names: NAME as it is (from the current
    /// directory), else in each search directory in turn, as GNU ld looks; else beside the
    /// script (GNU ld 2.40 does not look there; later versions do). Its name and text.
    fn open_included(&self, script: &str, name: &str) -> Result<(String, String), String> {
        let beside = script.rsplit_once('/').map(|(dir, _)| join(dir, name));
        let found = std::iter::once(name.to_string())
            .chain(self.dirs.iter().map(|d| join(d, name)))
            .chain(beside)
            .find(|p| self.source.is_file(p))
            .ok_or("No such file or directory")?;
        let file = self.source.open(&found)?;
        Ok((file.name, String::from_utf8_lossy(&file.data).into_owned()))
    }

    /// `-lNAME`: each search directory in turn, and in each `libNAME.so` before `libNAME.a`.
    fn find_library(&self, name: &str, exact: bool, static_only: bool) -> Option<String> {
        let candidates: Vec<String> = if exact {
            vec![name.to_string()]
        } else if static_only {
            vec![format!("lib{name}.a")]
        } else {
            vec![format!("lib{name}.so"), format!("lib{name}.a")]
        };
        self.dirs.iter().find_map(|d| {
            candidates
                .iter()
                .map(|c| join(d, c))
                .find(|p| self.source.is_file(p))
        })
    }

    /// Put a linker script's items where the script was named. Its `-l`s are searched as the
    /// `-l` that found the script was (`static_only`); its `SEARCH_DIR`s join the search.
    fn expand_script(&mut self, path: &str, file: Opened<S::Data>, static_only: bool) -> bool {
        self.scripts += 1;
        if self.scripts > MAX_SCRIPTS {
            self.errors
                .push(Diagnostic::error("too many nested linker scripts").file(file.name));
            return false;
        }
        let text = String::from_utf8_lossy(&file.data);
        let mut include = |name: &str| self.open_included(path, name);
        let script = match crate::script::parse_with(&file.name, &text, &mut include, 0) {
            Ok(s) => s,
            Err(e) => {
                self.errors.extend(e.0);
                return true;
            }
        };
        // Under --sysroot, a script inside the sysroot names its files in it.
        let in_sysroot = self
            .sysroot
            .is_some_and(|root| self.source.inside(path, root));
        let rooted = |p: String| match sysroot_path(&p, self.sysroot, in_sysroot) {
            Some(r) if p.starts_with('=') || self.source.exists(&r) => r,
            _ => p,
        };
        let dirs: Vec<String> = script.search_dirs.into_iter().map(rooted).collect();
        if !script.assignments.is_empty() {
            self.found.push(Found::Assignments(script.assignments));
        }
        if !script.versions.nodes.is_empty() {
            self.found.push(Found::Versions {
                script: script.versions,
                command_line: false,
            });
        }
        let items: Vec<InputArg> = script
            .items
            .into_iter()
            .map(|item| match item {
                InputArg::Lib { name, exact, .. } => InputArg::Lib {
                    name,
                    exact,
                    static_only,
                },
                // The end of AS_NEEDED(...) restores the state around the script.
                InputArg::AsNeeded(false) => InputArg::AsNeeded(self.as_needed),
                InputArg::Path(p) => InputArg::Path(self.beside_script(path, rooted(p))),
                other => other,
            })
            .collect();
        self.dirs.extend(dirs);
        for item in items.into_iter().rev() {
            self.queue.push_front((item, None));
        }
        true
    }
}

/// `dir/name` as `Path::join` spells it on Unix: an absolute `name` stands alone, and no `/` is
/// added after an empty `dir` or one that ends in `/`.
fn join(dir: &str, name: &str) -> String {
    if name.starts_with('/') || dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Files by path; a directory exists when a file is under it. `root` is what `inside` says
    /// every path is in.
    #[derive(Default)]
    struct Files {
        files: BTreeMap<String, Vec<u8>>,
        root: Option<String>,
    }

    impl Files {
        fn with(paths: &[(&str, &str)]) -> Self {
            let mut f = Files::default();
            for (p, text) in paths {
                f.files.insert(p.to_string(), text.as_bytes().to_vec());
            }
            f
        }
    }

    impl FileSource for Files {
        type Data = Vec<u8>;
        fn open(&self, path: &str) -> Result<Opened<Vec<u8>>, String> {
            let data = self.files.get(path).ok_or("no such file")?.clone();
            Ok(Opened {
                name: path.to_string(),
                data,
            })
        }
        fn exists(&self, path: &str) -> bool {
            self.is_file(path)
                || self
                    .files
                    .keys()
                    .any(|k| k.starts_with(&format!("{path}/")))
        }
        fn is_file(&self, path: &str) -> bool {
            self.files.contains_key(path)
        }
        fn inside(&self, _path: &str, dir: &str) -> bool {
            self.root.as_deref() == Some(dir)
        }
    }

    const OBJ: &str = "\x7fELF";

    fn lib(name: &str, static_only: bool, exact: bool) -> InputArg {
        InputArg::Lib {
            name: name.into(),
            static_only,
            exact,
        }
    }

    fn path(p: &str) -> InputArg {
        InputArg::Path(p.into())
    }

    /// What was found, one word each: a file's name (`-l:` before a name found by `-l`), or a
    /// marker.
    fn found(
        src: &Files,
        inputs: Vec<InputArg>,
        dirs: &[&str],
        sysroot: Option<&str>,
    ) -> Result<Vec<String>, Vec<String>> {
        let dirs = dirs.iter().map(|d| d.to_string()).collect();
        match resolve(src, inputs, dirs, sysroot) {
            Ok(found) => Ok(found
                .iter()
                .map(|f| match f {
                    Found::File {
                        file, lib_search, ..
                    } => {
                        format!("{}{}", if *lib_search { "-l:" } else { "" }, file.name)
                    }
                    Found::StartGroup => "(".into(),
                    Found::EndGroup => ")".into(),
                    Found::AsNeeded(a) => format!("as-needed={a}"),
                    Found::WholeArchive(w) => format!("whole-archive={w}"),
                    Found::Versions { script, .. } => format!("versions={}", script.nodes.len()),
                    Found::Assignments(a) => format!("assignments={}", a.len()),
                    Found::DynamicList { patterns, .. } => {
                        format!("dynamic-list={}", patterns.len())
                    }
                })
                .collect()),
            Err(e) => Err(e.iter().map(|d| d.to_string()).collect()),
        }
    }

    #[test]
    fn libraries_are_searched_dir_by_dir_shared_first() {
        let src = Files::with(&[
            ("a/libfoo.a", OBJ),
            ("b/libfoo.so", OBJ),
            ("b/libbar.so", OBJ),
            ("b/libbar.a", OBJ),
            ("b/x.a", OBJ),
        ]);
        let got = found(
            &src,
            vec![
                lib("foo", false, false),
                lib("bar", false, false),
                lib("bar", true, false),
                lib("x.a", false, true),
            ],
            &["a", "b/"],
            None,
        );
        assert_eq!(
            got.unwrap(),
            [
                "-l:a/libfoo.a",
                "-l:b/libbar.so",
                "-l:b/libbar.a",
                "-l:b/x.a"
            ]
        );
    }

    #[test]
    fn what_is_missing_is_reported_all_at_once() {
        let src = Files::with(&[("a/libfoo.so", OBJ)]);
        let got = found(
            &src,
            vec![
                lib("foo", true, false),
                path("gone.o"),
                lib("x.a", false, true),
            ],
            &["a"],
            None,
        );
        assert_eq!(
            got.unwrap_err(),
            [
                "error: cannot find -lfoo",
                "error: gone.o: cannot open: no such file",
                "error: cannot find -l:x.a"
            ]
        );
    }

    #[test]
    fn version_scripts_and_dynamic_lists_are_found_like_inputs() {
        let src = Files::with(&[
            ("dir/a.ver", "V1 { global: foo; local: *; };"),
            ("d.list", "{ foo; bar; };"),
            ("v.ld", "VERSION { V2 { bar; }; }"),
            ("bad.ver", "V1 {\n foo\n};"),
        ]);
        let got = found(
            &src,
            vec![
                InputArg::VersionScript("a.ver".into()),
                InputArg::DynamicList {
                    path: "d.list".into(),
                    export: false,
                },
                path("v.ld"),
            ],
            &["dir"],
            None,
        );
        assert_eq!(got.unwrap(), ["versions=1", "dynamic-list=2", "versions=1"]);
        let got = found(
            &src,
            vec![
                InputArg::VersionScript("bad.ver".into()),
                InputArg::VersionScript("gone.ver".into()),
            ],
            &[],
            None,
        );
        assert_eq!(
            got.unwrap_err(),
            [
                "error: bad.ver:3:1: expected ';' after 'foo', found '}'",
                "error: gone.ver: cannot open: no such file"
            ]
        );
    }

    #[test]
    fn a_relative_file_a_script_names_is_found_beside_the_script() {
        let src = Files::with(&[
            ("foo/b.script", "INPUT(a.o c.o)"),
            ("foo/a.o", OBJ),
            ("c.o", OBJ),
            ("foo/c.o", OBJ),
        ]);
        // The current directory first (c.o), then the script's (foo/a.o).
        let got = found(&src, vec![path("foo/b.script")], &[], None);
        assert_eq!(got.unwrap(), ["foo/a.o", "c.o"]);
    }

    #[test]
    fn a_script_expands_in_place_and_restores_as_needed() {
        let src = Files::with(&[
            (
                "lib/libc.so",
                "/* GNU ld script */ OUTPUT_FORMAT(elf64-x86-64)\n\
                 GROUP ( /lib/libc.so.6 libc_nonshared.a AS_NEEDED ( /lib/ld.so ) )",
            ),
            ("/lib/libc.so.6", OBJ),
            ("/lib/ld.so", OBJ),
            ("lib/libc_nonshared.a", OBJ),
            ("main.o", OBJ),
        ]);
        let got = found(
            &src,
            vec![
                path("main.o"),
                InputArg::AsNeeded(true),
                lib("c", false, false),
                InputArg::WholeArchive(false),
            ],
            &["lib"],
            None,
        );
        assert_eq!(
            got.unwrap(),
            [
                "main.o",
                "as-needed=true",
                "(",
                "/lib/libc.so.6",
                // A bare name in a script: searched for in the -L directories.
                "lib/libc_nonshared.a",
                "as-needed=true",
                "/lib/ld.so",
                "as-needed=true",
                ")",
                "whole-archive=false"
            ]
        );
    }

    #[test]
    fn a_script_found_under_bstatic_searches_its_libraries_static() {
        let src = Files::with(&[
            ("d/libs.a", "INPUT ( -lbar ) SEARCH_DIR ( e )"),
            ("d/libbar.so", OBJ),
            ("e/libbar.a", OBJ),
            ("f/libt.so", "INPUT ( -lbar )"),
        ]);
        let got = found(&src, vec![lib("s", true, false)], &["d"], None);
        assert_eq!(got.unwrap(), ["-l:e/libbar.a"]);
        let got = found(&src, vec![lib("t", false, false)], &["f", "d"], None);
        assert_eq!(got.unwrap(), ["-l:d/libbar.so"]);
    }

    #[test]
    fn sysroot_paths_in_scripts() {
        let mut src = Files::with(&[
            (
                "s.ld",
                "INPUT ( =/lib/a.o $SYSROOT/lib/b.o $SYSROOT/lib/gone.o /lib/c.o )",
            ),
            ("/r/lib/a.o", OBJ),
            ("/r/lib/b.o", OBJ),
            ("/r/lib/c.o", OBJ),
            ("/lib/c.o", OBJ),
            ("$SYSROOT/lib/gone.o", OBJ),
        ]);
        let got = found(&src, vec![path("s.ld")], &[], Some("/r"));
        // `$SYSROOT/p` only where the file is; an absolute path as is outside the sysroot.
        assert_eq!(
            got.unwrap(),
            [
                "/r/lib/a.o",
                "/r/lib/b.o",
                "$SYSROOT/lib/gone.o",
                "/lib/c.o"
            ]
        );
        src.root = Some("/r".into());
        let got = found(&src, vec![path("s.ld")], &[], Some("/r"));
        assert_eq!(
            got.unwrap(),
            [
                "/r/lib/a.o",
                "/r/lib/b.o",
                "$SYSROOT/lib/gone.o",
                "/r/lib/c.o"
            ]
        );
    }

    #[test]
    fn scripts_that_name_each_other_stop_at_the_cap() {
        let src = Files::with(&[("a.ld", "INPUT(b.ld)"), ("b.ld", "INPUT(a.ld)")]);
        let got = found(&src, vec![path("a.ld"), path("gone.o")], &[], None);
        assert_eq!(
            got.unwrap_err(),
            ["error: a.ld: too many nested linker scripts"]
        );
        assert_eq!(MAX_SCRIPTS % 2, 0, "the script past the cap is a.ld");
    }

    #[test]
    fn files_opened_ahead_are_taken_as_they_are() {
        struct Ahead(Files);
        impl FileSource for Ahead {
            type Data = Vec<u8>;
            fn open(&self, path: &str) -> Result<Opened<Vec<u8>>, String> {
                self.0.open(path)
            }
            fn exists(&self, path: &str) -> bool {
                self.0.exists(path)
            }
            fn is_file(&self, path: &str) -> bool {
                self.0.is_file(path)
            }
            fn open_ahead(&self, inputs: &[InputArg]) -> Vec<Option<Opened<Vec<u8>>>> {
                inputs
                    .iter()
                    .map(|a| match a {
                        InputArg::Path(p) if p == "early.o" => Some(Opened {
                            name: "early.o".into(),
                            data: b"\x7fELF early".to_vec(),
                        }),
                        _ => None,
                    })
                    .collect()
            }
        }
        let src = Ahead(Files::with(&[("d/late.o", OBJ)]));
        let dirs = vec!["d".to_string()];
        let found = resolve(&src, vec![path("early.o"), path("late.o")], dirs, None).unwrap();
        let items = items(&found);
        let names: Vec<(&str, usize, bool)> = items
            .iter()
            .map(|i| match i {
                InputItem::File(f) => (f.name.as_str(), f.data.len(), f.lib_search),
                _ => ("marker", 0, false),
            })
            .collect();
        assert_eq!(names, [("early.o", 10, false), ("d/late.o", 4, false)]);
    }

    #[test]
    fn joins_as_path_join_does() {
        for (d, n) in [
            ("", "x"),
            ("a", "x"),
            ("a/", "x"),
            ("a//", "x"),
            ("a", "/x"),
            ("a", "b/x"),
        ] {
            let want = std::path::Path::new(d).join(n);
            assert_eq!(join(d, n), want.to_str().unwrap(), "{d} + {n}");
        }
    }
}
