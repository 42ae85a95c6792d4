//! The debug HTTP API under `/kube-sim/v1/` (not part of Kubernetes):
//! `GET requests[?writes=true]`, `DELETE requests`, `POST fail`,
//! `DELETE fail`, `POST expire-watches`, `POST compact`.

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Value, json};

use crate::core::Core;
use crate::error::{ApiError, ApiResult};
use crate::failures::{Failure, WorkloadRef};
use crate::handler::ResBody;

fn ok(v: &Value) -> Response<ResBody> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(v).expect("serializes"))).boxed_unsync())
        .expect("static headers are valid")
}

pub(crate) async fn handle<B>(
    core: &Core,
    parts: &http::request::Parts,
    body: B,
    rest: &[String],
) -> ApiResult<Response<ResBody>>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let q = crate::handler::parse_query(parts.uri.query().unwrap_or_default());
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (&parts.method, rest.as_slice()) {
        (&Method::GET, ["requests"]) => {
            let writes = q.get("writes").is_some_and(|v| v == "true");
            let list = if writes {
                core.requests.writes()
            } else {
                core.requests.all()
            };
            Ok(ok(&json!({"items": list})))
        }
        (&Method::DELETE, ["requests"]) => {
            core.requests.clear();
            Ok(ok(&json!({"cleared": true})))
        }
        (&Method::POST | &Method::DELETE, ["fail"]) => {
            let bytes = Limited::new(body, 64 * 1024)
                .collect()
                .await
                .map_err(|e| ApiError::bad(format!("error reading the request body: {e}")))?
                .to_bytes();
            let v: Value = serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::bad(format!("invalid JSON: {e}")))?;
            let field = |k: &str| {
                v[k].as_str()
                    .map(String::from)
                    .ok_or_else(|| ApiError::bad(format!("{k} is required")))
            };
            let w = WorkloadRef::new(&field("namespace")?, &field("kind")?, &field("name")?)
                .map_err(ApiError::bad)?;
            if parts.method == Method::DELETE {
                core.failures.clear(&w);
            } else {
                let reason = v["reason"].as_str().unwrap_or("ImagePullBackOff");
                let f = Failure::parse(reason, v["message"].as_str()).map_err(ApiError::bad)?;
                core.failures.set(w, f);
            }
            Ok(ok(&json!({"ok": true})))
        }
        (&Method::POST, ["expire-watches"]) => {
            core.expire_watches();
            Ok(ok(&json!({"ok": true})))
        }
        (&Method::POST, ["compact"]) => {
            core.lock().compact();
            Ok(ok(&json!({"ok": true})))
        }
        _ => Err(ApiError::NoRoute),
    }
}
