//! The create body, checked as the vendor's zod schema checks it
//! (`createCheckoutSessionInputSchema`): the `{checkoutSession}` wrapper, a
//! union on `type`, a product union on `anonymous` (missing = `false`),
//! unknown keys dropped, and zod 4's issues for what fails.

use serde_json::{json, Map, Value};

use super::error::{invalid_type, received};

/// Longest metadata string, in UTF-16 units (JavaScript's length).
const MAX_METADATA_STRING: usize = 500;
/// `Number.MAX_SAFE_INTEGER`: zod's `int()` bound.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateInput {
    pub kind: Kind,
    pub customer_external_id: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
    pub output_metadata: Option<Map<String, Value>>,
    pub output_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Product {
        price_id: Option<String>,
        price_slug: Option<String>,
        quantity: Option<i64>,
        anonymous: bool,
        preserve_billing_cycle_anchor: Option<bool>,
    },
    AddPaymentMethod {
        target_subscription_id: Option<String>,
    },
    ActivateSubscription {
        target_subscription_id: String,
        preserve_billing_cycle_anchor: Option<bool>,
    },
}

/// Field checks inside `checkoutSession`, collecting issues like zod does.
struct Fields<'a> {
    obj: &'a Map<String, Value>,
    issues: Vec<Value>,
}

impl Fields<'_> {
    fn path(field: &str) -> [&str; 2] {
        ["checkoutSession", field]
    }

    fn issue(&mut self, field: &str, expected: &str) {
        let got = received(self.obj.get(field));
        self.issues
            .push(invalid_type(&Self::path(field), expected, got));
    }

    fn string(&mut self, field: &str) -> Option<String> {
        match self.obj.get(field) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => {
                self.issue(field, "string");
                None
            }
        }
    }

    fn opt_string(&mut self, field: &str) -> Option<String> {
        match self.obj.get(field) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.issue(field, "string");
                None
            }
        }
    }

    fn opt_bool(&mut self, field: &str, nullable: bool) -> Option<bool> {
        match self.obj.get(field) {
            None => None,
            Some(Value::Null) if nullable => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.issue(field, "boolean");
                None
            }
        }
    }

    /// `z.null().optional()`: anonymous sessions have no customer.
    fn absent_or_null(&mut self, field: &str) {
        if !matches!(self.obj.get(field), None | Some(Value::Null)) {
            self.issue(field, "null");
        }
    }

    fn quantity(&mut self) -> Option<i64> {
        let field = "quantity";
        let n = match self.obj.get(field) {
            None => return None,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
            Some(_) => {
                self.issue(field, "number");
                return None;
            }
        };
        if n.fract() != 0.0 || n.abs() > MAX_SAFE_INTEGER {
            self.issues.push(json!({
                "expected": "int", "format": "safeint", "code": "invalid_type",
                "path": Self::path(field),
                "message": "Invalid input: expected int, received number"
            }));
            return None;
        }
        if n < 1.0 {
            self.issues.push(json!({
                "origin": "number", "code": "too_small", "minimum": 1, "inclusive": true,
                "path": Self::path(field),
                "message": "Too small: expected number to be >=1"
            }));
            return None;
        }
        // Integral and within 2^53: exact.
        Some(n as i64)
    }

    /// `metadataSchema.nullable().optional()`: a flat record of
    /// `string (≤ 500) | number | boolean`.
    fn metadata(&mut self) -> Option<Map<String, Value>> {
        let field = "outputMetadata";
        let map = match self.obj.get(field) {
            None | Some(Value::Null) => return None,
            Some(Value::Object(m)) => m,
            Some(_) => {
                self.issue(field, "record");
                return None;
            }
        };
        let mut ok = true;
        for (key, value) in map {
            let valid = match value {
                Value::String(s) => s.encode_utf16().count() <= MAX_METADATA_STRING,
                Value::Number(_) | Value::Bool(_) => true,
                _ => false,
            };
            if !valid {
                ok = false;
                self.issues.push(json!({
                    "code": "invalid_union", "errors": [],
                    "path": ["checkoutSession", field, key],
                    "message": "Invalid input"
                }));
            }
        }
        ok.then(|| map.clone())
    }
}

fn no_matching_discriminator(discriminator: &str) -> Value {
    json!({
        "code": "invalid_union", "errors": [], "note": "No matching discriminator",
        "discriminator": discriminator,
        "path": ["checkoutSession", discriminator],
        "message": "Invalid input"
    })
}

/// A JSON body → the create input, or zod's issues.
pub fn parse(body: &Value) -> Result<CreateInput, Vec<Value>> {
    let Some(top) = body.as_object() else {
        return Err(vec![invalid_type(&[], "object", received(Some(body)))]);
    };
    let Some(obj) = top.get("checkoutSession").and_then(Value::as_object) else {
        return Err(vec![invalid_type(
            &["checkoutSession"],
            "object",
            received(top.get("checkoutSession")),
        )]);
    };
    let session_type = obj.get("type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(
        session_type,
        "product" | "add_payment_method" | "activate_subscription"
    ) {
        return Err(vec![no_matching_discriminator("type")]);
    }
    let mut f = Fields {
        obj,
        issues: Vec::new(),
    };
    let kind_anonymous = if session_type == "product" {
        // The vendor's preprocess: a missing `anonymous` means `false`.
        match obj.get("anonymous") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => return Err(vec![no_matching_discriminator("anonymous")]),
        }
    } else {
        None
    };
    let customer_external_id = if kind_anonymous == Some(true) {
        f.absent_or_null("customerExternalId");
        None
    } else {
        f.string("customerExternalId")
    };
    let success_url = f.string("successUrl");
    let cancel_url = f.string("cancelUrl");
    let output_metadata = f.metadata();
    let output_name = f.opt_string("outputName");
    let kind = match session_type {
        "product" => {
            let price_id = f.opt_string("priceId");
            let price_slug = f.opt_string("priceSlug");
            let quantity = f.quantity();
            let preserve = f.opt_bool("preserveBillingCycleAnchor", false);
            Some(Kind::Product {
                price_id,
                price_slug,
                quantity,
                anonymous: kind_anonymous == Some(true),
                preserve_billing_cycle_anchor: preserve,
            })
        }
        "add_payment_method" => {
            let target = f.opt_string("targetSubscriptionId");
            // Accepted, then ignored by the insert (the customer chooses on the page).
            f.opt_bool("automaticallyUpdateSubscriptions", true);
            Some(Kind::AddPaymentMethod {
                target_subscription_id: target,
            })
        }
        _ => {
            let target = f.string("targetSubscriptionId");
            let preserve = f.opt_bool("preserveBillingCycleAnchor", false);
            target.map(|t| Kind::ActivateSubscription {
                target_subscription_id: t,
                preserve_billing_cycle_anchor: preserve,
            })
        }
    };
    let (Some(kind), Some(success_url), Some(cancel_url), true) =
        (kind, success_url, cancel_url, f.issues.is_empty())
    else {
        return Err(f.issues);
    };
    if let Kind::Product {
        price_id,
        price_slug,
        ..
    } = &kind
    {
        // The refine treats empty strings as missing, as JavaScript does.
        let has_id = price_id.as_deref().is_some_and(|s| !s.is_empty());
        let has_slug = price_slug.as_deref().is_some_and(|s| !s.is_empty());
        if has_id == has_slug {
            return Err(vec![json!({
                "code": "custom",
                "path": ["checkoutSession", "priceId"],
                "message": "Either priceId or priceSlug must be provided, but not both"
            })]);
        }
    }
    Ok(CreateInput {
        kind,
        customer_external_id,
        success_url,
        cancel_url,
        output_metadata,
        output_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(body: Value) -> Vec<String> {
        parse(&body)
            .unwrap_err()
            .iter()
            .map(|i| {
                format!(
                    "{}: {}",
                    i["path"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_str().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join("."),
                    i["message"].as_str().unwrap()
                )
            })
            .collect()
    }

    #[test]
    fn a_product_needs_exactly_one_price_reference() {
        let ok = json!({"checkoutSession": {"type": "product", "customerExternalId": "acme",
            "successUrl": "https://a.example/ok", "cancelUrl": "https://a.example/no",
            "priceSlug": "pro", "ignored": true}});
        let input = parse(&ok).unwrap();
        assert!(matches!(
            input.kind,
            Kind::Product {
                anonymous: false,
                ..
            }
        ));
        let mut both = ok.clone();
        both["checkoutSession"]["priceId"] = json!("price_1");
        assert_eq!(
            messages(both),
            ["checkoutSession.priceId: Either priceId or priceSlug must be provided, but not both"]
        );
    }

    #[test]
    fn issues_name_the_fields() {
        assert_eq!(
            messages(json!({"checkoutSession": {"type": "product", "priceId": "p", "quantity": 0}})),
            [
                "checkoutSession.customerExternalId: Invalid input: expected string, received undefined",
                "checkoutSession.successUrl: Invalid input: expected string, received undefined",
                "checkoutSession.cancelUrl: Invalid input: expected string, received undefined",
                "checkoutSession.quantity: Too small: expected number to be >=1",
            ]
        );
        assert_eq!(
            messages(json!({"checkoutSession": {"type": "purchase"}})),
            ["checkoutSession.type: Invalid input"]
        );
        assert_eq!(
            messages(json!({"customerExternalId": "flat-shape-of-old-docs"})),
            ["checkoutSession: Invalid input: expected object, received undefined"]
        );
        let anon = json!({"checkoutSession": {"type": "product", "anonymous": true,
            "customerExternalId": "acme", "successUrl": "u", "cancelUrl": "u", "priceId": "p",
            "outputMetadata": {"k": "x".repeat(501)}}});
        assert_eq!(
            messages(anon),
            [
                "checkoutSession.customerExternalId: Invalid input: expected null, received string",
                "checkoutSession.outputMetadata.k: Invalid input",
            ]
        );
        assert_eq!(
            messages(json!({"checkoutSession": {"type": "activate_subscription",
                "customerExternalId": "acme", "successUrl": "u", "cancelUrl": "u"}})),
            ["checkoutSession.targetSubscriptionId: Invalid input: expected string, received undefined"]
        );
    }
}
