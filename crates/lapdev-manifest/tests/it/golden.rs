//! Golden-file plumbing: YAML in, YAML out, one `expect-test` file per case.

use std::path::{Path, PathBuf};

use expect_test::ExpectFile;
use lapdev_manifest::ManifestObject;
use serde_json::Value;

pub(crate) fn golden_dir(transform: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(transform)
}

/// Parses a multi-document YAML file into objects.
pub(crate) fn parse_yaml(text: &str) -> Vec<ManifestObject> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).expect("valid YAML");
    docs.into_iter()
        .filter(|d| !d.is_null())
        .map(|d| ManifestObject::from_value(d).expect("supported object"))
        .collect()
}

/// Renders objects as multi-document YAML, in the given order.
pub(crate) fn to_yaml(objects: &[ManifestObject]) -> String {
    objects
        .iter()
        .map(|o| value_to_yaml(&o.to_value()))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// YAML with map keys sorted, whatever serde_json's map order is.
pub(crate) fn value_to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(&sorted(value)).expect("YAML serialization")
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Runs `transform` on every `<case>.in.yaml` in `tests/golden/<dir>/` and
/// checks the result against `<case>.out.yaml`. Returns the number of cases,
/// so a test can assert the directory is not empty.
pub(crate) fn check_dir(
    dir: &str,
    transform: impl Fn(&str, Vec<ManifestObject>) -> String,
) -> usize {
    let dir = golden_dir(dir);
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".in.yaml"))
        .collect();
    inputs.sort();
    for input in &inputs {
        let text = std::fs::read_to_string(input).expect("readable golden input");
        let file_name = input.file_name().unwrap().to_string_lossy();
        let case = file_name.trim_end_matches(".in.yaml");
        let actual = transform(case, parse_yaml(&text));
        let expected = ExpectFile {
            path: dir.join(format!("{case}.out.yaml")),
            position: file!(),
        };
        expected.assert_eq(&actual);
    }
    inputs.len()
}
