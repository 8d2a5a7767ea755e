//! The assign step: addresses, file offsets and segments, once every size is known.

use super::*;

impl Layout {
    /// Put linker-made piece `what` in its home section, making the section from its row in
    /// `sections::ROWS` if the link has none yet. A piece `plan` already placed (the stubs that
    /// open `.text`) only gets its size.
    fn place_linker_made(&mut self, what: Synthetic, size: u64, align: u64) {
        let src = PieceSrc::Synthetic(what);
        let row = what.home().row();
        let mut home = self.known(row.id);
        let mut rule = 0;
        // Under a script, where its descriptions send GNU ld's name for the piece.
        if let Some(rules) = &self.script {
            let name = script::linker_input_name(what, self.dynamic);
            match rules.route("", name) {
                script::Route::To { cmd, rule: r, .. } => {
                    home = self.section_by_name(&rules.output(cmd).name).or(home);
                    rule = r;
                }
                _ => rule = u16::MAX,
            }
        }
        if let Some(i) = home {
            let s = &mut self.sections[i as usize];
            if let Some(p) = s.pieces.iter_mut().find(|p| p.src == src) {
                p.size = size;
                return;
            }
        }
        if size == 0 {
            return;
        }
        let piece = Piece {
            src,
            offset: 0,
            size,
            align,
            priority: 0,
            from_ctors: false,
            rule,
        };
        if let Some(i) = home {
            let s = &mut self.sections[i as usize];
            // After the pieces of its description and those before it.
            let at = s
                .pieces
                .iter()
                .rposition(|p| p.rule <= rule)
                .map_or(0, |k| k + 1);
            let at = if self.script.is_some() {
                at
            } else {
                s.pieces.len()
            };
            s.pieces.insert(at, piece);
            s.align = s.align.max(align);
            self.shift_pieces(i, at);
            return;
        }
        let (class, rank) = (row.class, row.rank);
        let pos = if self.script.is_some() {
            // An orphan: after the last loaded section of its class, else after them all.
            let loaded = |s: &OutSec| s.class != Class::NonAlloc;
            let last = self.sections.iter().rposition(|s| s.class == class);
            last.or_else(|| self.sections.iter().rposition(loaded))
                .map_or(0, |k| k + 1)
        } else {
            self.sections
                .iter()
                .position(|s| (s.class, s.rank) > (class, rank))
                .unwrap_or(self.sections.len())
        };
        self.sections.insert(
            pos,
            OutSec {
                name: row.name.into(),
                id: Some(row.id),
                sh_type: row.sh_type,
                flags: u64::from(row.flags),
                align,
                class,
                rank,
                pieces: vec![piece],
                size: 0,
                addr: 0,
                offset: 0,
                shndx: 0,
            },
        );
        let pos = pos as u32;
        if self.moved.is_empty() {
            // The first insertion: every section before it is still where `plan` put it.
            self.moved = (0..self.sections.len() as u32 - 1).collect();
        }
        for m in self.moved.iter_mut() {
            if *m >= pos {
                *m += 1;
            }
        }
        self.index_names();
    }

    /// A piece was inserted at index `at` of section `i`: the places and commons that count
    /// pieces after it move up one (only under a script: otherwise pieces are appended).
    fn shift_pieces(&mut self, i: u32, at: usize) {
        let at = at as u32;
        let moved = |out: u32| self.moved.get(out as usize).copied().unwrap_or(out);
        for p in self.places.iter_mut().flatten() {
            if let Place::Piece { out, piece } | Place::EhPiece { out, piece, .. } = p {
                if moved(*out) == i && *piece >= at {
                    *piece += 1;
                }
            }
        }
        for c in self.commons.iter_mut() {
            if moved(c.out) == i && c.piece >= at {
                c.piece += 1;
            }
        }
    }

    /// Give every section an address and a file offset, and build the program headers.
    /// `linker_made` lists the linker's pieces with their size and alignment, in placing order;
    /// `pic`: position-independent output, based at 0 (unless `-Ttext-segment` bases it).
    pub fn assign(&mut self, linker_made: &[(Synthetic, Extent)], pic: bool) -> Result<()> {
        let image_base = self.placement.image_base;
        let base = image_base.unwrap_or(if pic { 0 } else { BASE });
        self.base = base;
        // GNU ld: a PIE based anywhere but 0 is an `ET_EXEC` (still with `DF_1_PIE`); a shared
        // object stays an `ET_DYN`.
        self.et_exec = !pic || (image_base.is_some_and(|b| b != 0) && !self.placement.shared);
        for &(what, e) in linker_made {
            self.place_linker_made(what, e.size, e.align);
        }
        self.size_sections()?;
        // Under a script, piece offsets come from the walk over its commands: the places
        // are settled after it.
        let scripted = self.script.is_some();
        if !scripted {
            self.settle_places();
        }
        let mut has = self.present();
        // How many `PT_LOAD`s there are depends on the addresses (a section placed apart has one
        // of its own, `-z noseparate-code` joins three), and the addresses on the program
        // headers' size: lay out again until the count settles.
        let mut segments = Vec::new();
        for _ in 0..4 {
            segments = self.load_segments(&has)?;
            let loads = segments.iter().filter(|s| s.p_type == elf::PT_LOAD).count();
            if loads == has.loads {
                break;
            }
            has.loads = loads;
        }
        if segments.iter().filter(|s| s.p_type == elf::PT_LOAD).count() != has.loads {
            return err(Diagnostic::error(
                "internal error: the number of load segments did not settle",
            ));
        }
        if scripted {
            self.settle_places();
            // The script's addresses say where the image is based.
            self.et_exec = !pic || (self.base != 0 && !self.placement.shared);
        }
        self.special_segments(&has, &mut segments);
        debug_assert_eq!(segments.len(), has.phdrs(self.relro));
        self.segments = segments;
        self.place_non_alloc();
        self.number_headers();
        self.index_inputs();
        Ok(())
    }

    /// Piece offsets and section sizes.
    fn size_sections(&mut self) -> Result<()> {
        for s in self.sections.iter_mut() {
            let mut off = 0u64;
            for p in s.pieces.iter_mut() {
                off = align_up(off, p.align);
                p.offset = off;
                off = off
                    .checked_add(p.size)
                    .ok_or_else(|| Diagnostic::error(format!("section {} is too large", s.name)))?;
                s.align = s.align.max(p.align);
            }
            s.size = off;
        }
        Ok(())
    }

    /// Renumber what points at `plan`'s sections (one walk over the places, not one per
    /// inserted section), and turn the piece indices in places into offsets.
    fn settle_places(&mut self) {
        // Renumber what points at `plan`'s sections in one walk over the places (not one per
        // inserted section), and turn piece indices into offsets.
        let moved = std::mem::take(&mut self.moved);
        let now = |out: &mut u32| {
            if let Some(&m) = moved.get(*out as usize) {
                *out = m;
            }
        };
        for m in self.merges.iter_mut() {
            now(&mut m.out);
        }
        for e in self.emitted.iter_mut() {
            now(e);
        }
        for c in self.commons.iter_mut() {
            now(&mut c.out);
            c.off = self.sections[c.out as usize].pieces[c.piece as usize].offset;
        }
        let sections = &self.sections;
        let offset = |out: u32, piece: u32| sections[out as usize].pieces[piece as usize].offset;
        for p in self.places.iter_mut().flatten() {
            if let Some(out) = p.out_mut() {
                now(out);
            }
            *p = match *p {
                Place::Piece { out, piece } => Place::At {
                    out,
                    off: offset(out, piece),
                },
                Place::EhPiece { out, piece, map } => Place::Split {
                    out,
                    base: offset(out, piece),
                    map,
                },
                Place::Merged { out, group, map } => {
                    let base = sections[out as usize]
                        .pieces
                        .iter()
                        .find(|pc| pc.src == PieceSrc::Merged(group))
                        .map_or(0, |pc| pc.offset);
                    Place::Split { out, base, map }
                }
                other => other,
            };
        }
    }

    /// Which optional program headers the output has.
    fn present(&self) -> Present {
        let any = |f: &dyn Fn(&OutSec) -> bool| self.sections.iter().any(|s| s.size > 0 && f(s));
        let known = |id| move |s: &OutSec| s.id == Some(id);
        let loads = LOADED
            .iter()
            .filter(|&&c| c == Class::Headers || any(&|s| s.class == c))
            .count();
        Present {
            loads,
            notes: self.note_runs().len(),
            property: any(&known(OutId::GnuProperty)),
            tls: any(&|s| s.is_tls()),
            eh_frame_hdr: any(&known(OutId::EhFrameHdr)),
            interp: any(&known(OutId::Interp)),
            dynamic: any(&known(OutId::Dynamic)),
        }
    }

    /// Addresses and file offsets of the loaded sections, and their `PT_LOAD`s (after
    /// `PT_PHDR` and `PT_INTERP` when there is an interpreter). Empty sections keep an address
    /// (for symbols) but no header.
    fn load_segments(&mut self, has: &Present) -> Result<Vec<Segment>> {
        let base = self.base;
        self.headers_size = EHDR_SIZE + PHDR_SIZE * has.phdrs(self.relro) as u64;
        let mut addr = base + self.headers_size;
        if self.script.is_some() {
            self.place_script()?;
        } else {
            for &c in &LOADED {
                self.place_class(c, &mut addr)?;
            }
        }
        // A script may have moved the base.
        let base = self.base;
        let mut segments = Vec::new();
        if has.interp {
            segments.push(Segment {
                p_type: elf::PT_PHDR,
                flags: elf::PF_R,
                offset: EHDR_SIZE,
                vaddr: base + EHDR_SIZE,
                paddr: base + EHDR_SIZE,
                filesz: self.headers_size - EHDR_SIZE,
                memsz: self.headers_size - EHDR_SIZE,
                align: 8,
                sections: Vec::new(),
            });
            // PT_INTERP is filled in once `.interp` has its address.
            segments.push(Segment {
                p_type: elf::PT_INTERP,
                flags: elf::PF_R,
                offset: 0,
                vaddr: 0,
                paddr: 0,
                filesz: 0,
                memsz: 0,
                align: 1,
                sections: Vec::new(),
            });
        }
        let mut loads = self.build_loads();
        self.place_in_file(&mut loads);
        self.alloc_end = loads
            .iter()
            .map(|s| s.offset + s.filesz)
            .max()
            .unwrap_or(self.headers_size);
        segments.extend(loads);
        Ok(segments)
    }

    /// Give the sections of class `c` addresses from `addr` on (a new page unless it is the
    /// headers' class or `-z noseparate-code` joins it to the one before). A section
    /// `--section-start` places is put there; the sections after a known one go on from it, as
    /// after a section GNU ld's script places, while an orphan so placed stands apart.
    fn place_class(&mut self, c: Class, addr: &mut u64) -> Result<()> {
        let members: Vec<usize> = (0..self.sections.len())
            .filter(|&i| self.sections[i].class == c)
            .collect();
        let nonempty = members.iter().any(|&i| self.sections[i].size > 0);
        if c != Class::Headers && !nonempty {
            for &i in &members {
                self.sections[i].addr = *addr;
            }
            return Ok(());
        }
        if c != Class::Headers && (self.placement.separate_code || c == Class::Rw) {
            *addr = align_up(*addr, self.placement.page);
        }
        let start = *addr;
        self.place_run(&members, addr, &[])?;
        if c == Class::Rw && self.relro && self.dynamic {
            // GNU ld's DATA_SEGMENT_RELRO_END: the RELRO sections move up so that the last
            // ends on a page boundary, which the loader can then protect whole.
            let moved = self.relro_page_end(&members);
            *addr = start;
            self.place_run(&members, addr, &moved)?;
        }
        Ok(())
    }

    /// Addresses for sections `members` from `addr` on, in order; a section `--section-start`
    /// or `moved` places goes there.
    fn place_run(
        &mut self,
        members: &[usize],
        addr: &mut u64,
        moved: &[(usize, u64)],
    ) -> Result<()> {
        for &i in members {
            let fixed = self.placement.start_of(&self.sections[i].name);
            let s = &mut self.sections[i];
            match fixed {
                Some(a) if s.id.is_none() => {
                    s.addr = a;
                    continue;
                }
                Some(a) => *addr = a,
                None => {
                    *addr = align_up(*addr, s.align);
                    if let Some(&(_, a)) = moved.iter().find(|m| m.0 == i) {
                        *addr = a.max(*addr);
                    }
                }
            }
            s.addr = *addr;
            if s.is_nobits() && s.is_tls() {
                continue; // .tbss takes no room outside the TLS template
            }
            *addr = addr.checked_add(s.size).ok_or_else(|| {
                Diagnostic::error(format!("section {} ends past the address space", s.name))
            })?;
        }
        Ok(())
    }

    /// Where the RELRO sections among `members` (placed once) go so that the last ends on a
    /// page boundary: GNU ld's `lang_size_relro_segment`, from the last back, each moved up as
    /// far as its alignment allows toward where the next one starts.
    fn relro_page_end(&self, members: &[usize]) -> Vec<(usize, u64)> {
        let relro: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| {
                let s = &self.sections[i];
                s.id.is_some_and(|id| id.row().relro) && s.size > 0
            })
            .collect();
        let room = |s: &OutSec| {
            if s.is_nobits() && s.is_tls() {
                0
            } else {
                s.size
            }
        };
        let Some(end) = relro
            .iter()
            .map(|&i| self.sections[i].addr + room(&self.sections[i]))
            .max()
        else {
            return Vec::new();
        };
        let mut desired_end = align_up(end, self.placement.page);
        let mut moved = Vec::with_capacity(relro.len());
        for &i in relro.iter().rev() {
            let s = &self.sections[i];
            let bump = desired_end.saturating_sub(s.addr + room(s));
            let start = s.addr + (bump & !(s.align.max(1) - 1));
            moved.push((i, start));
            desired_end = start;
        }
        moved
    }

    /// The `PT_LOAD`s over the headers and the loaded sections taken in address order, as GNU
    /// ld makes them: a new segment where the access changes, where a whole page lies between
    /// two sections, where the addresses go back, or where file bytes follow `.bss`.
    fn build_loads(&self) -> Vec<Segment> {
        let page = self.placement.page;
        let flags_of = |c: Class| match c {
            Class::Rw => elf::PF_R | elf::PF_W,
            Class::Exec => elf::PF_R | elf::PF_X,
            _ if !self.placement.separate_code => elf::PF_R | elf::PF_X,
            _ => elf::PF_R,
        };
        // (section, address, end in memory, end of file bytes, flags, load address); None is
        // the headers.
        let mut items = vec![(
            None,
            self.base,
            self.base + self.headers_size,
            self.base + self.headers_size,
            flags_of(Class::Headers),
            self.base,
        )];
        if !self.headers_loaded {
            items.clear();
        }
        for (i, s) in self.sections.iter().enumerate() {
            if s.size == 0 || !LOADED.contains(&s.class) {
                continue;
            }
            let room = if s.is_nobits() && s.is_tls() {
                0
            } else {
                s.size
            };
            let end = s.addr.saturating_add(room);
            let file_end = if s.is_nobits() { s.addr } else { end };
            // In load address order (GNU ld's `elf_sort_sections`), then address order, equal
            // ones in section order; without a script's `AT` the load address is the address.
            // The sections come almost sorted, so this insertion is cheap (and much smaller
            // in the wasm build than a sort).
            let lma = self.lma(i);
            let at = items.partition_point(|it| (it.5, it.1) <= (lma, s.addr));
            items.insert(
                at,
                (
                    Some(i as u32),
                    s.addr,
                    end,
                    file_end,
                    flags_of(s.class),
                    lma,
                ),
            );
        }
        let mut loads: Vec<Segment> = Vec::new();
        // Under a script, as GNU ld: a section that starts on the page where the segment ends
        // joins it whatever its access (two segments cannot map one page), the segment taking
        // both accesses.
        let scripted = self.script.is_some();
        for (sec, addr, end, file_end, flags, lma) in items {
            let joins = loads.last().is_some_and(|g| {
                let (mem_end, bss) = (g.vaddr + g.memsz, g.filesz < g.memsz);
                let same_page = mem_end > g.vaddr && (mem_end - 1) / page == addr / page;
                // A section loaded apart from its address the way the segment is (the same
                // distance between the two), as GNU ld asks.
                let same_load = lma.wrapping_sub(addr) == g.paddr.wrapping_sub(g.vaddr);
                same_load
                    && (g.flags == flags || (scripted && same_page))
                    && addr >= mem_end
                    && align_up(mem_end, page) >= align_up(addr, page)
                    // File bytes after `.bss` need a segment of their own (or `.bss` would
                    // take file space), but under a script not on `.bss`'s last page: GNU
                    // ld's rule that one page is never mapped twice comes first there.
                    && !(bss && file_end > addr && !(scripted && same_page))
            });
            if !joins {
                loads.push(Segment {
                    p_type: elf::PT_LOAD,
                    flags,
                    offset: 0,
                    vaddr: addr,
                    paddr: lma,
                    filesz: 0,
                    memsz: 0,
                    align: page,
                    sections: Vec::new(),
                });
            }
            let g = loads.last_mut().expect("a segment was just pushed");
            g.flags |= flags;
            g.memsz = g.memsz.max(end - g.vaddr);
            if file_end > addr {
                g.filesz = file_end - g.vaddr;
            }
            g.sections.extend(sec);
        }
        loads
    }

    /// File offsets: the headers' segment at 0, then each segment after the one before, at the
    /// first offset congruent to its address modulo the page size (so the loader can map it);
    /// a section's offset follows from its segment's.
    fn place_in_file(&mut self, loads: &mut [Segment]) {
        let page = self.placement.page;
        let mut placed = vec![false; self.sections.len()];
        // Headers no segment loads still open the file.
        let mut at = if self.headers_loaded {
            0
        } else {
            self.headers_size
        };
        let headers_first = loads
            .iter()
            .position(|g| g.vaddr == self.base)
            .filter(|_| self.headers_loaded);
        let order = headers_first
            .into_iter()
            .chain((0..loads.len()).filter(|&k| Some(k) != headers_first));
        let scripted = self.script.is_some();
        for k in order {
            let g = &mut loads[k];
            g.offset = at + (g.vaddr.wrapping_sub(at) & (page - 1));
            at = g.offset + g.filesz;
            for &i in &g.sections {
                let s = &mut self.sections[i as usize];
                s.offset = g.offset + (s.addr - g.vaddr);
                placed[i as usize] = true;
            }
            // Under a script, a segment with no file bytes (a `.bss` apart) is given the
            // smallest offset its address allows, as GNU ld gives it: it maps nothing.
            if scripted && g.filesz == 0 {
                g.offset = g.vaddr & (page - 1);
            }
        }
        // An empty section has the offset its address has in the segment around it.
        for (i, s) in self.sections.iter_mut().enumerate() {
            if placed[i] || !LOADED.contains(&s.class) {
                continue;
            }
            s.offset = loads
                .iter()
                .find(|g| g.vaddr <= s.addr && s.addr <= g.vaddr + g.memsz)
                .map_or(at, |g| g.offset + (s.addr - g.vaddr));
        }
    }

    /// The segment that is exactly known section `id`.
    fn section_segment(&self, id: OutId, p_type: u32, flags: u32, align: u64) -> Segment {
        let i = self.known(id).unwrap_or(0);
        let s = &self.sections[i as usize];
        Segment {
            p_type,
            flags,
            offset: s.offset,
            vaddr: s.addr,
            paddr: s.addr,
            filesz: s.size,
            memsz: s.size,
            align,
            sections: vec![i],
        }
    }

    /// The program headers besides `PT_LOAD`, in GNU ld's order.
    fn special_segments(&mut self, has: &Present, segments: &mut Vec<Segment>) {
        if has.interp {
            segments[1] = self.section_segment(OutId::Interp, elf::PT_INTERP, elf::PF_R, 1);
        }
        if has.dynamic {
            let rw = elf::PF_R | elf::PF_W;
            segments.push(self.section_segment(OutId::Dynamic, elf::PT_DYNAMIC, rw, 8));
        }
        for run in self.note_runs() {
            segments.push(self.note_segment(&run));
        }
        if has.tls {
            segments.push(self.tls_segment());
        }
        if has.property {
            let p = OutId::GnuProperty;
            segments.push(self.section_segment(p, elf::PT_GNU_PROPERTY, elf::PF_R, 8));
        }
        if has.eh_frame_hdr {
            let ehh = OutId::EhFrameHdr;
            segments.push(self.section_segment(ehh, elf::PT_GNU_EH_FRAME, elf::PF_R, 4));
        }
        segments.push(Segment {
            p_type: elf::PT_GNU_STACK,
            flags: if self.exec_stack {
                elf::PF_R | elf::PF_W | elf::PF_X
            } else {
                elf::PF_R | elf::PF_W
            },
            offset: 0,
            vaddr: 0,
            paddr: 0,
            filesz: 0,
            memsz: self.stack_size,
            align: 16,
            sections: Vec::new(),
        });
        if has.dynamic && self.relro {
            segments.push(self.relro_segment());
        }
        // A segment that starts with a section a script loads elsewhere starts there too.
        for g in segments.iter_mut().filter(|g| g.p_type != elf::PT_LOAD) {
            if let Some(&i) = g.sections.first() {
                if self.sections[i as usize].addr == g.vaddr {
                    g.paddr = self.lma(i as usize);
                }
            }
        }
    }

    /// The loaded notes in section order, in runs of equal alignment: GNU ld gives each run a
    /// `PT_NOTE` of its own, since a reader steps through a segment's notes by its alignment
    /// (`.note.gnu.property`'s 8 bytes, the others' 4).
    fn note_runs(&self) -> Vec<Vec<u32>> {
        let mut runs: Vec<Vec<u32>> = Vec::new();
        let mut last_align = 0;
        for (i, s) in self.sections.iter().enumerate() {
            if s.sh_type != elf::SHT_NOTE || s.size == 0 || s.class == Class::NonAlloc {
                continue;
            }
            match runs.last_mut() {
                Some(run) if s.align.max(4) == last_align => run.push(i as u32),
                _ => runs.push(vec![i as u32]),
            }
            last_align = s.align.max(4);
        }
        runs
    }

    /// A `PT_NOTE` over a run of notes ([`Self::note_runs`]).
    fn note_segment(&self, notes: &[u32]) -> Segment {
        let first = &self.sections[notes[0] as usize];
        let last = &self.sections[*notes.last().unwrap_or(&notes[0]) as usize];
        let size = last.addr + last.size - first.addr;
        Segment {
            p_type: elf::PT_NOTE,
            flags: elf::PF_R,
            offset: first.offset,
            vaddr: first.addr,
            paddr: first.addr,
            filesz: size,
            memsz: size,
            align: first.align.max(4),
            sections: notes.to_vec(),
        }
    }

    /// `PT_TLS` over `.tdata` and `.tbss`; it also fixes the TLS block the relocations use.
    fn tls_segment(&mut self) -> Segment {
        let tls: Vec<u32> = (0..self.sections.len())
            .filter(|&i| self.sections[i].is_tls())
            .map(|i| i as u32)
            .collect();
        let first = &self.sections[tls[0] as usize];
        let start = first.addr;
        let mut memsz = 0;
        let mut filesz = 0;
        let mut align = 1;
        for &i in &tls {
            let s = &self.sections[i as usize];
            memsz = s.addr + s.size - start;
            if !s.is_nobits() {
                filesz = s.addr + s.size - start;
            }
            align = align.max(s.align);
        }
        self.tls = Some(Tls {
            start,
            memsz,
            filesz,
            align,
        });
        Segment {
            p_type: elf::PT_TLS,
            flags: elf::PF_R,
            offset: first.offset,
            vaddr: start,
            paddr: start,
            filesz,
            memsz,
            align,
            sections: tls
                .into_iter()
                .filter(|&i| self.sections[i as usize].size > 0)
                .collect(),
        }
    }

    /// `PT_GNU_RELRO`: what the loader may make read-only once relocated (the rows of
    /// `sections::ROWS` marked RELRO: init/fini arrays, `.data.rel.ro`, `.dynamic`, `.got`). It
    /// rounds the end down to a page, so what follows stays writable.
    fn relro_segment(&self) -> Segment {
        let relro: Vec<u32> = (0..self.sections.len())
            .filter(|&i| {
                let s = &self.sections[i];
                s.id.is_some_and(|id| id.row().relro) && s.size > 0
            })
            .map(|i| i as u32)
            .collect();
        let (start, offset) = relro.first().map_or((self.base, 0), |&i| {
            let s = &self.sections[i as usize];
            (s.addr, s.offset)
        });
        let end = relro
            .iter()
            .map(|&i| &self.sections[i as usize])
            .filter(|s| !(s.is_nobits() && s.is_tls()))
            .map(|s| s.addr + s.size)
            .max()
            .unwrap_or(start);
        Segment {
            p_type: elf::PT_GNU_RELRO,
            flags: elf::PF_R,
            offset,
            vaddr: start,
            paddr: start,
            filesz: end.saturating_sub(start),
            memsz: end.saturating_sub(start),
            align: 1,
            sections: relro,
        }
    }

    /// Non-alloc sections follow the loaded image in the file.
    pub(super) fn place_non_alloc(&mut self) {
        let mut off = self.alloc_end;
        for s in self
            .sections
            .iter_mut()
            .filter(|s| s.class == Class::NonAlloc)
        {
            off = align_up(off, s.align);
            s.offset = off;
            s.addr = 0;
            off += s.size;
        }
        self.file_end = off;
    }

    /// Header indices for non-empty sections, in order.
    fn number_headers(&mut self) {
        let mut idx = 1u16;
        for s in self.sections.iter_mut() {
            if s.size > 0 || (s.sh_type == elf::SHT_NOBITS && !s.pieces.is_empty()) {
                s.shndx = idx;
                idx += 1;
            }
        }
    }

    /// Every input section's address in one flat table (files one after another), asked at
    /// each relocation against a section symbol: one load from a dense table, not a file's
    /// place list and then its output section.
    fn index_inputs(&mut self) {
        let mut first = Vec::with_capacity(self.places.len() + 1);
        let mut at = 0u32;
        for fp in &self.places {
            first.push(at);
            at = at.saturating_add(fp.len() as u32);
        }
        first.push(at);
        let sections = &self.sections;
        self.input_base = self
            .places
            .iter()
            .flatten()
            .map(|p| match *p {
                Place::At { out, off } => sections[out as usize].addr.wrapping_add(off),
                _ => NOT_AT,
            })
            .collect();
        self.file_first = first;
    }
}

/// The classes that have a `PT_LOAD`, in file order.
const LOADED: [Class; 4] = [Class::Headers, Class::Exec, Class::Rodata, Class::Rw];

/// Which optional program headers the output has.
struct Present {
    loads: usize,
    /// `PT_NOTE`s: one per run of loaded notes of equal alignment.
    notes: usize,
    /// `PT_GNU_PROPERTY` over `.note.gnu.property`.
    property: bool,
    tls: bool,
    eh_frame_hdr: bool,
    interp: bool,
    dynamic: bool,
}

impl Present {
    /// How many program headers: the loads, the optional ones, `PT_GNU_STACK`, `PT_PHDR` and
    /// `PT_INTERP` with an interpreter, `PT_DYNAMIC`, and `PT_GNU_RELRO` unless `-z norelro`.
    fn phdrs(&self, relro: bool) -> usize {
        self.loads
            + self.notes
            + self.property as usize
            + self.tls as usize
            + self.eh_frame_hdr as usize
            + 1
            + 2 * self.interp as usize
            + self.dynamic as usize
            + (self.dynamic && relro) as usize
    }
}
