//! Building a catalog snapshot: golden files in `tests/golden/catalog/`.

use lapdev_manifest::{ManifestObject, SecretPolicy, build_catalog, diff};
use serde_json::json;

use crate::golden::{check_dir, golden_dir, parse_yaml, to_yaml};

fn policy() -> SecretPolicy {
    serde_json::from_value(json!({"rules": [
        {"secret": "db-credentials", "key": "password", "action": "redact"},
        {"secret": "stripe-keys", "action": "exclude"},
    ]}))
    .unwrap()
}

#[test]
fn golden() {
    let cases = check_dir("catalog", |_, objects| {
        let (workloads, available): (Vec<_>, Vec<_>) =
            objects.into_iter().partition(ManifestObject::is_workload);
        let snapshot = build_catalog(&workloads, &available, &policy());
        let mut header = String::new();
        for issue in &snapshot.issues {
            header += &format!("# {issue}\n");
        }
        for secret in &snapshot.excluded_secrets {
            header += &format!("# excluded: {secret}\n");
        }
        for value in &snapshot.required_values {
            header += &format!("# required value: {value}\n");
        }
        format!("{header}{}", to_yaml(&snapshot.objects))
    });
    assert!(cases >= 1);
}

#[test]
fn refresh_of_an_unchanged_source_shows_no_diff() {
    let text = std::fs::read_to_string(golden_dir("catalog").join("shop.in.yaml")).unwrap();
    let (workloads, available): (Vec<_>, Vec<_>) = parse_yaml(&text)
        .into_iter()
        .partition(ManifestObject::is_workload);
    let stored = build_catalog(&workloads, &available, &policy());
    let fresh = build_catalog(&workloads, &available, &policy());
    assert!(diff(&stored.objects, &fresh.objects).is_empty());
    // The stored snapshot crosses the tunnel as JSON and comes back equal.
    let wire = serde_json::to_string(&stored).unwrap();
    assert_eq!(
        serde_json::from_str::<lapdev_manifest::CatalogSnapshot>(&wire).unwrap(),
        stored
    );
    // And no redacted value is in it.
    assert!(!wire.contains("czNjcjN0"), "redacted password leaked");
    assert!(!wire.contains("c2tfbGl2ZV94eHg="), "excluded secret leaked");
}
