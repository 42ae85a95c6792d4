//! Personal and Shared environments: the operations the REST API and the
//! dashboard share — [`list`], [`get`] (optionally waiting for a change),
//! [`create`], [`pause`], [`resume`], [`delete`] and [`events`].
//!
//! Every change is **accepted, recorded, then done**: the operation
//! authorizes, checks what it can check now (the cluster's role,
//! permission and connection at creation; required Secret values), and
//! writes the new desired state with a higher generation, its audit event
//! and an environment event in one transaction before it answers. The
//! [`crate::reconciler`] then makes the cluster match, whenever it can: a
//! server restart or an offline cluster delays the work, never loses it.
//!
//! The status users see ([`status_of`]) combines what was asked for
//! (`desired`, `generation`) with what the cluster last reported (phase,
//! `observed_generation`, per-workload status).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lapdev_api::{
    CreateEnvironment, Environment, EnvironmentEvent, EnvironmentQuery, EnvironmentStatus,
    EnvironmentSummary, EnvironmentWorkload, EnvironmentsQuery, Page, ReplicasPolicy,
};
use lapdev_db::{
    ClusterRecord, EnvironmentRecord, EnvironmentVisibility, EventNote, NewAuditEvent,
    NewEnvironment, OrganizationRecord, SealedValue,
};
use lapdev_domain::{DesiredState, EnvironmentId, EnvironmentKind, Role};
use lapdev_tunnel_proto::{EnvironmentPhase, WorkloadStatus};

use super::catalog_content as content;
use super::organizations::authorize_org;
use super::workloads::kind_from_proto;
use super::{AppError, AppResult, PageRequest, page};
use crate::auth::AuthUser;
use crate::authz::{self, Action, Object};
use crate::state::AppState;

/// The `field` of a sealed value given for a redacted key (its `object` is
/// the Secret's name); copied values keep `data` / `stringData`.
pub(crate) const PROVIDED_FIELD: &str = "provided";

/// Longest wait of a long-polling [`get`] (below the request timeout).
const MAX_WAIT: Duration = Duration::from_secs(25);
const DEFAULT_WAIT: Duration = Duration::from_secs(20);
/// Largest Secret value accepted, in bytes (a Secret holds at most 1 MiB).
const MAX_SECRET_VALUE: usize = 64 * 1024;

/// The phase kube-manager last reported, from its stored text.
pub(crate) fn phase_of(record: &EnvironmentRecord) -> Option<EnvironmentPhase> {
    serde_json::from_value(serde_json::Value::String(record.phase.clone())).ok()
}

/// The text a phase is stored as (its wire name).
pub(crate) fn phase_text(phase: EnvironmentPhase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

pub(crate) fn workloads_of(record: &EnvironmentRecord) -> Vec<WorkloadStatus> {
    serde_json::from_str(&record.workloads).unwrap_or_default()
}

/// Why the first failing workload fails: `Kind/name: Reason: message`.
pub(crate) fn failing_workload(workloads: &[WorkloadStatus]) -> Option<String> {
    workloads
        .iter()
        .find(|w| w.reason.is_some() && w.available < w.desired.max(1))
        .map(|w| {
            let mut text = format!(
                "{}/{}: {}",
                kind_from_proto(w.kind),
                w.name,
                w.reason.as_deref().unwrap_or_default()
            );
            if let Some(message) = &w.message {
                text.push_str(": ");
                text.push_str(message);
            }
            text
        })
}

/// What users see: the status and, when failed or waiting, why.
pub(crate) fn status_of(
    record: &EnvironmentRecord,
    cluster_connected: bool,
) -> (EnvironmentStatus, Option<String>) {
    let waiting = || {
        (!cluster_connected && record.needs_reconcile()).then(|| {
            format!(
                "waiting for cluster {} to come back online",
                record.cluster_name
            )
        })
    };
    if record.desired == DesiredState::Deleted {
        return (EnvironmentStatus::Deleting, waiting());
    }
    if record.failed_generation == Some(record.generation) {
        return (EnvironmentStatus::Failed, record.failure.clone());
    }
    let phase = phase_of(record);
    // The current generation is in the cluster once kube-manager answered
    // it or reported it.
    let applied =
        record.applied_generation.max(record.observed_generation) >= Some(record.generation);
    let reported_current = record.observed_generation >= Some(record.generation);
    let status = match record.desired {
        DesiredState::Paused => {
            if reported_current && phase == Some(EnvironmentPhase::Paused) {
                EnvironmentStatus::Paused
            } else {
                EnvironmentStatus::Pausing
            }
        }
        DesiredState::Running | DesiredState::Deleted => {
            let starting = if record.generation > 1 {
                EnvironmentStatus::Resuming
            } else {
                EnvironmentStatus::Creating
            };
            match phase {
                _ if !applied => starting,
                Some(EnvironmentPhase::Running) if reported_current => EnvironmentStatus::Running,
                Some(EnvironmentPhase::Degraded) => EnvironmentStatus::Degraded,
                Some(EnvironmentPhase::Failed) => EnvironmentStatus::Failed,
                _ => starting,
            }
        }
    };
    let message = match status {
        EnvironmentStatus::Failed | EnvironmentStatus::Degraded => {
            failing_workload(&workloads_of(record))
        }
        _ => waiting(),
    };
    (status, message)
}

fn summary_api(record: &EnvironmentRecord, connected: bool) -> EnvironmentSummary {
    let (status, message) = status_of(record, connected);
    EnvironmentSummary {
        id: record.id,
        name: record.name.clone(),
        kind: record.kind,
        catalog: record.catalog_name.clone(),
        cluster: record.cluster_name.clone(),
        namespace: record.namespace.clone(),
        owner: record.owner_name.clone(),
        status,
        message,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

/// The version of the API view: the row's revision plus the cluster's
/// connection epoch, since the view also shows whether the cluster is
/// connected (and so whether the environment waits for it). Both only
/// grow while the server runs; watchers compare for a difference.
fn view_revision(state: &AppState, record: &EnvironmentRecord) -> u64 {
    record
        .revision
        .wrapping_add(state.tunnels().epoch(record.cluster_id))
}

pub(crate) fn environment_api(state: &AppState, record: &EnvironmentRecord) -> Environment {
    let connected = state.tunnels().is_connected(record.cluster_id);
    Environment {
        summary: summary_api(record, connected),
        desired: record.desired,
        replicas: serde_json::from_str(&record.replicas).unwrap_or(ReplicasPolicy::Keep),
        generation: record.generation,
        observed_generation: record.applied_generation.max(record.observed_generation),
        cluster_connected: connected,
        workloads: workloads_of(record)
            .into_iter()
            .map(|w| EnvironmentWorkload {
                kind: kind_from_proto(w.kind),
                name: w.name,
                desired: w.desired,
                ready: w.ready,
                available: w.available,
                reason: w.reason,
                message: w.message,
            })
            .collect(),
        warnings: serde_json::from_str(&record.warnings).unwrap_or_default(),
        revision: view_revision(state, record),
    }
}

/// The environment `name` of the organization, once `action` on it is
/// authorized. A hidden environment is "not found".
async fn find(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
    action: Action,
) -> AppResult<(OrganizationRecord, EnvironmentRecord)> {
    let (org, role) = authorize_org(state, caller, org_name, Action::ListEnvironments).await?;
    let env = state
        .db()
        .environment_by_name(org.id, name)
        .await?
        .ok_or(AppError::NotFound("environment"))?;
    authz::authorize(
        caller.id,
        action,
        Object::Environment {
            role: Some(role),
            kind: env.kind,
            owner: env.owner_id,
        },
    )?;
    Ok((org, env))
}

/// The environments the caller may see: Shared ones and their own
/// Personal ones (admins: all).
pub(crate) async fn list(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    query: EnvironmentsQuery,
) -> AppResult<Page<EnvironmentSummary>> {
    let (org, role) = authorize_org(state, caller, org_name, Action::ListEnvironments).await?;
    let req = PageRequest::parse(lapdev_api::PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let visibility = match role {
        Role::Admin => EnvironmentVisibility::All,
        Role::Member => EnvironmentVisibility::SharedOrOwnedBy(caller.id),
    };
    let slice = state
        .db()
        .environments_list(
            org.id,
            visibility,
            query.kind,
            req.cursor::<EnvironmentId>()?,
            req.limit,
        )
        .await?;
    Ok(page(
        slice,
        |e| e.id.to_string(),
        |e| {
            let connected = state.tunnels().is_connected(e.cluster_id);
            summary_api(&e, connected)
        },
    ))
}

/// One environment. With `after`, waits until its revision differs (or
/// the wait ends) — how `lapdev env status --watch` follows it.
pub(crate) async fn get(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
    query: EnvironmentQuery,
) -> AppResult<Environment> {
    // Subscribed before the read: a change committed between the read and
    // the wait still wakes it (else the wait would sleep through it).
    let mut changes = state.environments().subscribe();
    let (_, env) = find(state, caller, org_name, name, Action::ReadEnvironment).await?;
    let Some(after) = query.after else {
        return Ok(environment_api(state, &env));
    };
    let wait = query
        .wait_secs
        .map_or(DEFAULT_WAIT, Duration::from_secs)
        .min(MAX_WAIT);
    let deadline = tokio::time::Instant::now() + wait;
    let mut env = env;
    loop {
        if view_revision(state, &env) != after {
            return Ok(environment_api(state, &env));
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            _ => return Ok(environment_api(state, &env)),
        }
        env = state
            .db()
            .environment_by_id(env.id)
            .await?
            .ok_or(AppError::NotFound("environment"))?;
    }
}

/// `cluster` of `org`, if environments of `kind` may be created there now.
async fn target_cluster(
    state: &AppState,
    org: &OrganizationRecord,
    cluster: &str,
    kind: EnvironmentKind,
) -> AppResult<ClusterRecord> {
    let cluster = state
        .db()
        .cluster_by_name(org.id, cluster)
        .await?
        .ok_or(AppError::NotFound("cluster"))?;
    if !cluster.roles.target() {
        return Err(AppError::Conflict(format!(
            "cluster {} does not have the target role, so Lapdev may not deploy environments \
             there; an admin can add it (lapdev cluster edit {} --roles source,target)",
            cluster.name, cluster.name
        )));
    }
    if !cluster.permissions.allows(kind.permission()) {
        return Err(AppError::Conflict(format!(
            "cluster {} does not allow {kind} environments; an admin can allow them \
             (lapdev cluster edit {} --permissions personal,shared)",
            cluster.name, cluster.name
        )));
    }
    super::workloads::connected(state, cluster)
}

/// `lapdev-<name>-<5 random base36 characters>`: at most 63 characters (the
/// name is at most 50), unique with overwhelming odds (and the database
/// refuses a duplicate in a cluster).
fn namespace_for(name: &lapdev_domain::EnvironmentName) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let suffix: String = crate::auth::random::bytes::<5>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("lapdev-{name}-{suffix}")
}

/// Checks the given values against the catalog's required ones: every
/// required value given, nothing else, no key twice. Returns them sorted.
fn check_secret_values(
    catalog: &str,
    required: &[lapdev_tunnel_proto::catalog::SecretKey],
    given: &[lapdev_api::SecretValueInput],
) -> AppResult<BTreeMap<(String, String), String>> {
    let wanted: BTreeSet<(String, String)> = required
        .iter()
        .map(|k| (k.secret.clone(), k.key.clone()))
        .collect();
    let mut values = BTreeMap::new();
    for v in given {
        let place = (v.secret.clone(), v.key.clone());
        if !wanted.contains(&place) {
            return Err(AppError::invalid(
                "secret_values",
                format!(
                    "{}/{} is not a redacted key of catalog {catalog}; its required values are: {}",
                    v.secret,
                    v.key,
                    list_keys(wanted.iter())
                ),
            ));
        }
        if v.value.len() > MAX_SECRET_VALUE {
            return Err(AppError::invalid(
                "secret_values",
                format!(
                    "the value of {}/{} is longer than {MAX_SECRET_VALUE} bytes",
                    v.secret, v.key
                ),
            ));
        }
        if values.insert(place, v.value.clone()).is_some() {
            return Err(AppError::invalid(
                "secret_values",
                format!("{}/{} is given twice", v.secret, v.key),
            ));
        }
    }
    let missing: Vec<&(String, String)> =
        wanted.iter().filter(|k| !values.contains_key(*k)).collect();
    if !missing.is_empty() {
        return Err(AppError::invalid(
            "secret_values",
            format!(
                "catalog {catalog} redacts Secret values that every environment must supply; \
                 missing: {} (CLI: --secret SECRET/KEY=VALUE)",
                list_keys(missing.into_iter())
            ),
        ));
    }
    Ok(values)
}

fn list_keys<'a>(keys: impl Iterator<Item = &'a (String, String)>) -> String {
    keys.map(|(s, k)| format!("{s}/{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Creates a Personal (members) or Shared (admins) environment from a
/// catalog. Answers once the environment is recorded; it then starts in
/// the cluster (`status: creating`).
pub(crate) async fn create(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    req: CreateEnvironment,
) -> AppResult<Environment> {
    let action = match req.kind {
        EnvironmentKind::Personal => Action::CreatePersonalEnvironment,
        EnvironmentKind::Shared => Action::CreateSharedEnvironment,
    };
    let (org, _) = authorize_org(state, caller, org_name, action).await?;
    if state
        .db()
        .environment_by_name(org.id, req.name.as_str())
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "organization {} already has an environment named {}",
            org.name, req.name
        )));
    }
    let catalog = state
        .db()
        .catalog_by_name(org.id, req.catalog.as_str())
        .await?
        .ok_or(AppError::NotFound("catalog"))?;
    let replicas = match req.replicas {
        Some(ReplicasPolicy::AtMost(n)) if n > 1000 => {
            return Err(AppError::invalid("replicas", "at most 1000"));
        }
        Some(policy) => policy,
        None => match req.kind {
            EnvironmentKind::Personal => ReplicasPolicy::AtMost(1),
            EnvironmentKind::Shared => ReplicasPolicy::Keep,
        },
    };
    let stored = content::parse(&catalog)?;
    let provided = check_secret_values(
        catalog.name.as_str(),
        &stored.snapshot.required_values,
        &req.secret_values,
    )?;
    let cluster = target_cluster(state, &org, req.cluster.as_str(), req.kind).await?;

    let id = EnvironmentId::new();
    // The catalog's values, re-sealed for the environment (its own copy).
    let catalog_values = state.db().catalog_secret_values(catalog.id).await?;
    let clear = content::open_values(state.keyring(), catalog.id, &catalog_values, || {
        format!("the Secret values of catalog {}", catalog.name)
    })?;
    let keyring = state.keyring();
    let mut values: Vec<SealedValue> = clear
        .iter()
        .map(|((object, field, key), value)| keyring.seal(id, object, field, key, value.as_bytes()))
        .collect();
    values.extend(provided.iter().map(|((secret, key), value)| {
        keyring.seal(id, secret, PROVIDED_FIELD, key, value.as_bytes())
    }));
    let objects = serde_json::to_string(&stored.snapshot.objects).map_err(AppError::internal)?;
    let namespace = namespace_for(&req.name);
    let new = NewEnvironment {
        id,
        organization_id: org.id,
        name: req.name.clone(),
        kind: req.kind,
        owner_id: caller.id,
        catalog_id: catalog.id,
        catalog_name: catalog.name.to_string(),
        cluster_id: cluster.id,
        namespace: namespace.clone(),
        replicas: serde_json::to_string(&replicas).map_err(AppError::internal)?,
        objects,
    };
    let event = NewAuditEvent::new(Some(caller.actor()), "environment.create", "environment")
        .with_details(serde_json::json!({
            "kind": req.kind.as_str(),
            "catalog": catalog.name.as_str(),
            "cluster": cluster.name.as_str(),
            "namespace": namespace,
            "secret_values": provided.keys().map(|(s, k)| format!("{s}/{k}")).collect::<Vec<_>>(),
        }));
    let first = format!(
        "created from catalog {} ({} objects) on cluster {}, namespace {namespace}",
        catalog.name,
        stored.snapshot.objects.len(),
        cluster.name
    );
    let record = state
        .db()
        .environment_create(
            &new,
            &values,
            &event,
            EventNote {
                level: "info",
                message: &first,
            },
        )
        .await
        .map_err(|e| match e {
            lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                "organization {} already has an environment named {}",
                org.name, req.name
            )),
            other => other.into(),
        })?;
    state.environments().work();
    Ok(environment_api(state, &record))
}

async fn set_desired(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
    desired: DesiredState,
) -> AppResult<Environment> {
    let action = match desired {
        DesiredState::Deleted => Action::DeleteEnvironment,
        DesiredState::Running | DesiredState::Paused => Action::ChangeEnvironment,
    };
    let (org, env) = find(state, caller, org_name, name, action).await?;
    let (verb, action_name, message) = match desired {
        DesiredState::Paused => (
            "pause",
            "environment.pause",
            format!("pause asked by {}", caller.username),
        ),
        DesiredState::Running => (
            "resume",
            "environment.resume",
            format!("resume asked by {}", caller.username),
        ),
        DesiredState::Deleted => (
            "delete",
            "environment.delete",
            format!("deletion asked by {}", caller.username),
        ),
    };
    let event = NewAuditEvent::new(Some(caller.actor()), action_name, "environment");
    let (record, _) = state
        .db()
        .environment_set_desired(
            org.id,
            env.id,
            desired,
            &event,
            EventNote {
                level: "info",
                message: &message,
            },
        )
        .await
        .map_err(|e| match e {
            lapdev_db::DbError::Conflict { .. } => AppError::Conflict(format!(
                "environment {} is being deleted; it cannot {verb}",
                env.name
            )),
            other => other.into(),
        })?;
    state.environments().work();
    Ok(environment_api(state, &record))
}

/// Scales every workload to zero; [`resume`] restores the replicas.
pub(crate) async fn pause(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
) -> AppResult<Environment> {
    set_desired(state, caller, org_name, name, DesiredState::Paused).await
}

pub(crate) async fn resume(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
) -> AppResult<Environment> {
    set_desired(state, caller, org_name, name, DesiredState::Running).await
}

/// Removes the namespace; the environment leaves the lists once it is
/// gone (if the cluster is offline, when it returns).
pub(crate) async fn delete(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
) -> AppResult<Environment> {
    set_desired(state, caller, org_name, name, DesiredState::Deleted).await
}

/// The newest events of an environment, newest first.
pub(crate) async fn events(
    state: &AppState,
    caller: &AuthUser,
    org_name: &str,
    name: &str,
    limit: Option<u32>,
) -> AppResult<Page<EnvironmentEvent>> {
    let (_, env) = find(state, caller, org_name, name, Action::ReadEnvironment).await?;
    let limit = limit.unwrap_or(lapdev_api::PageQuery::DEFAULT_LIMIT);
    if !(1..=lapdev_api::PageQuery::MAX_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be between 1 and {}", lapdev_api::PageQuery::MAX_LIMIT),
        ));
    }
    let items = state
        .db()
        .environment_events(env.id, limit)
        .await?
        .into_iter()
        .map(|e| EnvironmentEvent {
            at: e.at,
            level: e.level,
            message: e.message,
        })
        .collect();
    Ok(Page {
        items,
        next_cursor: None,
    })
}

/// Values for the cluster: copied ones go back into the objects' Secret
/// manifests; provided ones become the request's `secret_values`
/// (base64, as in a Secret's `data`).
pub(crate) fn split_values(
    clear: BTreeMap<content::ValuePlace, String>,
) -> (
    BTreeMap<content::ValuePlace, String>,
    lapdev_tunnel_proto::SecretValues,
) {
    let mut copied = BTreeMap::new();
    let mut provided: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for ((object, field, key), value) in clear {
        if field == PROVIDED_FIELD {
            provided
                .entry(object)
                .or_default()
                .insert(key, STANDARD.encode(value.as_bytes()));
        } else {
            copied.insert((object, field, key), value);
        }
    }
    (copied, lapdev_tunnel_proto::SecretValues(provided))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapdev_tunnel_proto::catalog::SecretKey;

    fn input(secret: &str, key: &str, value: &str) -> lapdev_api::SecretValueInput {
        lapdev_api::SecretValueInput {
            secret: secret.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn secret_values_must_match_the_required_ones() {
        let required = vec![SecretKey {
            secret: "db".into(),
            key: "password".into(),
        }];
        let ok =
            check_secret_values("shop", &required, &[input("db", "password", "hunter2")]).unwrap();
        assert_eq!(ok.len(), 1);
        let missing = check_secret_values("shop", &required, &[]).unwrap_err();
        assert!(
            missing.to_string().contains("missing: db/password"),
            "{missing}"
        );
        let unknown =
            check_secret_values("shop", &required, &[input("db", "user", "x")]).unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("db/user is not a redacted key")
        );
        let twice = check_secret_values(
            "shop",
            &required,
            &[input("db", "password", "a"), input("db", "password", "b")],
        )
        .unwrap_err();
        assert!(twice.to_string().contains("given twice"));
        // No message ever repeats a value.
        for e in [missing, twice] {
            assert!(!e.to_string().contains("hunter2"));
        }
    }

    #[test]
    fn namespaces_fit_and_differ() {
        let name = lapdev_domain::EnvironmentName::parse("a".repeat(50)).unwrap();
        let a = namespace_for(&name);
        assert_eq!(a.len(), 63);
        assert!(a.starts_with("lapdev-aaaa"));
        assert_ne!(a, namespace_for(&name));
    }

    #[test]
    fn provided_values_are_base64_and_apart() {
        let mut clear = BTreeMap::new();
        clear.insert(
            ("shop/db".into(), "data".into(), "user".into()),
            "YWRtaW4=".into(),
        );
        clear.insert(
            ("db".into(), PROVIDED_FIELD.into(), "password".into()),
            "hunter2".into(),
        );
        let (copied, provided) = split_values(clear);
        assert_eq!(copied.len(), 1);
        assert_eq!(provided.0["db"]["password"], "aHVudGVyMg==");
    }
}
