//! Linker-made code as a list of instructions, each with the field a relocation fills. The same
//! list gives the bytes (relocate) and their annotation (the report), so they cannot disagree.
//! `T` names what a field refers to; the synthesize phase decides that, this module only encodes.

/// One instruction: its bytes, with zeros where its field goes.
#[derive(Debug, Clone)]
pub struct Insn<T> {
    pub bytes: Vec<u8>,
    pub reloc: Option<Field<T>>,
}

/// The field of an instruction that a relocation fills.
#[derive(Debug, Clone)]
pub struct Field<T> {
    /// Offset of the field inside the instruction.
    pub at: u8,
    /// Its encoding, as a raw relocation type of the architecture.
    pub r_type: u32,
    pub target: T,
    pub addend: i64,
}

/// Builds an instruction list with local labels for short jumps.
pub struct Asm<T> {
    insns: Vec<Insn<T>>,
    labels: Vec<usize>,
    /// (instruction index, label) of each short jump, patched by `finish`.
    jumps: Vec<(usize, usize)>,
}

impl<T> Default for Asm<T> {
    fn default() -> Self {
        Asm {
            insns: Vec::new(),
            labels: Vec::new(),
            jumps: Vec::new(),
        }
    }
}

impl<T> Asm<T> {
    pub fn op(&mut self, bytes: &[u8]) {
        self.insns.push(Insn {
            bytes: bytes.to_vec(),
            reloc: None,
        });
    }

    pub fn rel(&mut self, bytes: &[u8], at: u8, r_type: u32, target: T, addend: i64) {
        self.insns.push(Insn {
            bytes: bytes.to_vec(),
            reloc: Some(Field {
                at,
                r_type,
                target,
                addend,
            }),
        });
    }

    pub fn new_label(&mut self) -> usize {
        self.labels.push(usize::MAX);
        self.labels.len() - 1
    }

    pub fn bind(&mut self, l: usize) {
        self.labels[l] = self.insns.len();
    }

    /// A 2-byte short jump (`opcode rel8`) to label `l`.
    pub fn jump(&mut self, opcode: u8, l: usize) {
        self.jumps.push((self.insns.len(), l));
        self.op(&[opcode, 0]);
    }

    /// The instructions, every short jump's displacement filled in. Labels are bound and the
    /// code is a few dozen bytes, so every displacement fits in 8 bits.
    pub fn finish(mut self) -> Vec<Insn<T>> {
        let mut offs = Vec::with_capacity(self.insns.len() + 1);
        let mut o = 0i64;
        for i in &self.insns {
            offs.push(o);
            o += i.bytes.len() as i64;
        }
        offs.push(o);
        for &(at, l) in &self.jumps {
            let disp = offs[self.labels[l]] - (offs[at] + 2);
            self.insns[at].bytes[1] = disp as i8 as u8;
        }
        self.insns
    }
}
