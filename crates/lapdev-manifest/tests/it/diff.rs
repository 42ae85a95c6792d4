//! The per-object diff: data tables, plus a golden file for the wire form.

use expect_test::{Expect, expect};
use lapdev_manifest::diff;

use crate::golden::{golden_dir, parse_yaml, value_to_yaml};

fn check(old: &str, new: &str, expect: Expect) {
    let d = diff(&parse_yaml(old), &parse_yaml(new));
    expect.assert_eq(&d.to_string());
}

const CM: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata: {a: '1'}\n";

#[test]
fn identical_and_noise_only() {
    check(CM, CM, expect!["no changes\n"]);
    // Cluster bookkeeping is cleaned away before comparing.
    let noisy = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, uid: x, resourceVersion: '9', creationTimestamp: '2025-01-01T00:00:00Z', annotations: {kubectl.kubernetes.io/last-applied-configuration: '{}'}}\ndata: {a: '1'}\n";
    check(CM, noisy, expect!["no changes\n"]);
}

#[test]
fn added_removed_changed() {
    check(
        CM,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, labels: {tier: web}}\ndata: {a: '2', b: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: new, namespace: shop}\n",
        expect![[r#"
            ~ ConfigMap/shop/cfg
                /data/a: "1" -> "2"
                /data/b: (absent) -> "x"
                /metadata/labels: (absent) -> {"tier":"web"}
            + ConfigMap/shop/new
        "#]],
    );
    check(CM, "", expect!["- ConfigMap/shop/cfg\n"]);
}

#[test]
fn json_pointer_escapes_slash_and_tilde() {
    check(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, annotations: {example.com/a~b: '1'}}\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop, annotations: {example.com/a~b: '2'}}\n",
        expect![[r#"
            ~ ConfigMap/shop/cfg
                /metadata/annotations/example.com~1a~0b: "1" -> "2"
        "#]],
    );
}

#[test]
fn secret_values_are_never_shown() {
    let old = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: b2xk, user: dQ==, gone: eA==}\n";
    let new = "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\ndata: {password: bmV3, user: dQ==, added: eQ==}\ntype: Opaque\n";
    check(
        old,
        new,
        expect![[r#"
            ~ Secret/shop/db
                /data/added: (absent) -> (secret)
                /data/gone: (secret) -> (absent)
                /data/password: (secret) -> (secret)
                /type: (absent) -> "Opaque"
        "#]],
    );
    // A data map that appears as a whole is still listed key by key.
    check(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\n",
        new,
        expect![[r#"
            ~ Secret/shop/db
                /data/added: (absent) -> (secret)
                /data/password: (absent) -> (secret)
                /data/user: (absent) -> (secret)
                /type: (absent) -> "Opaque"
        "#]],
    );
    // ConfigMap data is not secret.
    check(
        CM,
        &CM.replace("'1'", "'2'"),
        expect![[r#"
        ~ ConfigMap/shop/cfg
            /data/a: "1" -> "2"
    "#]],
    );
}

#[test]
fn named_lists_match_by_name() {
    let deployment = |env: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api, namespace: shop}}\nspec:\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    spec:\n      containers:\n      - name: api\n        env: {env}\n"
        )
    };
    let old = deployment("[{name: A, value: '1'}, {name: B, value: '2'}, {name: C, value: '3'}]");
    // One added in the middle, one removed, one changed.
    check(
        &old,
        &deployment("[{name: A, value: '1'}, {name: NEW, value: 'n'}, {name: C, value: '4'}]"),
        expect![[r#"
            ~ Deployment/shop/api
                /spec/template/spec/containers/0/env/1/name: "B" -> "NEW"
                /spec/template/spec/containers/0/env/1/value: "2" -> "n"
                /spec/template/spec/containers/0/env/2/value: "3" -> "4"
        "#]],
    );
    check(
        &old,
        &deployment(
            "[{name: A, value: '1'}, {name: NEW, value: 'n'}, {name: B, value: '2'}, {name: C, value: '3'}]",
        ),
        expect![[r#"
            ~ Deployment/shop/api
                /spec/template/spec/containers/0/env/1: (absent) -> {"name":"NEW","value":"n"}
        "#]],
    );
    check(
        &old,
        &deployment("[{name: A, value: '1'}, {name: C, value: '3'}]"),
        expect![[r#"
            ~ Deployment/shop/api
                /spec/template/spec/containers/0/env/1: {"name":"B","value":"2"} -> (absent)
        "#]],
    );
    // A reorder is a change of the whole list: env order matters for $(VAR).
    check(
        &old,
        &deployment("[{name: C, value: '3'}, {name: A, value: '1'}]"),
        expect![[r#"
            ~ Deployment/shop/api
                /spec/template/spec/containers/0/env: [{"name":"A","value":"1"},{"name":"B","value":"2"},{"name":"C","value":"3"}] -> [{"name":"C","value":"3"},{"name":"A","value":"1"}]
        "#]],
    );
}

#[test]
fn wire_form_golden() {
    let dir = golden_dir("diff");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let d = diff(
        &parse_yaml(&read("sync.old.yaml")),
        &parse_yaml(&read("sync.new.yaml")),
    );
    let wire = serde_json::to_value(&d).unwrap();
    // The wire form round-trips, so kube-manager can send it and the server show it.
    let back: lapdev_manifest::ManifestDiff = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(back, d);
    expect_test::ExpectFile {
        path: dir.join("sync.out.txt"),
        position: file!(),
    }
    .assert_eq(&d.to_string());
    expect_test::ExpectFile {
        path: dir.join("sync.out.yaml"),
        position: file!(),
    }
    .assert_eq(&value_to_yaml(&wire));
}

#[test]
fn every_golden_input_has_no_diff_with_itself_or_its_cleaned_form() {
    for dir in ["clean", "environment", "resolve", "catalog"] {
        for entry in std::fs::read_dir(golden_dir(dir)).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".in.yaml") {
                continue;
            }
            let objects = parse_yaml(&std::fs::read_to_string(&path).unwrap());
            let cleaned: Vec<_> = objects
                .iter()
                .cloned()
                .map(lapdev_manifest::clean)
                .collect();
            assert!(diff(&objects, &objects).is_empty(), "{}", path.display());
            assert!(diff(&objects, &cleaned).is_empty(), "{}", path.display());
        }
    }
}
