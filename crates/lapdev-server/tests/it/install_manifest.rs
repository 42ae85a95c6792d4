//! The kube-manager install manifest, parsed into k8s-openapi types (every
//! document must round-trip, so no field is misspelled or unknown) and
//! checked against the security model: each RBAC rule, who is bound to
//! what, the admission policy, the Secret and the Deployment's hardening.
//! Also: the token in the install URL never reaches the log.

use std::collections::BTreeMap;

use expect_test::{Expect, expect};
use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::TestServer;

#[derive(Default)]
struct Manifest {
    namespaces: Vec<Namespace>,
    service_accounts: Vec<ServiceAccount>,
    cluster_roles: BTreeMap<String, ClusterRole>,
    cluster_role_bindings: Vec<ClusterRoleBinding>,
    roles: Vec<Role>,
    role_bindings: Vec<RoleBinding>,
    policies: Vec<ValidatingAdmissionPolicy>,
    policy_bindings: Vec<ValidatingAdmissionPolicyBinding>,
    secrets: Vec<Secret>,
    deployments: Vec<Deployment>,
}

/// Parses `doc` as `T` and checks it serializes back to the same JSON.
fn typed<T: DeserializeOwned + serde::Serialize>(doc: &Value) -> T {
    let value: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{e}: {doc:#}"));
    assert_eq!(
        &serde_json::to_value(&value).unwrap(),
        doc,
        "a field was lost parsing {}",
        doc["kind"]
    );
    value
}

fn parse(yaml: &str) -> Manifest {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("valid multi-document YAML");
    let mut m = Manifest::default();
    for doc in &docs {
        match doc["kind"].as_str().unwrap() {
            "Namespace" => m.namespaces.push(typed(doc)),
            "ServiceAccount" => m.service_accounts.push(typed(doc)),
            "ClusterRole" => {
                let role: ClusterRole = typed(doc);
                m.cluster_roles
                    .insert(role.metadata.name.clone().unwrap(), role);
            }
            "ClusterRoleBinding" => m.cluster_role_bindings.push(typed(doc)),
            "Role" => m.roles.push(typed(doc)),
            "RoleBinding" => m.role_bindings.push(typed(doc)),
            "ValidatingAdmissionPolicy" => m.policies.push(typed(doc)),
            "ValidatingAdmissionPolicyBinding" => m.policy_bindings.push(typed(doc)),
            "Secret" => m.secrets.push(typed(doc)),
            "Deployment" => m.deployments.push(typed(doc)),
            other => panic!("unexpected kind {other} in the manifest"),
        }
    }
    m
}

/// One line per (group, resource): `group/resource: verbs [names]`.
fn rules(rules: &[PolicyRule]) -> String {
    let mut out = String::new();
    for r in rules {
        for group in r.api_groups.as_deref().unwrap_or_default() {
            for resource in r.resources.as_deref().unwrap_or_default() {
                let names = r
                    .resource_names
                    .as_ref()
                    .map(|n| format!(" {n:?}"))
                    .unwrap_or_default();
                out.push_str(&format!(
                    "{}/{resource}: {}{names}\n",
                    if group.is_empty() { "core" } else { group },
                    r.verbs.join(",")
                ));
            }
        }
    }
    out
}

#[track_caller]
fn check_rules(r: &[PolicyRule], expect: Expect) {
    expect.assert_eq(&rules(r));
}

const READ_RULES: Expect = expect![[r#"
    apps/deployments: get,list,watch
    apps/statefulsets: get,list,watch
    apps/daemonsets: get,list,watch
    apps/replicasets: get,list,watch
    core/configmaps: get,list,watch
    core/secrets: get,list,watch
    core/services: get,list,watch
    core/serviceaccounts: get,list,watch
    core/persistentvolumeclaims: get,list,watch
"#]];

fn is_kube_manager(subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>) -> bool {
    subjects.as_deref().is_some_and(|s| {
        s.len() == 1
            && s[0].kind == "ServiceAccount"
            && s[0].name == "lapdev-kube-manager"
            && s[0].namespace.as_deref() == Some("lapdev")
    })
}

/// What holds in both variants.
fn check_common(m: &Manifest, token: &str, server_url: &str) {
    assert_eq!(m.namespaces.len(), 1);
    assert_eq!(m.namespaces[0].metadata.name.as_deref(), Some("lapdev"));
    let sa = &m.service_accounts[..];
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0].metadata.namespace.as_deref(), Some("lapdev"));
    assert_eq!(sa[0].metadata.name.as_deref(), Some("lapdev-kube-manager"));

    // No rule anywhere has a wildcard verb, escalate or impersonate; `bind`
    // only on lapdev-environment by name.
    let all_rules = m
        .cluster_roles
        .values()
        .flat_map(|r| r.rules.clone().unwrap_or_default())
        .chain(
            m.roles
                .iter()
                .flat_map(|r| r.rules.clone().unwrap_or_default()),
        );
    for rule in all_rules {
        for verb in &rule.verbs {
            assert!(
                !["*", "escalate", "impersonate"].contains(&verb.as_str()),
                "{rule:?}"
            );
            if verb == "bind" {
                assert_eq!(
                    rule.resource_names.as_deref(),
                    Some(&["lapdev-environment".to_string()][..])
                );
                assert_eq!(rule.verbs, ["bind"]);
            }
        }
        assert!(
            !rule
                .api_groups
                .as_deref()
                .unwrap_or_default()
                .contains(&"*".into()),
            "{rule:?}"
        );
    }

    check_rules(
        m.cluster_roles["lapdev-kube-manager-cluster"]
            .rules
            .as_deref()
            .unwrap(),
        expect![[r#"
            core/nodes: get,list
            core/namespaces: get,list,watch,create,patch,delete
            rbac.authorization.k8s.io/rolebindings: get,create,patch,delete
            rbac.authorization.k8s.io/clusterroles: bind ["lapdev-environment"]
        "#]],
    );
    let env = m.cluster_roles["lapdev-environment"]
        .rules
        .as_deref()
        .unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(
        env[0].verbs,
        [
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection"
        ]
    );
    assert!(
        !env[0]
            .api_groups
            .as_deref()
            .unwrap()
            .contains(&"rbac.authorization.k8s.io".into()),
        "no RBAC objects in environments"
    );
    // lapdev-environment is never bound cluster-wide; every binding is to
    // kube-manager only.
    for b in &m.cluster_role_bindings {
        assert_ne!(b.role_ref.name, "lapdev-environment");
        assert_eq!(b.role_ref.kind, "ClusterRole");
        assert!(is_kube_manager(&b.subjects), "{b:?}");
    }
    for b in &m.role_bindings {
        assert!(is_kube_manager(&b.subjects), "{b:?}");
        assert_eq!(b.role_ref.kind, "Role");
    }

    // The admission policy and its binding.
    assert_eq!(m.policies.len(), 1);
    let spec = m.policies[0].spec.as_ref().unwrap();
    assert_eq!(spec.failure_policy.as_deref(), Some("Fail"));
    let conditions = spec.match_conditions.as_deref().unwrap();
    assert_eq!(
        conditions[0].expression,
        "request.userInfo.username == 'system:serviceaccount:lapdev:lapdev-kube-manager'"
    );
    let rules = &spec
        .match_constraints
        .as_ref()
        .unwrap()
        .resource_rules
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        rules.operations.as_deref().unwrap(),
        ["CREATE", "UPDATE", "DELETE"]
    );
    assert_eq!(rules.resources.as_deref().unwrap(), ["*/*"]);
    let validations = spec.validations.as_deref().unwrap();
    assert_eq!(validations.len(), 5);
    let label = lapdev_tunnel_proto::MANAGED_LABEL;
    let variables = serde_json::to_string(&spec.variables).unwrap();
    assert!(variables.contains(&format!("'{label}' in namespaceObject.metadata.labels")));
    assert!(variables.contains("request.namespace.startsWith('lapdev-')"));
    let binding = m.policy_bindings[0].spec.as_ref().unwrap();
    assert_eq!(
        binding.policy_name.as_deref(),
        m.policies[0].metadata.name.as_deref()
    );
    assert_eq!(binding.validation_actions.as_deref().unwrap(), ["Deny"]);

    // The Secret holds the token.
    assert_eq!(m.secrets.len(), 1);
    let secret = &m.secrets[0];
    assert_eq!(secret.metadata.namespace.as_deref(), Some("lapdev"));
    assert_eq!(secret.string_data.as_ref().unwrap()["token"], token);

    // The Deployment.
    assert_eq!(m.deployments.len(), 1);
    let d = &m.deployments[0];
    assert_eq!(d.metadata.namespace.as_deref(), Some("lapdev"));
    let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some("lapdev-kube-manager")
    );
    assert_eq!(pod.automount_service_account_token, Some(true));
    let pod_sc = pod.security_context.as_ref().unwrap();
    assert_eq!(pod_sc.run_as_non_root, Some(true));
    assert_eq!(
        pod_sc.seccomp_profile.as_ref().unwrap().type_,
        "RuntimeDefault"
    );
    assert_eq!(pod.containers.len(), 1);
    let c = &pod.containers[0];
    assert_eq!(
        c.image.as_deref(),
        Some(concat!(
            "ghcr.io/lapdev/lapdev-kube-manager:",
            env!("CARGO_PKG_VERSION")
        ))
    );
    let sc = c.security_context.as_ref().unwrap();
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.run_as_non_root, Some(true));
    assert_eq!(sc.privileged, Some(false));
    assert_eq!(
        sc.capabilities.as_ref().unwrap().drop.as_deref().unwrap(),
        ["ALL"]
    );
    assert_eq!(sc.seccomp_profile.as_ref().unwrap().type_, "RuntimeDefault");
    assert!(c.liveness_probe.is_some() && c.readiness_probe.is_some());
    let res = c.resources.as_ref().unwrap();
    assert!(res.requests.is_some() && res.limits.is_some());
    let env: BTreeMap<_, _> = c
        .env
        .as_deref()
        .unwrap()
        .iter()
        .map(|e| (e.name.as_str(), e))
        .collect();
    assert_eq!(env["LAPDEV_SERVER_URL"].value.as_deref(), Some(server_url));
    let from = env["LAPDEV_CLUSTER_TOKEN"]
        .value_from
        .as_ref()
        .unwrap()
        .secret_key_ref
        .as_ref()
        .unwrap();
    assert_eq!(
        (from.name.as_str(), from.key.as_str()),
        ("lapdev-kube-manager-token", "token")
    );
    assert_eq!(
        Some(from.name.as_str()),
        secret.metadata.name.as_deref(),
        "the env refers to the shipped Secret"
    );
}

async fn create_cluster(t: &TestServer) -> String {
    let (s, b) = t
        .post(
            "/api/v1/orgs/default/clusters",
            &t.admin_token,
            json!({"name": "dev"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    b["token"].as_str().unwrap().to_string()
}

async fn fetch(t: &TestServer, path: &str, bearer: Option<&str>) -> String {
    let mut req = t.client.get(t.url(path));
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn cluster_wide_read_variant() {
    let t = TestServer::start().await;
    let token = create_cluster(&t).await;
    let yaml = fetch(
        &t,
        &format!("/install/kube-manager.yaml?token={token}"),
        None,
    )
    .await;
    let m = parse(&yaml);
    check_common(&m, &token, &t.server.url());
    assert!(m.roles.is_empty() && m.role_bindings.is_empty());
    let names: Vec<_> = m.cluster_roles.keys().cloned().collect();
    assert_eq!(
        names,
        [
            "lapdev-environment",
            "lapdev-kube-manager-cluster",
            "lapdev-kube-manager-read"
        ]
    );
    check_rules(
        m.cluster_roles["lapdev-kube-manager-read"]
            .rules
            .as_deref()
            .unwrap(),
        READ_RULES,
    );
    let bound: Vec<_> = m
        .cluster_role_bindings
        .iter()
        .map(|b| b.role_ref.name.as_str())
        .collect();
    assert_eq!(
        bound,
        ["lapdev-kube-manager-read", "lapdev-kube-manager-cluster"]
    );
    assert_eq!(kube_manager_env(&m, "LAPDEV_SOURCE_NAMESPACES"), None);
}

#[tokio::test]
async fn source_namespace_variant_and_the_admin_endpoint() {
    let t = TestServer::start().await;
    create_cluster(&t).await;
    let yaml = fetch(
        &t,
        "/api/v1/orgs/default/clusters/dev/install-manifest?namespaces=shop,billing",
        Some(&t.admin_token),
    )
    .await;
    let m = parse(&yaml);
    check_common(&m, lapdev_api::TOKEN_PLACEHOLDER, &t.server.url());
    assert!(
        !m.cluster_roles.contains_key("lapdev-kube-manager-read"),
        "no cluster-wide read"
    );
    let scoped: Vec<_> = m
        .roles
        .iter()
        .map(|r| {
            check_rules(r.rules.as_deref().unwrap(), READ_RULES);
            r.metadata.namespace.clone().unwrap()
        })
        .collect();
    assert_eq!(scoped, ["billing", "shop"]);
    let bindings: Vec<_> = m
        .role_bindings
        .iter()
        .map(|b| {
            (
                b.metadata.namespace.clone().unwrap(),
                b.role_ref.name.clone(),
            )
        })
        .collect();
    assert_eq!(
        bindings,
        [
            ("billing".into(), "lapdev-kube-manager-read".into()),
            ("shop".into(), "lapdev-kube-manager-read".to_string())
        ]
    );
    let bound: Vec<_> = m
        .cluster_role_bindings
        .iter()
        .map(|b| b.role_ref.name.as_str())
        .collect();
    assert_eq!(
        bound,
        ["lapdev-kube-manager-cluster"],
        "nodes and namespaces stay cluster-scoped"
    );
    assert_eq!(
        kube_manager_env(&m, "LAPDEV_SOURCE_NAMESPACES").as_deref(),
        Some("billing,shop"),
        "kube-manager lists only the namespaces its Roles allow"
    );
}

fn kube_manager_env(m: &Manifest, name: &str) -> Option<String> {
    let pod = m.deployments[0].spec.as_ref()?.template.spec.as_ref()?;
    pod.containers[0]
        .env
        .as_deref()?
        .iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
}

// Current-thread runtime: the subscriber set for this thread sees every task.
#[tokio::test(flavor = "current_thread")]
async fn the_install_token_is_never_logged() {
    let capture = crate::log_capture::LogCapture::start();

    let t = TestServer::start().await;
    let token = create_cluster(&t).await;
    fetch(
        &t,
        &format!("/install/kube-manager.yaml?token={token}"),
        None,
    )
    .await;
    let refused = t
        .client
        .get(t.url("/install/kube-manager.yaml?token=lpc_wrong-token-value"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let metrics = fetch(&t, "/metrics", None).await;
    assert!(!metrics.contains(&token) && !metrics.contains("lpc_wrong"));

    let log = capture.text();
    assert!(
        log.contains("/install/kube-manager.yaml"),
        "requests are logged"
    );
    assert!(!log.contains(&token), "the token is in the log");
    assert!(
        !log.contains("lpc_wrong-token-value"),
        "a refused token is in the log"
    );
}
