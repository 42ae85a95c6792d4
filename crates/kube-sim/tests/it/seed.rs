//! Seeding (`--seed DIR` / `KubeSimBuilder::seed_dir`): multi-document YAML,
//! `List`s, Namespaces first; the shipped sample cluster. kube-sim only.

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Node, Secret, Service};
use kube::api::{Api, ListParams};
use kube_sim::KubeSim;

use crate::sim_only;

#[tokio::test]
async fn seed_dir_loads_multi_document_yaml() {
    sim_only!("seeding is a kube-sim feature");
    let dir = tempfile::tempdir().unwrap();
    // Content before its namespace in file order: namespaces are created first.
    std::fs::write(
        dir.path().join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: early\n  namespace: seeded\ndata: {a: b}\n---\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: seeded\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yml"),
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, namespace: seeded}\n  stringData: {k: v}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "not yaml").unwrap();
    let sim = KubeSim::builder().seed_dir(dir.path()).build().unwrap();
    let client = sim.client();
    Api::<ConfigMap>::namespaced(client.clone(), "seeded")
        .get("early")
        .await
        .unwrap();
    let s = Api::<Secret>::namespaced(client, "seeded")
        .get("s")
        .await
        .unwrap();
    assert!(s.data.unwrap().contains_key("k"));

    std::fs::write(
        dir.path().join("c.yaml"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
    )
    .unwrap();
    let err = KubeSim::builder().seed_dir(dir.path()).build().unwrap_err();
    assert!(err.to_string().contains("Widget"), "{err}");
    std::fs::write(dir.path().join("c.yaml"), "kind: [unclosed").unwrap();
    assert!(KubeSim::builder().seed_dir(dir.path()).build().is_err());
}

#[tokio::test]
async fn sample_seed_is_a_realistic_cluster() {
    sim_only!("the sample seed is kube-sim data");
    let sim = KubeSim::builder().sample_seed().build().unwrap();
    let c = sim.client();
    let nodes = Api::<Node>::all(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| {
        n.status
            .as_ref()
            .unwrap()
            .allocatable
            .as_ref()
            .unwrap()
            .contains_key("cpu")
    }));
    let names = |items: Vec<String>| items.join(",");
    let shop_deploys = Api::<Deployment>::namespaced(c.clone(), "shop")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(
        names(
            shop_deploys
                .items
                .iter()
                .map(|d| d.metadata.name.clone().unwrap())
                .collect()
        ),
        "api,web,worker"
    );
    let pg = Api::<StatefulSet>::namespaced(c.clone(), "shop")
        .get("postgres")
        .await
        .unwrap();
    assert!(pg.spec.unwrap().volume_claim_templates.is_some());
    let headless = Api::<Service>::namespaced(c.clone(), "shop")
        .get("postgres")
        .await
        .unwrap();
    assert_eq!(headless.spec.unwrap().cluster_ip.as_deref(), Some("None"));
    let api = Api::<Deployment>::namespaced(c.clone(), "shop")
        .get("api")
        .await
        .unwrap();
    let pod = api.spec.unwrap().template.spec.unwrap();
    let container = &pod.containers[0];
    assert!(
        container
            .env_from
            .as_ref()
            .unwrap()
            .iter()
            .any(|e| e.prefix.as_deref() == Some("SHOP_"))
    );
    assert!(pod.volumes.unwrap().iter().any(|v| v.projected.is_some()));
    assert!(pod.image_pull_secrets.is_some());
    let coredns = Api::<Deployment>::namespaced(c.clone(), "kube-system")
        .get("coredns")
        .await;
    assert!(coredns.is_ok());
    let billing = Api::<Deployment>::namespaced(c, "billing")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(billing.items.len(), 1);
}

/// A `--seed` directory loads before the sample seed, and no address it is
/// handed may be one a later file claims: Services that name their
/// clusterIP are created first, and handed-out addresses come from above
/// the static subrange (the sample's `kube-dns` claims 10.96.0.10).
#[tokio::test]
async fn seeded_services_never_take_a_claimed_cluster_ip() {
    sim_only!("seeding is a kube-sim feature");
    let dir = tempfile::tempdir().unwrap();
    let mut unnamed = String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: seeded}\n");
    for i in 0..12 {
        unnamed.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: seeded}}\nspec: {{ports: [{{port: 80}}]}}\n"
        ));
    }
    std::fs::write(dir.path().join("a.yaml"), unnamed).unwrap();
    // A later file claims the first address the allocator would hand out.
    std::fs::write(
        dir.path().join("b.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: claimed, namespace: seeded}\nspec: {clusterIP: 10.96.1.1, ports: [{port: 80}]}\n",
    )
    .unwrap();
    let sim = KubeSim::builder()
        .seed_dir(dir.path())
        .sample_seed()
        .build()
        .unwrap();
    let ip = |svc: Service| svc.spec.unwrap().cluster_ip.unwrap();
    let c = sim.client();
    let seeded = Api::<Service>::namespaced(c.clone(), "seeded");
    assert_eq!(ip(seeded.get("claimed").await.unwrap()), "10.96.1.1");
    let system = Api::<Service>::namespaced(c.clone(), "kube-system");
    assert_eq!(ip(system.get("kube-dns").await.unwrap()), "10.96.0.10");
    let kubernetes = Api::<Service>::namespaced(c, "default");
    assert_eq!(ip(kubernetes.get("kubernetes").await.unwrap()), "10.96.0.1");
    let mut handed_out: Vec<String> = seeded
        .list(&ListParams::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.metadata.name.as_deref() != Some("claimed"))
        .map(ip)
        .collect();
    handed_out.sort();
    handed_out.dedup();
    assert_eq!(handed_out.len(), 12);
    assert!(
        handed_out.iter().all(|ip| !ip.starts_with("10.96.0.")),
        "{handed_out:?}"
    );
}
