//! Test support: one function returns a client for an in-process kube-sim or
//! for the real cluster (`KUBE_TEST_REAL=1`), plus fixtures.

use std::sync::atomic::{AtomicU32, Ordering};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube_sim::KubeSim;
use serde_json::json;

/// True when the suite runs against a real cluster.
pub(crate) fn is_real() -> bool {
    std::env::var("KUBE_TEST_REAL").is_ok_and(|v| v == "1")
}

/// Skips a test that needs a kube-sim-only feature, printing why.
#[macro_export]
macro_rules! sim_only {
    ($why:expr) => {
        if $crate::support::is_real() {
            eprintln!("skipped under KUBE_TEST_REAL: {}", $why);
            return;
        }
    };
}

/// A client and a fresh namespace; `sim` is None against a real cluster.
pub(crate) struct TestEnv {
    pub(crate) client: kube::Client,
    pub(crate) sim: Option<KubeSim>,
    pub(crate) ns: String,
}

impl TestEnv {
    pub(crate) fn sim(&self) -> &KubeSim {
        self.sim.as_ref().expect("sim_only! guards this test")
    }

    pub(crate) fn api<K>(&self) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
        K::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.ns)
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_ns(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt = uuid_like();
    format!("{prefix}-{salt}-{n}")
}

fn uuid_like() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}",
        (t.as_nanos() as u64 ^ std::process::id() as u64) & 0xffffff
    )
}

/// The one way tests get a client: an in-process sim, or the real cluster.
pub(crate) async fn env() -> TestEnv {
    env_with(KubeSim::builder()).await
}

/// Like [`env`], with a configured sim builder (ignored against a real cluster).
pub(crate) async fn env_with(builder: kube_sim::KubeSimBuilder) -> TestEnv {
    let (client, sim) = if is_real() {
        (
            kube::Client::try_default()
                .await
                .expect("KUBE_TEST_REAL=1 needs a working kubeconfig"),
            None,
        )
    } else {
        let sim = builder.build().expect("kube-sim builds");
        (sim.client(), Some(sim))
    };
    let ns = unique_ns("t");
    let nsapi: Api<Namespace> = Api::all(client.clone());
    nsapi
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
        )
        .await
        .expect("create test namespace");
    TestEnv { client, sim, ns }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if is_real() {
            let client = self.client.clone();
            let ns = self.ns.clone();
            // Best effort cleanup on a real cluster.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        let _ = Api::<Namespace>::all(client)
                            .delete(&ns, &DeleteParams::default())
                            .await;
                    });
                }
            })
            .join();
        }
    }
}

/// A minimal ConfigMap.
/// The current resourceVersion of `api`'s collection (where a watch starts).
pub(crate) async fn list_rv(api: &Api<k8s_openapi::api::core::v1::ConfigMap>) -> String {
    api.list(&kube::api::ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap()
}

pub(crate) fn cm(name: &str, data: serde_json::Value) -> k8s_openapi::api::core::v1::ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": data})).unwrap()
}

/// A minimal Deployment.
pub(crate) fn deployment(name: &str, replicas: i32) -> k8s_openapi::api::apps::v1::Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [{"name": "main", "image": "nginx:1.27"}]}}
        }
    }))
    .unwrap()
}

/// The Status of a kube API error, or a panic.
pub(crate) fn status(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// A small deterministic PRNG (xorshift64*), so randomised tests replay.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn pick<T: Clone>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize].clone()
    }

    pub(crate) fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}
