//! Threads behind one small interface: natively rayon's pool, in wasm one thread, so the phases
//! carry no `cfg(target_arch = "wasm32")` of their own. Every helper keeps input order, so results
//! never depend on the number of threads. `min_len` is the fewest items one task takes (a split
//! finer than that costs more than it gains); it changes timing, never results. Work of at most
//! `min_len` items runs on the calling thread: handing it to the pool from outside costs a wake-up
//! and a wait, which a walk of many small steps (a `--gc-sections` level) pays every step.

/// `f(0), f(1), ... f(n - 1)`, in order.
pub fn map_range<T: Send>(
    n: usize,
    min_len: usize,
    f: impl Fn(usize) -> T + Sync + Send,
) -> Vec<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        if n <= min_len.max(1) {
            return (0..n).map(f).collect();
        }
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
        if items.len() <= min_len.max(1) {
            return items.iter().map(f).collect();
        }
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
        if items.len() <= min_len.max(1) {
            return items.iter_mut().for_each(f);
        }
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

/// `f` on each item, taking it.
pub fn for_each_owned<T: Send>(items: Vec<T>, f: impl Fn(T) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.into_par_iter().for_each(f)
    }
    #[cfg(target_arch = "wasm32")]
    items.into_iter().for_each(f)
}

/// `f` on each item.
pub fn for_each<T: Sync>(items: &[T], f: impl Fn(&T) + Sync + Send) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.par_iter().for_each(f)
    }
    #[cfg(target_arch = "wasm32")]
    items.iter().for_each(f)
}

/// `f` of each item, mutably, in order.
pub fn map_mut<T: Send, R: Send>(items: &mut [T], f: impl Fn(&mut T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        items.par_iter_mut().map(f).collect()
    }
    #[cfg(target_arch = "wasm32")]
    items.iter_mut().map(f).collect()
}

/// How many threads the helpers use (1 in wasm): for splitting work into that many parts.
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::current_num_threads()
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}

/// Gives item `k` parsed.
pub type TakeFn<'t, T> = dyn FnMut(usize) -> T + 't;

/// Runs `body` with `take(k)`, which gives `parse(k)`. A helper thread, started by the first
/// `take`, parses `0..skip.len()` ahead in order (those `skip` marks aside); `take` hands over
/// its result, or parses `k` itself when the helper has not got there, or is on `k` right now
/// (waiting to be woken cost more than parsing). `parse` is a pure function of `k`, so who ran
/// it changes nothing; what the helper parsed and nobody took is dropped, errors and all.
pub fn parse_ahead<T: Send, R>(
    skip: Vec<bool>,
    parse: &(dyn Fn(usize) -> T + Sync),
    body: &mut dyn FnMut(&mut TakeFn<'_, T>) -> R,
) -> R {
    #[cfg(target_arch = "wasm32")]
    {
        let _ = skip;
        body(&mut |k| parse(k))
    }
    #[cfg(not(target_arch = "wasm32"))]
    parse_ahead_threaded(skip, parse, body)
}

#[cfg(not(target_arch = "wasm32"))]
fn parse_ahead_threaded<T: Send, R>(
    skip: Vec<bool>,
    parse: &(dyn Fn(usize) -> T + Sync),
    body: &mut dyn FnMut(&mut TakeFn<'_, T>) -> R,
) -> R {
    use std::sync::atomic::{AtomicBool, Ordering};
    let claimed: Vec<AtomicBool> = skip.into_iter().map(AtomicBool::new).collect();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, T)>();
        let (claimed, stop) = (&claimed, &stop);
        let mut helper = Some(move || {
            for (k, c) in claimed.iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                // Once claimed, a result is always sent: `take` may be looking for it.
                if !c.swap(true, Ordering::AcqRel) && tx.send((k, parse(k))).is_err() {
                    break;
                }
            }
        });
        let mut early: rustc_hash::FxHashMap<usize, T> = Default::default();
        let mut take = |k: usize| -> T {
            if let Some(h) = helper.take() {
                // No thread to be had: `take` parses everything.
                let _ = std::thread::Builder::new().spawn_scoped(s, h);
            }
            if claimed
                .get(k)
                .is_some_and(|c| c.swap(true, Ordering::AcqRel))
            {
                early.extend(rx.try_iter());
                if let Some(p) = early.remove(&k) {
                    return p;
                }
            }
            parse(k)
        };
        let r = body(&mut take);
        stop.store(true, Ordering::Relaxed);
        r
    })
}
