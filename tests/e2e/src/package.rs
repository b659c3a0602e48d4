//! A bot folder as the code archive a container downloads: `images/package-bot.sh`, which builds
//! the bot with its runtime's packager and zips it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::{path_text, repo_root};

/// A packaged bot: the ZIP's bytes, and the runtime and entrypoints of its bot-config.yaml.
pub struct CodeArchive {
    pub zip: Vec<u8>,
    pub runtime: String,
    pub entrypoint: String,
    pub query_entrypoint: Option<String>,
}

impl CodeArchive {
    /// Packages `bot_dir` (into `work`, a scratch directory).
    pub fn package(bot_dir: &Path, work: &Path) -> CodeArchive {
        let zip = work.join("code.zip");
        let output = Command::new(repo_root().join("images/package-bot.sh"))
            .args([path_text(bot_dir), path_text(&zip)])
            .output()
            .expect("run images/package-bot.sh");
        assert!(
            output.status.success(),
            "packaging {} failed:\n{}",
            bot_dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let mut lines = stdout.lines();
        let mut next = || lines.next().unwrap_or_default().to_owned();
        let (runtime, entrypoint, query) = (next(), next(), next());
        CodeArchive {
            zip: std::fs::read(&zip).unwrap(),
            runtime,
            entrypoint,
            query_entrypoint: (!query.is_empty()).then_some(query),
        }
    }

    /// A code archive of every file under `dir` (modes kept), for bots a test writes itself.
    pub fn from_dir(runtime: &str, entrypoint: &str, dir: &Path) -> CodeArchive {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        add_tree(&mut writer, dir, dir);
        CodeArchive {
            zip: writer.finish().unwrap().into_inner(),
            runtime: runtime.to_owned(),
            entrypoint: entrypoint.to_owned(),
            query_entrypoint: None,
        }
    }
}

fn add_tree(writer: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>, root: &Path, dir: &Path) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            add_tree(writer, root, &path);
            continue;
        }
        let name = path_text(path.strip_prefix(root).unwrap());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        let options = zip::write::SimpleFileOptions::default().unix_permissions(mode);
        writer.start_file(name, options).unwrap();
        std::io::copy(&mut std::fs::File::open(&path).unwrap(), writer).unwrap();
    }
}
