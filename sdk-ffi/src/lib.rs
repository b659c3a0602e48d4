//! The C ABI of the the0 core (work in progress).
