//! kubectl transcript tests against a TLS listener (real `/usr/bin/kubectl`,
//! each command with a timeout and `--validate=false` where it validates).
//! Each asserts outputs and exit codes.

use std::path::PathBuf;
use std::process::Command;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use serde_json::{Value, json};

use crate::support::{TestEnv, cm, env, is_real};

/// `/usr/bin/kubectl` (v1.32 on our machines), else the first on PATH.
fn kubectl_bin() -> Option<PathBuf> {
    let usr = PathBuf::from("/usr/bin/kubectl");
    if usr.exists() {
        return Some(usr);
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|p| p.exists())
    })
}

struct Kubectl {
    bin: PathBuf,
    kubeconfig: PathBuf,
    ns: String,
    _dir: tempfile::TempDir,
    _served: Option<kube_sim::ServingHandle>,
}

/// The outcome of one command.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Kubectl {
    async fn new(e: &TestEnv) -> Option<Kubectl> {
        let Some(bin) = kubectl_bin() else {
            eprintln!("skipped: kubectl not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let (kubeconfig, served) = if is_real() {
            (
                PathBuf::from(std::env::var("KUBECONFIG").unwrap_or_else(|_| {
                    format!("{}/.kube/config", std::env::var("HOME").unwrap())
                })),
                None,
            )
        } else {
            let served = e
                .sim()
                .serve("127.0.0.1:0".parse().unwrap(), true)
                .await
                .unwrap();
            let path = dir.path().join("kubeconfig");
            served.write_kubeconfig(&path).unwrap();
            (path, Some(served))
        };
        Some(Kubectl {
            bin,
            kubeconfig,
            ns: e.ns.clone(),
            _dir: dir,
            _served: served,
        })
    }

    fn file(&self, name: &str, yaml: &str) -> String {
        let p = self._dir.path().join(name);
        std::fs::write(&p, yaml).unwrap();
        p.display().to_string()
    }

    /// Runs `kubectl` with a 30 s timeout in a blocking thread.
    async fn run(&self, args: &[&str]) -> Out {
        self.run_in(Some(&self.ns), args).await
    }

    /// `timeout SECS kubectl --kubeconfig … [-n ns] args…`.
    fn command(&self, secs: u32, ns: Option<&str>, args: &[&str]) -> Command {
        let mut cmd = Command::new("timeout");
        cmd.arg(secs.to_string())
            .arg(&self.bin)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig);
        if let Some(ns) = ns {
            cmd.arg("-n").arg(ns);
        }
        cmd.args(args);
        cmd
    }

    /// Runs `kubectl` with a 30 s timeout, in `ns` or without `-n`.
    async fn run_in(&self, ns: Option<&str>, args: &[&str]) -> Out {
        let mut cmd = self.command(30, ns, args);
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("kubectl runs"))
            .await
            .unwrap();
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }
    }

    async fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args).await;
        assert_eq!(o.code, 0, "kubectl {args:?} failed: {o:?}");
        o.stdout
    }
}

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  labels:\n    tier: web\ndata:\n  mode: dev\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_transcript() {
    let e = env().await;
    let Some(k) = Kubectl::new(&e).await else {
        return;
    };
    let f0 = k.file("cm0.yaml", &CM.replace("app-config", "created-config"));
    assert_eq!(
        k.ok(&["create", "--validate=false", "-f", &f0]).await,
        "configmap/created-config created"
    );
    let o = k.run(&["create", "--validate=false", "-f", &f0]).await;
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("AlreadyExists"), "{o:?}");
    let f1 = k.file("cm1.yaml", CM);
    assert_eq!(
        k.ok(&["apply", "--validate=false", "-f", &f1]).await,
        "configmap/app-config created"
    );
    assert_eq!(
        k.ok(&["get", "cm", "app-config", "-o", "jsonpath={.data.mode}"])
            .await,
        "dev"
    );
    let f2 = k.file("cm2.yaml", &CM.replace("mode: dev", "mode: prod"));
    assert_eq!(
        k.ok(&["apply", "--validate=false", "-f", &f2]).await,
        "configmap/app-config configured"
    );
    assert_eq!(
        k.ok(&["apply", "--validate=false", "-f", &f2]).await,
        "configmap/app-config unchanged"
    );
    assert_eq!(
        k.ok(&["get", "cm", "-l", "tier=web,!color", "-o", "name"])
            .await,
        "configmap/app-config\nconfigmap/created-config"
    );
    assert_eq!(
        k.ok(&["get", "cm", "-l", "tier in (db)", "-o", "name"])
            .await,
        ""
    );
    assert_eq!(
        k.ok(&[
            "get",
            "cm",
            "--field-selector",
            "metadata.name=app-config",
            "-o",
            "name"
        ])
        .await,
        "configmap/app-config"
    );
    assert_eq!(
        k.ok(&["label", "cm", "app-config", "color=blue"]).await,
        "configmap/app-config labeled"
    );
    assert_eq!(
        k.ok(&["annotate", "cm", "app-config", "note=hi"]).await,
        "configmap/app-config annotated"
    );
    assert_eq!(
        k.ok(&[
            "patch",
            "cm",
            "app-config",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"mode":"merge"}}"#
        ])
        .await,
        "configmap/app-config patched"
    );
    assert_eq!(
        k.ok(&[
            "patch",
            "cm",
            "app-config",
            "--type",
            "json",
            "-p",
            r#"[{"op":"replace","path":"/data/mode","value":"json"}]"#
        ])
        .await,
        "configmap/app-config patched"
    );
    let got: Value =
        serde_json::from_str(&k.ok(&["get", "cm", "app-config", "-o", "json"]).await).unwrap();
    assert_eq!(got["metadata"]["labels"]["color"], "blue");
    assert_eq!(got["metadata"]["annotations"]["note"], "hi");
    assert_eq!(got["data"]["mode"], "json");
    let f3 = k.file("cm3.yaml", &CM.replace("mode: dev", "mode: replaced"));
    assert_eq!(
        k.ok(&["replace", "--validate=false", "-f", &f3]).await,
        "configmap/app-config replaced"
    );
    let table = k.ok(&["get", "cm"]).await;
    assert!(table.contains("app-config"), "{table}");
    assert_eq!(
        k.ok(&["delete", "cm", "app-config"]).await,
        "configmap \"app-config\" deleted"
    );
    let o = k.run(&["get", "cm", "app-config"]).await;
    assert_eq!(o.code, 1);
    assert!(
        o.stderr.contains("NotFound") || o.stderr.contains("not found"),
        "{o:?}"
    );
}

const DEPLOY: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: main
          image: nginx:1.27
          env:
            - {name: A, value: "1"}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_transcript_server_side_apply_and_strategic_patch() {
    let e = env().await;
    let Some(k) = Kubectl::new(&e).await else {
        return;
    };
    let f = k.file("d.yaml", DEPLOY);
    assert_eq!(
        k.ok(&["apply", "--server-side", "--validate=false", "-f", &f])
            .await,
        "deployment.apps/web serverside-applied"
    );
    let smp = r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28","env":[{"name":"B","value":"2"}]}]}}}}"#;
    assert_eq!(
        k.ok(&["patch", "deployment", "web", "-p", smp]).await,
        "deployment.apps/web patched"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[*].image}"
        ])
        .await,
        "nginx:1.28"
    );
    assert_eq!(
        k.ok(&[
            "get",
            "deploy",
            "web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[*].name}"
        ])
        .await,
        "A B"
    );
    // Another manager changing replicas conflicts; forcing takes over.
    let f2 = k.file("d2.yaml", &DEPLOY.replace("replicas: 1", "replicas: 5"));
    let o = k
        .run(&[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager",
            "other",
            "-f",
            &f2,
        ])
        .await;
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("conflict"), "{o:?}");
    assert_eq!(
        k.ok(&[
            "apply",
            "--server-side",
            "--force-conflicts",
            "--validate=false",
            "--field-manager",
            "other",
            "-f",
            &f2
        ])
        .await,
        "deployment.apps/web serverside-applied"
    );
    assert_eq!(
        k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"])
            .await,
        "5"
    );
    // Invalid input is reported, not crashed on.
    let o = k
        .run(&[
            "patch",
            "deployment",
            "web",
            "--type",
            "merge",
            "-p",
            r#"{"spec":{"selector":{"matchLabels":{"app":"x"}}}}"#,
        ])
        .await;
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("Invalid") || o.stderr.contains("invalid"),
        "{o:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_wait_and_namespace_delete_transcript() {
    let e = env().await;
    let Some(k) = Kubectl::new(&e).await else {
        return;
    };
    let api: Api<ConfigMap> = e.api();
    api.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .unwrap();
    // get -w prints the current object, then changes; the timeout ends it.
    let mut cmd = k.command(5, Some(&k.ns), &["get", "cm", "-w", "-o", "name"]);
    let watcher = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    // wait --for=delete returns once the object is gone.
    let waiter = {
        let args = ["wait", "--for=delete", "cm/before", "--timeout=25s"];
        let mut cmd = k.command(30, Some(&k.ns), &args);
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
    };
    // Give both commands the chance to start watching; the outcome does not depend on it.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    api.create(&PostParams::default(), &cm("during", json!({})))
        .await
        .unwrap();
    api.delete("before", &DeleteParams::default())
        .await
        .unwrap();
    let w = waiter.await.unwrap();
    assert_eq!(
        w.status.code(),
        Some(0),
        "wait: {}",
        String::from_utf8_lossy(&w.stderr)
    );
    let out = watcher.await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("configmap/before"), "{text}");
    assert!(text.contains("configmap/during"), "{text}");
    // Typed generators send protobuf: kube-sim answers 415 and kubectl fails cleanly.
    if !is_real() {
        let o = k
            .run(&["create", "configmap", "gen", "--from-literal=a=b"])
            .await;
        assert_ne!(o.code, 0, "{o:?}");
        assert!(o.stderr.contains("unknown format"), "{o:?}");
    }
    // A file holding a Namespace and its content: apply, then delete -f
    // (the namespace's content is still there to delete, as on a real cluster).
    let extra = format!("{}-x", k.ns);
    let f = k.file(
        "ns.yaml",
        &format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {extra}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: {extra}\ndata:\n  a: b\n"),
    );
    let o = k
        .run_in(None, &["apply", "--validate=false", "-f", &f])
        .await;
    let want = format!("namespace/{extra} created\nconfigmap/inside created");
    assert_eq!((o.code, o.stdout.as_str()), (0, want.as_str()), "{o:?}");
    let o = k.run_in(None, &["delete", "-f", &f, "--timeout=25s"]).await;
    let want = format!("namespace \"{extra}\" deleted\nconfigmap \"inside\" deleted");
    assert_eq!((o.code, o.stdout.as_str()), (0, want.as_str()), "{o:?}");
    // delete ns --wait returns once the namespace and its content are gone.
    let ns = k.ns.clone();
    let o = k
        .run(&["delete", "ns", &ns, "--wait=true", "--timeout=25s"])
        .await;
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(o.stdout, format!("namespace \"{ns}\" deleted"));
    let o = k.run(&["get", "ns", &ns]).await;
    assert_eq!(o.code, 1, "{o:?}");
}
