//! Text the library hands to the caller: NUL-terminated UTF-8 in `malloc`ed memory, freed by
//! `the0_bytes_free`.
//!
//! `malloc`, not Rust's allocator, so that freeing needs nothing but the pointer: no length to
//! carry back (a wrong one would corrupt the heap), and memory checkers see ordinary heap blocks.
//! The texts the core returns (JSON, paths, environment values, messages) contain no NUL byte, so
//! the terminator is where a C reader expects the end.

use std::alloc::{Layout, handle_alloc_error};
use std::ffi::{c_char, c_void};
use std::ptr;

use the0_sdk::Result;

use crate::args;

unsafe extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn free(ptr: *mut c_void);
}

/// A `char **` out-parameter: checked non-NULL and set to NULL on entry, so that a caller that
/// frees whatever it finds there after a failure frees nothing; [`TextOut::put`] stores the text.
pub(crate) struct TextOut(*mut *mut c_char);

impl TextOut {
    /// Checks `slot` (named `name` in the error) and clears it.
    ///
    /// # Safety
    /// `slot` must be NULL or point to writable storage for a `char *`.
    pub(crate) unsafe fn new(slot: *mut *mut c_char, name: &str) -> Result<TextOut> {
        // SAFETY: forwarded from the caller.
        unsafe { args::out(slot, name, ptr::null_mut()) }?;
        Ok(TextOut(slot))
    }

    /// Stores a new NUL-terminated copy of `text`; the caller of the export owns it.
    pub(crate) fn put(&self, text: &str) {
        // SAFETY: `new` checked that the slot is non-NULL and writable.
        unsafe { *self.0 = copy(text) }
    }

    /// Stores lines for the caller to print: NULL when there are none, else the lines joined by
    /// newlines, without a trailing one.
    pub(crate) fn put_lines(&self, lines: &[String]) {
        if !lines.is_empty() {
            self.put(&lines.join("\n"));
        }
    }
}

fn copy(text: &str) -> *mut c_char {
    let size = text.len() + 1;
    // SAFETY: malloc may be called with any size; a NULL result is handled below.
    let bytes = unsafe { malloc(size) }.cast::<u8>();
    if bytes.is_null() {
        handle_alloc_error(Layout::array::<u8>(size).expect("a text length fits a layout"));
    }
    // SAFETY: `bytes` has room for `size` bytes and does not overlap `text`.
    unsafe {
        ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
        *bytes.add(text.len()) = 0;
    }
    bytes.cast()
}

/// Frees a buffer the library returned through an out-parameter (every `char *` it writes to a
/// `char **`). `ptr` may be NULL: nothing happens. Never fails.
///
/// # Safety
/// `ptr` must be NULL or a buffer returned by this library and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_bytes_free(ptr: *mut c_void) {
    // SAFETY: forwarded from the caller; every buffer this library returns comes from `malloc`.
    unsafe { free(ptr) }
}
