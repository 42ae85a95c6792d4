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

fn http(url: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let mut cmd = std::process::Command::new("curl");
    cmd.args([
        "-sk",
        "-m",
        "10",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
        &format!("{url}{path}"),
    ]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "--data-binary", b]);
    }
    let out = cmd.output().expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
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
    let n = Api::<ConfigMap>::namespaced(client, "shop")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(n >= 3);
    let (url2, (code, body)) = {
        let u = url.clone();
        (
            u.clone(),
            tokio::task::spawn_blocking(move || http(&u, "GET", "/kube-sim/v1/requests", None))
                .await
                .unwrap(),
        )
    };
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"verb\":\"list\""), "{body}");
    let (code, body) = tokio::task::spawn_blocking(move || {
        http(&url2, "POST", "/kube-sim/v1/fail", Some(r#"{"namespace":"shop","kind":"deployment","name":"api","reason":"ImagePullBackOff"}"#))
    })
    .await
    .unwrap();
    assert_eq!(code, 200, "{body}");
    let u = url.clone();
    let (code, body) = tokio::task::spawn_blocking(move || http(&u, "GET", "/no/such/path", None))
        .await
        .unwrap();
    assert_eq!(code, 404);
    assert!(body.contains("\"kind\":\"Status\""), "{body}");
    child.kill().await.unwrap();
}
