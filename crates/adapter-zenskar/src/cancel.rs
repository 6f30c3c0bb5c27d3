//! Family A cancel (`POST /checkout/{id}/cancel`): the canonical request →
//! the vendor's body, and its answer → the canonical session.

use checkout_core::{CancelSession, CheckoutSession, Error, ErrorCode};
use serde_json::{Map, Value};

use crate::{read, wire, PROVIDER};

fn invalid(field: &str, why: &str) -> Error {
    Error::invalid_request(format!("{field}: {why}")).with_provider(PROVIDER)
}

/// The cancel body. `reason_type` is the caller's
/// `provider_options.reason_type` when given (one of the documented
/// values), else `other` when there is a `reason`, else `customer_requested`.
pub fn cancel_request(request: &CancelSession) -> Result<wire::CancelRequest, Error> {
    let options: wire::CancelOptions =
        serde_json::from_value(Value::Object(request.provider_options.clone())).map_err(|e| {
            invalid(
                "provider_options",
                &format!("{e} (a zenskar cancel takes `reason_type` and `reference_id`)"),
            )
        })?;
    let reason_type = match options.reason_type {
        Some(given) if wire::CANCEL_REASON_TYPES.contains(&given.as_str()) => given,
        Some(_) => {
            return Err(invalid(
                "provider_options.reason_type",
                &format!(
                    "zenskar takes one of {}",
                    wire::CANCEL_REASON_TYPES.join(", ")
                ),
            ))
        }
        None if request.reason.is_some() => "other".to_owned(),
        None => "customer_requested".to_owned(),
    };
    // Zenskar refuses `other` without words for it.
    if reason_type == "other" && request.reason.is_none() {
        return Err(invalid(
            "reason",
            "zenskar needs a reason when `reason_type` is `other`",
        ));
    }
    Ok(wire::CancelRequest {
        reason_type,
        reason: request.reason.clone(),
        reference_id: options.reference_id,
    })
}

/// The answer to a cancel of `reference`. The documented answer carries no
/// `id` (the reference asked for stands in) and no creation time: without
/// one there is no canonical session, and inventing it is not an option, so
/// that answer is `invalid_state` for the gateway to settle by reading the
/// session, which the cancel has just made `cancelled`.
pub fn cancelled_session(
    account: &str,
    reference: &str,
    body: &[u8],
) -> Result<CheckoutSession, Error> {
    let mut fields: Map<String, Value> = read::parse(body)?;
    match fields.get("id") {
        None | Some(Value::Null) => {
            fields.insert("id".to_owned(), Value::String(reference.to_owned()));
        }
        Some(Value::String(id)) if id == reference => {}
        Some(_) => {
            return Err(checkout_core::vendor::bad_response(
                PROVIDER,
                "the cancel answered for another session",
            ))
        }
    }
    let dated = ["created_at", "last_activity_at", "updated_at"]
        .iter()
        .any(|k| fields.get(*k).is_some_and(|v| !v.is_null()));
    if !dated {
        return Err(Error::new(
            ErrorCode::InvalidState,
            format!(
                "{PROVIDER} accepted the cancel but answered without the session's creation \
                 time: read the session to see it"
            ),
        )
        .with_provider(PROVIDER));
    }
    // Through the shared parser again, so an error names its field.
    let with_id = serde_json::to_vec(&fields)
        .map_err(|_| checkout_core::vendor::bad_response(PROVIDER, "unreadable answer"))?;
    let session: wire::CheckoutSession = read::parse(&with_id)?;
    read::session_a(account, &session)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(reason: Option<&str>, options: Value) -> CancelSession {
        CancelSession {
            reason: reason.map(str::to_owned),
            provider_options: options.as_object().cloned().unwrap_or_default(),
        }
    }

    fn body(r: &CancelSession) -> Value {
        serde_json::to_value(cancel_request(r).unwrap()).unwrap()
    }

    #[test]
    fn reason_types() {
        assert_eq!(
            body(&request(None, json!({}))),
            json!({"reason_type": "customer_requested"})
        );
        assert_eq!(
            body(&request(Some("bought twice"), json!({}))),
            json!({"reason_type": "other", "reason": "bought twice"})
        );
        assert_eq!(
            body(&request(
                Some("dup of 42"),
                json!({"reason_type": "duplicate", "reference_id": "ord-42"})
            )),
            json!({"reason_type": "duplicate", "reason": "dup of 42", "reference_id": "ord-42"})
        );
        for t in wire::CANCEL_REASON_TYPES {
            let r = request(Some("why"), json!({ "reason_type": t }));
            assert_eq!(body(&r)["reason_type"], *t);
        }
    }

    #[test]
    fn bad_options_are_named() {
        for (r, field) in [
            (
                request(None, json!({"reason_type": "changed_mind"})),
                "provider_options.reason_type",
            ),
            (request(None, json!({"reason_type": 3})), "provider_options"),
            (request(None, json!({"note": "x"})), "provider_options"),
            (request(None, json!({"reason_type": "other"})), "reason"),
        ] {
            let e = cancel_request(&r).unwrap_err();
            assert_eq!((e.code, e.http_status), (ErrorCode::InvalidRequest, 400));
            assert!(e.message.starts_with(field), "{}", e.message);
            assert_eq!(e.provider.as_deref(), Some("zenskar"));
        }
    }

    const ID: &str = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";

    #[test]
    fn answers_with_and_without_an_id_or_a_date() {
        let full = json!({"id": ID, "checkout_session_status": "cancelled",
            "payment_status": "not_started", "created_at": "2026-03-02T10:00:00",
            "cancellation_details": {"reason_type": "duplicate", "cancelled_at": "2026-03-02T11:00:00"}});
        let s = cancelled_session("default", ID, &serde_json::to_vec(&full).unwrap()).unwrap();
        assert_eq!(s.provider_session_id, ID);
        assert_eq!(s.status, checkout_core::Status::Canceled);
        let mut no_id = full.clone();
        no_id.as_object_mut().unwrap().remove("id");
        let s = cancelled_session("default", ID, &serde_json::to_vec(&no_id).unwrap()).unwrap();
        assert_eq!(
            s.id,
            format!("zenskar:default:{ID}"),
            "the reference stands in"
        );
        let mut other = full.clone();
        other["id"] = json!("5d58e137-0e0d-4807-939b-0c4d351daac6");
        let e = cancelled_session("default", ID, &serde_json::to_vec(&other).unwrap()).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        let documented = json!({"checkout_session_status": "cancelled",
            "payment_status": "not_started", "cancelled_at": "2026-03-02T11:00:00",
            "cancellation_details": {"reason_type": "duplicate", "cancelled_at": "2026-03-02T11:00:00"}});
        let e = cancelled_session("default", ID, &serde_json::to_vec(&documented).unwrap())
            .unwrap_err();
        assert_eq!((e.code, e.http_status), (ErrorCode::InvalidState, 409));
        let mut bad = full;
        bad["created_at"] = json!("yesterday");
        let e = cancelled_session("default", ID, &serde_json::to_vec(&bad).unwrap()).unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderBadResponse);
        assert!(!e.message.contains("yesterday"));
    }
}
