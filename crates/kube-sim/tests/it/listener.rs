//! The 127.0.0.1 listener (HTTP and TLS), kubeconfig output, the binary,
//! the request log and the debug endpoints (kube-sim-only features).

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams};
use kube_sim::KubeSim;
use serde_json::json;

use crate::sim_only;
use crate::support::cm;

async fn client_from_kubeconfig(yaml: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    kube::Client::try_from(cfg).unwrap()
}

/// kube-rs over TLS with the kubeconfig's CA, and the request log records
/// the bearer token, user agent and status.
#[tokio::test]
async fn tls_listener_and_request_log() {
    sim_only!("the listener and request log are kube-sim features");
    let sim = KubeSim::builder().sample_seed().build().unwrap();
    for tls in [true, false] {
        let served = sim
            .serve("127.0.0.1:0".parse().unwrap(), tls)
            .await
            .unwrap();
        assert!(served.url().starts_with(if tls {
            "https://127.0.0.1:"
        } else {
            "http://127.0.0.1:"
        }));
        let yaml = served.kubeconfig_yaml_with_token("token-for-test");
        assert_eq!(yaml.contains("certificate-authority-data"), tls);
        let client = client_from_kubeconfig(&yaml).await;
        let names: Vec<_> = Api::<Namespace>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|n| n.metadata.name.unwrap())
            .collect();
        for ns in [
            "default",
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "shop",
            "billing",
        ] {
            assert!(names.iter().any(|n| n == ns), "{ns} in {names:?}");
        }
        Api::<ConfigMap>::namespaced(client, "shop")
            .create(
                &PostParams::default(),
                &cm(&format!("via-{tls}"), json!({})),
            )
            .await
            .unwrap();
        served.shutdown().await;
    }
    let mine = sim.requests().by_token("token-for-test");
    assert!(mine.iter().any(|r| r.verb == "list"
        && r.resource.as_deref() == Some("namespaces")
        && r.status == 200));
    let writes = sim.requests().writes();
    assert_eq!(writes.len(), 2);
    assert!(
        writes.iter().all(|w| w.verb == "create"
            && w.status == 201
            && w.namespace.as_deref() == Some("shop"))
    );
    assert_eq!(sim.requests().writes_outside(&["shop"]).len(), 0);
    // Creating a namespace counts as a write to that namespace.
    let nsapi: Api<Namespace> = Api::all(sim.client());
    nsapi
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "lapdev-env-1"}})).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.requests()
            .writes_outside(&["shop", "lapdev-env-1"])
            .len(),
        0
    );
    assert_eq!(sim.requests().writes_outside(&["shop"]).len(), 1);
    assert_eq!(sim.requests().writes_outside(&["billing"]).len(), 3);
}

/// The binary: `--listen 127.0.0.1:0 --kubeconfig-out FILE --tls`, debug
/// endpoints for the request log and failure injection.
#[tokio::test(flavor = "multi_thread")]
async fn binary_writes_kubeconfig_and_serves_debug_endpoints() {
    sim_only!("runs the kube-sim binary");
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    let url_file = dir.path().join("url");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kube-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--tls",
            "--sample-seed",
            "--sim-delay-ms",
            "0",
            "--kubeconfig-out",
        ])
        .arg(&kc)
        .arg("--url-out")
        .arg(&url_file)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .next_line()
        .await
        .unwrap()
        .expect("the binary prints its URL");
    assert!(url.starts_with("https://127.0.0.1:"));
    assert_eq!(std::fs::read_to_string(&url_file).unwrap().trim(), url);
    let yaml = std::fs::read_to_string(&kc).unwrap();
    let client = client_from_kubeconfig(&yaml).await;
    let n = Api::<ConfigMap>::namespaced(client.clone(), "shop")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(n >= 3);
    // Debug endpoints, through the same TLS client.
    let req = |m: &str, path: &str, body: &str| {
        http::Request::builder()
            .method(m)
            .uri(path)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let log = client
        .request_text(req("GET", "/kube-sim/v1/requests", ""))
        .await
        .unwrap();
    assert!(log.contains("\"verb\":\"list\""), "{log}");
    let body =
        r#"{"namespace":"shop","kind":"deployment","name":"api","reason":"ImagePullBackOff"}"#;
    client
        .request_text(req("POST", "/kube-sim/v1/fail", body))
        .await
        .unwrap();
    // The injected failure shows on the workload.
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "shop");
    let failed = |d: Option<&k8s_openapi::api::apps::v1::Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "Available" && c.status == "False")
            })
    };
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        kube::runtime::wait::await_condition(deployments, "api", failed),
    )
    .await
    .expect("the api Deployment reports the failure")
    .unwrap();
    match client
        .request_text(req("GET", "/no/such/path", ""))
        .await
        .unwrap_err()
    {
        kube::Error::Api(s) => assert_eq!((s.code, s.reason.as_str()), (404, "NotFound")),
        other => panic!("expected a 404 Status, got {other:?}"),
    }
    child.kill().await.unwrap();
}
