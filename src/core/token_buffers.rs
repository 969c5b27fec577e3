//! Recycled buffers for the copy of a token that a cache miss hands to a worker.
//!
//! Why: the copy is made on the JS thread and freed on a worker (evicted from the token
//! cache, or dropped after a failed or uncached verify). With glibc, memory freed on another
//! thread never returns to the allocating thread's own cache, so every copy took malloc's
//! slow path under the main arena's lock, which the workers' frees contend for: in a perf
//! profile of distinct tokens that one `malloc` was 9 % of the JS thread's time per miss.
//! Here the buffer of a token the cache displaces (or of one that failed or was not cached)
//! goes back to a short list, and the next miss copies into it: no allocation on either side
//! in the steady state. (Entries dropped by a lookup, expired or with a retired key, are
//! simply freed: rare.)
//!
//! Bounded: at most `MAX_SPARE` buffers, none larger than `MAX_CAPACITY` bytes. A buffer
//! holds an old token's bytes until reused, like any freed allocation would.

use std::sync::Mutex;

/// Spare buffers kept: enough for a burst of misses, at about 1 KiB each.
const MAX_SPARE: usize = 256;
/// Larger buffers are not kept (an unusually large token is not worth holding memory for).
const MAX_CAPACITY: usize = 8 * 1024;
/// New buffers round up to this, so that tokens of slightly different lengths share them.
const GRANULE: usize = 256;

#[derive(Default)]
pub struct TokenBuffers {
    spare: Mutex<Vec<String>>,
}

impl TokenBuffers {
    /// An owned copy of `token`, in a recycled buffer when one is spare and fits it.
    pub fn copy_of(&self, token: &str) -> String {
        let len = token.len();
        let recycled = self.lock().pop();
        let mut buffer = match recycled {
            // Not much larger either: the buffer may end up in the token cache, which would
            // otherwise fill with the largest buffers ever seen (a burst of long junk tokens
            // would leave every later cache entry in an 8 KiB buffer).
            Some(buffer) if buffer.capacity() >= len && buffer.capacity() <= (2 * len).max(GRANULE) => buffer,
            // Too small, too large, or none spare: a new one (the unfit one is freed).
            _ => String::with_capacity(len.div_ceil(GRANULE).max(1) * GRANULE),
        };
        buffer.clear();
        buffer.push_str(token);
        buffer
    }

    /// Keeps `buffer` for a later `copy_of` (or frees it when enough are kept).
    pub fn recycle(&self, buffer: String) {
        if buffer.capacity() == 0 || buffer.capacity() > MAX_CAPACITY {
            return;
        }
        let mut spare = self.lock();
        if spare.len() < MAX_SPARE {
            spare.push(buffer);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_exact_and_reuse_recycled_buffers() {
        let buffers = TokenBuffers::default();
        let first = buffers.copy_of("a.b.c");
        assert_eq!(first, "a.b.c");
        assert_eq!(first.capacity(), GRANULE);
        let address = first.as_ptr();
        buffers.recycle(first);
        let second = buffers.copy_of("xyz.longer.token");
        assert_eq!(second, "xyz.longer.token", "no bytes of the old token remain visible");
        assert_eq!(second.as_ptr(), address, "the recycled buffer was reused");
    }

    #[test]
    fn a_spare_buffer_too_small_is_replaced() {
        let buffers = TokenBuffers::default();
        buffers.recycle(buffers.copy_of("short"));
        let long = "t".repeat(GRANULE + 1);
        let copy = buffers.copy_of(&long);
        assert_eq!(copy, long);
        assert_eq!(copy.capacity(), 2 * GRANULE);
        assert!(buffers.lock().is_empty());
    }

    #[test]
    fn a_spare_buffer_much_larger_than_the_token_is_not_used() {
        let buffers = TokenBuffers::default();
        // What a burst of long junk tokens leaves behind.
        buffers.recycle(buffers.copy_of(&"j".repeat(8000)));
        let token = "t".repeat(900);
        let copy = buffers.copy_of(&token);
        assert_eq!(copy, token);
        assert_eq!(copy.capacity(), 1024, "a buffer sized for this token, not the 8 KiB one");
        // Up to twice the size is used (one issuer's tokens vary a little in length).
        buffers.recycle(copy);
        assert_eq!(buffers.copy_of(&"t".repeat(600)).capacity(), 1024);
    }

    #[test]
    fn bounded_in_count_and_size() {
        let buffers = TokenBuffers::default();
        for _ in 0..MAX_SPARE + 10 {
            buffers.recycle(String::with_capacity(100));
        }
        assert_eq!(buffers.lock().len(), MAX_SPARE);
        let buffers = TokenBuffers::default();
        buffers.recycle(String::with_capacity(MAX_CAPACITY + 1));
        buffers.recycle(String::new());
        assert!(buffers.lock().is_empty());
    }
}
