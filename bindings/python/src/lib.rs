//! pyo3 extension module the0._native (work in progress).
