//! The drift check of `include/the0.h`: the header is regenerated from the Rust source with the
//! cbindgen library and must equal the committed file. Set `THE0_UPDATE_HEADER=1` to rewrite it.

use std::fs;
use std::path::{Path, PathBuf};

use the0_sdk::Status;
use the0_sdk::host::{Payload, Scope};
use the0_sdk::query::Mode;

fn header_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include/the0.h")
}

#[test]
fn committed_header_matches_the_rust_source() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);

    if std::env::var_os("THE0_UPDATE_HEADER").is_some() {
        fs::write(header_path(), &generated).expect("write include/the0.h");
    }
    let committed = fs::read(header_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "include/the0.h differs from what the Rust source generates; \
         run `THE0_UPDATE_HEADER=1 cargo test -p the0-ffi --test header` and commit the result"
    );
}

/// cbindgen reads the status and mode enums from the core's source; this makes sure they are
/// there, with the core's codes, whatever becomes of the core's file layout.
#[test]
fn header_carries_the_cores_status_and_mode_tables() {
    // The header as compiled into this test, so a concurrent THE0_UPDATE_HEADER rewrite is no race.
    let header = include_str!("../include/the0.h");
    for status in Status::ALL {
        let line = format!("THE0_STATUS_{} = {},", status.name(), status.code());
        assert!(header.contains(&line), "the header lacks `{line}`");
    }
    for scope in Scope::ALL_SCOPES {
        let name = match scope {
            Scope::StateRead => "STATE_READ".to_owned(),
            other => format!("{other:?}").to_uppercase(),
        };
        let line = format!("THE0_ENV_{name} = {},", scope as i32);
        assert!(header.contains(&line), "the header lacks `{line}`");
    }
    for payload in Payload::ALL {
        let name = payload.name().replace(' ', "_").to_uppercase();
        let line = format!("THE0_PAYLOAD_{name} = {},", payload as i32);
        assert!(header.contains(&line), "the header lacks `{line}`");
    }
    for mode in [Mode::Ephemeral, Mode::Server, Mode::Info] {
        let line = format!("THE0_MODE_{} = {},", mode.name().to_uppercase(), mode as i32);
        assert!(header.contains(&line), "the header lacks `{line}`");
    }
}
