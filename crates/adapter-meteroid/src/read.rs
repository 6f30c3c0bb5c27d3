//! Meteroid answers → the canonical model: sessions, statuses, purposes,
//! times. Pure, snapshot-tested over every fixture.

use checkout_core::model::ObjectTag;
use checkout_core::{
    timestamp, CheckoutSession, Customer, Error, Metadata, PlanRef, ProviderStatus, Purpose,
    SessionId, Status,
};
use chrono::{DateTime, Utc};

use crate::wire;
use crate::PROVIDER;

/// Meteroid `status` → canonical status (PRODUCT §2 table). A value no rule
/// knows stays non-terminal: it must never read as success or failure.
pub fn status(vendor: &str) -> Status {
    match vendor {
        "CREATED" => Status::Open,
        "AWAITING_PAYMENT" => Status::Processing,
        "COMPLETED" => Status::Complete,
        "EXPIRED" => Status::Expired,
        "CANCELLED" => Status::Canceled,
        _ => {
            checkout_core::drift::value("status", vendor);
            Status::Processing
        }
    }
}

/// Meteroid `checkout_type` → canonical purpose.
pub fn purpose(checkout_type: &str) -> Purpose {
    match checkout_type {
        "SELF_SERVE" => Purpose::Subscription,
        "SUBSCRIPTION_ACTIVATION" => Purpose::SubscriptionActivation,
        "PLAN_CHANGE" => Purpose::PlanChange,
        "ADDON_PURCHASE" => Purpose::AddOn,
        _ => {
            checkout_core::drift::value("checkout_type", checkout_type);
            Purpose::Other
        }
    }
}

fn bad_response(what: impl std::fmt::Display) -> Error {
    checkout_core::vendor::bad_response(PROVIDER, what)
}

fn time(field: &str, value: &str) -> Result<DateTime<Utc>, Error> {
    timestamp::parse_lenient(value)
        .ok_or_else(|| bad_response(format_args!("`{field}` is not a timestamp")))
}

fn opt_time(field: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, Error> {
    value.as_deref().map(|v| time(field, v)).transpose()
}

/// A vendor session → canonical session (status as the vendor maps it;
/// derived expiry is applied at read time by [`CheckoutSession::as_of`]).
pub fn session(account: &str, s: &wire::CheckoutSession) -> Result<CheckoutSession, Error> {
    let id = SessionId::new(PROVIDER, account, &s.id)
        .map_err(|_| bad_response(format_args!("session id {:?} is not a Meteroid id", s.id)))?;
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: s.id.clone(),
        status: status(&s.status),
        // Meteroid does not expose whether money moved.
        payment_status: None,
        purpose: purpose(&s.checkout_type),
        url: s.checkout_url.clone(),
        // As given on create; a deployment older than redirect URLs sends
        // neither, which reads as `null`.
        success_url: s.success_url.clone(),
        cancel_url: s.cancel_url.clone(),
        customer: Some(Customer {
            id: Some(s.customer_id.clone()),
            ..Customer::default()
        }),
        plan: Some(PlanRef {
            id: s.plan_version_id.clone(),
            kind: "plan_version".to_owned(),
        }),
        // No quantity on a Meteroid session.
        quantity: None,
        subscription_id: s.subscription_id.clone(),
        invoice_id: None,
        // The session carries no amount: never invent one.
        amount_total: None,
        livemode: None,
        // Accepted on create but never returned.
        metadata: Metadata::new(),
        created_at: time("created_at", &s.created_at)?,
        updated_at: None,
        expires_at: opt_time("expires_at", &s.expires_at)?,
        completed_at: opt_time("completed_at", &s.completed_at)?,
        provider_status: ProviderStatus {
            status: Some(s.status.clone()),
            payment_status: None,
        },
    })
}

/// A get/create/cancel response body → canonical session.
pub fn session_body(account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
    let envelope: wire::SessionEnvelope = parse(body)?;
    session(account, &envelope.session)
}

/// Deserialize a Meteroid body (see [`checkout_core::vendor::parse_body`]).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    checkout_core::vendor::parse_body(PROVIDER, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_rule() {
        assert_eq!(status("CREATED"), Status::Open);
        assert_eq!(status("AWAITING_PAYMENT"), Status::Processing);
        assert_eq!(status("COMPLETED"), Status::Complete);
        assert_eq!(status("EXPIRED"), Status::Expired);
        assert_eq!(status("CANCELLED"), Status::Canceled);
        let unknown = status("PAYMENT_FAILED");
        assert!(!unknown.is_terminal() && !unknown.is_success());
    }
}
