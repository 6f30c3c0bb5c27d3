//! Family B (`/checkouts`) checkouts → canonical: one free-form
//! `checkout_status`, no metadata, amendments of existing contracts.

use checkout_core::model::ObjectTag;
use checkout_core::{
    CheckoutSession, Error, Metadata, PaymentStatus, PlanRef, ProviderStatus, Purpose, Status,
};
use serde_json::Value;

use super::{amount, bad_response, customer, first_time, opt_time, session_id};
use crate::{wire, PROVIDER};

/// Family B free-form `checkout_status` → canonical status (PRODUCT §2):
/// anything unknown is `processing`, never success or failure.
pub fn status_b(checkout_status: &str) -> Status {
    match checkout_status.to_ascii_lowercase().as_str() {
        "open" => Status::Open,
        "pending" | "payment_succeeded" => Status::Processing,
        "contract_created" => Status::Complete,
        "expired" => Status::Expired,
        _ => {
            checkout_core::drift::value("checkout_status", checkout_status);
            Status::Processing
        }
    }
}

/// Family B says whether money moved only with `payment_succeeded`.
pub fn payment_status_b(checkout_status: &str) -> Option<PaymentStatus> {
    checkout_status
        .eq_ignore_ascii_case("payment_succeeded")
        .then_some(PaymentStatus::Paid)
}

/// A family B checkout → canonical session.
pub fn session_b(account: &str, c: &wire::Checkout) -> Result<CheckoutSession, Error> {
    let id = session_id(account, &c.id)?;
    let invoice = c
        .estimates
        .as_ref()
        .and_then(|e| e.current_invoice.as_ref());
    let amount_total = amount(
        "estimates.current_invoice.total",
        invoice.and_then(|i| i.total),
        invoice.and_then(|i| i.currency.as_deref()),
    )?;
    let created_at = first_time(&[("created_at", &c.created_at), ("updated_at", &c.updated_at)])?
        .ok_or_else(|| bad_response("`created_at` is missing"))?;
    // An amendment changes the products of an existing contract and names
    // no plan; a confirmed new contract also has a `contract_id`.
    let overrides = c
        .product_overrides
        .as_ref()
        .and_then(Value::as_array)
        .is_some_and(|o| !o.is_empty());
    let purpose = if c.plan_id.is_none() && c.contract_id.is_some() && overrides {
        Purpose::PlanChange
    } else {
        Purpose::Subscription
    };
    Ok(CheckoutSession {
        object: ObjectTag,
        id: id.to_string(),
        provider: PROVIDER.to_owned(),
        account: account.to_owned(),
        provider_session_id: c.id.clone(),
        status: status_b(&c.checkout_status),
        payment_status: payment_status_b(&c.checkout_status),
        purpose,
        url: None,
        success_url: c.success_url.clone(),
        cancel_url: c.cancel_url.clone(),
        customer: customer(
            &c.customer_id,
            c.customer_data.as_ref(),
            invoice.and_then(|i| i.customer.as_ref()),
        ),
        plan: c.plan_id.clone().map(|id| PlanRef {
            id,
            kind: "plan".to_owned(),
        }),
        quantity: None,
        subscription_id: c.contract_id.clone(),
        invoice_id: None,
        amount_total,
        livemode: None,
        // Family B has no metadata field.
        metadata: Metadata::new(),
        created_at,
        updated_at: opt_time("updated_at", &c.updated_at)?,
        expires_at: opt_time("expires_at", &c.expires_at)?,
        // No completion timestamp is documented for family B.
        completed_at: None,
        provider_status: ProviderStatus {
            status: Some(c.checkout_status.clone()),
            payment_status: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_b_free_form_status() {
        assert_eq!(status_b("open"), Status::Open);
        assert_eq!(status_b("pending"), Status::Processing);
        assert_eq!(status_b("payment_succeeded"), Status::Processing);
        assert_eq!(
            payment_status_b("payment_succeeded"),
            Some(PaymentStatus::Paid)
        );
        assert_eq!(status_b("contract_created"), Status::Complete);
        assert_eq!(status_b("expired"), Status::Expired);
        assert_eq!(payment_status_b("open"), None);
        for unknown in ["awaiting_approval", "cancelled", "failed", ""] {
            let s = status_b(unknown);
            assert!(!s.is_terminal() && !s.is_success(), "{unknown:?}");
        }
    }
}
