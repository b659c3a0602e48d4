//! Each runtime id of the universal image that has no example bot here yet runs a probe program
//! (`the0_e2e::probe`): its command (contract §4) and the libraries it needs work in the image.
//! Python 3.11, Node 20, Rust, GHC (ghc96) and C++ (gcc13, cpp-gcc13) run the example bots
//! (example_bots.rs).

use the0_e2e::probe::{Probe, run};

macro_rules! probes {
    ($($test:ident: $probe:expr,)*) => {
        $(
            #[test]
            fn $test() {
                run(&$probe);
            }
        )*
    };
}

probes! {
    dotnet8: Probe {
        runtime: "dotnet8",
        dir: "dotnet",
        entrypoint: "Probe.dll",
        expect: &[".NET 8.0.", "1.234,50", "sha256 f1f2d62b"],
    },
    scala3: Probe { runtime: "scala3", dir: "java", entrypoint: "probe.jar:Probe", expect: &["java 17 Europe/London"] },
}
