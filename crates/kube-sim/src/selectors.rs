//! Label and field selectors: parsing (the full label grammar `=`, `==`, `!=`,
//! `in`, `notin`, `key`, `!key`) and matching against a JSON object.
//! Pure functions, unit-tested as data tables.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Eq(String),
    NotEq(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LabelSelector(Vec<Requirement>);

impl LabelSelector {
    pub(crate) fn parse(input: &str) -> ApiResult<Self> {
        let mut p = Parser {
            s: input.as_bytes(),
            i: 0,
        };
        let mut reqs = Vec::new();
        p.ws();
        if p.done() {
            return Ok(LabelSelector(reqs));
        }
        loop {
            reqs.push(p.requirement().map_err(|m| {
                ApiError::bad(format!(
                    "unable to parse requirement: {m} in label selector {input:?}"
                ))
            })?);
            p.ws();
            if p.done() {
                break;
            }
            if !p.eat(b",") {
                return Err(ApiError::bad(format!(
                    "unable to parse requirement: expected ',' at position {} in label selector {input:?}",
                    p.i
                )));
            }
        }
        Ok(LabelSelector(reqs))
    }

    /// Builds a selector from a `matchLabels`/`matchExpressions` object.
    pub(crate) fn from_label_selector(sel: &Value) -> ApiResult<Self> {
        let mut reqs = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                reqs.push(Requirement {
                    key: k.clone(),
                    op: Op::Eq(v.as_str().unwrap_or_default().to_string()),
                });
            }
        }
        if let Some(exprs) = sel.get("matchExpressions").and_then(Value::as_array) {
            for e in exprs {
                let key = e["key"].as_str().unwrap_or_default().to_string();
                let values: Vec<String> = e["values"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let op = match e["operator"].as_str().unwrap_or_default() {
                    "In" => Op::In(values),
                    "NotIn" => Op::NotIn(values),
                    "Exists" => Op::Exists,
                    "DoesNotExist" => Op::NotExists,
                    other => {
                        return Err(ApiError::bad(format!(
                            "{other:?} is not a valid label selector operator"
                        )));
                    }
                };
                reqs.push(Requirement { key, op });
            }
        }
        Ok(LabelSelector(reqs))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Matches against a label map (`metadata.labels`).
    pub(crate) fn matches_labels(&self, labels: Option<&serde_json::Map<String, Value>>) -> bool {
        self.0.iter().all(|r| {
            let v = labels.and_then(|l| l.get(&r.key)).and_then(Value::as_str);
            match &r.op {
                Op::Eq(x) => v == Some(x.as_str()),
                Op::NotEq(x) => v != Some(x.as_str()),
                Op::In(xs) => v.is_some_and(|v| xs.iter().any(|x| x == v)),
                Op::NotIn(xs) => !v.is_some_and(|v| xs.iter().any(|x| x == v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.matches_labels(obj.pointer("/metadata/labels").and_then(Value::as_object))
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, tok: &[u8]) -> bool {
        if self.s[self.i..].starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/') {
                self.i += 1;
            } else {
                break;
            }
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn requirement(&mut self) -> Result<Requirement, String> {
        self.ws();
        if self.eat(b"!") {
            self.ws();
            let key = self.key()?;
            return Ok(Requirement {
                key,
                op: Op::NotExists,
            });
        }
        let key = self.key()?;
        self.ws();
        let op = if self.done() || self.s[self.i] == b',' {
            Op::Exists
        } else if self.eat(b"==") || self.eat(b"=") {
            Op::Eq(self.value()?)
        } else if self.eat(b"!=") {
            Op::NotEq(self.value()?)
        } else {
            match self.word().as_str() {
                "in" => Op::In(self.set()?),
                "notin" => Op::NotIn(self.set()?),
                other => return Err(format!("found '{other}', expected: in, notin, =, ==, !=")),
            }
        };
        Ok(Requirement { key, op })
    }
    fn key(&mut self) -> Result<String, String> {
        let k = self.word();
        validate_key(&k)?;
        Ok(k)
    }
    fn value(&mut self) -> Result<String, String> {
        self.ws();
        let v = self.word();
        validate_value(&v)?;
        Ok(v)
    }
    fn set(&mut self) -> Result<Vec<String>, String> {
        self.ws();
        if !self.eat(b"(") {
            return Err("expected '('".into());
        }
        let mut out = Vec::new();
        loop {
            self.ws();
            if self.eat(b")") {
                break;
            }
            out.push(self.value()?);
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b")") {
                break;
            }
            return Err("expected ',' or ')'".into());
        }
        Ok(out)
    }
}

fn is_name_part(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()
}

/// A qualified label key: `[prefix/]name`.
pub(crate) fn validate_key(k: &str) -> Result<(), String> {
    let (prefix, name) = match k.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    if let Some(p) = prefix
        && crate::validation::dns1123_subdomain(p).is_err()
    {
        return Err(format!(
            "invalid label key {k:?}: prefix must be a DNS-1123 subdomain"
        ));
    }
    if !is_name_part(name) {
        return Err(format!(
            "invalid label key {k:?}: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ));
    }
    Ok(())
}

pub(crate) fn validate_value(v: &str) -> Result<(), String> {
    if v.is_empty() || is_name_part(v) {
        Ok(())
    } else {
        Err(format!(
            "invalid label value: {v:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        ))
    }
}

/// A parsed field selector (`metadata.name=x,metadata.namespace!=y`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FieldSelector(Vec<(String, bool, String)>);

/// Fields every resource supports, plus a few per-kind ones real servers support.
fn field_supported(kind: &str, field: &str) -> bool {
    matches!(field, "metadata.name" | "metadata.namespace")
        || matches!(
            (kind, field),
            (
                "Pod",
                "spec.nodeName" | "status.phase" | "spec.restartPolicy" | "spec.serviceAccountName"
            ) | ("Secret", "type")
                | (
                    "Event",
                    "involvedObject.kind"
                        | "involvedObject.name"
                        | "involvedObject.namespace"
                        | "involvedObject.uid"
                        | "reason"
                        | "type"
                )
                | ("Namespace", "status.phase")
                | ("Node", "spec.unschedulable")
        )
}

impl FieldSelector {
    pub(crate) fn parse(input: &str, kind: &str) -> ApiResult<Self> {
        let mut out = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad(format!(
                    "invalid selector: '{input}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            if !field_supported(kind, field) {
                return Err(ApiError::bad(format!("field label not supported: {field}")));
            }
            out.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, eq, want)| {
            let ptr = format!("/{}", field.replace('.', "/"));
            let got = match obj.pointer(&ptr) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            };
            (got == *want) == *eq
        })
    }

    /// The name this selector pins with `metadata.name=`, if any.
    pub(crate) fn pinned_name(&self) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, eq, _)| f == "metadata.name" && *eq)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(selector: &str, labels: Value, expect: Result<bool, ()>) {
        let got = LabelSelector::parse(selector)
            .map(|s| s.matches(&json!({"metadata": {"labels": labels}})));
        assert_eq!(got.map_err(|_| ()), expect, "selector {selector:?}");
    }

    #[test]
    fn label_selector_table() {
        let l = || json!({"app": "web", "tier": "front", "example.com/team": "a"});
        check("", l(), Ok(true));
        check("app=web", l(), Ok(true));
        check("app==web", l(), Ok(true));
        check("app = web", l(), Ok(true));
        check("app!=web", l(), Ok(false));
        check("app!=api", l(), Ok(true));
        check("missing!=x", l(), Ok(true));
        check("app in (web, api)", l(), Ok(true));
        check("app in (api)", l(), Ok(false));
        check("app notin (api,db)", l(), Ok(true));
        check("missing notin (api)", l(), Ok(true));
        check("app", l(), Ok(true));
        check("!app", l(), Ok(false));
        check("!missing", l(), Ok(true));
        check("app=web,tier=front", l(), Ok(true));
        check("app=web,tier=back", l(), Ok(false));
        check("example.com/team=a", l(), Ok(true));
        check("app in (web),!missing,tier", l(), Ok(true));
        check("app=", json!({"app": ""}), Ok(true));
        check("app in ()", l(), Ok(false));
        check("app=web=x", l(), Err(()));
        check("app in web", l(), Err(()));
        check("=web", l(), Err(()));
        check("app=(", l(), Err(()));
        check("app,", l(), Err(()));
        check("-bad=x", l(), Err(()));
        check("app ~ web", l(), Err(()));
        check("a b", l(), Err(()));
    }

    #[test]
    fn field_selector_table() {
        let obj =
            json!({"metadata": {"name": "a", "namespace": "ns"}, "status": {"phase": "Running"}});
        let cases: &[(&str, &str, Result<bool, ()>)] = &[
            ("ConfigMap", "metadata.name=a", Ok(true)),
            ("ConfigMap", "metadata.name==a", Ok(true)),
            ("ConfigMap", "metadata.name!=a", Ok(false)),
            (
                "ConfigMap",
                "metadata.name=a,metadata.namespace=ns",
                Ok(true),
            ),
            ("ConfigMap", "metadata.namespace=other", Ok(false)),
            ("Pod", "status.phase=Running", Ok(true)),
            ("ConfigMap", "status.phase=Running", Err(())),
            ("ConfigMap", "nonsense", Err(())),
            ("ConfigMap", "", Ok(true)),
        ];
        for (kind, sel, expect) in cases {
            let got = FieldSelector::parse(sel, kind).map(|s| s.matches(&obj));
            assert_eq!(got.map_err(|_| ()), *expect, "{kind} {sel:?}");
        }
    }
}
