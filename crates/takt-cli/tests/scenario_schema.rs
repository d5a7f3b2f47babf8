//! The scenario files' JSON Schema: the committed `docs/scenario.schema.json` is what `takt
//! scenario schema` prints, and an independent validator (Python's jsonschema, installed by
//! scripts/setup.sh) accepts every shipped plant and refuses a broken one.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn takt(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_takt"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("takt runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// TOML as the JSON an editor's schema check sees: date-times as strings.
fn json_of(toml_value: toml::Value) -> serde_json::Value {
    use serde_json::Value;
    match toml_value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(json_of).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, json_of(v))).collect())
        }
    }
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(root().join("docs/scenario.schema.json")).expect("committed");
    assert_eq!(
        committed,
        takt(&["scenario", "schema"]),
        "docs/scenario.schema.json is stale: takt scenario schema > docs/scenario.schema.json"
    );
}

#[test]
fn an_independent_validator_accepts_the_shipped_plants_and_refuses_a_broken_one() {
    let python = root().join("target/tools-venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var("CI").is_err(),
            "{} is missing: scripts/setup.sh installs it",
            python.display()
        );
        eprintln!("skipped: no {} (run scripts/setup.sh)", python.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("takt-scenario-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut documents = Vec::new();
    for entry in std::fs::read_dir(root().join("scenarios")).expect("scenarios") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).expect("read");
            let value: toml::Value = toml::from_str(&text).expect("TOML");
            documents.push((path, json_of(value)));
        }
    }
    assert!(documents.len() >= 6);
    // A broken plant: a field that does not exist, and a duration that is not one.
    let mut broken = documents[0].1.clone();
    broken["stations"][0]["speed"] = serde_json::json!(2);
    broken["run"]["horizon"] = serde_json::json!("eight hours");
    let check = |name: &str, value: &serde_json::Value| -> bool {
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, value.to_string()).expect("write");
        let out = Command::new(&python)
            .args([
                "-c",
                "import json, sys, jsonschema\n\
                 schema = json.load(open(sys.argv[1]))\n\
                 jsonschema.Draft202012Validator.check_schema(schema)\n\
                 errors = list(jsonschema.Draft202012Validator(schema).iter_errors(json.load(open(sys.argv[2]))))\n\
                 [print(e.json_path, e.message) for e in errors]\n\
                 sys.exit(1 if errors else 0)",
            ])
            .arg(root().join("docs/scenario.schema.json"))
            .arg(&file)
            .output()
            .expect("python runs");
        eprintln!("{name}: {}", String::from_utf8_lossy(&out.stdout));
        out.status.success()
    };
    for (path, value) in &documents {
        let name = path
            .file_stem()
            .expect("name")
            .to_string_lossy()
            .to_string();
        assert!(check(&name, value), "{} does not validate", path.display());
    }
    assert!(!check("broken", &broken), "a broken plant validates");
}
