//! The Kubernetes reconciler as a pure function: desired objects and observed objects in, the
//! creates, replacements and deletes that make them agree out. The controller executes them;
//! this module never talks to the cluster, so every rule is unit-tested here.
//!
//! Rules:
//! - a desired object with no observed object of its name is created;
//! - an observed object whose hash differs is replaced: a CronJob is updated in place, a Pod
//!   (whose spec is immutable) is deleted, and created again once it is gone;
//! - a Pod that finished (Succeeded or Failed) is deleted, and created again once gone;
//! - an observed object that is not desired (bot deleted, disabled, or of the other kind) is
//!   deleted;
//! - an object being deleted is waited for: nothing is done to its name until it is gone.

use std::collections::{HashMap, HashSet};

/// The two kinds the controller owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Pod,
    CronJob,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::CronJob => "CronJob",
        }
    }
}

/// An object the desired state asks for, reduced to what the rules compare; the controller
/// builds the object itself from the bot's spec when it sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub kind: Kind,
    pub name: String,
    pub bot_id: String,
    pub hash: String,
}

/// An object found in the cluster, reduced to what the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub kind: Kind,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub hash: String,
    /// It has a deletion timestamp.
    pub terminating: bool,
    /// A Pod in phase Succeeded or Failed.
    pub finished: bool,
}

/// Why an object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    NotWanted,
    SpecChanged,
    Finished,
}

impl DeleteReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeleteReason::NotWanted => "not wanted",
            DeleteReason::SpecChanged => "spec changed",
            DeleteReason::Finished => "finished",
        }
    }
}

/// One step toward the desired state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Create(Box<Desired>),
    /// Update in place (CronJobs), carrying the observed resource version.
    Update {
        desired: Box<Desired>,
        resource_version: String,
    },
    /// Delete the object of this uid (a precondition: never another object of the same name).
    Delete {
        kind: Kind,
        name: String,
        uid: String,
        reason: DeleteReason,
    },
}

/// Computes the actions of one pass; deletes come first.
pub fn plan(desired: &[Desired], observed: &[Observed]) -> Vec<Action> {
    let wanted: HashMap<(Kind, &str), &Desired> =
        desired.iter().map(|d| ((d.kind, d.name.as_str()), d)).collect();
    let mut deletes = Vec::new();
    let mut updates = Vec::new();
    let mut occupied: HashSet<(Kind, &str)> = HashSet::new();
    let mut sorted: Vec<&Observed> = observed.iter().collect();
    sorted.sort_by(|a, b| (a.kind, &a.name, &a.uid).cmp(&(b.kind, &b.name, &b.uid)));
    for object in sorted {
        let key = (object.kind, object.name.as_str());
        occupied.insert(key);
        if object.terminating {
            continue;
        }
        let delete = |reason| Action::Delete {
            kind: object.kind,
            name: object.name.clone(),
            uid: object.uid.clone(),
            reason,
        };
        match wanted.get(&key) {
            None => deletes.push(delete(DeleteReason::NotWanted)),
            Some(_) if object.finished => deletes.push(delete(DeleteReason::Finished)),
            Some(d) if d.hash != object.hash => match object.kind {
                Kind::Pod => deletes.push(delete(DeleteReason::SpecChanged)),
                Kind::CronJob => updates.push(Action::Update {
                    desired: Box::new((*d).clone()),
                    resource_version: object.resource_version.clone(),
                }),
            },
            Some(_) => {}
        }
    }
    let mut creates: Vec<Action> = desired
        .iter()
        .filter(|d| !occupied.contains(&(d.kind, d.name.as_str())))
        .map(|d| Action::Create(Box::new(d.clone())))
        .collect();
    let mut actions = deletes;
    actions.append(&mut updates);
    actions.append(&mut creates);
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(kind: Kind, name: &str, hash: &str) -> Desired {
        Desired {
            kind,
            name: name.into(),
            bot_id: name.into(),
            hash: hash.into(),
        }
    }

    fn observed(kind: Kind, name: &str, hash: &str) -> Observed {
        Observed {
            kind,
            name: name.into(),
            uid: format!("uid-{name}"),
            resource_version: "7".into(),
            hash: hash.into(),
            terminating: false,
            finished: false,
        }
    }

    fn summary(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|a| match a {
                Action::Create(d) => format!("create {} {}", d.kind.as_str(), d.name),
                Action::Update {
                    desired,
                    resource_version,
                } => format!(
                    "update {} {} rv {resource_version}",
                    desired.kind.as_str(),
                    desired.name
                ),
                Action::Delete {
                    kind, name, reason, ..
                } => {
                    format!("delete {} {} ({})", kind.as_str(), name, reason.as_str())
                }
            })
            .collect()
    }

    #[test]
    fn missing_objects_are_created_and_matching_ones_left_alone() {
        let want = [
            desired(Kind::Pod, "bot-a", "h1"),
            desired(Kind::CronJob, "schedule-b", "h2"),
        ];
        assert_eq!(
            summary(&plan(&want, &[])),
            ["create Pod bot-a", "create CronJob schedule-b"]
        );
        let have = [
            observed(Kind::Pod, "bot-a", "h1"),
            observed(Kind::CronJob, "schedule-b", "h2"),
        ];
        assert!(plan(&want, &have).is_empty(), "converged: nothing to do");
    }

    #[test]
    fn a_changed_pod_is_deleted_then_created_once_gone() {
        let want = [desired(Kind::Pod, "bot-a", "new")];
        let have = [observed(Kind::Pod, "bot-a", "old")];
        assert_eq!(summary(&plan(&want, &have)), ["delete Pod bot-a (spec changed)"]);
        let mut going = have[0].clone();
        going.terminating = true;
        assert!(plan(&want, &[going]).is_empty(), "wait while it terminates");
        assert_eq!(summary(&plan(&want, &[])), ["create Pod bot-a"]);
    }

    #[test]
    fn a_changed_cronjob_is_updated_in_place() {
        let want = [desired(Kind::CronJob, "schedule-a", "new")];
        let have = [observed(Kind::CronJob, "schedule-a", "old")];
        assert_eq!(summary(&plan(&want, &have)), ["update CronJob schedule-a rv 7"]);
    }

    #[test]
    fn unwanted_and_finished_objects_are_deleted_first() {
        let want = [desired(Kind::Pod, "bot-a", "h"), desired(Kind::Pod, "bot-c", "h")];
        let mut done = observed(Kind::Pod, "bot-a", "h");
        done.finished = true;
        let have = [
            done,
            observed(Kind::Pod, "bot-gone", "h"),
            observed(Kind::CronJob, "bot-a", "h"),
        ];
        assert_eq!(
            summary(&plan(&want, &have)),
            [
                "delete Pod bot-a (finished)",
                "delete Pod bot-gone (not wanted)",
                "delete CronJob bot-a (not wanted)",
                "create Pod bot-c",
            ]
        );
        let mut terminating = observed(Kind::Pod, "bot-x", "h");
        terminating.terminating = true;
        assert!(plan(&[], &[terminating]).is_empty(), "never deleted twice");
    }

    #[test]
    fn deletes_name_the_uid_they_saw() {
        let have = [observed(Kind::Pod, "bot-z", "h")];
        let actions = plan(&[], &have);
        assert!(matches!(&actions[0], Action::Delete { uid, .. } if uid == "uid-bot-z"));
    }
}
