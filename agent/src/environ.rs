//! Keeping the agent's secrets out of reach of the processes it starts.
//!
//! The bot runs with the agent's user. Its own environment never holds the store's credentials
//! ([`crate::runtime::child_env`]), but it could read them in the agent's: `/proc/<pid>/environ`
//! shows the block of strings the process was started with, whatever the process did with its
//! variables since. At start, before any thread exists, the agent therefore
//! - copies each of its own variables ([`crate::runtime::is_agent_only`]: `MINIO_*`, `AWS_*`,
//!   `NATS_URL`, ...) to the heap, where the process keeps using them, and wipes the original
//!   in the block, so `/proc/<pid>/environ` shows zeros in their place;
//! - makes itself non-dumpable, so a process of the same user (without `CAP_SYS_PTRACE`) can
//!   neither attach to it nor read its memory or environment (`/proc/<pid>/mem`, `environ`).

use std::ffi::CStr;

use crate::runtime::is_agent_only;

unsafe extern "C" {
    /// The process's environment (POSIX).
    static mut environ: *mut *mut libc::c_char;
}

/// Does the above. Must be called first thing in `main`, while the process has one thread:
/// nothing else may read or change the environment meanwhile.
pub fn protect_secrets() {
    // SAFETY: PR_SET_DUMPABLE takes plain integers.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        eprintln!(
            "the0-agent: cannot make the process non-dumpable: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: single-threaded (see above); `environ` is a NULL-terminated array of pointers to
    // NUL-terminated strings; each replaced entry points to a heap copy of the same string, and
    // the original bytes are overwritten in place, within their length.
    unsafe {
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            let original = *entry;
            let length = CStr::from_ptr(original).to_bytes().len();
            let text = std::slice::from_raw_parts(original.cast::<u8>(), length);
            let name = text.split(|b| *b == b'=').next().unwrap_or_default();
            if std::str::from_utf8(name).is_ok_and(is_agent_only) {
                let copy = libc::strdup(original);
                if !copy.is_null() {
                    *entry = copy;
                    std::ptr::write_bytes(original, 0, length);
                }
            }
            entry = entry.add(1);
        }
    }
}
