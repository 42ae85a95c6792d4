//! Tidy: every source file opens with a `//!` doc and stays under 800 lines;
//! the README documents the intentional differences.

#[test]
fn source_files_are_documented_and_small() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for dir in ["src", "tests/it", "benches"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with("//!"),
                "{} must open with a //! doc",
                path.display()
            );
            let lines = text.lines().count();
            assert!(
                lines <= 800,
                "{} has {lines} lines; split it",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 20);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("## Intentional differences from a real API server"));
}
