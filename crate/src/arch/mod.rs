//! Architecture knowledge behind one boundary: what each raw relocation type computes
//! ([`RelKind`]) and the raw number of each dynamic relocation ([`DynKind`]), how fields are
//! encoded, the relaxations, and the linker-made code (PLT entries, stubs, the teaching `_start`).
//! The rest of the linker names no `R_X86_64_*` type but through this module. Only x86-64 exists;
//! docs/design.md says what adding another architecture takes.

mod asm;
mod kind;
mod x86_64;
mod x86_64_code;

pub use asm::{Asm, Field, Insn};
pub use kind::{DynKind, RelKind};
pub use x86_64::*;
pub use x86_64_code::*;
