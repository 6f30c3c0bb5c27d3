//! Stripe's `GET /v1/checkout/sessions` parameters as canonical list
//! filters.
//!
//! | Stripe | canonical |
//! |---|---|
//! | `limit` (1–100, default 10) | page size |
//! | `starting_after`, `ending_before` (`cs_…`, one of them) | the canonical id of that session |
//! | `status=open` | `open`, `processing` |
//! | `status=complete` | `complete` |
//! | `status=expired` | `expired`, `canceled`, `failed` |
//! | `customer` | `customer` |
//! | `created=t` | `created_gte = t`, `created_lt = t + 1` |
//! | `created[gte]`, `created[gt]`, `created[lte]`, `created[lt]` | `created_gte` (`gt` + 1), `created_lt` (`lte` + 1) |
//! | `expand[i]` | [`StripeList::expand`], for the gateway to refuse what it cannot expand |
//!
//! Every other parameter is a [`ParamError`] naming it. Times are unix
//! seconds, half-open like the canonical list: `created_gte` inclusive,
//! `created_lt` exclusive; given twice (`gt` and `gte`), the narrower bound
//! holds.

use checkout_core::Status;
use serde_json::{Map, Value};

use crate::{id, value, ParamError};

/// Stripe's default page size.
pub const DEFAULT_LIMIT: u32 = 10;
/// Stripe's largest page.
pub const MAX_LIMIT: u32 = 100;

/// What a Stripe list asks, in canonical terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeList {
    pub limit: u32,
    /// The canonical id of the session the page starts after.
    pub starting_after: Option<String>,
    /// The canonical id of the session the page ends before.
    pub ending_before: Option<String>,
    /// Canonical statuses; empty means any.
    pub statuses: Vec<Status>,
    pub customer: Option<String>,
    /// unix seconds, half-open as canonical: created_gte inclusive,
    /// created_lt exclusive (gt → gte+1, lte → lt+1).
    pub created_gte: Option<i64>,
    pub created_lt: Option<i64>,
    pub expand: Vec<String>,
}

impl Default for StripeList {
    fn default() -> StripeList {
        StripeList {
            limit: DEFAULT_LIMIT,
            starting_after: None,
            ending_before: None,
            statuses: Vec::new(),
            customer: None,
            created_gte: None,
            created_lt: None,
            expand: Vec::new(),
        }
    }
}

/// Stripe list parameters the gateway knows but cannot filter by.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "payment_intent",
        "no vendor's session carries a Stripe PaymentIntent",
    ),
    (
        "payment_link",
        "no vendor's session comes from a Stripe Payment Link",
    ),
    (
        "subscription",
        "the vendors' lists do not filter by subscription",
    ),
    (
        "customer_details",
        "the vendors' lists do not filter by customer email",
    ),
    (
        "customer_account",
        "the vendors' lists do not filter by Stripe account",
    ),
];

/// Stripe's list parameters → canonical filters, or the first parameter
/// (in name order) the gateway cannot honour.
pub fn list(params: &Map<String, Value>) -> Result<StripeList, ParamError> {
    let mut out = StripeList::default();
    for (name, v) in params {
        match name.as_str() {
            "limit" => out.limit = limit(v)?,
            "starting_after" => out.starting_after = cursor(name, v)?,
            "ending_before" => out.ending_before = cursor(name, v)?,
            "status" => out.statuses = statuses(v)?,
            "customer" => out.customer = value::string(name, v)?.map(str::to_owned),
            "created" => created(v, &mut out)?,
            "expand" => out.expand = value::strings(name, v)?,
            _ if matches!(v, Value::String(s) if s.is_empty()) => {}
            _ => {
                return Err(match UNSUPPORTED.iter().find(|(p, _)| p == name) {
                    Some((param, why)) => ParamError::unsupported(param, why),
                    None => ParamError::unknown(name),
                })
            }
        }
    }
    if out.starting_after.is_some() && out.ending_before.is_some() {
        return Err(ParamError::new(
            "ending_before",
            "You may only specify one of these parameters: starting_after, ending_before.",
        ));
    }
    Ok(out)
}

fn limit(v: &Value) -> Result<u32, ParamError> {
    match value::integer("limit", v)? {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if n < 1 => Err(ParamError::new(
            "limit",
            "This value must be greater than or equal to 1.",
        )),
        Some(n) => u32::try_from(n)
            .ok()
            .filter(|n| *n <= MAX_LIMIT)
            .ok_or_else(|| {
                ParamError::new("limit", "This value must be less than or equal to 100.")
            }),
    }
}

/// A `cs_…` id of ours, as its canonical id.
fn cursor(param: &str, v: &Value) -> Result<Option<String>, ParamError> {
    match value::string(param, v)? {
        None => Ok(None),
        Some(stripe_id) => id::decode(stripe_id).map(Some).ok_or_else(|| {
            ParamError::new(
                param,
                format!(
                    "Invalid {param}: {stripe_id:?} is not a checkout session id this gateway made"
                ),
            )
        }),
    }
}

fn statuses(v: &Value) -> Result<Vec<Status>, ParamError> {
    Ok(match value::string("status", v)? {
        None => Vec::new(),
        Some("open") => vec![Status::Open, Status::Processing],
        Some("complete") => vec![Status::Complete],
        Some("expired") => vec![Status::Expired, Status::Canceled, Status::Failed],
        Some(other) => {
            return Err(ParamError::new(
                "status",
                format!("Invalid status: {other}; must be one of open, complete, or expired"),
            ))
        }
    })
}

/// `created=t` or `created[gt|gte|lt|lte]=t`.
fn created(v: &Value, out: &mut StripeList) -> Result<(), ParamError> {
    if let Value::String(_) = v {
        if let Some(t) = value::integer("created", v)? {
            out.created_gte = Some(t);
            out.created_lt = Some(after("created", t)?);
        }
        return Ok(());
    }
    let Some(bounds) = value::object("created", v)? else {
        return Ok(());
    };
    for (op, v) in bounds {
        let param = format!("created[{op}]");
        let Some(t) = value::integer(&param, v)? else {
            continue;
        };
        match op.as_str() {
            "gte" => raise(&mut out.created_gte, t),
            "gt" => raise(&mut out.created_gte, after(&param, t)?),
            "lt" => lower(&mut out.created_lt, t),
            "lte" => lower(&mut out.created_lt, after(&param, t)?),
            _ => return Err(ParamError::unknown(&param)),
        }
    }
    Ok(())
}

/// The second after `t`.
fn after(param: &str, t: i64) -> Result<i64, ParamError> {
    t.checked_add(1)
        .ok_or_else(|| ParamError::new(param, format!("Invalid timestamp: {t}")))
}

fn raise(bound: &mut Option<i64>, t: i64) {
    *bound = Some(bound.map_or(t, |b| b.max(t)));
}

fn lower(bound: &mut Option<i64>, t: i64) {
    *bound = Some(bound.map_or(t, |b| b.min(t)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form;

    fn parsed(query: &str) -> StripeList {
        list(&form::decode(query.as_bytes()).unwrap()).unwrap()
    }

    fn refused(query: &str) -> ParamError {
        list(&form::decode(query.as_bytes()).unwrap()).unwrap_err()
    }

    const ID: &str = "meteroid:default:che_7n42DGM5Tflk9n8mt7Fhc7";

    #[test]
    fn defaults() {
        assert_eq!(parsed(""), StripeList::default());
        assert_eq!(parsed("").limit, 10);
    }

    #[test]
    fn a_full_list() {
        let q = format!(
            "limit=3&starting_after={}&status=open&customer=cus_42&created[gt]=100&created[lte]=200&expand[0]=data.line_items",
            id::encode(ID)
        );
        assert_eq!(
            parsed(&q),
            StripeList {
                limit: 3,
                starting_after: Some(ID.into()),
                ending_before: None,
                statuses: vec![Status::Open, Status::Processing],
                customer: Some("cus_42".into()),
                created_gte: Some(101),
                created_lt: Some(201),
                expand: vec!["data.line_items".into()],
            }
        );
        assert_eq!(
            parsed(&format!("ending_before={}", id::encode(ID)))
                .ending_before
                .as_deref(),
            Some(ID)
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parsed("limit=1").limit, 1);
        assert_eq!(parsed("limit=100").limit, 100);
        assert_eq!(parsed("limit=").limit, 10);
        for q in [
            "limit=0",
            "limit=101",
            "limit=-5",
            "limit=ten",
            "limit=99999999999",
        ] {
            assert_eq!(refused(q).param.as_deref(), Some("limit"), "{q}");
        }
    }

    #[test]
    fn statuses_map_to_canonical_ones() {
        assert_eq!(parsed("status=complete").statuses, vec![Status::Complete]);
        assert_eq!(
            parsed("status=expired").statuses,
            vec![Status::Expired, Status::Canceled, Status::Failed]
        );
        assert_eq!(refused("status=canceled").param.as_deref(), Some("status"));
    }

    #[test]
    fn created_forms() {
        let q = parsed("created=1700000000");
        assert_eq!(
            (q.created_gte, q.created_lt),
            (Some(1_700_000_000), Some(1_700_000_001))
        );
        let q = parsed("created[gte]=10&created[lt]=20");
        assert_eq!((q.created_gte, q.created_lt), (Some(10), Some(20)));
        let q = parsed("created[gte]=10&created[gt]=10&created[lt]=20&created[lte]=15");
        assert_eq!((q.created_gte, q.created_lt), (Some(11), Some(16)));
        assert_eq!(
            refused("created[after]=1").param.as_deref(),
            Some("created[after]")
        );
        assert_eq!(
            refused("created[gt]=soon").param.as_deref(),
            Some("created[gt]")
        );
        assert_eq!(refused("created=soon").param.as_deref(), Some("created"));
        assert_eq!(
            refused(&format!("created[lte]={}", i64::MAX))
                .param
                .as_deref(),
            Some("created[lte]")
        );
        assert_eq!(refused("created[]=1").param.as_deref(), Some("created"));
    }

    #[test]
    fn cursors_must_be_ours_and_only_one() {
        assert_eq!(
            refused("starting_after=cs_test_a1b2c3").param.as_deref(),
            Some("starting_after")
        );
        assert_eq!(
            refused("ending_before=xyz").param.as_deref(),
            Some("ending_before")
        );
        let both = format!(
            "starting_after={}&ending_before={}",
            id::encode(ID),
            id::encode(ID)
        );
        assert_eq!(refused(&both).param.as_deref(), Some("ending_before"));
    }

    #[test]
    fn every_other_parameter_is_refused_by_name() {
        for (q, param) in [
            ("payment_intent=pi_1", "payment_intent"),
            ("subscription=sub_1", "subscription"),
            ("customer_details[email]=a@b.example", "customer_details"),
            ("foo=1", "foo"),
            ("expand=customer", "expand"),
            ("customer[id]=x", "customer"),
        ] {
            assert_eq!(refused(q).param.as_deref(), Some(param), "{q}");
        }
        // An empty value filters nothing.
        assert_eq!(parsed("payment_intent="), StripeList::default());
    }
}
