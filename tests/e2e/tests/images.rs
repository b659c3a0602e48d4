//! What the two images hold and how they are configured (issue: the universal image and the
//! agent-only image), checked in containers run with the contract's flags.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::Value;
use the0_e2e::container::contract_flags;
use the0_e2e::docker::{Scope, agent_image, docker, runtime_image};

/// `docker image inspect`'s `.Config` of `image`.
fn config(image: &str) -> Value {
    serde_json::from_str(&docker(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config}}",
        image,
    ]))
    .unwrap()
}

/// Runs `script` with sh in a throwaway container of `image` with the contract's flags (no tmpfs
/// over /bot and friends when `own_dirs`, to see the image's own directories).
fn sh(image: &str, own_dirs: bool, script: &str) -> String {
    let mut args: Vec<String> = vec!["run".into(), "--rm".into()];
    if own_dirs {
        args.extend(
            [
                "--read-only",
                "--user",
                "1000:1000",
                "--cap-drop",
                "ALL",
                "--security-opt",
                "no-new-privileges",
            ]
            .map(String::from),
        );
    } else {
        args.extend(contract_flags());
    }
    args.extend([image.to_owned(), "sh".into(), "-c".into(), script.to_owned()]);
    docker(&args)
}

#[test]
fn the_universal_image_runs_the_agent_as_uid_1000() {
    let config = config(&runtime_image());
    assert_eq!(config["User"], "1000:1000");
    assert_eq!(config["Cmd"], serde_json::json!(["/app/runtime", "execute"]));
    assert_eq!(config["WorkingDir"], "/bot");
    assert_eq!(
        config["Labels"]["io.the0.runtimes"],
        "python3.11 nodejs20 rust-stable gcc13 cpp-gcc13 dotnet8 scala3 ghc96"
    );
}

#[test]
fn the_universal_image_holds_the_agent_the_runtimes_and_the_directories() {
    let image = runtime_image();
    let out = sh(
        &image,
        true,
        "id -u; id -g; echo $HOME; readlink /app/runtime; /app/runtime version; /app/the0-agent version; \
         stat -c '%u:%g %n' /bot /state /query /var/the0/logs",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(&lines[..4], ["1000", "1000", "/tmp", "the0-agent"], "{out}");
    assert!(lines[4].starts_with("the0-agent "), "{out}");
    assert_eq!(lines[4], lines[5], "/app/runtime is the agent: {out}");
    assert_eq!(
        &lines[6..],
        [
            "1000:1000 /bot",
            "1000:1000 /state",
            "1000:1000 /query",
            "1000:1000 /var/the0/logs"
        ],
        "{out}"
    );

    let versions = sh(
        &image,
        false,
        "python3 --version; node --version; java -version 2>&1 | head -n 1; dotnet --list-runtimes",
    );
    let versions: Vec<&str> = versions.lines().collect();
    assert!(versions[0].starts_with("Python 3.11."), "{versions:?}");
    assert!(versions[1].starts_with("v20."), "{versions:?}");
    assert!(versions[2].contains("\"17."), "{versions:?}");
    assert!(
        versions[3].starts_with("Microsoft.NETCore.App 8.0."),
        "{versions:?}"
    );

    // The shared libraries compiled bots (Rust, C++, Haskell) and .NET load.
    let libraries = sh(&image, false, "ldconfig -p");
    for library in [
        "libstdc++.so.6",
        "libgcc_s.so.1",
        "libgmp.so.10",
        "libffi.so.8",
        "libz.so.1",
        "libicuuc.so.72",
        "libssl.so.3",
    ] {
        assert!(libraries.contains(library), "{library} is not in the image");
    }
}

#[test]
fn the_agent_image_is_the_agent_alone_on_an_empty_root() {
    let image = agent_image();
    let config = config(&image);
    assert_eq!(config["User"], "1000:1000");
    assert_eq!(config["Cmd"], serde_json::json!(["/app/runtime", "execute"]));

    // Its files, without what Docker adds to every container.
    let scope = Scope::new("agentimage");
    let name = scope.container_name("export");
    let mut create: Vec<String> = vec!["create".into(), "--name".into(), name.clone()];
    create.extend(scope.labels());
    create.push(image.clone());
    docker(&create);
    let export = std::process::Command::new("docker")
        .args(["export", &name])
        .output()
        .expect("docker export");
    assert!(export.status.success());
    let mut files = BTreeSet::new();
    for entry in tar::Archive::new(&export.stdout[..]).entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_owned();
        let added_by_docker = path == ".dockerenv"
            || ["dev", "proc", "sys", "etc"]
                .iter()
                .any(|d| path == *d || path.starts_with(&format!("{d}/")));
        if !added_by_docker {
            let mut sink = Vec::new();
            entry.read_to_end(&mut sink).unwrap();
            files.insert(path);
        }
    }
    let expected: BTreeSet<String> = [
        "app",
        "app/runtime",
        "app/the0-agent",
        "bot",
        "query",
        "state",
        "tmp",
        "var",
        "var/the0",
        "var/the0/logs",
    ]
    .map(String::from)
    .into();
    assert_eq!(files, expected);

    // It runs with the contract's flags, as uid 1000, with nothing else in the root.
    let mut run: Vec<String> = vec!["run".into(), "--rm".into()];
    run.extend(contract_flags());
    run.extend([image, "/app/runtime".into(), "version".into()]);
    assert!(docker(&run).starts_with("the0-agent "));
}
