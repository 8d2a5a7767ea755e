//! The x87 subset glibc's static code executes: moving 80-bit `long double` values (`fld`/`fstp`
//! of `m80` are exact copies of the bits), conversions to and from `double`, `float` and integers,
//! exact comparisons (`fucomip`), `fxch`, the status and control words and the environment. The
//! stack holds raw 80-bit values; arithmetic (`fadd`, `fmul`...) is not implemented and stops
//! the run with a diagnostic naming it.

use iced_x86::{Instruction, Mnemonic as M, OpKind, Register};

use super::{Halt, Machine, CF, PF, ZF};

const F80_MASK: u128 = (1u128 << 80) - 1;

/// An 80-bit extended value from a double (exact).
pub fn f80_from_f64(d: f64) -> u128 {
    let b = d.to_bits();
    let sign = (b >> 63) as u128;
    let exp = ((b >> 52) & 0x7ff) as i64;
    let frac = b & ((1 << 52) - 1);
    let (e, m): (u128, u64) = if exp == 0 {
        if frac == 0 {
            (0, 0)
        } else {
            // Subnormal double: normalize into the 64-bit mantissa.
            let shift = frac.leading_zeros() as i64; // >= 12
            let m = frac << shift;
            let e = 1 - 1023 + 16383 - (shift - 11);
            (e as u128, m)
        }
    } else if exp == 0x7ff {
        (0x7fff, (1 << 63) | (frac << 11))
    } else {
        ((exp - 1023 + 16383) as u128, (1 << 63) | (frac << 11))
    };
    (sign << 79) | (e << 64) | m as u128
}

/// A double from an 80-bit value, rounded to nearest even.
pub fn f64_from_f80(v: u128) -> f64 {
    let sign = ((v >> 79) & 1) as u64;
    let exp = ((v >> 64) & 0x7fff) as i64;
    let m = v as u64;
    if exp == 0x7fff {
        let nan = m << 1 != 0;
        return f64::from_bits(
            (sign << 63) | (0x7ff << 52) | if nan { 1 << 51 | (m << 1 >> 12) } else { 0 },
        );
    }
    if m == 0 {
        return f64::from_bits(sign << 63);
    }
    // value = m * 2^(exp - 16383 - 63)
    let s = if sign == 1 { -1.0 } else { 1.0 };
    // Round the 64-bit mantissa to 53 bits, then scale exactly.
    let lz = m.leading_zeros();
    let m = m << lz;
    let e = exp - 16383 - 63 - lz as i64;
    let keep = m >> 11;
    let rest = m & 0x7ff;
    let round_up = rest > 0x400 || (rest == 0x400 && keep & 1 == 1);
    let mant = keep + round_up as u64;
    // Scale in two steps so that neither power of two over- or underflows on its own.
    let mut k = (e + 11).clamp(-2200, 2200);
    let mut x = mant as f64;
    if k < -1000 {
        x *= 2f64.powi(-1000);
        k += 1000;
    } else if k > 1000 {
        x *= 2f64.powi(1000);
        k -= 1000;
    }
    s * x * 2f64.powi(k as i32)
}

/// An 80-bit value from a signed integer (exact).
fn f80_from_i64(i: i64) -> u128 {
    if i == 0 {
        return 0;
    }
    let sign = (i < 0) as u128;
    let a = i.unsigned_abs();
    let lz = a.leading_zeros();
    let m = a << lz;
    let e = 16383 + 63 - lz as u128;
    (sign << 79) | (e << 64) | m as u128
}

/// Order of two 80-bit values: None when either is a NaN.
fn f80_cmp(a: u128, b: u128) -> Option<std::cmp::Ordering> {
    let nan = |v: u128| (v >> 64) & 0x7fff == 0x7fff && (v as u64) << 1 != 0;
    if nan(a) || nan(b) {
        return None;
    }
    let key = |v: u128| -> i128 {
        let mag = (v & ((1u128 << 79) - 1)) as i128;
        if mag == 0 {
            0
        } else if v >> 79 & 1 == 1 {
            -mag
        } else {
            mag
        }
    };
    Some(key(a).cmp(&key(b)))
}

impl Machine<'_> {
    fn st_index(&self, r: Register) -> usize {
        (r as u32).wrapping_sub(Register::ST0 as u32) as usize & 7
    }

    fn st(&self, i: usize) -> u128 {
        self.st[(self.fpu_top + i) & 7]
    }

    fn fpush(&mut self, v: u128) {
        self.fpu_top = (self.fpu_top + 7) & 7;
        self.st[self.fpu_top] = v & F80_MASK;
    }

    fn fpop(&mut self) {
        self.fpu_top = (self.fpu_top + 1) & 7;
    }

    fn status_word(&self) -> u64 {
        ((self.fpu_top as u64) << 11) | self.fpu_cc as u64
    }

    pub(super) fn x87(&mut self, i: &Instruction, mn: M) -> Result<(), Halt> {
        let mem = i.op_count() > 0 && i.op_kind(0) == OpKind::Memory;
        let size = if mem { i.memory_size().size() } else { 0 };
        match mn {
            M::Fld | M::Fild => {
                let v = if mem {
                    let a = self.ea(i);
                    match (mn, size) {
                        (M::Fld, 10) => {
                            let lo = self.read_mem(a, 8)? as u128;
                            let hi = self.read_mem(a.wrapping_add(8), 2)? as u128;
                            lo | (hi << 64)
                        }
                        (M::Fld, 8) => f80_from_f64(f64::from_bits(self.read_mem(a, 8)?)),
                        (M::Fld, 4) => {
                            f80_from_f64(f32::from_bits(self.read_mem(a, 4)? as u32) as f64)
                        }
                        (M::Fild, s @ (2 | 4 | 8)) => {
                            f80_from_i64(super::sext(self.read_mem(a, s as u32)?, s as u32))
                        }
                        _ => return Err(self.unimplemented(i)),
                    }
                } else {
                    self.st(self.st_index(i.op_register(0)))
                };
                self.fpush(v);
            }
            M::Fldz => self.fpush(0),
            M::Fld1 => self.fpush(16383u128 << 64 | 1 << 63),
            M::Fst | M::Fstp => {
                let v = self.st(0);
                if mem {
                    let a = self.ea(i);
                    match size {
                        10 => {
                            self.write_mem(a, 8, v as u64)?;
                            self.write_mem(a.wrapping_add(8), 2, (v >> 64) as u64)?;
                        }
                        8 => self.write_mem(a, 8, f64_from_f80(v).to_bits())?,
                        4 => self.write_mem(a, 4, (f64_from_f80(v) as f32).to_bits() as u64)?,
                        _ => return Err(self.unimplemented(i)),
                    }
                } else {
                    let k = (self.fpu_top + self.st_index(i.op_register(0))) & 7;
                    self.st[k] = v;
                }
                if mn == M::Fstp {
                    self.fpop();
                }
            }
            M::Fistp | M::Fisttp if matches!(size, 2 | 4 | 8) => {
                let f = f64_from_f80(self.st(0));
                let f = if mn == M::Fisttp {
                    f.trunc()
                } else {
                    f.round_ties_even()
                };
                let a = self.ea(i);
                let s = size as u32;
                let lim = 2f64.powi(s as i32 * 8 - 1);
                let v = if f.is_nan() || f >= lim || f < -lim {
                    super::sign(s)
                } else {
                    f as i64 as u64
                };
                self.write_mem(a, s, v)?;
                self.fpop();
            }
            M::Fxch => {
                let k = if i.op_count() > 0 {
                    self.st_index(i.op_register(i.op_count() - 1))
                } else {
                    1
                };
                let (x, y) = (self.fpu_top & 7, (self.fpu_top + k) & 7);
                self.st.swap(x, y);
            }
            M::Fchs => self.st[self.fpu_top] ^= 1 << 79,
            M::Fabs => self.st[self.fpu_top] &= !(1 << 79),
            M::Fucomi | M::Fucomip | M::Fcomi | M::Fcomip => {
                let k = self.st_index(i.op_register(1));
                let f = match f80_cmp(self.st(0), self.st(k)) {
                    None => ZF | PF | CF,
                    Some(std::cmp::Ordering::Less) => CF,
                    Some(std::cmp::Ordering::Equal) => ZF,
                    Some(std::cmp::Ordering::Greater) => 0,
                };
                self.set_flags(f);
                if matches!(mn, M::Fucomip | M::Fcomip) {
                    self.fpop();
                }
            }
            M::Fnstsw => {
                let sw = self.status_word();
                if mem {
                    let a = self.ea(i);
                    self.write_mem(a, 2, sw)?;
                } else {
                    self.regs[0] = (self.regs[0] & !0xffff) | sw;
                }
            }
            M::Fnstenv => {
                let a = self.ea(i);
                let mut env = [0u8; 28];
                env[0..2].copy_from_slice(&self.fpu_cw.to_le_bytes());
                env[4..6].copy_from_slice(&(self.status_word() as u16).to_le_bytes());
                env[8..10].copy_from_slice(&0xffffu16.to_le_bytes());
                self.mem.write(a, &env).map_err(|f| self.fault(f))?;
            }
            M::Fldenv => {
                let a = self.ea(i);
                self.fpu_cw = self.read_mem(a, 2)? as u16;
                let sw = self.read_mem(a.wrapping_add(4), 2)?;
                self.fpu_top = ((sw >> 11) & 7) as usize;
                self.fpu_cc = (sw & 0x47ff) as u16 & !0x3800;
            }
            M::Fninit => {
                self.fpu_cw = 0x37f;
                self.fpu_top = 0;
                self.fpu_cc = 0;
            }
            M::Fnclex => self.fpu_cc &= !0xff,
            _ => return Err(self.unimplemented(i)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_round_trips_through_extended() {
        for d in [
            0.0,
            -0.0,
            1.0,
            -2.5,
            1e300,
            5e-324,
            2.2250738585072014e-308,
            f64::INFINITY,
            2.0 / 3.0,
        ] {
            assert_eq!(f64_from_f80(f80_from_f64(d)).to_bits(), d.to_bits(), "{d}");
        }
        assert_eq!(f80_from_i64(1), f80_from_f64(1.0));
        assert_eq!(f80_from_i64(-12345), f80_from_f64(-12345.0));
        assert_eq!(
            f80_cmp(f80_from_f64(-1.0), f80_from_f64(0.5)),
            Some(std::cmp::Ordering::Less)
        );
        assert_eq!(
            f80_cmp(f80_from_f64(0.0), f80_from_f64(-0.0)),
            Some(std::cmp::Ordering::Equal)
        );
    }
}
