//! The bot's code: download `CODE_FILE` from the code bucket and extract it into the code
//! directory (ZIP or tar.gz, with the extraction rules of [`crate::archive`]).

use std::path::Path;

use crate::archive::{AGENT_PRIVATE_PREFIX, ExtractStats, Limits, Purpose, extract_into};
use crate::store::ObjectStore;

/// Limits of code archives: `THE0_MAX_ARCHIVE_ENTRIES` entries (65,536), `THE0_MAX_CODE_FILE_MB`
/// per file (512), `THE0_MAX_CODE_SIZE_MB` in all (2048).
pub fn code_limits() -> Limits {
    let value = |name: &str, default: u64| the0_sdk::env::parse_or(name, default).unwrap_or(default);
    Limits {
        max_entries: value("THE0_MAX_ARCHIVE_ENTRIES", 65_536),
        max_file_bytes: value("THE0_MAX_CODE_FILE_MB", 512) << 20,
        max_total_bytes: value("THE0_MAX_CODE_SIZE_MB", 2048) << 20,
    }
}

/// Downloads and extracts the code archive `key`; the temporary archive is removed either way.
pub async fn install_code<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    code_dir: &Path,
) -> Result<ExtractStats, String> {
    std::fs::create_dir_all(code_dir).map_err(|e| format!("cannot create {}: {e}", code_dir.display()))?;
    let download = code_dir.join(format!("{AGENT_PRIVATE_PREFIX}-code.archive"));
    let found = store
        .download(bucket, key, &download)
        .await
        .map_err(|e| format!("cannot download the code: {e}"))?;
    if found.is_none() {
        return Err(format!("the code archive {bucket}/{key} does not exist"));
    }
    let (archive, dest) = (download.clone(), code_dir.to_path_buf());
    let extracted =
        tokio::task::spawn_blocking(move || extract_into(&archive, &dest, code_limits(), Purpose::Code))
            .await
            .map_err(|e| format!("extraction failed: {e}"))?;
    let _ = std::fs::remove_file(&download);
    extracted.map_err(|e| format!("cannot extract the code archive {bucket}/{key}: {e}"))
}

/// Makes a native entrypoint executable (ZIP archives often lose the bit).
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let made = std::fs::metadata(path).and_then(|meta| {
        let mut permissions = meta.permissions();
        permissions.set_mode(permissions.mode() | 0o755);
        std::fs::set_permissions(path, permissions)
    });
    if let Err(e) = made {
        tracing::warn!(path = %path.display(), error = %e, "cannot make the entrypoint executable");
    }
}
