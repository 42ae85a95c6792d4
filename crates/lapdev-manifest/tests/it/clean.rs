//! The clean transform: golden files in `tests/golden/clean/`.

use lapdev_manifest::{ManifestObject, clean};

use crate::golden::{check_dir, golden_dir, parse_yaml, to_yaml};

#[test]
fn golden() {
    let cases = check_dir("clean", |_, objects| {
        let cleaned: Vec<ManifestObject> = objects.into_iter().map(clean).collect();
        to_yaml(&cleaned)
    });
    assert!(cases >= 5, "golden cases missing");
}

#[test]
fn clean_is_idempotent_on_every_golden_input() {
    for dir in ["clean", "environment", "resolve", "diff", "catalog"] {
        for entry in std::fs::read_dir(golden_dir(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.to_string_lossy().into_owned();
            if ![".in.yaml", ".old.yaml", ".new.yaml"]
                .iter()
                .any(|s| name.ends_with(s))
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for object in parse_yaml(&text) {
                let once = clean(object);
                assert_eq!(clean(once.clone()), once, "{}", path.display());
            }
        }
    }
}
