//! Hostile input never panics, never hangs: random bytes as code, random and mutated ELF files,
//! and programs that loop, exhaust memory or write without end all stop with a result.

use initlink_emu::cpu::{Halt, Machine};
use initlink_emu::{Config, EmuError};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_code_stops_cleanly() {
    // EMU_FUZZ_CASES=200000 for a longer search.
    let n: u64 = std::env::var("EMU_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x5eed_1234_abcd_0001 ^ n);
    for _ in 0..n {
        let code: Vec<u8> = (0..64).map(|_| rng.next() as u8).collect();
        let mut m = Machine::bare(&code);
        for r in m.regs.iter_mut() {
            *r = match rng.next() % 3 {
                0 => initlink_emu::cpu::BARE_STACK - 256,
                1 => rng.next(),
                _ => rng.next() % 64,
            };
        }
        m.run(500);
        assert!(m.halt.is_some(), "a run always ends with a reason");
    }
}

/// A minimal static ELF: one PT_LOAD with `code` at 0x401000, entry at its start.
fn tiny_elf(code: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 0x1000];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2;
    f[5] = 1;
    f[6] = 1;
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&62u16.to_le_bytes());
    f[24..32].copy_from_slice(&0x401000u64.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes());
    f[54..56].copy_from_slice(&56u16.to_le_bytes());
    f[56..58].copy_from_slice(&1u16.to_le_bytes());
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes());
    f[ph + 8..ph + 16].copy_from_slice(&0x1000u64.to_le_bytes());
    f[ph + 16..ph + 24].copy_from_slice(&0x401000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&(code.len() as u64).to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&(code.len() as u64).to_le_bytes());
    f.extend_from_slice(code);
    f
}

const WRITE_EXIT: &[u8] = &[
    0xb8, 1, 0, 0, 0, // mov eax, 1 (write)
    0xbf, 1, 0, 0, 0, // mov edi, 1
    0x48, 0x8d, 0x35, 0x13, 0, 0, 0, // lea rsi, [rip + 19]: "hi\n"
    0xba, 3, 0, 0, 0, // mov edx, 3
    0x0f, 0x05, // syscall
    0xb8, 60, 0, 0, 0, // mov eax, 60
    0xbf, 9, 0, 0, 0, // mov edi, 9
    0x0f, 0x05, // syscall
    b'h', b'i', b'\n',
];

#[test]
fn a_tiny_elf_runs_and_mutations_of_it_stop_cleanly() {
    let elf = tiny_elf(WRITE_EXIT);
    let out = initlink_emu::run(&elf, &Config::default());
    assert_eq!(
        (out.stdout.as_slice(), out.exit_code),
        (&b"hi\n"[..], Some(9)),
        "{:?}",
        out.error
    );
    let mut rng = Rng(0xfeed_0000_1111_2222);
    let config = Config {
        max_instructions: 10_000,
        memory_limit: 64 << 20,
        ..Config::default()
    };
    for k in 0..3000 {
        let mut e = elf.clone();
        match k % 3 {
            0 => {
                // Flip bytes in the headers.
                for _ in 0..1 + rng.next() % 4 {
                    let at = (rng.next() % 128) as usize;
                    e[at] = rng.next() as u8;
                }
            }
            1 => e.truncate((rng.next() % e.len() as u64) as usize),
            _ => {
                let at = 0x1000 + (rng.next() % WRITE_EXIT.len() as u64) as usize;
                e[at] = rng.next() as u8;
            }
        }
        let _ = initlink_emu::run(&e, &config);
    }
    for junk in [&b""[..], b"\x7fELF", &[0xffu8; 200][..]] {
        assert!(matches!(
            initlink_emu::run(junk, &config).error,
            Some(EmuError::Load(_))
        ));
    }
}

#[test]
fn endless_loops_huge_copies_and_floods_stop() {
    // jmp $: the budget stops it.
    let out = initlink_emu::run(
        &tiny_elf(&[0xeb, 0xfe]),
        &Config {
            max_instructions: 100_000,
            ..Config::default()
        },
    );
    assert_eq!(out.error, Some(EmuError::Budget { executed: 100_000 }));
    // rep stosb over 2^62 bytes: a fault, not an allocation or a hang.
    let mut m = Machine::bare(&[0xf3, 0xaa]);
    m.regs[1] = 1 << 62;
    m.regs[7] = initlink_emu::cpu::BARE_STACK - 4096;
    m.run(1_000_000);
    assert!(matches!(
        m.halt.as_ref().and_then(Halt::error),
        Some(EmuError::Memory { .. } | EmuError::Budget { .. })
    ));
    // write(1, buf, 3) forever: output stops growing at the limit.
    let mut code = WRITE_EXIT[..24].to_vec();
    code.extend_from_slice(&[0xeb, (-26i8) as u8, b'a', b'b', b'c']); // jmp back to the start
    let mut code2 = code.clone();
    code2[13] = 9; // rip-relative offset to "abc"
    let cfg = Config {
        max_instructions: 200_000,
        max_output: 1000,
        ..Config::default()
    };
    let out = initlink_emu::run(&tiny_elf(&code2), &cfg);
    assert!(
        out.stdout.len() <= 1000 && out.stdout.len() > 900,
        "{}",
        out.stdout.len()
    );
}

#[test]
fn stepping_one_instruction_at_a_time_ends_as_a_run() {
    let elf = tiny_elf(WRITE_EXIT);
    let config = Config::default();
    let mut m = Machine::load(&elf, &config).unwrap();
    let mut steps = 0;
    while m.step().is_none() {
        steps += 1;
        assert!(steps < 100, "the program exits");
    }
    assert_eq!(m.halt, Some(Halt::Exit(9)));
    let stepped = m.into_outcome();
    let ran = initlink_emu::run(&elf, &config);
    assert_eq!(
        (stepped.stdout, stepped.instructions, stepped.syscalls),
        (ran.stdout, ran.instructions, ran.syscalls)
    );
}
