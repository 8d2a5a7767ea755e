//! A linker script's `MEMORY` regions and its output sections' load addresses, as GNU ld 2.40
//! gives them while it walks `SECTIONS`: which region a section goes to (`> REGION`, else the
//! first region whose attributes its flags meet), where in it (the region's next free
//! location), where it is loaded (`AT(LMA)`, `AT > REGION`, the load region of the section
//! before it in the same region, else its address moved as the last section's in its region
//! was), and the regions a section overflows.

use super::*;
use crate::diag::Errors;
use crate::linker_script::expr::{align_to, Env, SectionFn};
use crate::linker_script::{Command, Sections};

/// GNU ld's section attribute bits, as a region's `(ATTR)` letters name them.
const ALLOC: u8 = 1;
const LOAD: u8 = 2;
const READONLY: u8 = 4;
const CODE: u8 = 8;
const DATA: u8 = 16;

/// Region 0 is GNU ld's `*default*`: the whole address space, what a section with an address
/// of its own (or any section when there is no `MEMORY`) is in.
const DEFAULT: usize = 0;

/// One region while the layout walks the script.
#[derive(Debug, Clone)]
pub(super) struct Mem {
    pub name: String,
    pub origin: u64,
    pub length: u64,
    /// The attribute bits a section must have one of, and those it must have none of.
    flags: u8,
    not_flags: u8,
    /// The next free location.
    current: u64,
    /// (address, load address) of the last section placed in it whose load address is not a
    /// load region's (GNU ld's `last_os`): the next one's load address keeps the same distance.
    last: Option<(u64, u64)>,
    /// Some section did not fit.
    overflowed: bool,
}

/// The regions of one walk over the script, and each output command's regions.
pub(super) struct Memory {
    regions: Vec<Mem>,
    /// Per script command: (region, load region), as GNU ld's `lang_get_regions` and
    /// `lang_propagate_lma_regions` give them (region `DEFAULT` until `place` picks one by
    /// attributes).
    routes: Vec<(usize, Option<usize>)>,
    /// The first section that did not fit in each region that overflowed, in the order they
    /// were met: (section, where its description stands, region).
    misfits: Vec<(String, String, usize)>,
    /// The region of the last section placed: an orphan goes on in it, as in GNU ld.
    last_region: usize,
}

/// What `MEMORY`'s expressions may read: numbers and the regions declared before.
struct Consts<'m>(&'m [Mem]);

impl Env for Consts<'_> {
    fn dot(&self) -> std::result::Result<u64, String> {
        Err("'.' has no value in MEMORY".into())
    }
    fn symbol(&self, name: &str) -> std::result::Result<u64, String> {
        Err(format!("symbol {name} has no value in MEMORY"))
    }
    fn section(&self, _: SectionFn, name: &str) -> std::result::Result<u64, String> {
        Err(format!("section {name} has no address in MEMORY"))
    }
    fn defined(&self, _: &str) -> bool {
        false
    }
    fn segment_start(&self, _: &str) -> Option<u64> {
        None
    }
    fn page(&self, _: bool) -> u64 {
        PAGE
    }
    fn sizeof_headers(&self) -> u64 {
        0
    }
    fn data_segment_align(&mut self, _: u64, _: u64, _: u64) -> std::result::Result<u64, String> {
        Err("DATA_SEGMENT_ALIGN has no value in MEMORY".into())
    }
    fn data_segment_relro_end(&mut self, _: u64, v: u64) -> u64 {
        v
    }
    fn region(&self, origin: bool, name: &str) -> std::result::Result<u64, String> {
        region_value(self.0, origin, name)
    }
}

/// `ORIGIN(name)` or `LENGTH(name)` among `regions`.
fn region_value(regions: &[Mem], origin: bool, name: &str) -> std::result::Result<u64, String> {
    let m = regions[1..]
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| format!("memory region `{name}' not declared"))?;
    Ok(if origin { m.origin } else { m.length })
}

/// GNU ld's `lang_set_flags`: letters set bits, each `!` switches to the bits a section must
/// not have.
fn attr_bits(attrs: &str) -> (u8, u8) {
    let (mut flags, mut not_flags, mut negated) = (0, 0, false);
    for c in attrs.chars() {
        let bit = match c.to_ascii_lowercase() {
            '!' => {
                negated = !negated;
                continue;
            }
            'a' => ALLOC,
            'r' => READONLY,
            'w' => DATA,
            'x' => CODE,
            _ => LOAD, // 'i' and 'l' (the parser took no other letter)
        };
        if negated {
            not_flags |= bit;
        } else {
            flags |= bit;
        }
    }
    (flags, not_flags)
}

/// The attribute bits BFD gives an ELF section of `sh_type` and `flags`.
fn section_bits(s: &OutSec) -> u8 {
    let mut bits = 0;
    if s.flags & u64::from(elf::SHF_ALLOC) != 0 {
        bits |= ALLOC;
    }
    if !s.is_nobits() {
        bits |= LOAD;
    }
    if s.flags & u64::from(elf::SHF_WRITE) == 0 {
        bits |= READONLY;
    }
    if s.flags & u64::from(elf::SHF_EXECINSTR) != 0 {
        bits |= CODE;
    } else if bits & LOAD != 0 {
        bits |= DATA;
    }
    // GNU ld's `lang_memory_default` takes `w` to mean any writable section (`.bss` too).
    if bits & (ALLOC | READONLY | CODE) == ALLOC {
        bits |= DATA;
    }
    bits
}

/// An error at `at` (`file:line:column`; an orphan, which no description places, has none).
fn located(message: String, at: &str) -> Diagnostic {
    let d = Diagnostic::error(message);
    if at.is_empty() {
        d
    } else {
        d.file(at.to_string())
    }
}

/// Where a section was put, for [`Memory::finish`].
pub(super) struct Placed<'a> {
    pub name: &'a str,
    /// Where its description stands (`file:line:column`).
    pub at: &'a str,
    pub addr: u64,
    /// The location counter after it.
    pub end: u64,
    pub size: u64,
    /// The alignment its address was given, and the one its `ALIGN(...)` asks (1 without).
    pub align: u64,
    pub stmt_align: u64,
    /// Its `AT(...)` value.
    pub lma: Option<u64>,
    /// It has an address expression of its own.
    pub fixed: bool,
    pub nobits: bool,
}

impl Memory {
    /// `script`'s regions (their expressions evaluated in order) and each command's regions.
    pub fn new(script: &Sections) -> Result<Memory> {
        let mut regions = vec![Mem {
            name: "*default*".into(),
            origin: 0,
            length: u64::MAX,
            flags: 0,
            not_flags: 0,
            current: 0,
            last: None,
            overflowed: false,
        }];
        for r in &script.memory {
            let fail = |m: String| Diagnostic::error(m).file(r.at.clone());
            let origin = r.origin.eval(&mut Consts(&regions)).map_err(fail)?;
            let length = r.length.eval(&mut Consts(&regions)).map_err(fail)?;
            let (flags, not_flags) = attr_bits(&r.attrs);
            regions.push(Mem {
                name: r.name.clone(),
                origin,
                length,
                flags,
                not_flags,
                current: origin,
                last: None,
                overflowed: false,
            });
        }
        let routes = Self::routes(script, &regions)?;
        Ok(Memory {
            regions,
            routes,
            misfits: Vec::new(),
            last_region: DEFAULT,
        })
    }

    /// Each command's (region, load region): `> R` names the region, else `AT > R`'s region is
    /// the region too when the section has no address; a section with neither, nor `AT(...)`
    /// nor an address, in the same region as the output section before it, is loaded in that
    /// one's load region (GNU ld's `lang_propagate_lma_regions`).
    fn routes(script: &Sections, regions: &[Mem]) -> Result<Vec<(usize, Option<usize>)>> {
        let find = |name: &str, at: &str| {
            regions[1..]
                .iter()
                .position(|m| m.name == name)
                .map(|k| k + 1)
                .ok_or_else(|| {
                    Errors::from(
                        Diagnostic::error(format!("memory region `{name}' not declared"))
                            .file(at.to_string()),
                    )
                })
        };
        let mut routes = Vec::with_capacity(script.commands.len());
        let mut prev: Option<(usize, Option<usize>)> = None;
        for c in &script.commands {
            let Command::Output(o) = c else {
                routes.push((DEFAULT, None));
                continue;
            };
            let mut lma_region = match &o.lma_region {
                Some(n) => Some(find(n, &o.at)?),
                None => None,
            };
            let region = match (&o.region, lma_region) {
                (Some(n), _) => find(n, &o.at)?,
                (None, Some(l)) if o.addr.is_none() => l,
                _ => DEFAULT,
            };
            let bare = lma_region.is_none() && o.lma.is_none() && o.addr.is_none();
            if let Some((r, l)) = prev.filter(|p| bare && p.0 == region) {
                debug_assert_eq!(r, region);
                lma_region = l;
            }
            if !o.is_discard() {
                prev = Some((region, lma_region));
            }
            routes.push((region, lma_region));
        }
        Ok(routes)
    }

    /// `ORIGIN(name)` or `LENGTH(name)`.
    pub fn value(&self, origin: bool, name: &str) -> std::result::Result<u64, String> {
        region_value(&self.regions, origin, name)
    }

    /// The region section `s` (of command `cmd`) goes to: its own, else, when it has no
    /// address and regions were declared, the first whose attributes it meets (GNU ld's
    /// `lang_memory_default`); a loaded section that meets none is an error then. An orphan
    /// (`cmd` None) goes on in the region of the section before it. Also where it starts: the
    /// region's next free location (None: at the location counter).
    pub fn place(
        &mut self,
        cmd: Option<usize>,
        s: &OutSec,
        fixed: bool,
        at: &str,
    ) -> Result<(usize, Option<u64>)> {
        let Some(c) = cmd else {
            let r = self.last_region;
            return Ok((r, (r != DEFAULT && !fixed).then(|| self.regions[r].current)));
        };
        let mut r = self.routes[c].0;
        if r == DEFAULT && !fixed && self.regions.len() > 1 {
            let bits = section_bits(s);
            let fits = |m: &Mem| m.flags & bits != 0 && m.not_flags & bits == 0;
            r = self.regions[1..]
                .iter()
                .position(fits)
                .map_or(DEFAULT, |k| k + 1);
            if r == DEFAULT && s.size > 0 && s.class != Class::NonAlloc {
                return err(located(
                    format!(
                        "no memory region specified for loadable section `{}'",
                        s.name
                    ),
                    at,
                ));
            }
            self.routes[c].0 = r;
        }
        self.last_region = r;
        let start = (r != DEFAULT && !fixed).then(|| self.regions[r].current);
        Ok((r, start))
    }

    /// The load address of section `p` (of command `cmd`, in region `r`), and, unless it is
    /// empty (GNU ld drops it), the regions' next free locations moved past it.
    pub fn finish(&mut self, cmd: Option<usize>, r: usize, p: &Placed<'_>) -> Result<u64> {
        // GNU ld drops an empty section before it gives it a load address.
        if p.size == 0 {
            return Ok(p.addr);
        }
        let lma_region = cmd.and_then(|c| self.routes[c].1);
        let fail = |m: String| Errors::from(located(m, p.at));
        let lma = match (p.lma, lma_region, self.regions[r].last) {
            (Some(l), _, _) => l,
            // The same region: aligned as the address was; another: only as `ALIGN` asks.
            (None, Some(l), _) => {
                let a = if l == r { p.align } else { p.stmt_align };
                align_to(self.regions[l].current, a).map_err(fail)?
            }
            // The location counter moved back below the last section: the address.
            (None, None, Some((lv, _))) if p.size != 0 && p.addr.saturating_add(p.size) <= lv => {
                p.addr
            }
            (None, None, Some((lv, ll))) if lv != ll => {
                let moved = i128::from(p.addr) + i128::from(ll) - i128::from(lv);
                let lma = u64::try_from(moved).map_err(|_| {
                    fail(format!(
                        "the load address of section {} is out of range",
                        p.name
                    ))
                })?;
                align_to(lma, p.align).map_err(fail)?
            }
            _ => p.addr,
        };
        let m = &mut self.regions[r];
        if lma_region.is_none() {
            m.last = Some((p.addr, lma));
        }
        if r != DEFAULT {
            m.current = p.end;
            self.check(r, p, p.fixed)?;
        }
        if let Some(l) = lma_region.filter(|&l| l != r && !p.nobits) {
            self.regions[l].current = lma.checked_add(p.size).ok_or_else(|| {
                fail(format!(
                    "section {} is loaded past the address space",
                    p.name
                ))
            })?;
            self.check(l, p, false)?;
        }
        Ok(lma)
    }

    /// GNU ld's `os_region_check`: a section placed at an address of its own outside its
    /// region is an error at once; one that runs past the end is reported with the region.
    fn check(&mut self, r: usize, p: &Placed<'_>, fixed: bool) -> Result<()> {
        let m = &mut self.regions[r];
        let outside = m.current < m.origin || m.current - m.origin > m.length;
        if !outside {
            return Ok(());
        }
        if fixed {
            return err(located(
                format!(
                    "address 0x{:x} of section `{}' is not within region `{}'",
                    m.current, p.name, m.name
                ),
                p.at,
            ));
        }
        if !m.overflowed {
            m.overflowed = true;
            self.misfits.push((p.name.to_string(), p.at.to_string(), r));
        }
        Ok(())
    }

    /// The sections that did not fit, then by how much each region overflowed, as GNU ld
    /// reports them once all are placed.
    pub fn overflows(&self) -> Result<()> {
        let mut errors = Vec::new();
        for (name, at, r) in &self.misfits {
            let region = &self.regions[*r].name;
            errors.push(located(
                format!("section `{name}' will not fit in region `{region}'"),
                at,
            ));
        }
        for m in self.regions.iter().filter(|m| m.overflowed) {
            let end = m.origin.saturating_add(m.length);
            let over = m.current.saturating_sub(end);
            let unit = if over == 1 { "byte" } else { "bytes" };
            let at = self
                .misfits
                .iter()
                .find(|f| self.regions[f.2].name == m.name);
            errors.push(located(
                format!("region `{}' overflowed by {over} {unit}", m.name),
                at.map_or("", |f| &f.1),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Errors(errors))
        }
    }
}
