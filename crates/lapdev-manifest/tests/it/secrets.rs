//! The Secret policy and filling redacted values: data tables.

use expect_test::{Expect, expect};
use k8s_openapi::api::core::v1::Secret;
use lapdev_manifest::secrets::{SecretOutcome, apply_policy, fill_redacted, required_values};
use lapdev_manifest::{ManifestObject, SecretPolicy, SecretValues};
use serde_json::json;

use crate::golden::value_to_yaml;

fn secret(namespace: &str, name: &str, data: serde_json::Value) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": data,
    }))
    .unwrap()
}

/// base64 of "v1", "v2", "v3".
fn db() -> Secret {
    secret(
        "shop",
        "db",
        json!({"user": "djE=", "password": "djI=", "url": "djM="}),
    )
}

fn check(policy: serde_json::Value, input: Secret, expect: Expect) {
    let policy: SecretPolicy = serde_json::from_value(policy).unwrap();
    let actual = match apply_policy(&input, &policy) {
        SecretOutcome::Excluded => "excluded\n".to_string(),
        SecretOutcome::Kept {
            secret,
            redacted_keys,
        } => {
            let mut value = serde_json::to_value(&secret).unwrap();
            value["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("namespace");
            format!("redacted: {redacted_keys:?}\n{}", value_to_yaml(&value))
        }
    };
    expect.assert_eq(&actual);
}

#[test]
fn default_copies_everything() {
    check(
        json!({}),
        db(),
        expect![[r#"
            redacted: []
            apiVersion: v1
            data:
              password: djI=
              url: djM=
              user: djE=
            kind: Secret
            metadata:
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn redact_a_whole_secret() {
    check(
        json!({"rules": [{"secret": "db", "action": "redact"}]}),
        db(),
        expect![[r#"
            redacted: ["password", "url", "user"]
            apiVersion: v1
            kind: Secret
            metadata:
              annotations:
                lapdev.io/redacted-keys: password,url,user
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn redact_one_key_copy_the_rest() {
    check(
        json!({"rules": [{"secret": "db", "key": "password", "action": "redact"}]}),
        db(),
        expect![[r#"
            redacted: ["password"]
            apiVersion: v1
            data:
              url: djM=
              user: djE=
            kind: Secret
            metadata:
              annotations:
                lapdev.io/redacted-keys: password
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn key_rule_beats_secret_rule_beats_default() {
    check(
        json!({"default": "exclude", "rules": [
            {"secret": "db", "action": "redact"},
            {"secret": "db", "key": "user", "action": "copy"},
            {"secret": "db", "key": "url", "action": "exclude"},
        ]}),
        db(),
        expect![[r#"
            redacted: ["password"]
            apiVersion: v1
            data:
              user: djE=
            kind: Secret
            metadata:
              annotations:
                lapdev.io/redacted-keys: password
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn exclude_a_whole_secret() {
    check(
        json!({"rules": [{"secret": "db", "action": "exclude"}]}),
        db(),
        expect!["excluded\n"],
    );
    // Excluding every key one by one excludes the Secret too.
    check(
        json!({"default": "exclude", "rules": [{"secret": "other", "action": "copy"}]}),
        db(),
        expect!["excluded\n"],
    );
    // An empty Secret follows the Secret-level action.
    check(
        json!({"default": "exclude"}),
        secret("shop", "empty", json!({})),
        expect!["excluded\n"],
    );
}

#[test]
fn excluded_secret_with_one_key_kept() {
    check(
        json!({"rules": [{"secret": "db", "action": "exclude"}, {"secret": "db", "key": "url", "action": "copy"}]}),
        db(),
        expect![[r#"
            redacted: []
            apiVersion: v1
            data:
              url: djM=
            kind: Secret
            metadata:
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn namespace_specific_rule_wins() {
    let policy = json!({"rules": [
        {"secret": "db", "action": "redact"},
        {"namespace": "shop", "secret": "db", "action": "copy"},
    ]});
    check(
        policy.clone(),
        db(),
        expect![[r#"
            redacted: []
            apiVersion: v1
            data:
              password: djI=
              url: djM=
              user: djE=
            kind: Secret
            metadata:
              name: db
            type: Opaque
        "#]],
    );
    check(
        policy,
        secret("billing", "db", json!({"k": "djE="})),
        expect![[r#"
            redacted: ["k"]
            apiVersion: v1
            kind: Secret
            metadata:
              annotations:
                lapdev.io/redacted-keys: k
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn string_data_cannot_leak_past_redaction() {
    let mut input = db();
    input.string_data = Some([("token".to_string(), "plain".to_string())].into());
    check(
        json!({"rules": [{"secret": "db", "key": "token", "action": "redact"}]}),
        input,
        expect![[r#"
            redacted: ["token"]
            apiVersion: v1
            data:
              password: djI=
              url: djM=
              user: djE=
            kind: Secret
            metadata:
              annotations:
                lapdev.io/redacted-keys: token
              name: db
            type: Opaque
        "#]],
    );
}

#[test]
fn applying_twice_keeps_the_redacted_keys() {
    let policy: SecretPolicy = serde_json::from_value(
        json!({"rules": [{"secret": "db", "key": "password", "action": "redact"}]}),
    )
    .unwrap();
    let SecretOutcome::Kept { secret: once, .. } = apply_policy(&db(), &policy) else {
        panic!()
    };
    let SecretOutcome::Kept {
        secret: twice,
        redacted_keys,
    } = apply_policy(&once, &policy)
    else {
        panic!()
    };
    assert_eq!(once, twice);
    assert_eq!(redacted_keys, ["password"]);
}

fn redacted(keys: &str) -> Secret {
    let mut s = secret("shop", "db", json!({"user": "djE="}));
    s.metadata.annotations =
        Some([("lapdev.io/redacted-keys".to_string(), keys.to_string())].into());
    s
}

/// (secret, key, value) given by the user.
type Given = (&'static str, &'static str, &'static str);

#[test]
fn fill_redacted_values() {
    // (redacted keys, values given, result)
    let cases: &[(&str, &[Given], &str)] = &[
        (
            "password",
            &[("db", "password", "hunter2")],
            "ok password=hunter2 user=v1",
        ),
        (
            "password,token",
            &[("db", "password", "x")],
            "missing db/token",
        ),
        ("password,token", &[], "missing db/password, db/token"),
        (
            "password",
            &[("other", "password", "x")],
            "missing db/password",
        ),
        // Values for keys that are not redacted do not override copies.
        (
            "password",
            &[("db", "password", "p"), ("db", "user", "override")],
            "ok password=p user=v1",
        ),
        ("", &[], "ok user=v1"),
    ];
    for (keys, given, expected) in cases {
        let mut s = redacted(keys);
        let values = given
            .iter()
            .fold(SecretValues::new(), |v, (secret, key, value)| {
                v.with(secret, key, *value)
            });
        let actual = match fill_redacted(&mut s, &values) {
            Ok(()) => {
                assert!(s.metadata.annotations.is_none(), "marker removed");
                let data = s.data.unwrap_or_default();
                let pairs: Vec<String> = data
                    .iter()
                    .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(&v.0)))
                    .collect();
                format!("ok {}", pairs.join(" "))
            }
            Err(missing) => format!(
                "missing {}",
                missing
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        assert_eq!(&actual, expected, "keys {keys:?}");
    }
}

#[test]
fn required_values_lists_every_redacted_key() {
    let mut other = redacted("api-key");
    other.metadata.name = Some("stripe".into());
    let objects = [
        ManifestObject::Secret(redacted("token,password")),
        ManifestObject::Secret(other),
        ManifestObject::Secret(db()),
    ];
    let required: Vec<String> = required_values(&objects)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(required, ["db/password", "db/token", "stripe/api-key"]);
}

#[test]
fn secret_values_never_print_values() {
    let values = SecretValues::new().with("db", "password", "hunter2");
    assert_eq!(format!("{values:?}"), r#"SecretValues(["db/password"])"#);
    // On the wire, values are base64 like a Secret's data.
    assert_eq!(
        serde_json::to_string(&values).unwrap(),
        r#"{"db":{"password":"aHVudGVyMg=="}}"#
    );
}
