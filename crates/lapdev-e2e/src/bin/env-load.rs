//! `env-load`: the environment benchmark (see this crate's README, "Environments").
//!
//! A source namespace of `--workloads` workloads (Deployments and a few
//! StatefulSets), each with its own ConfigMap, Secret and Service, is seeded
//! into a `kube-sim` process (simulator delay `--sim-delay-ms`, 0 by
//! default). `lapdev server` and `lapdev-kube-manager` run as processes, the
//! cluster connects, and a catalog of every workload is created. Then:
//!
//! 1. `--runs` times, one environment: API POST → all objects applied
//!    (`observed_generation` reaches `generation`), and → status `running`;
//!    the Kubernetes API requests kube-manager made for it, from kube-sim's
//!    request log, by verb and resource.
//! 2. `--concurrent` environments created at once: time until all are
//!    running, and the per-environment spread.
//! 3. CPU and RSS of the server and kube-manager (from `/proc`).
//!
//! Beside it, the named peer in the same run on the same kube-sim:
//! `kubectl apply --server-side` of the same objects into a fresh namespace,
//! then `kubectl wait` until every workload has its pod available; the same
//! counts from the request log (kubectl's user agent). Runs alternate
//! between the two. Loopback only; it stops by itself. Build with
//! `--release`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use lapdev_api::{ClusterStatus, Environment, EnvironmentStatus};
use lapdev_e2e::api::{Api, ORG};
use lapdev_e2e::kube_manager::{KubeManager, KubeManagerSetup};
use lapdev_e2e::kube_sim::{HARNESS_AGENT, KubeSim, Request};
use lapdev_e2e::procstat::{clock_ticks_per_second, cpu_time, reaped_children_cpu_time, rss_bytes};
use lapdev_e2e::server::{Server, Timing};
use lapdev_e2e::tls::TlsFiles;
use serde_json::{Value, json};
use tokio::process::Command;

/// The namespace of the seeded source workloads.
const SOURCE_NS: &str = "bench";
/// The target and source cluster's name in Lapdev.
const CLUSTER: &str = "bench";
const CATALOG: &str = "bench";
/// The user agent of the benchmark's own reads of kube-sim (not counted).
const PROBE_AGENT: &str = HARNESS_AGENT;
/// How often the probe looks at the cluster.
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// How often the probe looks at the cluster while a batch runs (each look
/// lists every Deployment and StatefulSet of the cluster).
const BATCH_PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long one environment (or one batch) may take before the run fails.
const PATIENCE: Duration = Duration::from_secs(300);

#[derive(Debug, Parser)]
#[command(
    name = "env-load",
    about = "Benchmark of environment creation (Lapdev vs kubectl apply --server-side)."
)]
struct Args {
    /// Workloads in the catalog (each with a ConfigMap, a Secret and a Service).
    #[arg(long, default_value_t = 50)]
    workloads: usize,
    /// How many of them are StatefulSets (the rest are Deployments).
    #[arg(long, default_value_t = 5)]
    statefulsets: usize,
    /// Sequential single-environment runs (after one unmeasured warm-up).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Environments created at once.
    #[arg(long, default_value_t = 20)]
    concurrent: usize,
    /// kube-sim's delay before a simulated Pod is Ready.
    #[arg(long, default_value_t = 0)]
    sim_delay_ms: u64,
    /// The kubectl binary of the peer.
    #[arg(long, env = "LAPDEV_TEST_KUBECTL", default_value = "/usr/bin/kubectl")]
    kubectl: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    lapdev_e2e::install_crypto_provider();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(&args))
}

// ---------------------------------------------------------------------------
// The seed: one source namespace of workloads with their dependencies.

fn is_stateful(args: &Args, i: usize) -> bool {
    i >= args.workloads - args.statefulsets.min(args.workloads)
}

/// Every object of the source namespace (not the Namespace itself), in
/// apply order: ConfigMaps, Secrets, Services, workloads.
fn source_objects(args: &Args, namespace: &str) -> Vec<Value> {
    let (mut configs, mut secrets, mut services, mut workloads) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..args.workloads {
        let name = format!("svc-{i:02}");
        let labels = json!({"app": name, "tier": "bench"});
        let meta = |n: String| json!({"name": n, "namespace": namespace, "labels": labels});
        configs.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(format!("{name}-config")),
            "data": {
                "LOG_LEVEL": "info", "PORT": "8080", "UPSTREAM": format!("http://svc-{:02}:80", (i + 1) % args.workloads),
                "FEATURE_FLAGS": "a,b,c", "app.properties": format!("name={name}\nthreads=8\ncache.size=256\n"),
            },
        }));
        secrets.push(json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": meta(format!("{name}-secret")),
            "type": "Opaque",
            "stringData": {"api-key": format!("key-{name}-0123456789"), "db-password": format!("pw-{name}")},
        }));
        let stateful = is_stateful(args, i);
        let mut service = json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta(name.clone()),
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        });
        if stateful {
            service["spec"]["clusterIP"] = json!("None");
        }
        services.push(service);
        let mut spec = json!({
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "tier": "bench"}},
                "spec": {"containers": [{
                    "name": "app",
                    "image": format!("registry.example.com/bench/{name}:1.0.{i}"),
                    "ports": [{"containerPort": 8080}],
                    "envFrom": [{"configMapRef": {"name": format!("{name}-config")}}],
                    "env": [
                        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": format!("{name}-secret"), "key": "api-key"}}},
                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("{name}-secret"), "key": "db-password"}}},
                    ],
                }]},
            },
        });
        let kind = if stateful {
            spec["serviceName"] = json!(name);
            "StatefulSet"
        } else {
            "Deployment"
        };
        workloads.push(json!({
            "apiVersion": "apps/v1", "kind": kind, "metadata": meta(name.clone()), "spec": spec,
        }));
    }
    [configs, secrets, services, workloads].concat()
}

/// Two Nodes for the simulator to place Pods on. (Not kube-sim's
/// `--sample-seed`: `--seed` files load before it, so this seed's Services
/// would take the fixed cluster IP of the sample's `kube-dns`.)
fn nodes() -> Vec<Value> {
    ["node-a", "node-b"]
        .into_iter()
        .map(|name| {
            let resources = json!({"cpu": "8", "memory": "32Gi", "pods": "1000"});
            json!({
                "apiVersion": "v1", "kind": "Node",
                "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
                "status": {
                    "capacity": resources, "allocatable": resources,
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                    "nodeInfo": {"kubeletVersion": "v1.33.0", "architecture": "amd64", "operatingSystem": "linux"},
                },
            })
        })
        .collect()
}

/// A `List` of Namespace `namespace` and `objects`, every namespaced one
/// moved into it, as a JSON file (kube-sim's seed and kubectl read it).
fn write_list(path: &Path, namespace: &str, objects: &[Value]) -> anyhow::Result<()> {
    let mut items =
        vec![json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})];
    for o in objects {
        let mut o = o.clone();
        if o["metadata"].get("namespace").is_some() {
            o["metadata"]["namespace"] = json!(namespace);
        }
        items.push(o);
    }
    let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
    Ok(std::fs::write(path, serde_json::to_vec(&list)?)?)
}

// ---------------------------------------------------------------------------
// kube-sim's request log: whose requests.

fn is_probe(r: &Request) -> bool {
    r.user_agent.as_deref() == Some(PROBE_AGENT)
}

fn is_kubectl(r: &Request) -> bool {
    r.user_agent
        .as_deref()
        .is_some_and(|ua| ua.starts_with("kubectl"))
}

/// Reads the cluster itself (kube-sim's API, user agent [`PROBE_AGENT`])
/// to see when every workload of a namespace has its pods available,
/// independently of Lapdev's status and of `kubectl wait`.
#[derive(Clone)]
struct Probe {
    http: reqwest::Client,
    url: String,
    /// Deployments plus StatefulSets.
    expected: usize,
}

type Probing = tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>;

impl Probe {
    /// Polls every `every` (two all-namespace lists) until `count`
    /// namespaces that `want` are available; the task ends with each one's
    /// time since `t0`.
    fn spawn(
        &self,
        want: impl Fn(&str) -> bool + Send + 'static,
        count: usize,
        t0: Instant,
        every: Duration,
    ) -> Probing {
        let probe = self.clone();
        tokio::spawn(async move {
            let mut done: BTreeMap<String, Duration> = BTreeMap::new();
            while done.len() < count {
                // Per namespace: (workloads seen, all available so far).
                let mut seen: BTreeMap<String, (usize, bool)> = BTreeMap::new();
                for kind in ["deployments", "statefulsets"] {
                    let url = format!("{}/apis/apps/v1/{kind}", probe.url);
                    let list: Value = probe.http.get(url).send().await?.json().await?;
                    for item in list["items"].as_array().into_iter().flatten() {
                        let ns = item["metadata"]["namespace"].as_str().unwrap_or_default();
                        if !want(ns) || done.contains_key(ns) {
                            continue;
                        }
                        let desired = item["spec"]["replicas"].as_i64().unwrap_or(1);
                        let have = item["status"]["availableReplicas"].as_i64().unwrap_or(0);
                        let entry = seen.entry(ns.to_string()).or_insert((0, true));
                        entry.0 += 1;
                        entry.1 &= have >= desired;
                    }
                }
                let now = t0.elapsed();
                for (ns, (n, ok)) in seen {
                    if ok && n == probe.expected {
                        done.insert(ns, now);
                    }
                }
                if now > PATIENCE {
                    bail!("only {} of {count} namespaces became available", done.len());
                }
                tokio::time::sleep(every).await;
            }
            Ok(done.into_values().collect())
        })
    }

    /// Polls namespace `ns` every [`PROBE_EVERY`].
    fn one(&self, ns: &str, t0: Instant) -> Probing {
        let ns = ns.to_string();
        self.spawn(move |n| n == ns, 1, t0, PROBE_EVERY)
    }
}

async fn probed(task: Option<Probing>) -> anyhow::Result<Option<Duration>> {
    match task {
        Some(task) => Ok(task.await??.first().copied()),
        None => Ok(None),
    }
}

// ---------------------------------------------------------------------------
// The REST calls of the benchmark.

/// The organization's part of the REST API, through the harness's client.
struct Rest<'a>(&'a Api);

impl Rest<'_> {
    /// Sends the request to `/api/v1/orgs/{ORG}{path}`; fails unless the
    /// answer is `want`.
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> anyhow::Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        let (status, answer) = self
            .0
            .call(method.clone(), &format!("/orgs/{ORG}{path}"), body.as_ref())
            .await;
        if status != want {
            bail!("{method} {path}: HTTP {status}: {answer}");
        }
        Ok(answer)
    }

    async fn create_env(&self, name: &str) -> anyhow::Result<Environment> {
        let body =
            json!({"name": name, "catalog": CATALOG, "cluster": CLUSTER, "kind": "personal"});
        Ok(serde_json::from_value(
            self.call("POST", "/environments", Some(body), 201).await?,
        )?)
    }

    /// The environment once its revision differs from `after` (long-poll);
    /// `None` once it is gone.
    async fn next_env(&self, name: &str, after: u64) -> anyhow::Result<Option<Environment>> {
        let path = format!("/environments/{name}?after={after}&wait_secs=20");
        match self.call("GET", &path, None, 200).await {
            Ok(env) => Ok(Some(serde_json::from_value(env)?)),
            Err(e) if e.to_string().contains("HTTP 404") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the environment and waits until it is gone.
    async fn delete_env(&self, name: &str) -> anyhow::Result<()> {
        let path = format!("/environments/{name}");
        let env: Environment =
            serde_json::from_value(self.call("DELETE", &path, None, 202).await?)?;
        let (mut rev, t) = (env.revision, Instant::now());
        while let Some(env) = self.next_env(name, rev).await? {
            rev = env.revision;
            if t.elapsed() > PATIENCE {
                bail!("environment {name} was not deleted in {PATIENCE:?}");
            }
        }
        Ok(())
    }
}

/// What one environment creation took, seen from the client.
#[derive(Debug, Clone, Copy, Default)]
struct Took {
    /// POST (or `kubectl apply` start) → every object applied.
    applied: Duration,
    /// POST → running (every workload's pod available), as the client
    /// learns it: Lapdev's status, or `kubectl wait` returning.
    running: Duration,
    /// Start → every workload available in the cluster, as the probe saw
    /// it (sequential runs only).
    available: Option<Duration>,
}

/// Creates environment `name` and follows it (long-poll) until running,
/// watching the cluster with `probe` if given. Returns the timings and the
/// namespace.
async fn lapdev_env(
    rest: &Rest<'_>,
    name: &str,
    probe: Option<&Probe>,
) -> anyhow::Result<(Took, String)> {
    let t0 = Instant::now();
    let mut env = rest.create_env(name).await?;
    let namespace = env.summary.namespace.clone();
    let probing = probe.map(|p| p.one(&namespace, t0));
    let mut applied = None;
    loop {
        if applied.is_none() && env.observed_generation >= Some(env.generation) {
            applied = Some(t0.elapsed());
        }
        match env.summary.status {
            EnvironmentStatus::Running if applied.is_some() => break,
            EnvironmentStatus::Failed => bail!(
                "environment {name} failed: {}",
                env.summary.message.unwrap_or_default()
            ),
            _ => {}
        }
        if t0.elapsed() > PATIENCE {
            bail!(
                "environment {name} is still {} after {PATIENCE:?}",
                env.summary.status
            );
        }
        env = rest
            .next_env(name, env.revision)
            .await?
            .with_context(|| format!("environment {name} vanished"))?;
    }
    let running = t0.elapsed();
    Ok((
        Took {
            applied: applied.unwrap_or(running),
            running,
            available: probed(probing).await?,
        },
        namespace,
    ))
}

// ---------------------------------------------------------------------------
// The peer: kubectl.

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    cache_dir: PathBuf,
    dir: PathBuf,
}

impl Kubectl {
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache_dir)
            .kill_on_drop(true);
        cmd
    }

    async fn run(&self, what: &str, mut cmd: Command) -> anyhow::Result<()> {
        let out = cmd
            .output()
            .await
            .with_context(|| format!("running {what}"))?;
        if !out.status.success() {
            bail!(
                "{what} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// `kubectl apply --server-side` of the objects into a new namespace
    /// `ns`, then `kubectl wait` until every workload has its pod available.
    async fn env(
        &self,
        objects: &[Value],
        ns: &str,
        probe: Option<&Probe>,
    ) -> anyhow::Result<Took> {
        let file = self.dir.join(format!("{ns}.json"));
        write_list(&file, ns, objects)?;
        let t0 = Instant::now();
        let probing = probe.map(|p| p.one(ns, t0));
        let mut apply = self.command();
        apply
            .args(["apply", "--server-side", "--validate=false", "-f"])
            .arg(&file);
        self.run(&format!("kubectl apply into {ns}"), apply).await?;
        let applied = t0.elapsed();
        let mut wait = self.command();
        wait.args(["wait", "deployments,statefulsets", "--all", "-n", ns])
            .arg("--for=jsonpath={.status.availableReplicas}=1")
            .arg(format!("--timeout={}s", PATIENCE.as_secs()));
        self.run(&format!("kubectl wait in {ns}"), wait).await?;
        let running = t0.elapsed();
        Ok(Took {
            applied,
            running,
            available: probed(probing).await?,
        })
    }

    async fn delete_namespace(&self, ns: &str) -> anyhow::Result<()> {
        let mut cmd = self.command();
        cmd.args(["delete", "namespace", ns, "--wait=true"])
            .arg(format!("--timeout={}s", PATIENCE.as_secs()));
        self.run(&format!("kubectl delete namespace {ns}"), cmd)
            .await
    }
}

// ---------------------------------------------------------------------------
// The benchmark.

/// CPU time of the server, kube-manager, kube-sim and the kubectl runs
/// (this process's reaped children: the others outlive the measurement).
#[derive(Debug, Clone, Copy)]
struct Cpu([Duration; 4]);

impl Cpu {
    fn read(pids: &Pids) -> Cpu {
        Cpu([
            cpu_time(pids.server),
            cpu_time(pids.manager),
            cpu_time(pids.sim),
            reaped_children_cpu_time(),
        ])
    }

    fn since(self, before: Cpu) -> Cpu {
        Cpu(std::array::from_fn(|i| {
            self.0[i].saturating_sub(before.0[i])
        }))
    }
}

struct Pids {
    server: u32,
    manager: u32,
    sim: u32,
}

/// One side's measurements (Lapdev or the peer).
#[derive(Default)]
struct Side {
    runs: Vec<Took>,
    /// Requests per sequential run, by `verb resource`.
    requests: Vec<BTreeMap<String, usize>>,
    /// CPU per sequential run: (client side, kube-sim).
    cpu: Vec<(Duration, Duration)>,
    batch_total: Duration,
    batch: Vec<Took>,
    batch_requests: BTreeMap<String, usize>,
    /// Start → each namespace of the batch available in the cluster.
    batch_available: Vec<Duration>,
    batch_cpu: (Duration, Duration),
    /// Environments of the batch applied more than once.
    batch_reapplied: usize,
}

struct Setup<'a> {
    args: &'a Args,
    sim: &'a KubeSim,
    rest: &'a Rest<'a>,
    kubectl: &'a Kubectl,
    objects: &'a [Value],
    pids: &'a Pids,
    probe: &'a Probe,
}

async fn bench(args: &Args) -> anyhow::Result<()> {
    if args.workloads == 0 || args.concurrent == 0 {
        bail!("--workloads and --concurrent must be at least 1");
    }
    if !lapdev_e2e::bins::profile_dir().ends_with("release") {
        eprintln!("WARNING: not a release build; figures are not representative");
    }
    let dir = tempfile::tempdir()?;
    let objects = source_objects(args, SOURCE_NS);
    let seed = dir.path().join("seed.json");
    write_list(&seed, SOURCE_NS, &[nodes(), objects.clone()].concat())?;
    let sim = KubeSim::start_with(dir.path(), |cmd| {
        cmd.arg("--seed")
            .arg(&seed)
            .args(["--sim-delay-ms", &args.sim_delay_ms.to_string()])
            // Large enough that no watcher is ever told 410 in a run (each
            // relist would add requests to the counts).
            .args(["--history", "500000"]);
    })
    .await;

    let tls = TlsFiles::generate_in(dir.path());
    let timing = Timing {
        heartbeat_secs: 10,
        status_secs: 60,
    };
    let server = Server::start(&dir.path().join("server-data"), &tls, timing).await;
    let api = server.admin().await;
    let creds = api.create_cluster(CLUSTER).await;
    let setup = KubeManagerSetup {
        server_url: server.url(),
        ca_file: server.tls().ca.clone(),
        kubeconfig: sim.kubeconfig().to_path_buf(),
        token_file: dir.path().join("cluster.token"),
    };
    let km = KubeManager::start("kube-manager", &setup, &creds.token);
    api.wait_for_status(CLUSTER, ClusterStatus::Active, |_| true)
        .await;
    let rest = Rest(&api);
    let refs: Vec<Value> = (objects.iter())
        .filter(|o| o["apiVersion"] == "apps/v1")
        .map(|o| json!({"namespace": SOURCE_NS, "kind": o["kind"], "name": o["metadata"]["name"]}))
        .collect();
    let body = json!({"name": CATALOG, "cluster": CLUSTER, "workloads": refs});
    let catalog = rest.call("POST", "/catalogs", Some(body), 201).await?;
    let catalog_objects = catalog["objects"].as_array().map_or(0, Vec::len);
    eprintln!(
        "catalog: {catalog_objects} objects, warnings {}",
        catalog["warnings"]
    );

    let kubectl = Kubectl {
        bin: args.kubectl.clone(),
        kubeconfig: sim.kubeconfig().to_path_buf(),
        cache_dir: dir.path().join("kubectl-cache"),
        dir: dir.path().to_path_buf(),
    };
    let pids = Pids {
        server: server.proc().pid(),
        manager: km.proc().pid(),
        sim: sim.proc().pid(),
    };
    // Asked now (getconf is a child process), not during a measurement.
    clock_ticks_per_second();
    let probe = Probe {
        http: sim.http().clone(),
        url: sim.url().to_string(),
        expected: args.workloads,
    };
    let s = Setup {
        args,
        sim: &sim,
        rest: &rest,
        kubectl: &kubectl,
        objects: &objects,
        pids: &pids,
        probe: &probe,
    };
    let rss_idle = (rss_bytes(pids.server), rss_bytes(pids.manager));

    // Warm-up, not measured: kubectl's discovery cache, the server's and
    // kube-manager's first environment.
    eprintln!("warm-up");
    Who::Lapdev.create(&s, "warmup", None).await?;
    let events = rest
        .call("GET", "/environments/warmup/events", None, 200)
        .await?;
    let applied_event = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .find(|m| m.contains("applied"))
        .unwrap_or_default()
        .to_string();
    Who::Lapdev.remove(&s, "warmup").await?;
    Who::Kubectl.create(&s, "kc-warmup", None).await?;
    Who::Kubectl.remove(&s, "kc-warmup").await?;

    let mut lapdev = Side::default();
    let mut peer = Side::default();
    for run in 0..args.runs {
        // Alternate who goes first.
        if run % 2 == 0 {
            one(&s, Who::Lapdev, &mut lapdev, run).await?;
            one(&s, Who::Kubectl, &mut peer, run).await?;
        } else {
            one(&s, Who::Kubectl, &mut peer, run).await?;
            one(&s, Who::Lapdev, &mut lapdev, run).await?;
        }
    }
    let rss_after_runs = (rss_bytes(pids.server), rss_bytes(pids.manager));

    let rss_batch = batch(&s, Who::Lapdev, &mut lapdev).await?;
    batch(&s, Who::Kubectl, &mut peer).await?;

    report(
        args,
        catalog_objects,
        &applied_event,
        &lapdev,
        &peer,
        Rss {
            idle: rss_idle,
            after_runs: rss_after_runs,
            batch: rss_batch,
        },
    );
    Ok(()) // kube-manager, the server and kube-sim stop in that order
}

/// Requests in `log` about namespace `ns` from the client `kubectl` or not,
/// by `verb resource`; kubectl's discovery requests (no namespace) count
/// for kubectl.
fn count(log: &[Request], ns: &[&str], kubectl: bool) -> BTreeMap<String, usize> {
    let mut by = BTreeMap::new();
    for r in log
        .iter()
        .filter(|r| !is_probe(r) && is_kubectl(r) == kubectl)
    {
        let about_env = ns.iter().any(|n| r.touches(n));
        let discovery = kubectl && r.resource.is_none();
        if about_env || discovery {
            *by.entry(r.key()).or_default() += 1;
        }
        if r.status >= 500 {
            eprintln!("    NOTE: {} answered {}", r.key(), r.status);
        }
    }
    by
}

fn total(by: &BTreeMap<String, usize>) -> usize {
    by.values().sum()
}

/// After running: kube-manager's watches may still deliver the last events
/// and trigger one more status read; wait for that so it is counted.
const SETTLE: Duration = Duration::from_millis(500);

/// Lapdev or the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Lapdev,
    Kubectl,
}

impl Who {
    /// The environment name, or the peer's namespace, for `name`.
    fn name(self, name: &str) -> String {
        match self {
            Who::Lapdev => name.to_string(),
            Who::Kubectl => format!("kc-{name}"),
        }
    }

    /// Creates `name`; returns the timings and the namespace.
    async fn create(
        self,
        s: &Setup<'_>,
        name: &str,
        probe: Option<&Probe>,
    ) -> anyhow::Result<(Took, String)> {
        match self {
            Who::Lapdev => lapdev_env(s.rest, name, probe).await,
            Who::Kubectl => Ok((s.kubectl.env(s.objects, name, probe).await?, name.into())),
        }
    }

    async fn remove(self, s: &Setup<'_>, name: &str) -> anyhow::Result<()> {
        match self {
            Who::Lapdev => s.rest.delete_env(name).await,
            Who::Kubectl => s.kubectl.delete_namespace(name).await,
        }
    }

    /// (client side, kube-sim) CPU.
    fn cpu(self, c: Cpu) -> (Duration, Duration) {
        match self {
            Who::Lapdev => (c.0[0] + c.0[1], c.0[2]),
            Who::Kubectl => (c.0[3], c.0[2]),
        }
    }
}

/// One environment, measured alone, then removed.
async fn one(s: &Setup<'_>, who: Who, side: &mut Side, run: usize) -> anyhow::Result<()> {
    s.sim.clear_requests().await;
    let before = Cpu::read(s.pids);
    let name = who.name(&format!("run-{run}"));
    let (t, ns) = who.create(s, &name, Some(s.probe)).await?;
    if who == Who::Lapdev {
        tokio::time::sleep(SETTLE).await;
    }
    let cpu = Cpu::read(s.pids).since(before);
    let by = count(&s.sim.requests().await, &[&ns], who == Who::Kubectl);
    eprintln!("  {who:?} run {run}: {t:?}, {} requests", total(&by));
    side.runs.push(t);
    side.requests.push(by);
    side.cpu.push(who.cpu(cpu));
    who.remove(s, &name).await
}

/// `--concurrent` environments created at once, then removed; returns
/// the server's and kube-manager's RSS with all of them running.
async fn batch(s: &Setup<'_>, who: Who, side: &mut Side) -> anyhow::Result<(u64, u64)> {
    s.sim.clear_requests().await;
    let before = Cpu::read(s.pids);
    let names: Vec<String> = (0..s.args.concurrent)
        .map(|i| who.name(&format!("batch-{i:02}")))
        .collect();
    let prefix = match who {
        Who::Lapdev => "lapdev-batch-",
        Who::Kubectl => "kc-batch-",
    };
    let t0 = Instant::now();
    let want = move |ns: &str| ns.starts_with(prefix);
    let probing = s.probe.spawn(want, names.len(), t0, BATCH_PROBE_EVERY);
    let results = futures::future::join_all(names.iter().map(|n| who.create(s, n, None))).await;
    side.batch_total = t0.elapsed();
    side.batch_available = probing.await??;
    if who == Who::Lapdev {
        tokio::time::sleep(SETTLE).await;
    }
    let cpu = Cpu::read(s.pids).since(before);
    let rss = (rss_bytes(s.pids.server), rss_bytes(s.pids.manager));
    let mut namespaces = Vec::new();
    for r in results {
        let (t, ns) = r?;
        side.batch.push(t);
        namespaces.push(ns);
    }
    let ns: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    let log = s.sim.requests().await;
    side.batch_requests = count(&log, &ns, who == Who::Kubectl);
    // kube-manager binds its role once per apply: more than one binding in
    // a namespace means its environment was applied more than once.
    side.batch_reapplied = ns
        .iter()
        .filter(|n| {
            let bindings = |r: &&Request| r.touches(n) && r.key() == "patch rolebindings";
            log.iter().filter(bindings).count() > 1
        })
        .count();
    side.batch_cpu = who.cpu(cpu);
    eprintln!("  {who:?}: all {} in {:?}", names.len(), side.batch_total);
    let removed = futures::future::join_all(names.iter().map(|n| who.remove(s, n))).await;
    removed.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    Ok(rss)
}

// ---------------------------------------------------------------------------
// The report.

struct Rss {
    idle: (u64, u64),
    after_runs: (u64, u64),
    batch: (u64, u64),
}

/// Median, min, max.
fn stats<T: Ord + Copy + Default>(v: &[T]) -> (T, T, T) {
    let mut v = v.to_vec();
    v.sort();
    match (v.first(), v.last()) {
        (Some(min), Some(max)) => (v[v.len() / 2], *min, *max),
        _ => Default::default(),
    }
}

/// The value at quantile `q` (nearest rank).
fn quantile(v: &[Duration], q: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

fn spread(v: &[Duration]) -> String {
    let (med, min, max) = stats(v);
    format!("{} ({}–{})", ms(med), ms(min), ms(max))
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        let r = a / b;
        // Two significant digits below 0.1, so a 25× gap is not "0.0×".
        if r < 0.1 {
            format!("{r:.2}×")
        } else {
            format!("{r:.1}×")
        }
    } else {
        "n/a".into()
    }
}

fn ratio_d(a: Duration, b: Duration) -> String {
    ratio(a.as_secs_f64(), b.as_secs_f64())
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1024.0 * 1024.0))
}

/// The median request count per key over the runs.
fn median_counts(runs: &[BTreeMap<String, usize>]) -> BTreeMap<String, usize> {
    let mut keys: Vec<&String> = runs.iter().flat_map(|r| r.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let mut v: Vec<usize> = runs
                .iter()
                .map(|r| r.get(k).copied().unwrap_or(0))
                .collect();
            v.sort_unstable();
            (k.clone(), v[v.len() / 2])
        })
        .collect()
}

fn row(measure: &str, lapdev: String, peer: String, ratio: String) {
    println!("| {measure} | {lapdev} | {peer} | {ratio} |");
}

/// `p50 / max` of a batch.
fn p50_max(v: &[Duration]) -> String {
    format!("{} / {}", ms(quantile(v, 0.5)), ms(quantile(v, 1.0)))
}

fn report(args: &Args, catalog_objects: usize, event: &str, l: &Side, p: &Side, rss: Rss) {
    let runs = |s: &Side, f: fn(&Took) -> Option<Duration>| -> Vec<Duration> {
        s.runs.iter().filter_map(f).collect()
    };
    let batch =
        |s: &Side, f: fn(&Took) -> Duration| -> Vec<Duration> { s.batch.iter().map(f).collect() };
    let med = |v: &[Duration]| stats(v).0;
    let n = args.concurrent;
    let sts = args.statefulsets.min(args.workloads);
    println!(
        "env-load: catalog of {} workloads ({} Deployments, {sts} StatefulSets, each with a ConfigMap, a Secret and a Service) \
         = {catalog_objects} catalog objects; simulator delay {} ms; {} runs after a warm-up; {n} at once",
        args.workloads,
        args.workloads - sts,
        args.sim_delay_ms,
        args.runs,
    );
    println!("Lapdev's apply event: {event:?}\n");
    println!(
        "| measure (one environment: median (min–max) of {} runs) | Lapdev (API → server → kube-manager) | kubectl apply --server-side, kubectl wait | ratio Lapdev/kubectl |",
        args.runs
    );
    println!("| --- | --- | --- | --- |");
    type Pick = fn(&Took) -> Option<Duration>;
    let timed: [(&str, Pick); 3] = [
        ("start → all objects applied", |t| Some(t.applied)),
        (
            "start → every pod available in the cluster (probe polls every 20 ms)",
            |t| t.available,
        ),
        (
            "start → client knows: status running (Lapdev) / kubectl wait returned",
            |t| Some(t.running),
        ),
    ];
    for (what, f) in timed {
        let (a, b) = (runs(l, f), runs(p, f));
        row(what, spread(&a), spread(&b), ratio_d(med(&a), med(&b)));
    }
    let req = |s: &Side| stats(&s.requests.iter().map(total).collect::<Vec<_>>());
    let ((lr, lmin, lmax), (pr, pmin, pmax)) = (req(l), req(p));
    row(
        "Kubernetes API requests",
        format!("{lr} ({lmin}–{lmax})"),
        format!("{pr} ({pmin}–{pmax})"),
        ratio(lr as f64, pr as f64),
    );
    let per_object = |n: usize| format!("{:.2}", n as f64 / catalog_objects.max(1) as f64);
    row(
        "requests per catalog object",
        per_object(lr),
        per_object(pr),
        String::new(),
    );
    let cpu = |s: &Side, f: fn(&(Duration, Duration)) -> Duration| {
        med(&s.cpu.iter().map(f).collect::<Vec<_>>())
    };
    for (what, f) in [
        (
            "CPU: server + kube-manager (Lapdev) / kubectl processes",
            (|c| c.0) as fn(&(Duration, Duration)) -> Duration,
        ),
        ("CPU: kube-sim, the API server", |c| c.1),
    ] {
        let (a, b) = (cpu(l, f), cpu(p, f));
        row(what, ms(a), ms(b), ratio_d(a, b));
    }
    row(
        &format!("{n} at once: start → all running / all kubectl waits returned"),
        ms(l.batch_total),
        ms(p.batch_total),
        ratio_d(l.batch_total, p.batch_total),
    );
    for (what, f) in [
        (
            "all objects applied",
            (|t| t.applied) as fn(&Took) -> Duration,
        ),
        ("running / kubectl wait returned", |t| t.running),
    ] {
        let (a, b) = (batch(l, f), batch(p, f));
        row(
            &format!("{n} at once, per environment p50 / max: {what}"),
            p50_max(&a),
            p50_max(&b),
            ratio_d(quantile(&a, 0.5), quantile(&b, 0.5)),
        );
    }
    row(
        &format!(
            "{n} at once, per environment p50 / max: every pod available (probe polls every 250 ms)"
        ),
        p50_max(&l.batch_available),
        p50_max(&p.batch_available),
        ratio_d(
            quantile(&l.batch_available, 0.5),
            quantile(&p.batch_available, 0.5),
        ),
    );
    let (lb, pb) = (total(&l.batch_requests), total(&p.batch_requests));
    row(
        &format!("{n} at once: Kubernetes API requests"),
        lb.to_string(),
        pb.to_string(),
        ratio(lb as f64, pb as f64),
    );
    row(
        &format!("{n} at once: environments whose objects were applied more than once"),
        l.batch_reapplied.to_string(),
        "n/a".into(),
        String::new(),
    );
    row(
        &format!("{n} at once: CPU client side / kube-sim"),
        format!("{} / {}", ms(l.batch_cpu.0), ms(l.batch_cpu.1)),
        format!("{} / {}", ms(p.batch_cpu.0), ms(p.batch_cpu.1)),
        ratio_d(l.batch_cpu.0, p.batch_cpu.0),
    );
    row(
        &format!("RSS server; kube-manager: idle → after the runs → {n} running"),
        format!(
            "{} → {} → {}; {} → {} → {}",
            mib(rss.idle.0),
            mib(rss.after_runs.0),
            mib(rss.batch.0),
            mib(rss.idle.1),
            mib(rss.after_runs.1),
            mib(rss.batch.1)
        ),
        "n/a".into(),
        String::new(),
    );

    let (lc, pc) = (median_counts(&l.requests), median_counts(&p.requests));
    let mut keys: Vec<&String> = lc.keys().chain(pc.keys()).collect();
    keys.sort();
    keys.dedup();
    println!("\nKubernetes API requests for one environment (median of the runs):\n");
    println!("| request | Lapdev (kube-manager) | kubectl |\n| --- | --- | --- |");
    for k in keys {
        let get = |m: &BTreeMap<String, usize>| m.get(k).copied().unwrap_or(0);
        println!("| {k} | {} | {} |", get(&lc), get(&pc));
    }
    let by_verb = |m: &BTreeMap<String, usize>| {
        let mut v: BTreeMap<String, usize> = BTreeMap::new();
        for (k, n) in m {
            *v.entry(k.split(' ').next().unwrap_or_default().to_string())
                .or_default() += n;
        }
        v
    };
    println!(
        "\nby verb, one environment: Lapdev {:?}; kubectl {:?}",
        by_verb(&lc),
        by_verb(&pc)
    );
    println!(
        "by verb, {n} at once: Lapdev {:?}; kubectl {:?}",
        by_verb(&l.batch_requests),
        by_verb(&p.batch_requests)
    );
    let raw = |s: &Side| {
        let one = |t: &Took| {
            let available = t.available.map_or("-".into(), ms);
            format!("{}/{available}/{}", ms(t.applied), ms(t.running))
        };
        s.runs.iter().map(one).collect::<Vec<_>>().join(", ")
    };
    println!(
        "\nraw (applied/available/running): Lapdev {}; kubectl {}",
        raw(l),
        raw(p)
    );
}
