//! The status of an environment as a pure function of what the cluster
//! reports ([`Observed`] → [`EnvironmentStatus`]), so every rule is a
//! one-line table test.
//!
//! Per workload: `desired`, `ready` and `available` from its status, and a
//! `reason` + `message` when it is not available: the waiting reason of a
//! container of one of its Pods (`ImagePullBackOff` with the pull error),
//! else a false condition's reason. Phases, first match wins:
//!
//! | phase      | when                                                        |
//! |------------|-------------------------------------------------------------|
//! | `deleted`  | the namespace does not exist                                |
//! | `deleting` | the namespace is terminating                                |
//! | `paused`   | applied paused and no pod is ready                          |
//! | `failed`   | a workload is failing (see [`FAILING_REASONS`]) and has no available pod |
//! | `degraded` | a workload is failing but still has available pods          |
//! | `running`  | every workload has all desired pods available               |
//! | `creating` | otherwise (pods still starting)                             |

use std::collections::BTreeMap;

use lapdev_tunnel_proto::{EnvironmentPhase, EnvironmentStatus, WorkloadKind, WorkloadStatus};

/// Container waiting reasons and condition reasons that mean a workload
/// will not become available without a change.
pub const FAILING_REASONS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ProgressDeadlineExceeded",
];

/// What the cluster says about one environment namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    pub namespace: String,
    /// `false`: the namespace does not exist.
    pub exists: bool,
    pub terminating: bool,
    pub environment_id: Option<String>,
    pub generation: Option<u64>,
    pub paused: bool,
    pub workloads: Vec<WorkloadFacts>,
    pub pods: Vec<PodFacts>,
}

/// One workload's status fields.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadFacts {
    pub kind: WorkloadKind,
    pub name: String,
    pub desired: u32,
    pub ready: u32,
    pub available: u32,
    /// `spec.selector.matchLabels`: which Pods are its.
    pub selector: BTreeMap<String, String>,
    /// The reason and message of a condition that is `False`
    /// (`Available`, `Progressing`), if any.
    pub false_condition: Option<(String, String)>,
}

/// One Pod's labels and its first waiting container, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct PodFacts {
    pub labels: BTreeMap<String, String>,
    pub waiting: Option<(String, String)>,
}

fn is_failing(reason: &str) -> bool {
    FAILING_REASONS.contains(&reason)
}

/// The status the server sees.
pub fn evaluate(observed: &Observed) -> EnvironmentStatus {
    let mut workloads: Vec<WorkloadStatus> = observed
        .workloads
        .iter()
        .map(|w| workload_status(w, &observed.pods))
        .collect();
    workloads.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    let failing = |w: &&WorkloadStatus| w.reason.as_deref().is_some_and(is_failing);
    let phase = if !observed.exists {
        EnvironmentPhase::Deleted
    } else if observed.terminating {
        EnvironmentPhase::Deleting
    } else if observed.paused && workloads.iter().all(|w| w.ready == 0) {
        EnvironmentPhase::Paused
    } else if workloads.iter().filter(failing).any(|w| w.available == 0) {
        EnvironmentPhase::Failed
    } else if workloads.iter().any(|w| failing(&w)) {
        EnvironmentPhase::Degraded
    } else if workloads.iter().all(|w| w.available >= w.desired) {
        EnvironmentPhase::Running
    } else {
        EnvironmentPhase::Creating
    };
    EnvironmentStatus {
        namespace: observed.namespace.clone(),
        environment_id: observed.environment_id.clone(),
        observed_generation: observed.generation,
        phase,
        workloads,
    }
}

fn workload_status(w: &WorkloadFacts, pods: &[PodFacts]) -> WorkloadStatus {
    let (reason, message) = if w.available >= w.desired && w.ready >= w.desired {
        (None, None)
    } else {
        let selected = |p: &&PodFacts| {
            !w.selector.is_empty() && w.selector.iter().all(|(k, v)| p.labels.get(k) == Some(v))
        };
        // A failing container says most; then any waiting one; then a condition.
        let waiting: Vec<&(String, String)> = pods
            .iter()
            .filter(selected)
            .filter_map(|p| p.waiting.as_ref())
            .collect();
        let pick = waiting
            .iter()
            .find(|(r, _)| is_failing(r))
            .or(waiting.first())
            .map(|(r, m)| (r.clone(), m.clone()))
            .or_else(|| w.false_condition.clone());
        match pick {
            Some((r, m)) => (Some(r), (!m.is_empty()).then_some(m)),
            None => (None, None),
        }
    };
    WorkloadStatus {
        kind: w.kind,
        name: w.name.clone(),
        desired: w.desired,
        ready: w.ready,
        available: w.available,
        reason,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};

    fn w(name: &str, desired: u32, available: u32) -> WorkloadFacts {
        WorkloadFacts {
            kind: WorkloadKind::Deployment,
            name: name.into(),
            desired,
            ready: available,
            available,
            selector: [("app".to_string(), name.to_string())].into(),
            false_condition: None,
        }
    }

    fn pod(app: &str, waiting: Option<(&str, &str)>) -> PodFacts {
        PodFacts {
            labels: [("app".to_string(), app.to_string())].into(),
            waiting: waiting.map(|(r, m)| (r.into(), m.into())),
        }
    }

    fn observed(workloads: Vec<WorkloadFacts>, pods: Vec<PodFacts>) -> Observed {
        Observed {
            namespace: "lapdev-x".into(),
            exists: true,
            environment_id: Some("env".into()),
            generation: Some(2),
            workloads,
            pods,
            ..Observed::default()
        }
    }

    #[track_caller]
    fn check(o: Observed, expect: Expect) {
        let s = evaluate(&o);
        let mut out = format!("{:?}", s.phase);
        for w in s.workloads {
            out.push_str(&format!(
                " | {} {}/{}/{}",
                w.name, w.desired, w.ready, w.available
            ));
            if let Some(r) = w.reason {
                out.push_str(&format!(" {r}"));
            }
            if let Some(m) = w.message {
                out.push_str(&format!(": {m}"));
            }
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn phases() {
        check(Observed::default(), expect!["Deleted"]);
        check(
            Observed {
                terminating: true,
                ..observed(vec![w("api", 1, 1)], vec![])
            },
            expect!["Deleting | api 1/1/1"],
        );
        check(observed(vec![], vec![]), expect!["Running"]);
        check(
            observed(vec![w("api", 1, 1), w("web", 2, 2)], vec![]),
            expect!["Running | api 1/1/1 | web 2/2/2"],
        );
        check(
            observed(
                vec![w("api", 1, 0)],
                vec![pod("api", Some(("ContainerCreating", "")))],
            ),
            expect!["Creating | api 1/0/0 ContainerCreating"],
        );
        check(
            observed(
                vec![w("api", 1, 0), w("web", 1, 1)],
                vec![
                    pod(
                        "api",
                        Some(("ImagePullBackOff", "Back-off pulling image \"api:9\"")),
                    ),
                    pod("web", None),
                ],
            ),
            expect![[
                r#"Failed | api 1/0/0 ImagePullBackOff: Back-off pulling image "api:9" | web 1/1/1"#
            ]],
        );
        check(
            observed(
                vec![w("api", 2, 1)],
                vec![
                    pod("api", None),
                    pod("api", Some(("CrashLoopBackOff", "back-off 10s"))),
                ],
            ),
            expect!["Degraded | api 2/1/1 CrashLoopBackOff: back-off 10s"],
        );
        let mut stuck = w("api", 1, 0);
        stuck.false_condition = Some(("ProgressDeadlineExceeded".into(), "too slow".into()));
        check(
            observed(vec![stuck], vec![]),
            expect!["Failed | api 1/0/0 ProgressDeadlineExceeded: too slow"],
        );
        // Another workload's failing pod is not this one's reason.
        check(
            observed(
                vec![w("api", 1, 0)],
                vec![pod("web", Some(("ImagePullBackOff", "x")))],
            ),
            expect!["Creating | api 1/0/0"],
        );
        check(
            Observed {
                paused: true,
                ..observed(vec![w("api", 0, 0)], vec![])
            },
            expect!["Paused | api 0/0/0"],
        );
        // Paused but pods still terminating-ready: not yet paused.
        check(
            Observed {
                paused: true,
                ..observed(vec![w("api", 0, 1)], vec![])
            },
            expect!["Running | api 0/1/1"],
        );
    }
}
