//! The HTTP handler: one async function from `http::Request` to
//! `http::Response`, with no socket assumptions. It parses the path and
//! query, reads and decodes the body (JSON, YAML for apply, 415 for
//! protobuf, 413 past the limit), dispatches to the verbs, renders errors as
//! Status objects and records every request in the log.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, StreamBody, combinators::UnsyncBoxBody};
use serde_json::{Value, json};

use crate::core::Core;
use crate::delete::{self, DeleteOpts};
use crate::error::{ApiError, ApiResult};
use crate::ops::{self, ListParams, Sub, WriteCtx};
use crate::patch::PatchKind;
use crate::registry::{self, ResourceId};
use crate::request_log::RequestRecord;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::watch::{self, WatchParams};

/// The response body type of the handler.
pub type ResBody = UnsyncBoxBody<Bytes, Infallible>;

fn full(bytes: impl Into<Bytes>) -> ResBody {
    Full::new(bytes.into()).boxed_unsync()
}

fn json_response(code: StatusCode, body: Vec<u8>) -> Response<ResBody> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(full(body))
        .expect("static headers are valid")
}

fn value_response(code: StatusCode, v: &Value) -> Response<ResBody> {
    json_response(
        code,
        serde_json::to_vec(v).expect("a Value always serializes"),
    )
}

fn error_response(e: &ApiError) -> Response<ResBody> {
    value_response(e.code(), &e.to_status())
}

/// Decodes a form-urlencoded query (`+` is a space; a leading `&` and empty
/// pairs are tolerated). Later keys win.
pub(crate) fn parse_query(q: &str) -> BTreeMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(c) => {
                        out.push(c);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A parsed resource path.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    res: ResourceId,
    ns: Option<String>,
    name: Option<String>,
    sub: Option<String>,
    watch_prefix: bool,
}

/// What a path names.
#[derive(Debug, PartialEq)]
enum Route {
    Discovery(Value),
    Health,
    Resource(Target),
    Debug(Vec<String>),
    NotFound,
}

fn route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Discovery(crate::discovery::version()),
        ["healthz" | "readyz" | "livez", ..] => Route::Health,
        ["api"] => Route::Discovery(crate::discovery::core_versions()),
        ["apis"] => Route::Discovery(crate::discovery::groups()),
        ["api", v] => crate::discovery::resources("", v).map_or(Route::NotFound, Route::Discovery),
        ["apis", g] => crate::discovery::group(g).map_or(Route::NotFound, Route::Discovery),
        ["apis", g, v] => {
            crate::discovery::resources(g, v).map_or(Route::NotFound, Route::Discovery)
        }
        ["api", v, rest @ ..] => resource_route("", v, rest),
        ["apis", g, v, rest @ ..] => resource_route(g, v, rest),
        ["kube-sim", "v1", rest @ ..] => Route::Debug(rest.iter().map(|s| s.to_string()).collect()),
        _ => Route::NotFound,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let (watch_prefix, rest) = match rest {
        ["watch", r @ ..] => (true, r),
        r => (false, r),
    };
    let (ns, rest) = match rest {
        ["namespaces", ns, plural, r @ ..] if *plural != "status" && *plural != "finalize" => {
            (Some(ns.to_string()), [&[*plural][..], r].concat())
        }
        r => (None, r.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(n.to_string()), None),
        [p, n, s] => (*p, Some(n.to_string()), Some(s.to_string())),
        _ => return Route::NotFound,
    };
    let Some(res) = registry::find(group, version, plural) else {
        return Route::NotFound;
    };
    if ns.is_some() && !res.def().namespaced {
        return Route::NotFound;
    }
    Route::Resource(Target {
        res,
        ns,
        name,
        sub,
        watch_prefix,
    })
}

/// Handles one request; never panics outward and always answers.
pub(crate) async fn handle<B>(core: Arc<Core>, req: Request<B>) -> Response<ResBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let header_str = |h: header::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let user_agent = header_str(header::USER_AGENT);
    let token = header_str(header::AUTHORIZATION)
        .and_then(|a| a.strip_prefix("Bearer ").map(|t| t.trim().to_string()));
    let route = route(&path);
    let is_debug = matches!(route, Route::Debug(_));
    let mut record = RequestRecord {
        seq: 0,
        method: parts.method.to_string(),
        path,
        query: parts.uri.query().unwrap_or_default().to_string(),
        user_agent,
        token,
        status: 0,
        verb: String::new(),
        namespace: None,
        resource: None,
        name: None,
    };
    let fut = dispatch(core.clone(), parts, body, route, &mut record);
    let response = match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => value_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": "kube-sim: internal error while handling the request", "reason": "InternalError", "code": 500}),
        ),
    };
    if !is_debug {
        record.status = response.status().as_u16();
        core.requests.record(record);
    }
    response
}

async fn read_body<B>(core: &Core, parts: &http::request::Parts, body: B) -> ApiResult<Bytes>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let limit = core.config.body_limit;
    if let Some(len) = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        && len > limit as u64
    {
        return Err(ApiError::TooLarge(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::TooLarge(limit))
        }
        Err(e) => Err(ApiError::bad(format!(
            "error reading the request body: {e}"
        ))),
    }
}

/// The body's format, from Content-Type.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BodyFormat {
    Json,
    Yaml,
}

fn content_type(parts: &http::request::Parts) -> String {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase()
}

fn reject_protobuf(ct: &str) -> ApiResult<()> {
    if ct.contains("protobuf") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (kube-sim does not speak protobuf; got {ct})"
        )));
    }
    Ok(())
}

fn decode_body(bytes: &[u8], format: BodyFormat) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("the request body is empty"));
    }
    match format {
        BodyFormat::Json => serde_json::from_slice(bytes)
            .map_err(|e| ApiError::bad(format!("the request body is not valid JSON: {e}"))),
        BodyFormat::Yaml => {
            if let Ok(v) = serde_json::from_slice(bytes) {
                return Ok(v);
            }
            let s = std::str::from_utf8(bytes)
                .map_err(|_| ApiError::bad("the request body is not UTF-8"))?;
            serde_saphyr::from_str::<Value>(s)
                .map_err(|e| ApiError::bad(format!("the request body is not valid YAML: {e}")))
        }
    }
}

fn bool_param(q: &BTreeMap<String, String>, k: &str) -> ApiResult<Option<bool>> {
    match q.get(k).map(String::as_str) {
        None | Some("") => Ok(None),
        Some("true" | "1" | "True") => Ok(Some(true)),
        Some("false" | "0" | "False") => Ok(Some(false)),
        Some(v) => Err(ApiError::bad(format!(
            "invalid value {v:?} for query parameter {k}: expected true or false"
        ))),
    }
}

fn list_params(q: &BTreeMap<String, String>, kind: &str) -> ApiResult<ListParams> {
    Ok(ListParams {
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str), kind)?,
        limit: match q.get("limit").filter(|s| !s.is_empty()) {
            None => None,
            Some(l) => Some(
                l.parse::<i64>()
                    .map_err(|_| ApiError::bad(format!("invalid limit {l:?}")))?
                    .max(0) as usize,
            ),
        },
        continue_token: q.get("continue").cloned().filter(|s| !s.is_empty()),
        resource_version: q.get("resourceVersion").cloned().filter(|s| !s.is_empty()),
        resource_version_match: q
            .get("resourceVersionMatch")
            .cloned()
            .filter(|s| !s.is_empty()),
    })
}

fn write_ctx(q: &BTreeMap<String, String>, user_agent: Option<&str>) -> ApiResult<WriteCtx> {
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(v) => {
            return Err(ApiError::bad(format!(
                "dryRun: Unsupported value: {v:?}: supported values: \"All\""
            )));
        }
    };
    let manager = q
        .get("fieldManager")
        .cloned()
        .filter(|s| !s.is_empty())
        .or_else(|| user_agent.map(|ua| ua.split('/').next().unwrap_or(ua).to_string()))
        .unwrap_or_else(|| "unknown".into());
    if manager.len() > 128 {
        return Err(ApiError::bad(
            "fieldManager: Too long: may not be more than 128 bytes",
        ));
    }
    Ok(WriteCtx {
        manager,
        dry_run,
        force: bool_param(q, "force")?.unwrap_or(false),
    })
}

async fn dispatch<B>(
    core: Arc<Core>,
    parts: http::request::Parts,
    body: B,
    route: Route,
    record: &mut RequestRecord,
) -> Response<ResBody>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match route {
        Route::Health => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(full("ok"))
            .expect("static response"),
        Route::Discovery(v) if parts.method == Method::GET => value_response(StatusCode::OK, &v),
        Route::Discovery(_) => error_response(&ApiError::MethodNotAllowed),
        Route::NotFound => error_response(&ApiError::NoRoute),
        Route::Debug(rest) => match crate::debug_api::handle(&core, &parts, body, &rest).await {
            Ok(r) => r,
            Err(e) => error_response(&e),
        },
        Route::Resource(t) => {
            record.namespace = t.ns.clone();
            record.resource = Some(t.res.def().plural.to_string());
            record.name = t.name.clone();
            match resource(core, parts, body, t, record).await {
                Ok(r) => r,
                Err(e) => error_response(&e),
            }
        }
    }
}

async fn resource<B>(
    core: Arc<Core>,
    parts: http::request::Parts,
    body: B,
    t: Target,
    record: &mut RequestRecord,
) -> ApiResult<Response<ResBody>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let q = parse_query(parts.uri.query().unwrap_or_default());
    let def = t.res.def();
    let ns = t.ns.as_deref();
    if def.namespaced && ns.is_none() && !(parts.method == Method::GET && t.name.is_none()) {
        // Writes and gets of namespaced objects need a namespace in the path.
        return Err(ApiError::NoRoute);
    }
    let sub = match t.sub.as_deref() {
        None => Sub::Main,
        Some("status") if def.status => Sub::Status,
        Some("scale") if def.scale => {
            return scale(core, parts, body, &t, &q, record).await;
        }
        Some(_) => return Err(ApiError::NoRoute),
    };
    let verb = match (&parts.method, &t.name) {
        (&Method::GET, Some(_)) if t.watch_prefix => "watch",
        (&Method::GET, Some(_)) => "get",
        (&Method::GET, None) if t.watch_prefix || bool_param(&q, "watch")?.unwrap_or(false) => {
            "watch"
        }
        (&Method::GET, None) => "list",
        (&Method::POST, None) => "create",
        (&Method::PUT, Some(_)) => "update",
        (&Method::PATCH, Some(_)) => "patch",
        (&Method::DELETE, Some(_)) => "delete",
        (&Method::DELETE, None) => "deletecollection",
        _ => return Err(ApiError::MethodNotAllowed),
    };
    record.verb = verb.to_string();
    if sub == Sub::Status && !matches!(verb, "get" | "update" | "patch") {
        return Err(ApiError::MethodNotAllowed);
    }
    let ct = content_type(&parts);
    let name = t.name.clone().unwrap_or_default();
    match verb {
        "get" => {
            let obj = ops::get(&core.lock(), t.res, ns, &name)?;
            Ok(json_response(
                StatusCode::OK,
                serde_json::to_vec(obj.as_ref()).expect("serializes"),
            ))
        }
        "list" => {
            let p = list_params(&q, def.kind)?;
            let listed = ops::list(&core.lock(), t.res, ns, &p)?;
            Ok(json_response(StatusCode::OK, listed.to_bytes()))
        }
        "watch" => {
            let mut list = list_params(&q, def.kind)?;
            if let Some(n) = &t.name {
                list.fields = FieldSelector::parse(&format!("metadata.name={n}"), def.kind)?;
            }
            let timeout = match q.get("timeoutSeconds").filter(|s| !s.is_empty()) {
                None => None,
                Some(s) => {
                    Some(Duration::from_secs(s.parse::<u64>().map_err(|_| {
                        ApiError::bad(format!("invalid timeoutSeconds {s:?}"))
                    })?))
                }
            };
            let params = WatchParams {
                list,
                bookmarks: bool_param(&q, "allowWatchBookmarks")?.unwrap_or(false),
                send_initial_events: bool_param(&q, "sendInitialEvents")?,
                timeout,
            };
            let stream = watch::start(&core, t.res, ns, params)?;
            let body =
                StreamBody::new(stream.map(|b| Ok::<_, Infallible>(http_body::Frame::data(b))));
            Ok(Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CACHE_CONTROL, "no-cache, private")
                .body(BodyExt::boxed_unsync(body))
                .expect("static headers are valid"))
        }
        "create" | "update" => {
            reject_protobuf(&ct)?;
            let format = if ct.contains("yaml") {
                BodyFormat::Yaml
            } else {
                BodyFormat::Json
            };
            if !(ct.starts_with("application/json") || ct.contains("yaml") || ct.starts_with("*/*"))
            {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "the media type {ct:?} is not supported for {verb}"
                )));
            }
            let w = write_ctx(&q, record.user_agent.as_deref())?;
            let bytes = read_body(&core, &parts, body).await?;
            let obj = decode_body(&bytes, format)?;
            if verb == "create" {
                let out = ops::create(&mut core.lock(), t.res, ns, obj, &w, ops::Track::Update)?;
                // The URL of a create names no object; the log records the created one.
                record.name = Some(crate::meta::name(&out).to_string());
                Ok(value_response(StatusCode::CREATED, &out))
            } else {
                let out = ops::update(
                    &mut core.lock(),
                    t.res,
                    ns,
                    &name,
                    obj,
                    sub,
                    &w,
                    ops::Track::Update,
                )?;
                Ok(value_response(StatusCode::OK, &out))
            }
        }
        "patch" => {
            reject_protobuf(&ct)?;
            let kind = PatchKind::from_content_type(&ct).ok_or_else(|| {
                ApiError::UnsupportedMediaType(format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {ct:?})"))
            })?;
            let w = write_ctx(&q, record.user_agent.as_deref())?;
            if kind != PatchKind::Apply && w.force {
                return Err(ApiError::bad(
                    "force: Invalid value: true: may not be specified for non-apply patch",
                ));
            }
            let bytes = read_body(&core, &parts, body).await?;
            let format = if kind == PatchKind::Apply {
                BodyFormat::Yaml
            } else {
                BodyFormat::Json
            };
            let patch = decode_body(&bytes, format)?;
            let out = ops::patch(&mut core.lock(), t.res, ns, &name, kind, &patch, sub, &w)?;
            let code = if out.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(value_response(code, &out.object))
        }
        "delete" | "deletecollection" => {
            reject_protobuf(&ct)?;
            let w = write_ctx(&q, record.user_agent.as_deref())?;
            let bytes = read_body(&core, &parts, body).await?;
            let opts_body = if bytes.iter().all(u8::is_ascii_whitespace) {
                None
            } else {
                Some(decode_body(&bytes, BodyFormat::Json)?)
            };
            let dry = opts_body
                .as_ref()
                .and_then(|b| b["dryRun"].as_array())
                .is_some_and(|a| a.iter().any(|x| x == "All"));
            let w = WriteCtx {
                dry_run: w.dry_run || dry,
                ..w
            };
            let opts = DeleteOpts::from_body(
                opts_body.as_ref(),
                q.get("propagationPolicy").map(String::as_str),
            );
            if verb == "delete" {
                let out = delete::delete(&mut core.lock(), t.res, ns, &name, &opts, &w)?;
                let still_there = !w.dry_run && core.get(t.res, ns, &name).is_some();
                let code = if still_there {
                    StatusCode::ACCEPTED
                } else {
                    StatusCode::OK
                };
                Ok(value_response(code, &out))
            } else {
                let p = list_params(&q, def.kind)?;
                let out = delete::delete_collection(&mut core.lock(), t.res, ns, &p, &opts, &w)?;
                Ok(json_response(StatusCode::OK, out.to_bytes()))
            }
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// The `scale` subresource: get, update, patch.
async fn scale<B>(
    core: Arc<Core>,
    parts: http::request::Parts,
    body: B,
    t: &Target,
    q: &BTreeMap<String, String>,
    record: &mut RequestRecord,
) -> ApiResult<Response<ResBody>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let ns = t.ns.as_deref();
    let name = t.name.clone().unwrap_or_default();
    let ct = content_type(&parts);
    let out = match parts.method {
        Method::GET => {
            record.verb = "get".into();
            crate::scale::get(&core.lock(), t.res, ns, &name)?
        }
        Method::PUT | Method::PATCH => {
            record.verb = if parts.method == Method::PUT {
                "update"
            } else {
                "patch"
            }
            .into();
            reject_protobuf(&ct)?;
            let kind = if parts.method == Method::PUT {
                None
            } else {
                Some(PatchKind::from_content_type(&ct).ok_or_else(|| {
                    ApiError::UnsupportedMediaType(format!("unsupported patch type {ct:?}"))
                })?)
            };
            let w = write_ctx(q, record.user_agent.as_deref())?;
            let bytes = read_body(&core, &parts, body).await?;
            let v = decode_body(
                &bytes,
                if kind == Some(PatchKind::Apply) {
                    BodyFormat::Yaml
                } else {
                    BodyFormat::Json
                },
            )?;
            crate::scale::write(&mut core.lock(), t.res, ns, &name, kind, &v, &w)?
        }
        _ => return Err(ApiError::MethodNotAllowed),
    };
    Ok(value_response(StatusCode::OK, &out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("", &[]),
            ("&watch=true", &[("watch", "true")]),
            (
                "labelSelector=app+in+(a,b)",
                &[("labelSelector", "app in (a,b)")],
            ),
            (
                "labelSelector=app%3Dweb&limit=5",
                &[("labelSelector", "app=web"), ("limit", "5")],
            ),
            ("a=%zz&b", &[("a", "%zz"), ("b", "")]),
            ("x=%", &[("x", "%")]),
            ("x=%4", &[("x", "%4")]),
        ];
        for (q, want) in cases {
            let got = parse_query(q);
            let want: BTreeMap<String, String> = want
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            assert_eq!(got, want, "{q}");
        }
    }

    #[test]
    fn route_table() {
        let r = |p: &str| match route(p) {
            Route::Resource(t) => format!(
                "{}|{:?}|{:?}|{:?}|{}",
                t.res.def().plural,
                t.ns,
                t.name,
                t.sub,
                t.watch_prefix
            ),
            Route::Discovery(_) => "discovery".into(),
            Route::Health => "health".into(),
            Route::Debug(d) => format!("debug {d:?}"),
            Route::NotFound => "404".into(),
        };
        let cases = [
            ("/api/v1/namespaces", "namespaces|None|None|None|false"),
            (
                "/api/v1/namespaces/a",
                "namespaces|None|Some(\"a\")|None|false",
            ),
            (
                "/api/v1/namespaces/a/status",
                "namespaces|None|Some(\"a\")|Some(\"status\")|false",
            ),
            (
                "/api/v1/namespaces/a/configmaps",
                "configmaps|Some(\"a\")|None|None|false",
            ),
            (
                "/api/v1/namespaces/a/configmaps/b",
                "configmaps|Some(\"a\")|Some(\"b\")|None|false",
            ),
            (
                "/apis/apps/v1/namespaces/a/deployments/b/status",
                "deployments|Some(\"a\")|Some(\"b\")|Some(\"status\")|false",
            ),
            (
                "/api/v1/watch/namespaces/a/pods",
                "pods|Some(\"a\")|None|None|true",
            ),
            ("/api/v1/pods", "pods|None|None|None|false"),
            ("/api/v1/nodes/n1", "nodes|None|Some(\"n1\")|None|false"),
            ("/api/v1/namespaces/a/nodes", "404"),
            ("/api/v1/namespaces/a/widgets", "404"),
            ("/api/v2", "404"),
            ("/apis/apps/v1", "discovery"),
            ("/readyz", "health"),
            ("/kube-sim/v1/requests", "debug [\"requests\"]"),
            ("/nonsense/x", "404"),
            ("/api/v1/namespaces/a/configmaps/b/c/d", "404"),
        ];
        for (p, want) in cases {
            assert_eq!(r(p), want, "{p}");
        }
    }
}
