//! Statuses at the boundary: every export runs its body through [`call`], which catches panics,
//! turns a core [`Error`] into its stable code, and keeps the error's message for the calling
//! thread, where `the0_last_error` reads it.
//!
//! The message is per thread because hosts call from many threads at once (query workers, a
//! bot's main thread) and each must read the message of its own failure.

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use the0_sdk::{Error, Result, Status};

use crate::buffer::TextOut;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs the body of export `name` and returns the status code it ends with.
///
/// `Ok(status)` is returned as it is (`OK`, or the outcomes `TIMEOUT` and `DONE`, which are not
/// failures and leave the last error alone). `Err(e)` returns `e.status()` and records `e`'s
/// message; a panic returns `PANIC` and records the panic message.
pub(crate) fn call(name: &str, body: impl FnOnce() -> Result<Status>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status.code(),
        Ok(Err(error)) => fail(error.status(), error.to_string()),
        Err(panic) => fail(
            Status::Panic,
            format!("{name} panicked: {}", panic_message(panic.as_ref())),
        ),
    }
}

fn fail(status: Status, message: String) -> i32 {
    // During thread teardown the slot may be gone; the status still tells the caller.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = message);
    status.code()
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message")
}

/// Copies the message of the last failure on the calling thread into `*out_message`.
///
/// Every export that returns a status other than `THE0_STATUS_OK`, `THE0_STATUS_TIMEOUT` and
/// `THE0_STATUS_DONE` first records why, for the thread that called it; successful calls leave
/// the message alone, so read it right after the failing call, on the same OS thread (GHC: from a
/// bound thread, or in the same `runInBoundThread`). The message is the one every the0 SDK shows
/// for that failure. Before any failure it is the empty string.
///
/// `*out_message` receives a new NUL-terminated UTF-8 string owned by the caller: free it with
/// `the0_bytes_free`.
///
/// Returns `THE0_STATUS_OK`, or `THE0_STATUS_INVALID_ARGUMENT` when `out_message` is NULL.
///
/// # Safety
/// `out_message` must be NULL or point to writable storage for a `char *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_last_error(out_message: *mut *mut c_char) -> i32 {
    call("the0_last_error", || {
        // SAFETY: the caller passes NULL or a writable `char *` slot.
        let out = unsafe { TextOut::new(out_message, "out_message") }?;
        out.put(&LAST_ERROR.with(|slot| slot.borrow().clone()));
        Ok(Status::Ok)
    })
}

/// Writes the name of status code `status` (`"READ_ONLY"` for `THE0_STATUS_READ_ONLY`) to
/// `*out_name`: the name every the0 SDK uses for that failure, for bindings that name their
/// exceptions or error values after it.
///
/// `*out_name` receives a new NUL-terminated string owned by the caller: free it with
/// `the0_bytes_free`.
///
/// Returns `THE0_STATUS_OK`, or `THE0_STATUS_INVALID_ARGUMENT` when `status` is not a status
/// code or `out_name` is NULL.
///
/// # Safety
/// `out_name` must be NULL or point to writable storage for a `char *`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn the0_status_name(status: i32, out_name: *mut *mut c_char) -> i32 {
    call("the0_status_name", || {
        // SAFETY: the caller passes NULL or a writable `char *` slot.
        let out = unsafe { TextOut::new(out_name, "out_name") }?;
        let known = Status::from_code(status)
            .ok_or_else(|| Error::InvalidArgument(format!("{status} is not a the0 status code")))?;
        out.put(known.name());
        Ok(Status::Ok)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        LAST_ERROR.with(|slot| slot.borrow().clone())
    }

    #[test]
    fn a_panic_is_the_panic_status_with_its_message() {
        let code = call("the0_test", || panic!("boom {}", 42));
        assert_eq!(code, Status::Panic.code());
        assert_eq!(last_error(), "the0_test panicked: boom 42");
        let code = call("the0_test", || std::panic::panic_any(7_u8));
        assert_eq!(code, Status::Panic.code());
        assert_eq!(last_error(), "the0_test panicked: a panic without a message");
    }

    #[test]
    fn errors_keep_their_status_and_message_and_outcomes_do_not_touch_it() {
        let code = call("the0_test", || Err(Error::MissingEnv { name: "BOT_ID" }));
        assert_eq!(code, Status::MissingEnv.code());
        assert_eq!(last_error(), "environment variable BOT_ID is not set");
        assert_eq!(call("the0_test", || Ok(Status::Timeout)), Status::Timeout.code());
        assert_eq!(call("the0_test", || Ok(Status::Ok)), Status::Ok.code());
        assert_eq!(last_error(), "environment variable BOT_ID is not set");
    }

    #[test]
    fn the_message_belongs_to_the_thread_that_failed() {
        call("the0_test", || Err(Error::InvalidArgument("here".to_owned())));
        std::thread::spawn(|| {
            assert_eq!(last_error(), "");
            call("the0_test", || Err(Error::InvalidArgument("there".to_owned())));
        })
        .join()
        .unwrap();
        assert_eq!(last_error(), "here");
    }
}
