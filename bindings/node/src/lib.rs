//! napi-rs addon over the the0 core (work in progress).
