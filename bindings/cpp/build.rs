//! Generates the C++ side of the bridge (`lib.rs.h`, `lib.rs.cc`) and compiles the `.cc` into this
//! crate's static library. The header lands in `<target dir>/cxxbridge/the0-cpp/src/lib.rs.h`
//! (with `rust/cxx.h` beside it), where sdk-cpp's CMake build finds it.

fn main() {
    cxx_build::bridge("src/lib.rs")
        .std("c++17")
        .compile("the0-cpp-bridge");
    println!("cargo:rerun-if-changed=src/lib.rs");
}
