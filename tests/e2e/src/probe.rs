//! Runtime probes: a small program per runtime of the universal image that has no example bot
//! yet, built on the host from `tests/e2e/probes/<dir>` (its `build.sh OUT_DIR`), stored as a
//! code archive, and run by the agent in the universal image as a scheduled bot — so every
//! runtime id's command and libraries are known to work as uid 1000 on a read-only root.

use crate::container::{Container, Spec};
use crate::docker::{Scope, runtime_image};
use crate::minio::Minio;
use crate::package::CodeArchive;
use crate::{repo_root, scratch_dir};

/// A probe: the runtime id, its program, and what it must print.
pub struct Probe {
    pub runtime: &'static str,
    /// Folder under tests/e2e/probes with the source and build.sh.
    pub dir: &'static str,
    pub entrypoint: &'static str,
    /// Texts its output line must contain.
    pub expect: &'static [&'static str],
}

/// Builds and runs `probe`; panics unless it printed what it should, exited 0, and its output
/// was in the stored logs when the container exited.
pub fn run(probe: &Probe) {
    let build = scratch_dir();
    let script = repo_root()
        .join("tests/e2e/probes")
        .join(probe.dir)
        .join("build.sh");
    let built = std::process::Command::new(&script)
        .arg(build.path())
        .status()
        .expect("run a probe's build.sh");
    assert!(built.success(), "{} failed", script.display());
    let code = CodeArchive::from_dir(probe.runtime, probe.entrypoint, build.path());

    let scope = Scope::new(&format!(
        "probe{}",
        probe.runtime.replace(|c: char| !c.is_ascii_alphanumeric(), "")
    ));
    let minio = Minio::start(&scope);
    let bot_id = format!("probe-{}", probe.runtime);
    let code_key = format!("probes/{}.zip", probe.runtime);
    minio.put("custom-bots", &code_key, &code.zip);
    let env = minio.bot_env(&[
        ("BOT_ID", &bot_id),
        ("RUNTIME", probe.runtime),
        ("ENTRYPOINT", probe.entrypoint),
        ("CODE_FILE", &code_key),
        ("BOT_CONFIG", "{}"),
        ("BOT_TYPE", "scheduled"),
        ("IS_SCHEDULED", "true"),
    ]);
    let container = Container::start(&scope, "bot", &Spec::new(runtime_image(), env));
    let exit = container.wait();
    let (stdout, _) = container.output();
    assert_eq!(
        exit,
        0,
        "the {} probe failed:\n{}",
        probe.runtime,
        container.describe()
    );
    let line = stdout
        .lines()
        .find(|line| line.starts_with("probe ok:"))
        .unwrap_or_else(|| {
            panic!(
                "the {} probe printed no result:\n{}",
                probe.runtime,
                container.describe()
            )
        });
    for text in probe.expect {
        assert!(line.contains(text), "{}: {line:?} lacks {text:?}", probe.runtime);
    }
    // The agent's final sync ran before it exited: the line is stored already.
    assert!(
        minio.log_lines(&bot_id).iter().any(|l| l["message"] == line),
        "{line:?} is not in the stored logs:\n{}",
        container.describe()
    );
}
