//! The arch-neutral vocabulary the rest of the linker switches on: what an input relocation
//! computes ([`RelKind`]) and which dynamic relocation the linker emits ([`DynKind`]). Each
//! architecture maps its raw numbers to and from these (`x86_64.rs`: `rel_kind`, `dyn_type`).

/// What a relocation computes, whatever number the architecture gives it (lld's `RelExpr`,
/// wild's relocation kind). The synthesize scan and the relocate phase switch on this, never on
/// raw types; a raw type travels beside it only to pick the field's encoding (`write_value`),
/// to ask the relaxation predicates about the instruction, and to name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelKind {
    /// Writes nothing.
    None,
    /// S + A.
    Absolute,
    /// S + A - P.
    PcRelative,
    /// L + A - P: a call that goes through the symbol's PLT entry when it has one (by the
    /// relocate phase, a symbol with a PLT entry has it as S).
    PltPcRelative,
    /// G + GOT + A - P. The load may be relaxed to S + A - P when no GOT slot was made.
    GotPcRelative,
    /// G + GOT + A - P over 64 bits: never relaxed.
    GotPcRelative64,
    /// G + A: the GOT slot's offset from the GOT base.
    GotOffset,
    /// GOT + A - P: the GOT base, PC-relative.
    GotBasePcRelative,
    /// S + A - GOT.
    GotBaseRelative,
    /// L + A - GOT: the PLT entry (S when there is none) from the GOT base.
    PltGotBaseRelative,
    /// S + A - TP (local-exec TLS).
    TpRelative,
    /// S + A - TLS start (a DTV-relative offset; TP-relative in relaxed local-dynamic code).
    DtpRelative,
    /// Initial-exec TLS: the GOT slot holding the TP offset, or relaxed to local-exec.
    TlsInitialExec,
    /// General-dynamic TLS (`__tls_get_addr` call sequence).
    TlsGeneralDynamic,
    /// Local-dynamic TLS (`__tls_get_addr` call sequence for the module).
    TlsLocalDynamic,
    /// A TLS descriptor's address (GNU2 dialect).
    TlsDescriptor,
    /// The call through a TLS descriptor.
    TlsDescriptorCall,
    /// Z + A: the symbol's size.
    Size,
    /// Not a kind the relocate phase applies.
    Unsupported,
}

impl RelKind {
    /// The field counts from its own address (P): in code, from the end of its instruction.
    pub fn is_pc_relative(self) -> bool {
        matches!(
            self,
            RelKind::PcRelative
                | RelKind::PltPcRelative
                | RelKind::GotPcRelative
                | RelKind::GotPcRelative64
                | RelKind::GotBasePcRelative
                | RelKind::TlsInitialExec
                | RelKind::TlsGeneralDynamic
                | RelKind::TlsLocalDynamic
                | RelKind::TlsDescriptor
        )
    }

    /// The value is an offset in the TLS block (the thread pointer or the block's start enter
    /// the formula, or the relaxed one).
    pub fn is_tls_offset(self) -> bool {
        matches!(
            self,
            RelKind::TpRelative
                | RelKind::DtpRelative
                | RelKind::TlsInitialExec
                | RelKind::TlsGeneralDynamic
                | RelKind::TlsLocalDynamic
                | RelKind::TlsDescriptor
        )
    }

    /// A thread-local access: its symbol's address is a TLS offset, never an IPLT entry.
    pub fn is_tls(self) -> bool {
        self.is_tls_offset() || self == RelKind::TlsDescriptorCall
    }

    /// The formula subtracts or adds `_GLOBAL_OFFSET_TABLE_`.
    pub fn uses_got_base(self) -> bool {
        matches!(
            self,
            RelKind::GotOffset
                | RelKind::GotBasePcRelative
                | RelKind::GotBaseRelative
                | RelKind::PltGotBaseRelative
        )
    }

    /// The formula names the symbol's PLT entry (L): a preemptible symbol needs one.
    pub fn uses_plt(self) -> bool {
        matches!(self, RelKind::PltPcRelative | RelKind::PltGotBaseRelative)
    }
}

/// A dynamic relocation the linker emits, whatever number the architecture gives it (lld's
/// `relativeRel`, `symbolicRel`, `gotRel`...). The synthesize phase records these; the write
/// phase turns them into raw types (`dyn_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynKind {
    /// Load base + addend: an address inside a position-independent output.
    Relative,
    /// The symbol's address + addend, in a word of data.
    Symbolic,
    /// The symbol's address, in its GOT slot.
    GotEntry,
    /// A function's address, in its `.got.plt` slot (lazy binding).
    PltSlot,
    /// The symbol's bytes, copied from its library into the executable's copy area.
    Copy,
    /// The address an IFUNC resolver (at the addend) returns.
    IRelative,
    /// The symbol's offset from the thread pointer (+ addend).
    TpOffset,
    /// The module id of the TLS block that holds the symbol.
    TlsModule,
    /// The symbol's offset in its module's TLS block.
    DtpOffset,
    /// A TLS descriptor (two words: the loader's resolver function and its argument) for the
    /// symbol, or for the offset in the addend with no symbol.
    TlsDescriptor,
}
