//! Stripe's `POST /v1/checkout/sessions` parameters as a canonical create.
//!
//! | Stripe | canonical |
//! |---|---|
//! | `line_items[0][price]` | `plan` (a catalog alias or the target's plan id, as given) |
//! | `line_items[0][quantity]` | `quantity` (at least 1) |
//! | `customer` | `customer` |
//! | `success_url`, `cancel_url` | the same |
//! | `metadata[k]` | `metadata` (string values; an empty value sets nothing) |
//! | `expires_at` (unix seconds) | `expires_at` |
//! | `mode` | [`StripeCreate::mode`], for the gateway to check against the target |
//! | `expand[i]` | [`StripeCreate::expand`], for the gateway to refuse what it cannot expand |
//!
//! `provider` and `account` are left empty: the gateway fills them from
//! `Stripe-Account` or from routing. Every other parameter, Stripe's
//! (`payment_method_types`, `locale`, `ui_mode`, `client_reference_id`, …)
//! or not, is a [`ParamError`] naming it: the gateway never drops what a
//! caller asked for. An empty value (`name=`, which stripe-node sends for a
//! `null`) asks for nothing on a create, so it is not refused.
//!
//! `client_reference_id` is refused rather than kept elsewhere: no vendor
//! stores a caller's reference on its checkout, and hiding it in
//! `metadata` would make the session read back differently from what was
//! asked.

use checkout_core::{CreateSession, Metadata, MetadataValue, Purpose};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::value;
use crate::ParamError;

/// What a Stripe create asks, in canonical terms.
#[derive(Debug, Clone, PartialEq)]
pub struct StripeCreate {
    /// `provider` and `account` empty: the gateway chooses them.
    pub request: CreateSession,
    /// The `mode` asked for, if any.
    pub mode: Option<Mode>,
    /// `expand[i]`, in order.
    pub expand: Vec<String>,
}

/// Stripe's checkout `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Payment,
    Setup,
    Subscription,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Payment => "payment",
            Mode::Setup => "setup",
            Mode::Subscription => "subscription",
        }
    }

    /// `payment`, `setup` or `subscription`.
    pub fn parse(s: &str) -> Option<Mode> {
        [Mode::Payment, Mode::Setup, Mode::Subscription]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    /// The canonical purposes a session of this mode may have: a target
    /// whose `Provider::create_purposes` shares none cannot make it.
    pub fn purposes(self) -> &'static [Purpose] {
        match self {
            Mode::Payment => &[Purpose::Purchase],
            Mode::Setup => &[Purpose::Setup],
            // Everything that starts, changes or adds to a subscription.
            Mode::Subscription => &[
                Purpose::Subscription,
                Purpose::SubscriptionActivation,
                Purpose::PlanChange,
                Purpose::AddOn,
            ],
        }
    }
}

/// Stripe create parameters the gateway knows but no vendor can honour,
/// and why. Anything else unknown is "unknown".
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "client_reference_id",
        "no vendor keeps a caller's reference on its checkout; `metadata` is kept and read back",
    ),
    (
        "customer_email",
        "the vendors take a customer reference (`customer`), not an email to prefill",
    ),
    ("currency", "the price's vendor decides the currency"),
    (
        "locale",
        "the vendors' checkout pages choose their own language",
    ),
    ("ui_mode", "every vendor serves a hosted page only"),
    (
        "payment_method_types",
        "the vendors choose the payment methods their page offers",
    ),
    (
        "allow_promotion_codes",
        "promotion codes are not passed to any vendor",
    ),
    ("discounts", "discounts are not passed to any vendor"),
    ("automatic_tax", "tax settings are the vendor's own"),
    ("tax_id_collection", "tax settings are the vendor's own"),
    (
        "billing_address_collection",
        "the vendors' pages decide what they collect",
    ),
    (
        "shipping_address_collection",
        "the vendors' pages decide what they collect",
    ),
    (
        "phone_number_collection",
        "the vendors' pages decide what they collect",
    ),
    ("shipping_options", "no vendor's checkout ships goods"),
    ("custom_fields", "no vendor's page takes custom fields"),
    ("custom_text", "no vendor's page takes custom text"),
    (
        "consent_collection",
        "no vendor's page collects consent on request",
    ),
    (
        "customer_creation",
        "the vendor decides when it creates a customer",
    ),
    (
        "customer_update",
        "the vendor decides what it stores on a customer",
    ),
    ("invoice_creation", "the vendor decides its invoices"),
    ("payment_intent_data", "the vendor makes the payment"),
    (
        "setup_intent_data",
        "the vendor collects the payment method",
    ),
    (
        "subscription_data",
        "the vendor makes the subscription from the plan",
    ),
    (
        "payment_method_collection",
        "the vendor decides whether to collect a payment method",
    ),
    (
        "payment_method_configuration",
        "the vendor decides the payment methods",
    ),
    (
        "payment_method_data",
        "the vendor decides the payment methods",
    ),
    (
        "payment_method_options",
        "the vendor decides the payment methods",
    ),
    (
        "excluded_payment_method_types",
        "the vendor decides the payment methods",
    ),
    (
        "saved_payment_method_options",
        "the vendor decides the payment methods",
    ),
    ("submit_type", "the vendors' pages choose their own wording"),
    ("after_expiration", "no vendor recovers an expired checkout"),
    (
        "redirect_on_completion",
        "every vendor serves a hosted page only",
    ),
    (
        "return_url",
        "every vendor serves a hosted page only: give `success_url`",
    ),
    (
        "optional_items",
        "a checkout buys one plan (`line_items[0]`)",
    ),
    ("adaptive_pricing", "the vendor decides the prices"),
    ("wallet_options", "the vendor decides the payment methods"),
];

/// Line item parameters other than `price` and `quantity`.
const UNSUPPORTED_ITEM: &[(&str, &str)] = &[
    (
        "price_data",
        "give a plan (`price`): a price made on the fly reaches no vendor",
    ),
    (
        "adjustable_quantity",
        "no vendor's page lets the customer change the quantity",
    ),
    ("dynamic_tax_rates", "tax settings are the vendor's own"),
    ("tax_rates", "tax settings are the vendor's own"),
];

/// Stripe's create parameters → the canonical create, or the first
/// parameter (in name order) the gateway cannot honour.
pub fn create(params: &Map<String, Value>) -> Result<StripeCreate, ParamError> {
    let mut out = StripeCreate {
        request: CreateSession::default(),
        mode: None,
        expand: Vec::new(),
    };
    for (name, v) in params {
        let req = &mut out.request;
        match name.as_str() {
            "line_items" => line_items(v, req)?,
            "customer" => req.customer = owned(value::string(name, v)?),
            "success_url" => req.success_url = owned(value::string(name, v)?),
            "cancel_url" => req.cancel_url = owned(value::string(name, v)?),
            "metadata" => req.metadata = metadata(v)?,
            "expires_at" => req.expires_at = timestamp(name, v)?,
            "mode" => out.mode = mode(v)?,
            "expand" => out.expand = value::strings(name, v)?,
            // This gateway's own extension: the vendor-specific create
            // fields of the canonical API, as form strings.
            "provider_options" => req.provider_options = provider_options(v)?,
            _ => refuse(name, v, UNSUPPORTED)?,
        }
    }
    Ok(out)
}

/// `provider_options[<field>]=…`: passed to the vendor's adapter, which
/// checks each field as it does for the canonical create.
fn provider_options(v: &Value) -> Result<Option<Map<String, Value>>, ParamError> {
    match v {
        Value::String(s) if s.is_empty() => Ok(None),
        Value::Object(fields) => Ok(Some(fields.clone())),
        _ => Err(ParamError::new(
            "provider_options",
            "Invalid hash: give vendor fields as `provider_options[<field>]`",
        )),
    }
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// A parameter the create does not take: refused, unless it is empty.
fn refuse(name: &str, v: &Value, known: &[(&str, &str)]) -> Result<(), ParamError> {
    if matches!(v, Value::String(s) if s.is_empty()) {
        return Ok(());
    }
    Err(match known.iter().find(|(param, _)| *param == name) {
        Some((param, why)) => ParamError::unsupported(param, why),
        None => ParamError::unknown(name),
    })
}

/// One line item: its price is the plan.
fn line_items(v: &Value, req: &mut CreateSession) -> Result<(), ParamError> {
    let items = match v {
        Value::String(s) if s.is_empty() => return Ok(()),
        Value::Array(items) => items,
        _ => {
            return Err(ParamError::new(
                "line_items",
                "Invalid array: give `line_items[0][price]` and `line_items[0][quantity]`",
            ))
        }
    };
    if items.len() > 1 {
        return Err(ParamError::new(
            "line_items[1]",
            "A checkout through this gateway buys one plan: give only `line_items[0]`",
        ));
    }
    let Some(item) = items.first() else {
        return Ok(());
    };
    let Some(item) = value::object("line_items[0]", item)? else {
        return Ok(());
    };
    for (key, v) in item {
        let param = format!("line_items[0][{key}]");
        match key.as_str() {
            "price" => req.plan = owned(value::string(&param, v)?),
            "quantity" => req.quantity = quantity(&param, v)?,
            _ => {
                if matches!(v, Value::String(s) if s.is_empty()) {
                    continue;
                }
                return Err(match UNSUPPORTED_ITEM.iter().find(|(k, _)| k == key) {
                    Some((_, why)) => ParamError::unsupported(&param, why),
                    None => ParamError::unknown(&param),
                });
            }
        }
    }
    Ok(())
}

fn quantity(param: &str, v: &Value) -> Result<Option<u64>, ParamError> {
    match value::integer(param, v)? {
        None => Ok(None),
        Some(q) if q >= 1 => Ok(u64::try_from(q).ok()),
        Some(_) => Err(ParamError::new(
            param,
            "This value must be greater than or equal to 1.",
        )),
    }
}

/// `metadata[k]=v`: string values, as Stripe keeps them.
fn metadata(v: &Value) -> Result<Option<Metadata>, ParamError> {
    let Some(map) = value::object("metadata", v)? else {
        return Ok(None);
    };
    let mut out = Metadata::new();
    for (key, v) in map {
        let param = format!("metadata[{key}]");
        if let Some(text) = value::string(&param, v)? {
            out.insert(key.clone(), MetadataValue::String(text.to_owned()));
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

fn mode(v: &Value) -> Result<Option<Mode>, ParamError> {
    match value::string("mode", v)? {
        None => Ok(None),
        Some(text) => Mode::parse(text).map(Some).ok_or_else(|| {
            ParamError::new(
                "mode",
                format!("Invalid mode: {text}; must be one of payment, setup, or subscription"),
            )
        }),
    }
}

/// Unix seconds.
fn timestamp(param: &str, v: &Value) -> Result<Option<DateTime<Utc>>, ParamError> {
    match value::integer(param, v)? {
        None => Ok(None),
        Some(secs) => DateTime::from_timestamp(secs, 0)
            .map(Some)
            .ok_or_else(|| ParamError::new(param, format!("Invalid timestamp: {secs}"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::form;

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn refused(v: Value) -> ParamError {
        create(&params(v)).unwrap_err()
    }

    #[test]
    fn a_full_create_maps_to_the_canonical_one() {
        let body = "line_items[0][price]=pro&line_items[0][quantity]=2&customer=cus_42\
                    &success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fno\
                    &metadata[order]=1234&metadata[empty]=&mode=subscription&expires_at=1768820400\
                    &expand[0]=line_items";
        let out = create(&form::decode(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out.request,
            CreateSession {
                provider: String::new(),
                account: String::new(),
                customer: Some("cus_42".into()),
                plan: Some("pro".into()),
                quantity: Some(2),
                success_url: Some("https://shop.example/ok".into()),
                cancel_url: Some("https://shop.example/no".into()),
                expires_at: DateTime::from_timestamp(1_768_820_400, 0),
                metadata: Some(Metadata::from([(
                    "order".to_owned(),
                    MetadataValue::String("1234".into())
                )])),
                provider_options: None,
            }
        );
        assert!(out.request.is_routed());
        assert_eq!(out.mode, Some(Mode::Subscription));
        assert_eq!(out.expand, vec!["line_items".to_owned()]);
    }

    #[test]
    fn provider_options_pass_through_as_given() {
        let body = "line_items[0][price]=pro&provider_options[currency]=USD&provider_options[start_date]=2026-12-01";
        let out = create(&form::decode(body.as_bytes()).unwrap()).unwrap();
        assert_eq!(
            out.request.provider_options,
            Some(params(
                json!({"currency": "USD", "start_date": "2026-12-01"})
            ))
        );
        let e = create(&form::decode(b"provider_options=USD").unwrap()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("provider_options"));
    }

    #[test]
    fn nothing_given_is_an_empty_create() {
        let out = create(&Map::new()).unwrap();
        assert_eq!(out.request, CreateSession::default());
        assert_eq!((out.mode, out.expand.len()), (None, 0));
    }

    #[test]
    fn empty_values_ask_for_nothing() {
        let out = create(&params(json!({
            "customer": "", "metadata": "", "mode": "", "expires_at": "", "expand": "",
            "line_items": [{"price": "pro", "tax_rates": ""}],
            "client_reference_id": "", "locale": "",
        })))
        .unwrap();
        assert_eq!(out.request.customer, None);
        assert_eq!(out.request.metadata, None);
        assert_eq!(out.request.plan.as_deref(), Some("pro"));
        assert_eq!(out.mode, None);
    }

    #[test]
    fn modes() {
        for m in [Mode::Payment, Mode::Setup, Mode::Subscription] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
            let out = create(&params(json!({"mode": m.as_str()}))).unwrap();
            assert_eq!(out.mode, Some(m));
        }
        let e = refused(json!({"mode": "donation"}));
        assert_eq!(e.param.as_deref(), Some("mode"));
        assert_eq!(Mode::Payment.purposes(), &[Purpose::Purchase]);
        assert_eq!(Mode::Setup.purposes(), &[Purpose::Setup]);
        assert!(Mode::Subscription
            .purposes()
            .contains(&Purpose::Subscription));
        assert!(!Mode::Subscription.purposes().contains(&Purpose::Purchase));
    }

    #[test]
    fn every_refusal_names_its_param() {
        for (body, param) in [
            (
                json!({"client_reference_id": "order-7"}),
                "client_reference_id",
            ),
            (
                json!({"payment_method_types": ["card"]}),
                "payment_method_types",
            ),
            (
                json!({"allow_promotion_codes": "true"}),
                "allow_promotion_codes",
            ),
            (json!({"locale": "fr"}), "locale"),
            (json!({"ui_mode": "embedded"}), "ui_mode"),
            (json!({"customer_email": "a@b.example"}), "customer_email"),
            (
                json!({"subscription_data": {"trial_period_days": "7"}}),
                "subscription_data",
            ),
            (json!({"frobnicate": "1"}), "frobnicate"),
            (
                json!({"line_items": [{"price": "a"}, {"price": "b"}]}),
                "line_items[1]",
            ),
            (
                json!({"line_items": [{"price_data": {"currency": "usd"}}]}),
                "line_items[0][price_data]",
            ),
            (
                json!({"line_items": [{"price": "a", "adjustable_quantity": {"enabled": "true"}}]}),
                "line_items[0][adjustable_quantity]",
            ),
            (
                json!({"line_items": [{"price": "a", "tax_rates": ["txr_1"]}]}),
                "line_items[0][tax_rates]",
            ),
            (
                json!({"line_items": [{"price": "a", "colour": "red"}]}),
                "line_items[0][colour]",
            ),
            (json!({"line_items": {"price": "a"}}), "line_items"),
            (json!({"line_items": "x"}), "line_items"),
            (json!({"line_items": ["x"]}), "line_items[0]"),
            (
                json!({"line_items": [{"price": {"id": "a"}}]}),
                "line_items[0][price]",
            ),
            (
                json!({"line_items": [{"quantity": "two"}]}),
                "line_items[0][quantity]",
            ),
            (
                json!({"line_items": [{"quantity": "0"}]}),
                "line_items[0][quantity]",
            ),
            (
                json!({"line_items": [{"quantity": "-1"}]}),
                "line_items[0][quantity]",
            ),
            (json!({"customer": {"id": "x"}}), "customer"),
            (json!({"success_url": ["x"]}), "success_url"),
            (json!({"metadata": "x"}), "metadata"),
            (json!({"metadata": {"k": {"nested": "x"}}}), "metadata[k]"),
            (json!({"expires_at": "soon"}), "expires_at"),
            (json!({"expires_at": "99999999999999999"}), "expires_at"),
            (json!({"expand": "customer"}), "expand"),
            (json!({"expand": [""]}), "expand[0]"),
        ] {
            let e = refused(body.clone());
            assert_eq!(e.param.as_deref(), Some(param), "{body}: {e}");
        }
    }

    #[test]
    fn refusal_messages_say_why() {
        let e = refused(json!({"client_reference_id": "order-7"}));
        assert!(e.message.contains("not supported"), "{e}");
        let e = refused(json!({"frobnicate": "1"}));
        assert_eq!(e.message, "Received unknown parameter: frobnicate");
        let e = refused(json!({"line_items": [{"price_data": {"currency": "usd"}}]}));
        assert!(e.message.contains("price_data"), "{e}");
    }
}
