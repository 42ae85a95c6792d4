//! Rendering of environments for people: the list, the details of `show`,
//! the status of `status`, and the one-line changes of `status --watch`.
//! Nothing here can show a Secret value: the API never returns one.

use std::fmt::Write;

use jiff::Timestamp;
use lapdev_api::{
    Environment, EnvironmentEvent, EnvironmentSummary, EnvironmentWorkload, ReplicasPolicy,
};

use super::{Tabular, table, time};

/// Longest message shown in a list row; `show` has the whole text.
const LIST_MESSAGE_CHARS: usize = 60;

/// `text` cut to `max` characters, with `…` when cut.
fn truncated(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn owner(s: &EnvironmentSummary) -> String {
    s.owner
        .as_ref()
        .map_or_else(|| "(deleted)".to_owned(), ToString::to_string)
}

impl Tabular for EnvironmentSummary {
    const HEADERS: &'static [&'static str] = &[
        "NAME", "KIND", "CATALOG", "CLUSTER", "OWNER", "STATUS", "CREATED", "MESSAGE",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.name.to_string(),
            self.kind.to_string(),
            self.catalog.clone(),
            self.cluster.to_string(),
            owner(self),
            self.status.to_string(),
            time(self.created_at),
            truncated(self.message.as_deref().unwrap_or(""), LIST_MESSAGE_CHARS),
        ]
    }
}

/// `pause`, `resume` and `create` as a table: one row, by the summary.
impl Tabular for Environment {
    const HEADERS: &'static [&'static str] = EnvironmentSummary::HEADERS;
    fn row(&self) -> Vec<String> {
        self.summary.row()
    }
}

impl Tabular for EnvironmentWorkload {
    const HEADERS: &'static [&'static str] =
        &["KIND", "NAME", "READY", "AVAILABLE", "REASON", "MESSAGE"];
    fn row(&self) -> Vec<String> {
        vec![
            self.kind.to_string(),
            self.name.clone(),
            format!("{}/{}", self.ready, self.desired),
            self.available.to_string(),
            self.reason.clone().unwrap_or_default(),
            self.message.clone().unwrap_or_default(),
        ]
    }
}

impl Tabular for EnvironmentEvent {
    const HEADERS: &'static [&'static str] = &["TIME", "LEVEL", "MESSAGE"];
    fn row(&self) -> Vec<String> {
        vec![time(self.at), self.level.clone(), self.message.clone()]
    }
}

fn replicas(policy: ReplicasPolicy) -> String {
    match policy {
        ReplicasPolicy::Keep => "as in the catalog".to_owned(),
        ReplicasPolicy::AtMost(n) => format!("at most {n} per workload"),
    }
}

/// Ready and desired pods over all workloads.
fn pods(env: &Environment) -> (u32, u32) {
    env.workloads.iter().fold((0, 0), |(ready, desired), w| {
        (ready + w.ready, desired + w.desired)
    })
}

/// `name: status (r/d pods ready)`, then the message, if any, on its own line.
pub(crate) fn environment_status(env: &Environment) -> String {
    let s = &env.summary;
    let (ready, desired) = pods(env);
    let mut out = format!("{}: {} ({ready}/{desired} pods ready)\n", s.name, s.status);
    if let Some(message) = &s.message {
        let _ = writeln!(out, "  {message}");
    }
    if !env.cluster_connected {
        let _ = writeln!(out, "  cluster {} is not connected", s.cluster);
    }
    if !env.workloads.is_empty() {
        out.push('\n');
        out.push_str(&table(&env.workloads));
    }
    out
}

/// What one line of `status --watch` says: the status, pods ready and the
/// message (a change elsewhere gives the same text, and no new line).
pub(crate) fn watch_state(env: &Environment) -> String {
    let (ready, desired) = pods(env);
    let mut state = format!(
        "{:<9}   {ready}/{desired} ready",
        env.summary.status.as_str()
    );
    if let Some(message) = &env.summary.message {
        let _ = write!(state, "   {message}");
    }
    state
}

/// One line of `status --watch`: when it was seen, then [`watch_state`].
pub(crate) fn watch_line(at: Timestamp, state: &str) -> String {
    format!("{}   {state}\n", time(at))
}

/// An environment in sections: its fields, workloads, warnings and the
/// `events` given (newest first).
pub(crate) fn environment_details(env: &Environment, events: &[EnvironmentEvent]) -> String {
    let s = &env.summary;
    let mut out = String::new();
    let _ = writeln!(out, "Environment:  {}", s.name);
    let _ = writeln!(out, "Kind:         {}", s.kind);
    let _ = writeln!(out, "Owner:        {}", owner(s));
    let _ = writeln!(out, "Catalog:      {}", s.catalog);
    let connected = if env.cluster_connected {
        "connected"
    } else {
        "not connected"
    };
    let _ = writeln!(out, "Cluster:      {} ({connected})", s.cluster);
    let _ = writeln!(out, "Namespace:    {}", s.namespace);
    let _ = writeln!(out, "Status:       {}", s.status);
    if let Some(message) = &s.message {
        let _ = writeln!(out, "Message:      {message}");
    }
    let _ = writeln!(out, "Desired:      {}", env.desired);
    let _ = writeln!(out, "Replicas:     {}", replicas(env.replicas));
    let observed = env
        .observed_generation
        .map_or_else(|| "not yet applied".to_owned(), |g| format!("observed {g}"));
    let _ = writeln!(out, "Generation:   {} ({observed})", env.generation);
    let _ = writeln!(out, "Created:      {}", time(s.created_at));
    let _ = writeln!(out, "Updated:      {}", time(s.updated_at));
    let _ = writeln!(out, "\nWorkloads ({}):", env.workloads.len());
    if !env.workloads.is_empty() {
        out.push_str(&indented(&table(&env.workloads)));
    }
    if !env.warnings.is_empty() {
        let _ = writeln!(out, "\nWarnings ({}):", env.warnings.len());
        for w in &env.warnings {
            let _ = writeln!(out, "  {w}");
        }
    }
    let _ = writeln!(out, "\nEvents (latest {}):", events.len());
    if !events.is_empty() {
        out.push_str(&indented(&table(events)));
    }
    out
}

fn indented(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use lapdev_api::{
        DesiredState, EnvironmentId, EnvironmentKind, EnvironmentName, EnvironmentStatus, Username,
        WorkloadKind,
    };

    use super::*;
    use crate::output::{OutputFormat, render_one, serialized};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// A Personal environment `shop-alice`, creating, with one workload
    /// up and one pulling its image.
    fn sample() -> Environment {
        Environment {
            summary: EnvironmentSummary {
                id: "0190e7a2-0000-7000-8000-000000000042"
                    .parse::<EnvironmentId>()
                    .unwrap(),
                name: EnvironmentName::parse("shop-alice").unwrap(),
                kind: EnvironmentKind::Personal,
                catalog: "shop".into(),
                cluster: lapdev_api::ClusterName::parse("dev").unwrap(),
                namespace: "lapdev-shop-alice-x1y2z".into(),
                owner: Some(Username::parse("alice").unwrap()),
                status: EnvironmentStatus::Creating,
                message: Some("ImagePullBackOff: back-off pulling image \"shop/web:2\"".into()),
                created_at: ts("2026-02-03T10:00:00Z"),
                updated_at: ts("2026-02-03T10:00:05Z"),
            },
            desired: DesiredState::Running,
            replicas: ReplicasPolicy::AtMost(1),
            generation: 1,
            observed_generation: None,
            cluster_connected: true,
            workloads: vec![
                EnvironmentWorkload {
                    kind: WorkloadKind::Deployment,
                    name: "api".into(),
                    desired: 1,
                    ready: 1,
                    available: 1,
                    reason: None,
                    message: None,
                },
                EnvironmentWorkload {
                    kind: WorkloadKind::Deployment,
                    name: "web".into(),
                    desired: 1,
                    ready: 0,
                    available: 0,
                    reason: Some("ImagePullBackOff".into()),
                    message: Some("back-off pulling image".into()),
                },
            ],
            warnings: vec!["Service web has no ready endpoints".into()],
            revision: 7,
        }
    }

    #[test]
    fn list_row_and_one_row_table() {
        let mut env = sample();
        env.summary.message = Some("x".repeat(80));
        expect![[r#"
            NAME         KIND       CATALOG   CLUSTER   OWNER   STATUS     CREATED               MESSAGE
            shop-alice   personal   shop      dev       alice   creating   2026-02-03 10:00:00   xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…
        "#]]
        .assert_eq(&render_one(OutputFormat::Table, &env).unwrap());
    }

    #[test]
    fn details() {
        let events = [EnvironmentEvent {
            at: ts("2026-02-03T10:00:01Z"),
            level: "info".into(),
            message: "created by alice".into(),
        }];
        expect![[r#"
            Environment:  shop-alice
            Kind:         personal
            Owner:        alice
            Catalog:      shop
            Cluster:      dev (connected)
            Namespace:    lapdev-shop-alice-x1y2z
            Status:       creating
            Message:      ImagePullBackOff: back-off pulling image "shop/web:2"
            Desired:      running
            Replicas:     at most 1 per workload
            Generation:   1 (not yet applied)
            Created:      2026-02-03 10:00:00
            Updated:      2026-02-03 10:00:05

            Workloads (2):
              KIND         NAME   READY   AVAILABLE   REASON             MESSAGE
              Deployment   api    1/1     1
              Deployment   web    0/1     0           ImagePullBackOff   back-off pulling image

            Warnings (1):
              Service web has no ready endpoints

            Events (latest 1):
              TIME                  LEVEL   MESSAGE
              2026-02-03 10:00:01   info    created by alice
        "#]]
        .assert_eq(&environment_details(&sample(), &events));
    }

    #[test]
    fn status_and_watch_lines() {
        let mut env = sample();
        expect![[r#"
            shop-alice: creating (1/2 pods ready)
              ImagePullBackOff: back-off pulling image "shop/web:2"

            KIND         NAME   READY   AVAILABLE   REASON             MESSAGE
            Deployment   api    1/1     1
            Deployment   web    0/1     0           ImagePullBackOff   back-off pulling image
        "#]]
        .assert_eq(&environment_status(&env));
        let at = ts("2026-02-03T10:00:09Z");
        expect![[r#"
            2026-02-03 10:00:09   creating    1/2 ready   ImagePullBackOff: back-off pulling image "shop/web:2"
        "#]]
        .assert_eq(&watch_line(at, &watch_state(&env)));
        env.summary.status = EnvironmentStatus::Running;
        env.summary.message = None;
        env.cluster_connected = false;
        env.workloads.clear();
        expect![[r#"
            2026-02-03 10:00:09   running     0/0 ready
        "#]]
        .assert_eq(&watch_line(at, &watch_state(&env)));
        expect![[r#"
            shop-alice: running (0/0 pods ready)
              cluster dev is not connected
        "#]]
        .assert_eq(&environment_status(&env));
    }

    #[test]
    fn json_is_the_api_type() {
        let env = sample();
        let json = serialized(OutputFormat::Json, &env).unwrap();
        let back: Environment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, env);
        assert!(json.contains("\"status\": \"creating\""), "{json}");
        assert!(
            json.contains("\"replicas\": {\n    \"at_most\": 1"),
            "{json}"
        );
        let yaml = serialized(OutputFormat::Yaml, &env).unwrap();
        let back: Environment = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, env);
    }
}
