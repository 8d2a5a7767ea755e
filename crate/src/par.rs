//! Threads behind one small interface: natively rayon's pool, in wasm one thread, so the phases
//! carry no `cfg(target_arch = "wasm32")` of their own. Every helper keeps input order, so results
//! never depend on the number of threads. `min_len` is the fewest items one task takes (a split
//! finer than that costs more than it gains); it changes timing, never results.

/// `f(0), f(1), ... f(n - 1)`, in order.
pub fn map_range<T: Send>(
    n: usize,
    min_len: usize,
    f: impl Fn(usize) -> T + Sync + Send,
) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        (0..n)
            .into_par_iter()
            .with_min_len(min_len.max(1))
            .map(f)
            .collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = min_len;
        (0..n).map(f).collect()
    }
}

/// `f` of each item, in order.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    min_len: usize,
    f: impl Fn(&T) -> R + Sync + Send,
) -> Vec<R> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items
            .par_iter()
            .with_min_len(min_len.max(1))
            .map(f)
            .collect()
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = min_len;
        items.iter().map(f).collect()
    }
}

/// `f` on each item in place.
pub fn for_each_mut<T: Send>(items: &mut [T], min_len: usize, f: impl Fn(&mut T) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items
            .par_iter_mut()
            .with_min_len(min_len.max(1))
            .for_each(f)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = min_len;
        items.iter_mut().for_each(f)
    }
}

/// The sum of `f` over the items.
pub fn sum<T: Sync>(items: &[T], f: impl Fn(&T) -> usize + Sync + Send) -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.par_iter().map(f).sum()
    }
    #[cfg(target_arch = "wasm32")]
    {
        items.iter().map(f).sum()
    }
}

/// Both closures, natively at once; in wasm `a` then `b`.
pub fn join<RA: Send, RB: Send>(
    a: impl FnOnce() -> RA + Send,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::join(a, b)
    }
    #[cfg(target_arch = "wasm32")]
    {
        (a(), b())
    }
}

/// `f` on each `size`-byte chunk of `buf` with the item of the same index, chunks and items
/// paired in order (the shorter of the two ends it).
pub fn zip_chunks_mut<T: Sync>(
    buf: &mut [u8],
    size: usize,
    items: &[T],
    min_len: usize,
    f: impl Fn((&mut [u8], &T)) + Sync + Send,
) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        buf.par_chunks_mut(size)
            .zip(items.par_iter())
            .with_min_len(min_len.max(1))
            .for_each(f)
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = min_len;
        buf.chunks_mut(size).zip(items.iter()).for_each(f)
    }
}
