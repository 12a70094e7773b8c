//! A counting global allocator for the allocation-bound tests, and the bound they check.
//!
//! Every allocation and reallocation adds its requested size to a per-thread total (frees subtract
//! nothing), so the total is the sum of all sizes the decoder asked for: an upper bound of its peak use
//! too.

// The allocator needs `unsafe impl GlobalAlloc`; it only forwards to the system allocator.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The documented bound (see the crate docs): decoding `n` bytes allocates at most `FACTOR * n + SLACK`
/// bytes in total.
pub const FACTOR: usize = 16;
/// The constant part of the bound.
pub const SLACK: usize = 256;

/// The bound for an input of `len` bytes.
pub fn bound(len: usize) -> usize {
    FACTOR * len + SLACK
}

/// Runs `f` and returns its result with the bytes this thread allocated meanwhile.
pub fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let result = f();
    (result, ALLOCATED.with(Cell::get) - before)
}
