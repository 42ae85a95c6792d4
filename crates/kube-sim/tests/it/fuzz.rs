//! Request-parsing fuzz: random methods, paths, queries, bodies and content
//! types thrown at the handler; every response must be a well-formed answer
//! (a Status for errors), never a panic (500) or a dropped request.

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use kube_sim::KubeSim;
use tower::{Service, ServiceExt};

use crate::sim_only;
use crate::support::Rng;

const SEGMENTS: &[&str] = &[
    "api",
    "apis",
    "v1",
    "apps",
    "namespaces",
    "default",
    "shop",
    "configmaps",
    "pods",
    "deployments",
    "status",
    "watch",
    "nodes",
    "services",
    "x",
    "",
    "..",
    "%2F",
    "kube-sim",
    "requests",
    "rbac.authorization.k8s.io",
    "finalize",
    "scale",
    "coordination.k8s.io",
    "leases",
    "web",
    "a b",
    "ü",
    "%zz",
    "secrets",
];
const PAIRS: &[(&str, &str)] = &[
    ("/api/v1", "configmaps"),
    ("/api/v1", "secrets"),
    ("/api/v1", "pods"),
    ("/api/v1", "services"),
    ("/api/v1", "namespaces"),
    ("/api/v1", "nodes"),
    ("/apis/apps/v1", "deployments"),
    ("/apis/apps/v1", "statefulsets"),
    ("/apis/rbac.authorization.k8s.io/v1", "roles"),
    ("/apis/coordination.k8s.io/v1", "leases"),
    ("/api/v1/watch", "configmaps"),
    ("/apis/batch/v1", "jobs"),
    ("/api/v1", "widgets"),
];
const QUERIES: &[&str] = &[
    "labelSelector=app%3Dweb",
    "labelSelector=in+(",
    "labelSelector=a+notin+(b,c)",
    "fieldSelector=metadata.name%3Dx",
    "fieldSelector=bogus",
    "limit=2",
    "limit=-1",
    "limit=abc",
    "continue=zzz",
    "continue=eyJydiI6MX0",
    "resourceVersion=0",
    "resourceVersion=abc",
    "resourceVersion=999999999",
    "resourceVersionMatch=Exact",
    "resourceVersionMatch=Bogus",
    "dryRun=All",
    "dryRun=Some",
    "fieldManager=fuzz",
    "force=true",
    "force=maybe",
    "timeoutSeconds=0",
    "watch=false",
    "propagationPolicy=Orphan",
    "&",
    "=",
    "%",
    "a=%",
    "sendInitialEvents=true",
];
const TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
    "",
    "application/json; charset=utf-8",
];
const BODIES: &[&str] = &[
    "",
    "{}",
    "[]",
    "null",
    "{",
    "not json",
    "- a\n- b",
    "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"fz\"}}",
    "{\"metadata\":{\"name\":\"Bad Name\"}}",
    "[{\"op\":\"remove\",\"path\":\"/nope\"}]",
    "{\"metadata\":{\"name\":\"web\"},\"spec\":null}",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fz\n",
    "\u{0}\u{1}\u{2}",
    "{\"spec\":{\"containers\":[{\"$patch\":\"delete\"}]}}",
    "{\"metadata\":{\"name\":\"fz\",\"labels\":{\"a\":[1]}}}",
    "{\"metadata\":{\"name\":\"fz\",\"resourceVersion\":\"1\"}}",
];

#[tokio::test]
async fn fuzz_request_parsing() {
    sim_only!("throws malformed requests at the in-process handler");
    let sim = KubeSim::builder()
        .sample_seed()
        .body_limit(64 * 1024)
        .build()
        .unwrap();
    let mut svc = sim.service();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: usize = std::env::var("KUBE_SIM_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut ran = 0usize;
    let mut by_code = std::collections::BTreeMap::<u16, usize>::new();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
    ];
    for i in 0..cases {
        let depth = (rng.next() % 8) as usize;
        let mut path = String::new();
        if rng.chance(75) {
            // Mostly well-shaped resource paths, so the verbs are exercised.
            let (prefix, resource) = rng.pick(PAIRS);
            path.push_str(prefix);
            if rng.chance(80) {
                path.push_str("/namespaces/");
                path.push_str(rng.pick(&[
                    "shop",
                    "shop",
                    "default",
                    "kube-system",
                    "missing",
                    "Bad_NS",
                ]));
            }
            path.push('/');
            path.push_str(resource);
            if rng.chance(50) {
                path.push('/');
                path.push_str(rng.pick(&[
                    "web",
                    "api",
                    "fz",
                    "fz",
                    "shop-config",
                    "postgres",
                    "x",
                    "Bad%20Name",
                ]));
                if rng.chance(20) {
                    path.push_str(rng.pick(&["/status", "/scale", "/log", "/x/y"]));
                }
            }
        } else {
            for _ in 0..depth {
                path.push('/');
                let seg: &str = rng.pick(SEGMENTS);
                path.push_str(seg);
            }
        }
        if path.is_empty() || rng.chance(5) {
            path.push('/');
        }
        let mut query = Vec::new();
        for _ in 0..(rng.next() % 4) {
            query.push(rng.pick(QUERIES));
        }
        // Never open a long-lived watch in the fuzz loop.
        let uri = format!("{path}?{}", query.join("&"));
        let method = rng.pick(&methods);
        let body: Vec<u8> = if rng.chance(3) {
            vec![b'x'; 70 * 1024]
        } else {
            rng.pick(BODIES).as_bytes().to_vec()
        };
        let mut req = Request::builder().method(method.clone()).uri(&uri);
        let ct = rng.pick(TYPES);
        if !ct.is_empty() {
            req = req.header("content-type", ct);
        }
        let Ok(req) = req.body(Full::new(Bytes::from(body))) else {
            continue;
        };
        ran += 1;
        let resp = ServiceExt::<Request<Full<Bytes>>>::ready(&mut svc)
            .await
            .unwrap()
            .call(req)
            .await
            .unwrap();
        let code = resp.status().as_u16();
        *by_code.entry(code).or_default() += 1;
        assert_ne!(
            code, 500,
            "case {i}: {method} {uri} caused an internal error"
        );
        assert!((200..600).contains(&code));
        let is_stream = method == Method::GET
            && code == 200
            && (uri.contains("watch") || uri.contains("timeoutSeconds"));
        if is_stream {
            continue;
        }
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        if code >= 400 {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("case {i}: {method} {uri}: non-JSON error body: {e}"));
            assert_eq!(v["kind"], "Status", "case {i}: {method} {uri}");
            assert_eq!(v["code"], code, "case {i}: {method} {uri}");
        }
    }
    println!(
        "fuzz: {ran} of {cases} generated requests sent, no panics, every error a Status; by status: {by_code:?}"
    );
    assert!(
        ran * 10 > cases * 9,
        "most generated requests are valid HTTP"
    );
}

/// Bad input table: each yields the documented status code and a Status.
#[tokio::test]
async fn bad_input_table() {
    sim_only!("drives the in-process handler directly");
    let sim = KubeSim::builder().build().unwrap();
    let cases: &[(&str, &str, &str, Vec<u8>, u16)] = &[
        (
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            b"{".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/yaml",
            b"a: [".to_vec(),
            400,
        ),
        (
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/vnd.kubernetes.protobuf",
            b"k8s\0".to_vec(),
            415,
        ),
        (
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            vec![b' '; 4 * 1024 * 1024],
            413,
        ),
        ("GET", "/api/v1/namespaces/default/widgets", "", vec![], 404),
        ("GET", "/nope", "", vec![], 404),
        (
            "GET",
            "/api/v1/namespaces/default/configmaps?labelSelector=a+in+(",
            "",
            vec![],
            400,
        ),
        (
            "PATCH",
            "/api/v1/namespaces/default/configmaps/x",
            "text/plain",
            b"{}".to_vec(),
            415,
        ),
        (
            "PUT",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
            b"{}".to_vec(),
            405,
        ),
    ];
    for (method, uri, ct, body, want) in cases {
        let mut req = Request::builder().method(*method).uri(*uri);
        if !ct.is_empty() {
            req = req.header("content-type", *ct);
        }
        let req = req.body(Full::new(Bytes::from(body.clone()))).unwrap();
        let resp = sim.service().oneshot(req).await.unwrap();
        assert_eq!(resp.status().as_u16(), *want, "{method} {uri}");
        let v: serde_json::Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(v["kind"], "Status");
    }
}
