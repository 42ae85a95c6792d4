//! The install manifest of a created cluster, applied with real `kubectl
//! apply -f` to kube-sim: namespace `lapdev`, ServiceAccount, RBAC, the
//! token Secret and the kube-manager Deployment, plus the
//! ValidatingAdmissionPolicy when kube-sim serves admissionregistration.k8s.io.

use std::path::Path;
use std::process::Output;

use lapdev_e2e::kube_sim::KubeSim;

use crate::World;

/// `kubectl` (`LAPDEV_TEST_KUBECTL`, default `/usr/bin/kubectl`).
fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    let bin = std::env::var("LAPDEV_TEST_KUBECTL").unwrap_or_else(|_| "/usr/bin/kubectl".into());
    std::process::Command::new(&bin)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "kubectl failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The YAML documents of `manifest` whose `apiVersion` starts with `group/`.
fn split_by_group(manifest: &str, group: &str) -> (String, String) {
    let (mut other, mut matching) = (Vec::new(), Vec::new());
    for doc in manifest.split("\n---") {
        let in_group = doc
            .lines()
            .any(|l| l.starts_with("apiVersion:") && l.contains(&format!("{group}/")));
        if in_group {
            matching.push(doc);
        } else {
            other.push(doc);
        }
    }
    (other.join("\n---"), matching.join("\n---"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_install_manifest_applies_cleanly_to_kube_sim() {
    const ADMISSION: &str = "admissionregistration.k8s.io";
    let w = World::start().await;
    let creds = w.api.create_cluster("prod").await;
    let manifest = w.api.install_manifest(&creds.token).await;
    let sim = KubeSim::start(&w.subdir("prod")).await;

    // Discovery decides whether the admission policy can be applied here.
    let served = kubectl(sim.kubeconfig(), &["api-versions"]);
    let admission_served = ok(&served).lines().any(|l| l.starts_with(ADMISSION));
    let (rest, admission) = split_by_group(&manifest, ADMISSION);
    assert!(
        admission.contains("kind: ValidatingAdmissionPolicy"),
        "the manifest carries the admission policy"
    );
    let to_apply = if admission_served {
        manifest.clone()
    } else {
        eprintln!(
            "NOTE: kube-sim does not serve {ADMISSION}; applying the manifest without its \
             ValidatingAdmissionPolicy and binding"
        );
        rest
    };
    let file = w.subdir("prod").join("kube-manager.yaml");
    std::fs::write(&file, to_apply).expect("write the manifest");
    let applied = ok(&kubectl(
        sim.kubeconfig(),
        &[
            "apply",
            "--validate=false",
            "-f",
            file.to_str().expect("a UTF-8 path"),
        ],
    ));
    for created in [
        "namespace/lapdev created",
        "serviceaccount/lapdev-kube-manager created",
        "secret/lapdev-kube-manager-token created",
        "deployment.apps/lapdev-kube-manager created",
    ] {
        assert!(applied.contains(created), "{created:?} in:\n{applied}");
    }
    assert!(
        applied.contains("clusterrole.rbac.authorization.k8s.io/")
            && applied.contains("rolebinding.rbac.authorization.k8s.io/"),
        "{applied}"
    );
    if admission_served {
        assert!(applied.contains("validatingadmissionpolicy"), "{applied}");
    }

    // The objects are there, the Secret holds the token, and a second apply changes nothing.
    let secret = ok(&kubectl(
        sim.kubeconfig(),
        &[
            "get",
            "secret",
            "-n",
            "lapdev",
            "lapdev-kube-manager-token",
            "-o",
            "json",
        ],
    ));
    let secret: serde_json::Value = serde_json::from_str(&secret).expect("a Secret");
    assert!(
        secret["data"].as_object().is_some_and(|d| !d.is_empty())
            || secret["stringData"]
                .as_object()
                .is_some_and(|d| !d.is_empty()),
        "{secret}"
    );
    let again = ok(&kubectl(
        sim.kubeconfig(),
        &[
            "apply",
            "--validate=false",
            "-f",
            file.to_str().expect("a UTF-8 path"),
        ],
    ));
    assert!(!again.contains("created"), "{again}");
    ok(&kubectl(
        sim.kubeconfig(),
        &["get", "deployment", "-n", "lapdev", "lapdev-kube-manager"],
    ));
}
