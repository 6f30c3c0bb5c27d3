//! OpenAPI `discriminator` semantics for a plain JSON Schema validator.
//!
//! Vendors generate tagged unions as `oneOf` + `discriminator` whose branches
//! do not constrain the tag property, so a value often matches several
//! branches and plain JSON Schema `oneOf` rejects it. OpenAPI instead picks
//! the branch named by the tag's value. Each such schema is rewritten to:
//!
//! ```json
//! {"type": "object", "required": ["type"],
//!  "properties": {"type": {"enum": ["a", "b"]}},
//!  "allOf": [{"if": {"properties": {"type": {"const": "a"}}, "required": ["type"]},
//!             "then": {"$ref": "#/components/schemas/A"}}, …]}
//! ```
//!
//! Values come from `mapping`, plus the implicit schema-name value for every
//! `$ref` branch that the mapping does not already target.

use serde_json::{json, Map, Value};

/// Rewrites every `oneOf`/`anyOf` + `discriminator` schema in `doc`, in place.
/// Returns how many schemas were rewritten.
pub fn rewrite_discriminators(doc: &mut Value) -> usize {
    let mut count = 0;
    match doc {
        Value::Object(obj) => {
            for child in obj.values_mut() {
                count += rewrite_discriminators(child);
            }
            if rewrite_one(obj) {
                count += 1;
            }
        }
        Value::Array(items) => {
            for child in items {
                count += rewrite_discriminators(child);
            }
        }
        _ => {}
    }
    count
}

fn rewrite_one(obj: &mut Map<String, Value>) -> bool {
    let Some(disc) = obj.get("discriminator").and_then(Value::as_object) else {
        return false;
    };
    let Some(prop) = disc.get("propertyName").and_then(Value::as_str) else {
        return false;
    };
    let prop = prop.to_owned();
    let union_key = if obj.contains_key("oneOf") {
        "oneOf"
    } else if obj.contains_key("anyOf") {
        "anyOf"
    } else {
        return false;
    };
    let Some(mapping) = branch_mapping(disc, obj.get(union_key)) else {
        return false;
    };

    obj.remove(union_key);
    obj.remove("discriminator");
    obj.entry("type").or_insert_with(|| json!("object"));

    let required = obj.entry("required").or_insert_with(|| json!([]));
    if let Some(list) = required.as_array_mut() {
        if !list.iter().any(|v| v.as_str() == Some(prop.as_str())) {
            list.push(json!(prop));
        }
    }

    let values: Vec<Value> = mapping.iter().map(|(v, _)| json!(v)).collect();
    let tag_check = json!({ "enum": values });
    let properties = obj.entry("properties").or_insert_with(|| json!({}));
    if let Some(props) = properties.as_object_mut() {
        let merged = match props.remove(&prop) {
            Some(existing) => json!({ "allOf": [existing, tag_check] }),
            None => tag_check,
        };
        props.insert(prop.clone(), merged);
    }

    let selectors = mapping.into_iter().map(|(value, target)| {
        json!({
            "if": { "properties": { prop.as_str(): { "const": value } }, "required": [prop.as_str()] },
            "then": { "$ref": target },
        })
    });
    let all_of = obj.entry("allOf").or_insert_with(|| json!([]));
    if let Some(list) = all_of.as_array_mut() {
        list.extend(selectors);
    }
    true
}

/// `(tag value, $ref target)` pairs, or `None` when a branch is inline and so
/// cannot be selected by name (the schema is then left as it is).
fn branch_mapping(
    disc: &Map<String, Value>,
    union: Option<&Value>,
) -> Option<Vec<(String, String)>> {
    let branches = union?.as_array()?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(explicit) = disc.get("mapping").and_then(Value::as_object) {
        for (value, target) in explicit {
            pairs.push((value.clone(), normalize_target(target.as_str()?)));
        }
    }
    for branch in branches {
        let target = branch.get("$ref")?.as_str()?;
        if pairs.iter().any(|(_, t)| t == target) {
            continue;
        }
        let name = target.rsplit('/').next().unwrap_or(target);
        pairs.push((name.to_owned(), target.to_owned()));
    }
    Some(pairs)
}

/// A mapping value may be a bare schema name instead of a reference.
fn normalize_target(target: &str) -> String {
    if target.contains('/') || target.contains('#') {
        target.to_owned()
    } else {
        format!("#/components/schemas/{target}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "components": {"schemas": {
                "Config": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/Online"},
                        {"$ref": "#/components/schemas/Bank"},
                        {"$ref": "#/components/schemas/External"}
                    ],
                    "discriminator": {"propertyName": "type", "mapping": {
                        "online": "#/components/schemas/Online",
                        "bank_transfer": "Bank"
                    }}
                },
                "Online": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
                "Bank": {"type": "object", "properties": {"account_id": {"type": "string"}}},
                "External": {"type": "object"}
            }}
        })
    }

    fn validator(doc: &Value) -> jsonschema::Validator {
        let mut root = doc.clone();
        root["$ref"] = json!("#/components/schemas/Config");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .expect("test schema compiles")
    }

    #[test]
    fn plain_one_of_rejects_a_valid_tagged_value() {
        // Why the rewrite exists: every branch matches `{"type":"external"}`.
        let v = validator(&doc());
        assert!(!v.is_valid(&json!({"type": "external"})));
    }

    #[test]
    fn rewritten_schema_selects_branch_by_tag() {
        let mut d = doc();
        assert_eq!(rewrite_discriminators(&mut d), 1);
        let v = validator(&d);
        assert!(v.is_valid(&json!({"type": "online", "enabled": true})));
        assert!(v.is_valid(&json!({"type": "bank_transfer", "account_id": "ba_1"})));
        // Implicit mapping: the schema name of an unmapped branch.
        assert!(v.is_valid(&json!({"type": "External"})));
    }

    #[test]
    fn rewritten_schema_rejects_bad_values() {
        let mut d = doc();
        rewrite_discriminators(&mut d);
        let v = validator(&d);
        assert!(!v.is_valid(&json!({"type": "online", "enabled": "yes"})));
        assert!(!v.is_valid(&json!({"type": "bank_transfer", "account_id": 7})));
        assert!(!v.is_valid(&json!({"type": "paypal"})));
        assert!(!v.is_valid(&json!({"enabled": true})));
        assert!(!v.is_valid(&json!(null)));
    }

    #[test]
    fn inline_branches_are_left_alone() {
        let mut d = json!({
            "oneOf": [{"type": "object"}],
            "discriminator": {"propertyName": "kind"}
        });
        assert_eq!(rewrite_discriminators(&mut d), 0);
        assert!(d.get("oneOf").is_some());
    }
}
