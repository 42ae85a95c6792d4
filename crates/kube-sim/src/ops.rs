//! The verbs over the store: get, list, create, update (main and status),
//! patch (all kinds, including server-side apply). One code path for every
//! resource; kind-specific rules live in `defaults` and `validation`.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::apply::{self, Writer};
use crate::error::{ApiError, ApiResult};
use crate::meta;
use crate::patch::{self, PatchKind};
use crate::registry::{self, ResourceDef, ResourceId};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{ObjectKey, State};

/// Who writes and how (query parameters of a write request).
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteCtx {
    pub(crate) manager: String,
    pub(crate) dry_run: bool,
    pub(crate) force: bool,
}

impl WriteCtx {
    pub(crate) fn writer(&self, def: &ResourceDef, sub: Sub) -> Writer {
        Writer {
            manager: self.manager.clone(),
            subresource: if sub == Sub::Status {
                "status".into()
            } else {
                String::new()
            },
            api_version: def.api_version(),
            time: meta::now(),
        }
    }
}

/// Main resource or its status subresource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sub {
    Main,
    Status,
}

pub(crate) fn not_found(def: &ResourceDef, name: &str) -> ApiError {
    ApiError::NotFound {
        resource: def.plural.into(),
        group: def.group.into(),
        name: name.into(),
    }
}

pub(crate) fn key(res: ResourceId, ns: Option<&str>, name: &str) -> ObjectKey {
    ObjectKey {
        resource: res,
        namespace: ns.unwrap_or_default().to_string(),
        name: name.to_string(),
    }
}

pub(crate) fn get(
    st: &State,
    res: ResourceId,
    ns: Option<&str>,
    name: &str,
) -> ApiResult<Arc<Value>> {
    st.get(&key(res, ns, name))
        .cloned()
        .ok_or_else(|| not_found(res.def(), name))
}

/// Query parameters of a list or watch.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListParams {
    pub(crate) labels: LabelSelector,
    pub(crate) fields: FieldSelector,
    pub(crate) limit: Option<usize>,
    pub(crate) continue_token: Option<String>,
    pub(crate) resource_version: Option<String>,
    pub(crate) resource_version_match: Option<String>,
}

impl ListParams {
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }
}

/// A list response, serialized without cloning the items.
#[derive(Debug)]
pub(crate) struct ListResult {
    pub(crate) def: &'static ResourceDef,
    pub(crate) resource_version: u64,
    pub(crate) continue_token: Option<String>,
    pub(crate) remaining: Option<usize>,
    pub(crate) items: Vec<Arc<Value>>,
}

impl ListResult {
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut meta = json!({"resourceVersion": self.resource_version.to_string()});
        if let Some(c) = &self.continue_token {
            meta["continue"] = json!(c);
        }
        if let Some(r) = self.remaining {
            meta["remainingItemCount"] = json!(r);
        }
        let mut out = Vec::with_capacity(256 + self.items.len() * 512);
        out.extend_from_slice(
            format!(
                r#"{{"kind":"{}List","apiVersion":"{}","metadata":{},"items":["#,
                self.def.kind,
                self.def.api_version(),
                meta
            )
            .as_bytes(),
        );
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, item.as_ref()).expect("a Value always serializes");
        }
        out.extend_from_slice(b"]}");
        out
    }
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"rv": rv, "ns": ns, "name": name}).to_string())
}

fn decode_continue(token: &str) -> ApiResult<(u64, String, String)> {
    use base64::Engine as _;
    let bad =
        || ApiError::bad("continue key is not valid: the continue token could not be decoded");
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok((
        v["rv"].as_u64().ok_or_else(bad)?,
        v["ns"].as_str().ok_or_else(bad)?.to_string(),
        v["name"].as_str().ok_or_else(bad)?.to_string(),
    ))
}

/// Parses a resourceVersion query parameter.
pub(crate) fn parse_rv(s: &str) -> ApiResult<u64> {
    s.parse().map_err(|_| {
        ApiError::bad(format!(
            "invalid resource version \"{s}\": expected a non-negative integer"
        ))
    })
}

pub(crate) fn list(
    st: &State,
    res: ResourceId,
    ns: Option<&str>,
    p: &ListParams,
) -> ApiResult<ListResult> {
    let def = res.def();
    let mut list_rv = st.rv;
    let rv = p.resource_version.as_deref().filter(|s| !s.is_empty());
    match (
        rv,
        p.resource_version_match
            .as_deref()
            .filter(|s| !s.is_empty()),
    ) {
        (None, Some(_)) => {
            return Err(ApiError::bad(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        (Some(_), Some(m)) if m != "Exact" && m != "NotOlderThan" => {
            return Err(ApiError::bad(format!(
                "resourceVersionMatch: Unsupported value: {m:?}"
            )));
        }
        (Some(v), Some("Exact")) => {
            let n = parse_rv(v)?;
            if n > st.rv {
                return Err(too_large(n, st.rv));
            }
            if n < st.rv {
                return Err(ApiError::Expired(format!(
                    "The resourceVersion for the provided list is too old (kube-sim keeps no snapshots): {n} < {}",
                    st.rv
                )));
            }
        }
        (Some(v), _) => {
            let n = parse_rv(v)?;
            if n > st.rv {
                return Err(too_large(n, st.rv));
            }
        }
        (None, None) => {}
    }
    let mut after: Option<(String, String)> = None;
    if let Some(c) = p.continue_token.as_deref().filter(|s| !s.is_empty()) {
        let (rv, ns_, name) = decode_continue(c)?;
        if rv < st.compacted {
            return Err(ApiError::Expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into(),
            ));
        }
        list_rv = rv;
        after = Some((ns_, name));
    }
    let pinned = p.fields.pinned_name();
    let mut items = Vec::new();
    let mut last_key: Option<&ObjectKey> = None;
    let mut remaining = 0usize;
    let limit = p.limit.filter(|l| *l > 0);
    for (k, obj) in st.range(res, ns) {
        if let Some((ans, aname)) = &after
            && (k.namespace.as_str(), k.name.as_str()) <= (ans.as_str(), aname.as_str())
        {
            continue;
        }
        if pinned.is_some_and(|n| n != k.name) || !p.matches(obj) {
            continue;
        }
        if limit.is_some_and(|l| items.len() >= l) {
            remaining += 1;
            continue;
        }
        items.push(obj.clone());
        last_key = Some(k);
    }
    let (continue_token, remaining) = match (remaining, last_key) {
        (r, Some(k)) if r > 0 => (
            Some(encode_continue(list_rv, &k.namespace, &k.name)),
            (p.labels.is_empty() && p.fields == FieldSelector::default()).then_some(r),
        ),
        _ => (None, None),
    };
    Ok(ListResult {
        def,
        resource_version: list_rv,
        continue_token,
        remaining,
        items,
    })
}

pub(crate) fn too_large(n: u64, current: u64) -> ApiError {
    ApiError::Timeout(format!(
        "Too large resource version: {n}, current: {current}"
    ))
}

fn check_type(def: &ResourceDef, obj: &Value) -> ApiResult<()> {
    if !obj.is_object() {
        return Err(ApiError::bad("the request body must be a JSON object"));
    }
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or(def.kind);
    let av = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| def.api_version());
    if kind != def.kind || av != def.api_version() {
        return Err(ApiError::bad(format!(
            "the API version in the data ({av}) does not match the expected API version ({}) or the kind ({kind}) is not {}",
            def.api_version(),
            def.kind
        )));
    }
    Ok(())
}

fn check_namespace(def: &ResourceDef, obj: &mut Value, ns: Option<&str>) -> ApiResult<()> {
    let body_ns = meta::namespace(obj)
        .filter(|s| !s.is_empty())
        .map(String::from);
    if def.namespaced {
        let ns = ns.unwrap_or_default();
        if let Some(b) = body_ns
            && b != ns
        {
            return Err(ApiError::bad(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        meta::meta_mut(obj).insert("namespace".into(), json!(ns));
    } else {
        meta::meta_mut(obj).remove("namespace");
    }
    Ok(())
}

/// Content may only be created in an existing, non-terminating namespace.
pub(crate) fn check_namespace_open(
    st: &State,
    def: &ResourceDef,
    ns: Option<&str>,
) -> ApiResult<()> {
    if !def.namespaced {
        return Ok(());
    }
    let ns = ns.unwrap_or_default();
    match st.get(&key(registry::namespaces(), None, ns)) {
        None => Err(ApiError::NotFound {
            resource: "namespaces".into(),
            group: String::new(),
            name: ns.into(),
        }),
        Some(n) if meta::is_deleting(n) => Err(ApiError::Forbidden(format!(
            "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
            def.plural,
            meta::name(n)
        ))),
        Some(_) => Ok(()),
    }
}

fn invalid(def: &ResourceDef, name: &str, causes: Vec<crate::error::Cause>) -> ApiError {
    ApiError::Invalid {
        kind: def.kind.into(),
        group: def.group.into(),
        name: name.into(),
        causes,
    }
}

/// How managedFields are maintained for a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Track {
    Update,
    /// Already computed by server-side apply.
    Done,
}

pub(crate) fn create(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    mut obj: Value,
    w: &WriteCtx,
    track: Track,
) -> ApiResult<Value> {
    let def = res.def();
    check_type(def, &obj)?;
    check_namespace(def, &mut obj, ns)?;
    let m = meta::meta_mut(&mut obj);
    let mut name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        match m
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(prefix) => {
                let prefix: String = prefix.chars().take(58).collect();
                name = format!("{prefix}{}", meta::random_suffix(5));
                m.insert("name".into(), json!(name));
            }
            None => {
                return Err(invalid(
                    def,
                    "",
                    vec![crate::error::Cause {
                        reason: "FieldValueRequired",
                        field: "metadata.name".into(),
                        message: "Required value: name or generateName is required".into(),
                    }],
                ));
            }
        }
    }
    if let Err(msg) = crate::validation::validate_name(def, &name) {
        return Err(invalid(
            def,
            &name,
            vec![crate::error::Cause::invalid(
                "metadata.name",
                format!("Invalid value: {name:?}: {msg}"),
            )],
        ));
    }
    check_namespace_open(st, def, ns)?;
    let k = key(res, ns, &name);
    if st.get(&k).is_some() {
        return Err(ApiError::AlreadyExists {
            resource: def.plural.into(),
            group: def.group.into(),
            name,
        });
    }
    for f in [
        "uid",
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "selfLink",
    ] {
        m.remove(f);
    }
    m.insert("uid".into(), json!(meta::new_uid()));
    m.insert("creationTimestamp".into(), json!(meta::now()));
    if def.group == "apps" {
        m.insert("generation".into(), json!(1));
    }
    obj["apiVersion"] = json!(def.api_version());
    obj["kind"] = json!(def.kind);
    let causes = crate::validation::validate_create(def, &obj);
    if !causes.is_empty() {
        return Err(invalid(def, &name, causes));
    }
    // Allocation is the last step that can fail, so a failure leaks nothing.
    let mut scratch;
    let ips = if w.dry_run {
        scratch = crate::defaults::IpAllocator::default();
        &mut scratch
    } else {
        &mut st.ips
    };
    crate::defaults::on_create(def, &mut obj, ips).map_err(|c| invalid(def, &name, vec![c]))?;
    if track == Track::Update {
        apply::track_update(None, &mut obj, &w.writer(def, Sub::Main));
    }
    if w.dry_run {
        return Ok(obj);
    }
    let rv = st.next_rv();
    meta::meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv.to_string()));
    Ok((*st.put(k, obj, rv)).clone())
}

/// Replaces an existing object (PUT, or the result of a patch).
#[allow(clippy::too_many_arguments)] // reason: mirrors the request's parts one to one.
pub(crate) fn update(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    name: &str,
    mut new: Value,
    sub: Sub,
    w: &WriteCtx,
    track: Track,
) -> ApiResult<Value> {
    let def = res.def();
    check_type(def, &new)?;
    check_namespace(def, &mut new, ns)?;
    let k = key(res, ns, name);
    let old = st.get(&k).cloned().ok_or_else(|| not_found(def, name))?;
    let body_name = meta::name(&new);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(uid) = new
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        && uid != meta::uid(&old)
    {
        return Err(ApiError::Conflict {
            resource: def.group_resource(),
            name: name.into(),
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                def.group_resource(),
                meta::uid(&old)
            ),
            causes: vec![],
        });
    }
    if let Some(rv) = meta::resource_version(&new)
        && Some(rv) != meta::resource_version(&old)
    {
        return Err(ApiError::Conflict {
            resource: def.group_resource(),
            name: name.into(),
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                def.group_resource()
            ),
            causes: vec![],
        });
    }
    if sub == Sub::Status {
        let status = new.get("status").cloned();
        let managed = new.pointer("/metadata/managedFields").cloned();
        new = (*old).clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
        if track == Track::Done
            && let Some(mf) = managed
        {
            meta::meta_mut(&mut new).insert("managedFields".into(), mf);
        }
    } else if def.status {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(m) = new.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    {
        let nm = meta::meta_mut(&mut new);
        nm.insert("name".into(), json!(name));
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match old.pointer(&format!("/metadata/{f}")) {
                Some(v) => nm.insert(f.into(), v.clone()),
                None => nm.remove(f),
            };
        }
        if track == Track::Update {
            nm.remove("managedFields");
            if let Some(mf) = old.pointer("/metadata/managedFields") {
                nm.insert("managedFields".into(), mf.clone());
            }
        }
    }
    new["apiVersion"] = json!(def.api_version());
    new["kind"] = json!(def.kind);
    crate::defaults::on_update(def, &old, &mut new);
    let causes = crate::validation::validate_update(def, &old, &new);
    if !causes.is_empty() {
        return Err(invalid(def, name, causes));
    }
    if meta::is_deleting(&old) {
        let added = new
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| {
                let before = old
                    .pointer("/metadata/finalizers")
                    .and_then(Value::as_array);
                f.iter().any(|x| before.is_none_or(|b| !b.contains(x)))
            });
        if added {
            return Err(invalid(
                def,
                name,
                vec![crate::error::Cause {
                    reason: "FieldValueForbidden",
                    field: "metadata.finalizers".into(),
                    message:
                        "Forbidden: no new finalizers can be added if the object is being deleted"
                            .into(),
                }],
            ));
        }
    }
    if track == Track::Update {
        apply::track_update(Some(&old), &mut new, &w.writer(def, sub));
    }
    if def.group == "apps" && meta::spec_part(&old) != meta::spec_part(&new) {
        let g = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + 1;
        meta::meta_mut(&mut new).insert("generation".into(), json!(g));
    }
    if let Some(rv) = meta::resource_version(&old) {
        meta::meta_mut(&mut new).insert("resourceVersion".into(), json!(rv));
    }
    if meta::comparable(&old) == meta::comparable(&new) {
        return Ok((*old).clone());
    }
    if w.dry_run {
        return Ok(new);
    }
    if meta::is_deleting(&new) && meta::finalizers(&new) == 0 {
        let rv = st.next_rv();
        meta::meta_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
        st.put(k.clone(), new, rv);
        let last = crate::delete::remove_now(st, &k);
        return Ok(last.map(|v| (*v).clone()).unwrap_or(Value::Null));
    }
    let rv = st.next_rv();
    meta::meta_mut(&mut new).insert("resourceVersion".into(), json!(rv.to_string()));
    Ok((*st.put(k, new, rv)).clone())
}

/// Result of a write that may have created the object (server-side apply).
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) object: Value,
    pub(crate) created: bool,
}

/// A patch of any kind; Apply creates the object when absent.
#[allow(clippy::too_many_arguments)] // reason: mirrors the request's parts one to one.
pub(crate) fn patch(
    st: &mut State,
    res: ResourceId,
    ns: Option<&str>,
    name: &str,
    kind: PatchKind,
    body: &Value,
    sub: Sub,
    w: &WriteCtx,
) -> ApiResult<Written> {
    let def = res.def();
    let current = st.get(&key(res, ns, name)).cloned();
    if kind == PatchKind::Apply {
        if !body.is_object() {
            return Err(ApiError::bad("apply configuration must be an object"));
        }
        check_type(def, body)?;
        if w.manager.is_empty() {
            return Err(ApiError::bad(
                "PATCH, application/apply-patch+yaml requires fieldManager to be set",
            ));
        }
        let body_name = meta::name(body);
        if body_name.is_empty() || body_name != name {
            return Err(ApiError::bad(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let writer = w.writer(def, sub);
        if body
            .pointer("/metadata/managedFields")
            .is_some_and(|m| !m.is_null())
        {
            return Err(ApiError::bad("metadata.managedFields must be nil"));
        }
        let applied = body.clone();
        let merged = apply::server_side_apply(current.as_deref(), &applied, &writer, w.force)
            .map_err(|e| match e {
                ApiError::Conflict {
                    name,
                    message,
                    causes,
                    ..
                } => ApiError::Conflict {
                    resource: def.group_resource(),
                    name,
                    message,
                    causes,
                },
                other => other,
            })?;
        return match current {
            None if sub == Sub::Status => Err(not_found(def, name)),
            None => Ok(Written {
                object: create(st, res, ns, merged, w, Track::Done)?,
                created: true,
            }),
            Some(_) => {
                let mut merged = merged;
                // An apply never carries a precondition unless the user set one.
                if meta::resource_version(body).is_none() {
                    meta::meta_mut(&mut merged).remove("resourceVersion");
                }
                Ok(Written {
                    object: update(st, res, ns, name, merged, sub, w, Track::Done)?,
                    created: false,
                })
            }
        };
    }
    let current = current.ok_or_else(|| not_found(def, name))?;
    let mut patched = patch::apply_patch(kind, &current, body).map_err(|e| match e {
        ApiError::Invalid { causes, .. } => invalid(def, name, causes),
        other => other,
    })?;
    // A patch is a precondition only when it sets resourceVersion itself.
    let body_rv = body.pointer("/metadata/resourceVersion").is_some();
    if kind != PatchKind::Json && !body_rv {
        meta::meta_mut(&mut patched).remove("resourceVersion");
    }
    Ok(Written {
        object: update(st, res, ns, name, patched, sub, w, Track::Update)?,
        created: false,
    })
}
