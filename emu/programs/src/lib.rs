//! Nothing here: the tests in `tests/programs.rs` link programs with initlink (and gcc with GNU
//! ld), run them natively and in initlink-emu, and compare. They live in their own package so
//! that `initlink-emu` has no dependency on the linker, not even a dev-dependency.
