//! Harness for the conformance suite: drive an SDK's driver program and check it against the
//! shared vectors in `vectors/`.
//!
//! Every SDK ships a small *driver* with the same command line (see `README.md` in this folder);
//! the harness runs it in each query mode with the same environment and compares what it answers.
//! The helpers here are plain std: a minimal HTTP/1.1 client over TCP or a Unix socket, process
//! handling, and the vector types.

pub mod http;
pub mod process;
pub mod vectors;

pub use http::{HttpResponse, Target};
pub use process::{ChildGuard, Driver};
pub use vectors::{load, matches, vectors_dir};
