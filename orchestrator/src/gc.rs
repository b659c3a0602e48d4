//! Garbage collection of the object store: the state and logs of bots that no longer exist,
//! log chunks and query results left behind, and incomplete multipart uploads.
//!
//! Upstream deleted everything of every id missing from MongoDB, so a wrong or empty database
//! wiped all state and logs (§12.24), and never looked at query results (§12.3). Here a sweep
//! that would delete the data of more than `max_share` of the bots found in the store is
//! refused unless forced, and `--dry-run` reports without deleting. Bucket names are the
//! agent's own (`MINIO_*_BUCKET`), so the two can never disagree.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::Client;
use serde::Serialize;
use the0_agent::store::Buckets;

/// What a sweep does.
#[derive(Debug, Clone)]
pub struct GcSettings {
    pub dry_run: bool,
    pub max_share: f64,
    pub force: bool,
    pub stale_after: Duration,
}

/// What a sweep found and did.
#[derive(Debug, Default, Clone, Serialize, PartialEq)]
pub struct GcReport {
    /// Bot ids with stored state or logs.
    pub bots_in_store: usize,
    /// Those not in the desired state.
    pub orphans: Vec<String>,
    /// Objects deleted (or, in a dry run, that would be).
    pub orphan_objects: usize,
    pub stale_log_chunks: usize,
    pub stale_query_results: usize,
    pub aborted_uploads: usize,
    pub dry_run: bool,
}

/// Why a sweep stopped.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error(
        "refusing to delete the data of {orphans} of {found} bots ({share:.0}% > {max:.0}%): is the desired state right? Use --force if it is"
    )]
    TooMany {
        orphans: usize,
        found: usize,
        share: f64,
        max: f64,
    },
    #[error("S3 {operation} {bucket}: {detail}")]
    Store {
        operation: &'static str,
        bucket: String,
        detail: String,
    },
}

/// An object as listed.
struct Listed {
    key: String,
    age: Duration,
}

fn store_error(operation: &'static str, bucket: &str, e: impl std::fmt::Debug) -> GcError {
    GcError::Store {
        operation,
        bucket: bucket.to_owned(),
        detail: format!("{e:?}"),
    }
}

fn is_missing_bucket<E: aws_sdk_s3::error::ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|code| code == "NoSuchBucket")
}

fn age_of(modified: Option<&aws_sdk_s3::primitives::DateTime>) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs() as i64;
    Duration::from_secs(modified.map_or(0, |m| (now - m.secs()).max(0)) as u64)
}

async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<Listed>, GcError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if is_missing_bucket(&e) => return Ok(Vec::new()),
            Err(e) => return Err(store_error("list", bucket, e)),
        };
        for object in page.contents() {
            if let Some(key) = object.key() {
                listed.push(Listed {
                    key: key.to_owned(),
                    age: age_of(object.last_modified()),
                });
            }
        }
    }
    Ok(listed)
}

async fn delete(client: &Client, bucket: &str, key: &str) -> Result<(), GcError> {
    client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| store_error("delete", bucket, e))
}

/// The bot id an object belongs to: `<id>/...` in the state bucket, `logs/<id>/...` in the logs
/// bucket.
fn owner(key: &str, logs: bool) -> Option<&str> {
    let rest = if logs { key.strip_prefix("logs/")? } else { key };
    let (id, tail) = rest.split_once('/')?;
    (!id.is_empty() && !tail.is_empty()).then_some(id)
}

/// Checks the safety threshold.
pub fn check_share(orphans: usize, found: usize, max_share: f64, force: bool) -> Result<(), GcError> {
    if force || orphans == 0 {
        return Ok(());
    }
    let share = orphans as f64 / found.max(1) as f64;
    if share > max_share {
        return Err(GcError::TooMany {
            orphans,
            found,
            share: share * 100.0,
            max: max_share * 100.0,
        });
    }
    Ok(())
}

/// One sweep. `known` holds every bot id of the desired state (enabled or not).
pub async fn sweep(
    client: &Client,
    buckets: &Buckets,
    known: &HashSet<String>,
    settings: &GcSettings,
) -> Result<GcReport, GcError> {
    let state = list(client, &buckets.state, "").await?;
    let logs = list(client, &buckets.logs, "logs/").await?;
    let found: BTreeSet<&str> = state
        .iter()
        .filter_map(|o| owner(&o.key, false))
        .chain(logs.iter().filter_map(|o| owner(&o.key, true)))
        .collect();
    let orphans: Vec<String> = found
        .iter()
        .filter(|id| !known.contains(**id))
        .map(|id| (*id).to_owned())
        .collect();
    check_share(orphans.len(), found.len(), settings.max_share, settings.force)?;
    let orphan_set: HashSet<&str> = orphans.iter().map(String::as_str).collect();
    let mut report = GcReport {
        bots_in_store: found.len(),
        dry_run: settings.dry_run,
        ..GcReport::default()
    };
    let mut doomed: Vec<(&str, &str)> = Vec::new();
    for object in &state {
        if owner(&object.key, false).is_some_and(|id| orphan_set.contains(id)) {
            doomed.push((&buckets.state, &object.key));
            report.orphan_objects += 1;
        }
    }
    for object in &logs {
        let id = owner(&object.key, true);
        if id.is_some_and(|id| orphan_set.contains(id)) {
            doomed.push((&buckets.logs, &object.key));
            report.orphan_objects += 1;
        } else if object
            .key
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".tmp-"))
            && object.age >= settings.stale_after
        {
            doomed.push((&buckets.logs, &object.key));
            report.stale_log_chunks += 1;
        }
    }
    let results = list(client, &buckets.query_results, "").await?;
    for object in results.iter().filter(|o| o.age >= settings.stale_after) {
        doomed.push((&buckets.query_results, &object.key));
        report.stale_query_results += 1;
    }
    report.orphans = orphans.clone();
    if settings.dry_run {
        report.aborted_uploads = stale_uploads(client, buckets, settings.stale_after).await?.len();
        return Ok(report);
    }
    for (bucket, key) in doomed {
        delete(client, bucket, key).await?;
    }
    for (bucket, key, upload_id) in stale_uploads(client, buckets, settings.stale_after).await? {
        client
            .abort_multipart_upload()
            .bucket(&bucket)
            .key(&key)
            .upload_id(&upload_id)
            .send()
            .await
            .map_err(|e| store_error("abort upload", &bucket, e))?;
        report.aborted_uploads += 1;
    }
    Ok(report)
}

/// Incomplete multipart uploads older than `stale_after` in the state and logs buckets.
async fn stale_uploads(
    client: &Client,
    buckets: &Buckets,
    stale_after: Duration,
) -> Result<Vec<(String, String, String)>, GcError> {
    let mut stale = Vec::new();
    for bucket in [&buckets.state, &buckets.logs] {
        let uploads = match client.list_multipart_uploads().bucket(bucket).send().await {
            Ok(uploads) => uploads,
            Err(e) if is_missing_bucket(&e) => continue,
            Err(e) => return Err(store_error("list uploads", bucket, e)),
        };
        for upload in uploads.uploads() {
            if let (Some(key), Some(id)) = (upload.key(), upload.upload_id())
                && age_of(upload.initiated()) >= stale_after
            {
                stale.push((bucket.clone(), key.to_owned(), id.to_owned()));
            }
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_of_keys() {
        assert_eq!(owner("b1/state.tar.gz", false), Some("b1"));
        assert_eq!(owner("logs/b1/20260101.log", true), Some("b1"));
        assert_eq!(owner("logs/b1/.tmp-123", true), Some("b1"));
        assert_eq!(owner("state.tar.gz", false), None);
        assert_eq!(owner("other/b1/x", true), None);
    }

    #[test]
    fn the_threshold_refuses_a_mass_deletion_unless_forced() {
        assert!(check_share(1, 4, 0.5, false).is_ok());
        assert!(check_share(2, 4, 0.5, false).is_ok());
        let refused = check_share(3, 4, 0.5, false).unwrap_err().to_string();
        assert!(refused.contains("3 of 4 bots (75% > 50%)"), "{refused}");
        assert!(check_share(4, 4, 0.5, true).is_ok());
        assert!(check_share(0, 0, 0.0, false).is_ok());
    }
}
