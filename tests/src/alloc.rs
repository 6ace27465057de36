//! The counting global allocator of the allocation tests.
//!
//! A test binary installs it with
//! `#[global_allocator] static A: pt_tests::alloc::Counting = pt_tests::alloc::Counting;`.
//! Every `alloc` and `realloc` adds one to the calling thread's count (so
//! tests running in parallel do not see each other's) and to the process's
//! (for a test that owns the process, such as one running a pipeline's
//! threads without the libtest harness).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The allocator: the system allocator, counted.
#[derive(Debug)]
pub struct Counting;

thread_local! {
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

static PROCESS: AtomicU64 = AtomicU64::new(0);

fn count_one() {
    PROCESS.fetch_add(1, Ordering::Relaxed);
    // `try_with`: the allocator may run during thread teardown. A
    // const-initialised `Cell` needs no lazy initialisation, so this never
    // allocates or re-enters the allocator.
    let _ = THREAD.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to the system allocator, which
// upholds the `GlobalAlloc` contract; counting touches only a thread-local
// and an atomic.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` or `System.realloc` with
        // this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: the caller's contract for `realloc` is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made on this thread so far (zero unless [`Counting`] is
/// the global allocator).
pub fn allocations() -> u64 {
    THREAD.with(Cell::get)
}

/// Allocations made by every thread of the process so far.
pub fn process_allocations() -> u64 {
    PROCESS.load(Ordering::SeqCst)
}
