//! kube-sim benchmarks (a measurement, not a timed test):
//! list of 10,000 objects (latency, bytes), watch fan-out of one change to
//! 100 watchers, create throughput, RSS with 100,000 objects.
//!
//! Run: `cargo bench -p kube-sim --bench kube_sim_bench`

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube_sim::KubeSim;
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"app": "bench", "shard": (name.len() % 7).to_string()}},
        "data": {"config.yaml": "key: value\nother: 12345\n", "name": name}
    }))
    .unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

async fn fill(api: &Api<ConfigMap>, n: usize, prefix: &str) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    let per = n / 8;
    for t in 0..8 {
        let api = api.clone();
        let prefix = prefix.to_string();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                api.create(&PostParams::default(), &cm(&format!("{prefix}-{t}-{i}")))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    println!("kube-sim benchmarks (release build, in-process kube::Client unless noted)");
    let rss0 = rss_kib();

    // Create throughput.
    let sim = KubeSim::builder().history(1_000).build().unwrap();
    let client = sim.client();
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let start = Instant::now();
    for i in 0..2_000 {
        api.create(&PostParams::default(), &cm(&format!("seq-{i}")))
            .await
            .unwrap();
    }
    let seq = start.elapsed();
    println!(
        "create, sequential: 2000 objects in {seq:?} = {:.0}/s",
        2000.0 / seq.as_secs_f64()
    );
    let conc = fill(&api, 8_000, "conc").await;
    println!(
        "create, 8 concurrent clients: 8000 objects in {conc:?} = {:.0}/s",
        8000.0 / conc.as_secs_f64()
    );

    // List of 10,000 objects.
    let mut times = Vec::new();
    let mut bytes = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let l = api.list(&ListParams::default()).await.unwrap();
        times.push(t.elapsed());
        assert_eq!(l.items.len(), 10_000);
    }
    {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let req = http::Request::get("/api/v1/namespaces/default/configmaps")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        let t = Instant::now();
        let resp = sim.service().oneshot(req).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        bytes = bytes.max(body.len());
        println!("list 10,000 (handler only, no decode): {:?}", t.elapsed());
    }
    println!(
        "list 10,000 via kube::Client (serialize + decode into ConfigMap): median {:?} over 10 runs; response {} bytes ({:.1} MiB)",
        median(times),
        bytes,
        bytes as f64 / 1048576.0
    );
    let t = Instant::now();
    let l = api
        .list(&ListParams::default().labels("shard=3"))
        .await
        .unwrap();
    println!(
        "list with label selector over 10,000 ({} match): {:?}",
        l.items.len(),
        t.elapsed()
    );

    // Same list over the TCP listener (plain HTTP).
    let served = sim
        .serve("127.0.0.1:0".parse().unwrap(), false)
        .await
        .unwrap();
    let kc = kube::config::Kubeconfig::from_yaml(&served.kubeconfig_yaml()).unwrap();
    let tcp = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap(),
    )
    .unwrap();
    let tapi: Api<ConfigMap> = Api::namespaced(tcp, "default");
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        tapi.list(&ListParams::default()).await.unwrap();
        times.push(t.elapsed());
    }
    println!(
        "list 10,000 via TCP 127.0.0.1 (HTTP/1.1): median {:?} over 5 runs",
        median(times)
    );

    // Watch fan-out: one change to 100 watchers.
    let rv = api
        .list(&ListParams::default().limit(1))
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut streams = Vec::new();
    for _ in 0..100 {
        streams.push(
            api.watch(&WatchParams::default(), &rv)
                .await
                .unwrap()
                .boxed(),
        );
    }
    let mut fan = Vec::new();
    for round in 0..20 {
        let t = Instant::now();
        api.patch(
            "seq-0",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"round": round.to_string()}})),
        )
        .await
        .unwrap();
        let waits = streams.iter_mut().map(|s| async move {
            loop {
                if let WatchEvent::Modified(_) = s.try_next().await.unwrap().unwrap() {
                    return;
                }
            }
        });
        futures::future::join_all(waits).await;
        fan.push(t.elapsed());
    }
    println!(
        "watch fan-out, 1 change → 100 watchers (all received): median {:?}, max {:?} over 20 rounds",
        median(fan.clone()),
        fan.iter().max().unwrap()
    );
    drop(streams);
    served.shutdown().await;
    drop(sim);

    // RSS with 100,000 objects.
    let sim = KubeSim::builder().history(1_000).build().unwrap();
    let api: Api<ConfigMap> = Api::namespaced(sim.client(), "default");
    let before = rss_kib();
    let took = fill(&api, 100_000, "big").await;
    let after = rss_kib();
    println!(
        "100,000 ConfigMaps: created in {took:?} ({:.0}/s); RSS {} MiB (process before: {} MiB, at start: {} MiB); ≈{} bytes/object",
        100_000.0 / took.as_secs_f64(),
        after / 1024,
        before / 1024,
        rss0 / 1024,
        (after.saturating_sub(before)) * 1024 / 100_000
    );
    let t = Instant::now();
    let l = api.list(&ListParams::default().limit(500)).await.unwrap();
    println!(
        "first page (limit=500) of 100,000: {:?} ({} items, remaining {:?})",
        t.elapsed(),
        l.items.len(),
        l.metadata.remaining_item_count
    );
    assert_eq!(sim.object_count(), 100_000 + 4);
}
