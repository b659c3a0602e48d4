//! The set of query paths this process answers, and how a request path is routed.
//!
//! The registry holds paths only. Handlers live in the host language (Python functions, JS
//! closures, C# delegates...) or, for Rust, in `query::handler`'s closure table; the core routes a
//! request, answers the built-ins and unknown paths itself, and queues the rest for the host.

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, RwLock};

use serde_json::json;

use crate::error::{Error, Result};
use crate::query::envelope::Response;

/// Built-in path answering `{"status":"ok"}` unless the bot registers its own.
pub const HEALTH_PATH: &str = "/health";
/// Built-in path listing the available queries unless the bot registers its own.
pub const INFO_PATH: &str = "/info";

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A path the bot registered: queued for a host handler.
    Handler,
    /// Answered by the core without involving the host.
    Answered(Response),
}

/// A set of registered query paths.
#[derive(Debug, Default)]
pub struct Registry {
    paths: RwLock<BTreeSet<String>>,
}

static GLOBAL: LazyLock<Arc<Registry>> = LazyLock::new(Arc::default);

impl Registry {
    /// The process-wide registry used by `query::handler` and every binding.
    pub fn global() -> Arc<Registry> {
        Arc::clone(&GLOBAL)
    }

    /// Registers `path` and returns it in the form it was stored.
    ///
    /// A path without a leading `/` gets one, as the gateway adds it to requested paths.
    /// An empty path or one with control characters is [`Error::InvalidArgument`].
    pub fn register(&self, path: &str) -> Result<String> {
        let path = normalize_path(path)?;
        self.paths.write().expect("registry lock").insert(path.clone());
        Ok(path)
    }

    /// Replaces every registered path with `paths` and returns them in the form they were
    /// stored. Nothing changes when one of them is invalid.
    pub fn replace<S: AsRef<str>>(&self, paths: &[S]) -> Result<Vec<String>> {
        let stored = paths
            .iter()
            .map(|p| normalize_path(p.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        *self.paths.write().expect("registry lock") = stored.iter().cloned().collect();
        Ok(stored)
    }

    /// The registered paths, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.paths
            .read()
            .expect("registry lock")
            .iter()
            .cloned()
            .collect()
    }

    /// Paths that answer: the registered ones plus the built-ins, sorted.
    pub fn available(&self) -> Vec<String> {
        let mut all: BTreeSet<String> = self.paths.read().expect("registry lock").clone();
        all.insert(HEALTH_PATH.to_owned());
        all.insert(INFO_PATH.to_owned());
        all.into_iter().collect()
    }

    /// Routes a request for `path`. Registered paths win over the built-ins.
    pub fn route(&self, path: &str) -> Route {
        if self.paths.read().expect("registry lock").contains(path) {
            return Route::Handler;
        }
        Route::Answered(match path {
            HEALTH_PATH => Response::ok(&json!({"status": "ok"})),
            INFO_PATH => Response::ok(&json!({"available_queries": self.available()})),
            _ => Response::not_found(path, &self.available()),
        })
    }
}

/// Adds a missing leading `/` and rejects paths no request could carry.
fn normalize_path(path: &str) -> Result<String> {
    if path.is_empty() {
        return Err(Error::InvalidArgument("query path must not be empty".to_owned()));
    }
    if path.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(format!(
            "query path {} must not contain control characters",
            crate::quote(path)
        )));
    }
    Ok(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(route: Route) -> serde_json::Value {
        match route {
            Route::Answered(r) => serde_json::from_slice(&r.body).unwrap(),
            Route::Handler => panic!("expected an answer"),
        }
    }

    #[test]
    fn builtins_until_overridden() {
        let r = Registry::default();
        assert_eq!(r.register("status").unwrap(), "/status");
        assert_eq!(
            body(r.route("/health")),
            json!({"status": "ok", "data": {"status": "ok"}})
        );
        assert_eq!(
            body(r.route("/info")),
            json!({"status": "ok", "data": {"available_queries": ["/health", "/info", "/status"]}})
        );
        assert_eq!(r.route("/status"), Route::Handler);
        r.register("/health").unwrap();
        assert_eq!(r.route("/health"), Route::Handler);
        assert_eq!(
            body(r.route("/nope"))["available"],
            json!(["/health", "/info", "/status"])
        );
    }

    #[test]
    fn replacing_the_paths() {
        let r = Registry::default();
        r.register("/old").unwrap();
        assert_eq!(r.replace(&["a", "/b"]).unwrap(), ["/a", "/b"]);
        assert_eq!(r.paths(), ["/a", "/b"]);
        assert!(r.replace(&["/c", ""]).is_err());
        assert_eq!(r.paths(), ["/a", "/b"], "an invalid path changes nothing");
        assert_eq!(
            r.route("/old"),
            Route::Answered(Response::not_found("/old", &r.available()))
        );
    }

    #[test]
    fn bad_paths() {
        let r = Registry::default();
        assert!(r.register("").is_err());
        assert!(r.register("/a\nb").is_err());
        assert!(r.paths().is_empty());
    }
}
