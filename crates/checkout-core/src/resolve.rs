//! Finding a create whose outcome is unknown (PRODUCT §10): when the vendor
//! may have made the session but its answer was lost, the gateway reads the
//! account's list and looks for it. Where list items carry the metadata
//! given at create, each create is marked and the mark decides; elsewhere a
//! listed session fits when nothing it shows rules it out (customer, plan,
//! creation time), and only a single fit is adopted.

use chrono::{DateTime, Utc};

use crate::create::CreateSession;
use crate::model::{CheckoutSession, MetadataValue};

/// The metadata key that carries a create's mark. Reserved: a caller's
/// metadata may not use it, and canonical sessions never show it (the
/// vendor's raw payload does).
pub const MARK_KEY: &str = "checkout_gateway_attempt";

/// `request` with `mark` added to its metadata.
pub fn marked(request: &CreateSession, mark: &str) -> CreateSession {
    let mut marked = request.clone();
    marked
        .metadata
        .get_or_insert_with(Default::default)
        .insert(MARK_KEY.to_owned(), MetadataValue::String(mark.to_owned()));
    marked
}

/// Remove the gateway's mark from a session read back from the vendor.
pub fn unmark(session: &mut CheckoutSession) {
    session.metadata.remove(MARK_KEY);
}

/// The mark a listed session carries, if any.
pub fn mark_of(session: &CheckoutSession) -> Option<&str> {
    match session.metadata.get(MARK_KEY) {
        Some(MetadataValue::String(mark)) => Some(mark),
        _ => None,
    }
}

/// The customer `request` named is not the one `listed` shows. Unknown on
/// either side rules nothing out.
pub fn other_customer(request: &CreateSession, listed: &CheckoutSession) -> bool {
    let (Some(wanted), Some(shown)) = (request.customer.as_deref(), listed.customer.as_ref())
    else {
        return false;
    };
    let known = [shown.id.as_deref(), shown.external_id.as_deref()];
    known.iter().any(Option::is_some) && !known.contains(&Some(wanted))
}

/// The plan `request` named is not the one `listed` shows.
pub fn other_plan(request: &CreateSession, listed: &CheckoutSession) -> bool {
    match (request.plan.as_deref(), listed.plan.as_ref()) {
        (Some(wanted), Some(shown)) => shown.id != wanted,
        _ => false,
    }
}

/// What to look for: the creation times the attempt could have given its
/// session, and its mark where the vendor keeps one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search<'a> {
    pub created_from: DateTime<Utc>,
    pub created_to: DateTime<Utc>,
    /// Set where list items carry the create's metadata: then only the
    /// mark counts.
    pub mark: Option<&'a str>,
}

/// What the listed sessions say about the attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'s> {
    /// Exactly one session fits: the attempt made it.
    One(&'s CheckoutSession),
    /// None fits: the attempt made nothing (if the list was complete).
    None,
    /// Several fit: which one is the attempt's cannot be told.
    Several(usize),
}

/// Look through `listed` for the session the attempt made. `could_be` is
/// the vendor's own judgement (see [`crate::Connector::could_be_created_by`]);
/// `taken` says which sessions other requests already answered with.
pub fn find<'s>(
    search: &Search<'_>,
    listed: &'s [CheckoutSession],
    could_be: impl Fn(&CheckoutSession) -> bool,
    taken: impl Fn(&CheckoutSession) -> bool,
) -> Found<'s> {
    let fits: Vec<&CheckoutSession> = listed
        .iter()
        .filter(|s| match search.mark {
            Some(mark) => mark_of(s) == Some(mark),
            None => {
                (search.created_from..=search.created_to).contains(&s.created_at)
                    && could_be(s)
                    && !taken(s)
            }
        })
        .collect();
    match fits.as_slice() {
        [] => Found::None,
        [one] => Found::One(one),
        several => Found::Several(several.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Customer, PlanRef};
    use chrono::TimeDelta;

    fn listed(id: &str, customer: &str, plan: &str, at: i64) -> CheckoutSession {
        let body = format!(
            r#"{{"object":"checkout_session","id":"meteroid:default:{id}","provider":"meteroid","account":"default",
            "provider_session_id":"{id}","status":"open","payment_status":null,"purpose":"subscription","url":null,
            "success_url":null,"cancel_url":null,"customer":null,"plan":null,"quantity":null,"subscription_id":null,
            "invoice_id":null,"amount_total":null,"livemode":null,"metadata":{{}},"created_at":"2026-11-29T10:00:00Z",
            "updated_at":null,"expires_at":null,"completed_at":null,"provider_status":{{"status":null,"payment_status":null}}}}"#
        );
        let mut s: CheckoutSession = serde_json::from_str(&body).expect("session");
        s.customer = Some(Customer {
            id: Some(customer.to_owned()),
            ..Customer::default()
        });
        s.plan = Some(PlanRef {
            id: plan.to_owned(),
            kind: "plan_version".to_owned(),
        });
        s.created_at += TimeDelta::seconds(at);
        s
    }

    fn request(customer: &str, plan: &str) -> CreateSession {
        CreateSession {
            provider: "meteroid".into(),
            account: "default".into(),
            customer: Some(customer.into()),
            plan: Some(plan.into()),
            ..CreateSession::default()
        }
    }

    fn search(mark: Option<&str>) -> Search<'_> {
        let base = listed("x", "c", "p", 0).created_at;
        Search {
            created_from: base,
            created_to: base + TimeDelta::seconds(60),
            mark,
        }
    }

    fn exact(request: &CreateSession) -> impl Fn(&CheckoutSession) -> bool + '_ {
        |s| !other_customer(request, s) && !other_plan(request, s)
    }

    #[test]
    fn a_single_fit_in_the_window_is_the_attempts() {
        let req = request("cus_1", "plv_1");
        let sessions = [
            listed("before", "cus_1", "plv_1", -1),
            listed("theirs", "cus_2", "plv_1", 10),
            listed("other_plan", "cus_1", "plv_2", 10),
            listed("mine", "cus_1", "plv_1", 30),
            listed("after", "cus_1", "plv_1", 61),
        ];
        let found = find(&search(None), &sessions, exact(&req), |_| false);
        assert!(matches!(found, Found::One(s) if s.provider_session_id == "mine"));
    }

    #[test]
    fn two_fits_are_ambiguous_unless_one_is_taken() {
        let req = request("cus_1", "plv_1");
        let sessions = [
            listed("a", "cus_1", "plv_1", 10),
            listed("b", "cus_1", "plv_1", 20),
        ];
        assert_eq!(
            find(&search(None), &sessions, exact(&req), |_| false),
            Found::Several(2)
        );
        let found = find(&search(None), &sessions, exact(&req), |s| {
            s.provider_session_id == "a"
        });
        assert!(matches!(found, Found::One(s) if s.provider_session_id == "b"));
        assert_eq!(
            find(&search(None), &sessions[..0], exact(&req), |_| false),
            Found::None
        );
    }

    #[test]
    fn what_the_listing_does_not_show_rules_nothing_out() {
        let req = request("alias-of-cus_1", "plv_1");
        let mut anonymous = listed("a", "cus_1", "plv_1", 10);
        anonymous.customer = None;
        anonymous.plan = None;
        assert!(!other_customer(&req, &anonymous) && !other_plan(&req, &anonymous));
        let shown = listed("a", "cus_1", "plv_1", 10);
        assert!(other_customer(&req, &shown));
        let mut external = shown.clone();
        external.customer.as_mut().unwrap().external_id = Some("alias-of-cus_1".into());
        assert!(!other_customer(&req, &external));
        let without_customer = CreateSession {
            customer: None,
            ..req
        };
        assert!(!other_customer(&without_customer, &shown));
    }

    #[test]
    fn a_mark_decides_alone_and_is_never_shown() {
        let req = request("cus_1", "plv_1");
        let mut mine = listed("mine", "cus_1", "plv_1", 500);
        let marked_req = marked(&req, "m1");
        mine.metadata = marked_req.metadata.clone().unwrap();
        let mut other = listed("other", "cus_1", "plv_1", 10);
        other.metadata = marked(&req, "m2").metadata.unwrap();
        let sessions = [other, mine, listed("plain", "cus_1", "plv_1", 10)];
        let found = find(&search(Some("m1")), &sessions, exact(&req), |_| false);
        assert!(matches!(found, Found::One(s) if s.provider_session_id == "mine"));
        assert_eq!(
            find(&search(Some("m3")), &sessions, exact(&req), |_| false),
            Found::None
        );
        let mut shown = sessions[1].clone();
        assert_eq!(mark_of(&shown), Some("m1"));
        unmark(&mut shown);
        assert!(shown.metadata.is_empty());
        assert_eq!(req.metadata, None, "marking copies the request");
    }
}
