//! Test support: validate JSON values against a vendor's OpenAPI document.
//!
//! ```no_run
//! let spec = spec_check::Spec::load("meteroid/openapi.json");
//! let body = serde_json::json!({"code": "NOT_FOUND", "message": "Resource not found"});
//! spec.validate_schema("RestErrorResponse", &body).unwrap();
//! ```
//!
//! `$ref`s are resolved by validating against the whole document with a
//! top-level `$ref`, so every `#/components/...` pointer keeps working.
//! OpenAPI `discriminator`s are rewritten first (see [`discriminator`]).
//! Swagger 2.0 documents work too (`definitions`, draft 4), and a `.yaml` /
//! `.yml` file is read as YAML (`Spec::load("frontier/legacy-rest.swagger.yaml")`).
//!
//! Specs are read only from `fixtures/<vendor>/spec/` in the repository
//! (see [`spec_path`]); [`known_specs`] finds the ones the tests use, from
//! each vendor's `spec/spec.toml`.

pub mod discriminator;
mod locate;

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use serde_json::{json, Value};

pub use discriminator::rewrite_discriminators;
pub use locate::{known_specs, spec_path, workspace_root, KnownSpec, SPEC_MANIFEST};

/// A loaded vendor specification, ready to validate values.
pub struct Spec {
    origin: String,
    doc: Value,
    draft: Draft,
    // Compiling the whole document is the slow part: once per target.
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Spec {
    /// Loads `fixtures/<vendor>/spec/<file>` from `"<vendor>/<file>"`
    /// (e.g. `"meteroid/openapi.json"`).
    ///
    /// # Panics
    /// When the file is missing or unreadable, saying where it looked: a test
    /// must never pass silently without its spec.
    pub fn load(relative: &str) -> Spec {
        match Spec::try_load(relative) {
            Ok(spec) => spec,
            Err(message) => panic!("{message}"),
        }
    }

    /// Like [`Spec::load`], returning the error instead of panicking.
    pub fn try_load(relative: &str) -> Result<Spec, String> {
        Spec::from_file(&spec_path(relative)?)
    }

    /// Loads a spec from an explicit path.
    pub fn from_file(path: &Path) -> Result<Spec, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "spec-check: cannot read vendor spec {} ({e}); the specs the tests use are \
                 committed under fixtures/<vendor>/spec/",
                display(path)
            )
        })?;
        let doc: Value = if is_yaml(path) {
            serde_norway::from_str(&text)
                .map_err(|e| format!("spec-check: {} is not YAML: {e}", display(path)))?
        } else {
            serde_json::from_str(&text)
                .map_err(|e| format!("spec-check: {} is not JSON: {e}", display(path)))?
        };
        Ok(Spec::from_value(doc, display(path)))
    }

    /// Wraps an already parsed document; `origin` names it in error messages.
    pub fn from_value(mut doc: Value, origin: impl Into<String>) -> Spec {
        rewrite_discriminators(&mut doc);
        let draft = if doc.get("swagger").is_some() {
            Draft::Draft4
        } else {
            Draft::Draft202012
        };
        Spec {
            origin: origin.into(),
            doc,
            draft,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The document after the discriminator rewrite.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// A named schema (`components/schemas`, or Swagger 2.0 `definitions`).
    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.schema_pointer(name)
            .and_then(|p| self.doc.pointer(p.trim_start_matches('#')))
    }

    /// Validates `value` against the named schema.
    pub fn validate_schema(&self, name: &str, value: &Value) -> Result<(), String> {
        let pointer = self
            .schema_pointer(name)
            .ok_or_else(|| format!("{}: no schema named {name:?}", self.origin))?;
        let validator = self.validator(&pointer, json!({ "$ref": pointer }))?;
        check(&validator, value).map_err(|e| format!("{name}: {e}"))
    }

    /// The JSON response schema of `method path` for `status` (falling back
    /// to the operation's `default` response).
    pub fn response_schema(&self, path: &str, method: &str, status: u16) -> Result<&Value, String> {
        let method = method.to_ascii_lowercase();
        let op = self
            .doc
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(&method))
            .ok_or_else(|| format!("{}: no operation {method} {path}", self.origin))?;
        let responses = op.get("responses");
        let response = responses
            .and_then(|r| r.get(status.to_string()))
            .or_else(|| responses.and_then(|r| r.get("default")))
            .ok_or_else(|| {
                format!(
                    "{}: {method} {path} documents no {status} response",
                    self.origin
                )
            })?;
        let response = self.follow_ref(response);
        response
            .pointer("/content/application~1json/schema")
            .or_else(|| response.get("schema"))
            .ok_or_else(|| {
                format!(
                    "{}: {method} {path} {status} has no JSON schema",
                    self.origin
                )
            })
    }

    /// Validates `value` against the response schema of `method path status`.
    pub fn validate_response(
        &self,
        path: &str,
        method: &str,
        status: u16,
        value: &Value,
    ) -> Result<(), String> {
        let schema = self.response_schema(path, method, status)?.clone();
        let key = format!("{} {path} {status}", method.to_ascii_lowercase());
        let validator = self.validator(&key, json!({ "allOf": [schema] }))?;
        check(&validator, value).map_err(|e| format!("{key}: {e}"))
    }

    fn schema_pointer(&self, name: &str) -> Option<String> {
        let escaped = name.replace('~', "~0").replace('/', "~1");
        ["/components/schemas/", "/definitions/"]
            .iter()
            .map(|base| format!("{base}{escaped}"))
            .find(|p| self.doc.pointer(p).is_some())
            .map(|p| format!("#{p}"))
    }

    /// Responses may themselves be `$ref`s to `components/responses`.
    fn follow_ref<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..8 {
            let Some(target) = node.get("$ref").and_then(Value::as_str) else {
                break;
            };
            match self.doc.pointer(target.trim_start_matches('#')) {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }

    /// The whole document plus `entry` keywords at its root, so that every
    /// `#/...` reference resolves against the document itself.
    fn validator(&self, key: &str, entry: Value) -> Result<Arc<Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .map_err(|_| "spec-check: validator cache poisoned".to_owned())?;
        if let Some(found) = cache.get(key) {
            return Ok(Arc::clone(found));
        }
        let mut root = self.doc.clone();
        if let (Some(root_obj), Some(entry_obj)) = (root.as_object_mut(), entry.as_object()) {
            for (k, v) in entry_obj {
                root_obj.insert(k.clone(), v.clone());
            }
        }
        let validator = jsonschema::options()
            .with_draft(self.draft)
            .should_validate_formats(true)
            .should_ignore_unknown_formats(true)
            .build(&root)
            .map_err(|e| format!("{}: cannot compile schema for {key}: {e}", self.origin))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

fn check(validator: &Validator, value: &Value) -> Result<(), String> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path.to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("at {at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// `.yaml` / `.yml` files are read as YAML (Swagger 2.0 documents often are).
fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// The path with `.` and `..` folded, so a missing file says plainly where
/// we looked.
fn display(path: &Path) -> String {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.display().to_string()
}
