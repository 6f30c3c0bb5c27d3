//! Events: which ones an observation of a session makes, and the body each
//! is stored and sent as (PRODUCT §11).

use checkout_core::{CheckoutSession, PaymentStatus, Status};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

/// What happened to a checkout session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Created,
    Processing,
    Completed,
    Expired,
    Canceled,
    Failed,
    PaymentStatusChanged,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::Created,
        EventType::Processing,
        EventType::Completed,
        EventType::Expired,
        EventType::Canceled,
        EventType::Failed,
        EventType::PaymentStatusChanged,
    ];

    /// The wire name, e.g. `checkout_session.completed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "checkout_session.created",
            EventType::Processing => "checkout_session.processing",
            EventType::Completed => "checkout_session.completed",
            EventType::Expired => "checkout_session.expired",
            EventType::Canceled => "checkout_session.canceled",
            EventType::Failed => "checkout_session.failed",
            EventType::PaymentStatusChanged => "checkout_session.payment_status_changed",
        }
    }

    /// The type a wire name names; `None` for anything else (filters refuse it).
    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|kind| kind.as_str() == s)
    }

    /// The event a session entering `status` makes; `None` for open (a
    /// session going back to open is not news a consumer can act on).
    fn of_status(status: Status) -> Option<EventType> {
        match status {
            Status::Open => None,
            Status::Processing => Some(EventType::Processing),
            Status::Complete => Some(EventType::Completed),
            Status::Expired => Some(EventType::Expired),
            Status::Canceled => Some(EventType::Canceled),
            Status::Failed => Some(EventType::Failed),
        }
    }
}

/// What the gateway last saw of a session (the store keeps it). Serialises
/// as an event's `previous`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct Seen {
    pub status: Status,
    pub payment_status: Option<PaymentStatus>,
}

impl Seen {
    /// The statuses of `session` as given (pass it `as_of(now)` for derived expiry).
    pub fn of(session: &CheckoutSession) -> Seen {
        Seen {
            status: session.status,
            payment_status: session.payment_status,
        }
    }

    /// From the store's text columns; `None` when either is not a known value.
    pub fn from_stored(status: &str, payment_status: Option<&str>) -> Option<Seen> {
        let status = STATUS_NAMES.iter().find(|(_, name)| *name == status)?.0;
        let payment_status = match payment_status {
            None => None,
            Some(text) => Some(
                PAYMENT_STATUS_NAMES
                    .iter()
                    .find(|(_, name)| *name == text)?
                    .0,
            ),
        };
        Some(Seen {
            status,
            payment_status,
        })
    }

    /// The store's text columns (the canonical wire names).
    pub fn stored(&self) -> (&'static str, Option<&'static str>) {
        let status = name_of(&STATUS_NAMES, self.status);
        let payment_status = self
            .payment_status
            .map(|payment| name_of(&PAYMENT_STATUS_NAMES, payment));
        (status, payment_status)
    }
}

/// The canonical wire names (checkout-core's serde names, PRODUCT §2).
const STATUS_NAMES: [(Status, &str); 6] = [
    (Status::Open, "open"),
    (Status::Processing, "processing"),
    (Status::Complete, "complete"),
    (Status::Expired, "expired"),
    (Status::Canceled, "canceled"),
    (Status::Failed, "failed"),
];

const PAYMENT_STATUS_NAMES: [(PaymentStatus, &str); 5] = [
    (PaymentStatus::Unpaid, "unpaid"),
    (PaymentStatus::Processing, "processing"),
    (PaymentStatus::Paid, "paid"),
    (PaymentStatus::NoPaymentRequired, "no_payment_required"),
    (PaymentStatus::Failed, "failed"),
];

fn name_of<T: PartialEq + Copy>(names: &[(T, &'static str)], value: T) -> &'static str {
    names
        .iter()
        .find(|(known, _)| *known == value)
        .map_or("", |(_, name)| name)
}

/// How the gateway came to see the session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sighting {
    /// The gateway created it (the answer to a create).
    Created,
    /// A client read it.
    Read,
    /// It was an item of a list.
    Listed,
    /// The poller fetched it.
    Polled,
    /// A vendor webhook pointed at it.
    Hinted,
}

/// The events one observation makes, in order. `now_seen` is the session as
/// of now (expiry derived: `CheckoutSession::as_of(now)`).
///
/// First sight: a `Created` sighting makes `Created`, then the status event
/// when the session is already past open (a create answered complete);
/// any other first sight makes nothing: it is a baseline, as the gateway
/// cannot tell when the session got there. Later: a status change makes
/// that status's event (none for a change back to open); a payment status
/// change to a known value makes `PaymentStatusChanged`, after the status event.
pub fn changes(previous: Option<Seen>, now_seen: &Seen, sighting: Sighting) -> Vec<EventType> {
    let mut out = Vec::new();
    match previous {
        None => {
            if sighting == Sighting::Created {
                out.push(EventType::Created);
                out.extend(EventType::of_status(now_seen.status));
            }
        }
        Some(previous) => {
            if previous.status != now_seen.status {
                out.extend(EventType::of_status(now_seen.status));
            }
            if previous.payment_status != now_seen.payment_status
                && now_seen.payment_status.is_some()
            {
                out.push(EventType::PaymentStatusChanged);
            }
        }
    }
    out
}

/// One event, ready for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `evt_` + 32 hex digits.
    pub id: String,
    pub kind: EventType,
    pub created_at: DateTime<Utc>,
    /// `provider:account`.
    pub account: String,
    /// The canonical session id.
    pub session_id: String,
    /// The JSON stored and sent, byte for byte.
    pub body: String,
}

/// The event body, PRODUCT §11; fields in this order on the wire.
#[derive(Serialize)]
struct Body<'a> {
    object: &'static str,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    created_at: String,
    account: &'a str,
    data: Data<'a>,
    previous: Option<Seen>,
}

#[derive(Serialize)]
struct Data<'a> {
    object: &'a CheckoutSession,
}

/// The event of `kind` for `session` (already `as_of(created_at)`), with
/// what was seen before it (`None` for a first sight).
pub fn event(
    kind: EventType,
    session: &CheckoutSession,
    previous: Option<Seen>,
    created_at: DateTime<Utc>,
    id: String,
) -> Event {
    let account = format!("{}:{}", session.provider, session.account);
    let body = Body {
        object: "event",
        id: &id,
        kind: kind.as_str(),
        created_at: created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        account: &account,
        data: Data { object: session },
        previous,
    };
    // Derived `Serialize` of string-keyed structs and maps into memory has
    // no way to fail.
    let body = serde_json::to_string(&body)
        .unwrap_or_else(|e| unreachable!("an event body always serialises: {e}"));
    Event {
        id,
        kind,
        created_at,
        account,
        session_id: session.id.clone(),
        body,
    }
}

/// An event id from a UUID v7 in simple form (32 hex digits): ids sort
/// roughly by creation time.
pub fn new_event_id(uuid_v7_simple: &str) -> String {
    format!("evt_{uuid_v7_simple}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::timestamp::parse_lenient;

    const OPEN: &str = include_str!("../tests/fixtures/session_open.json");
    const EVENT_ID: &str = "evt_019a1f3c5e8b7d2a9c4f6e1b3d5a7c90";

    fn open_session() -> CheckoutSession {
        serde_json::from_str(OPEN).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        parse_lenient(text).unwrap()
    }

    fn seen(status: Status, payment_status: Option<PaymentStatus>) -> Seen {
        Seen {
            status,
            payment_status,
        }
    }

    const STATUSES: [Status; 6] = [
        Status::Open,
        Status::Processing,
        Status::Complete,
        Status::Expired,
        Status::Canceled,
        Status::Failed,
    ];

    const PAYMENT_STATUSES: [Option<PaymentStatus>; 6] = [
        None,
        Some(PaymentStatus::Unpaid),
        Some(PaymentStatus::Processing),
        Some(PaymentStatus::Paid),
        Some(PaymentStatus::NoPaymentRequired),
        Some(PaymentStatus::Failed),
    ];

    const SIGHTINGS: [Sighting; 5] = [
        Sighting::Created,
        Sighting::Read,
        Sighting::Listed,
        Sighting::Polled,
        Sighting::Hinted,
    ];

    /// The event a session entering each status makes.
    const ENTERING: [(Status, Option<EventType>); 6] = [
        (Status::Open, None),
        (Status::Processing, Some(EventType::Processing)),
        (Status::Complete, Some(EventType::Completed)),
        (Status::Expired, Some(EventType::Expired)),
        (Status::Canceled, Some(EventType::Canceled)),
        (Status::Failed, Some(EventType::Failed)),
    ];

    #[test]
    fn type_names_round_trip_and_unknown_ones_are_refused() {
        let names: Vec<&str> = EventType::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "checkout_session.created",
                "checkout_session.processing",
                "checkout_session.completed",
                "checkout_session.expired",
                "checkout_session.canceled",
                "checkout_session.failed",
                "checkout_session.payment_status_changed",
            ]
        );
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        for unknown in [
            "",
            "completed",
            "checkout_session.complete",
            "CHECKOUT_SESSION.CREATED",
        ] {
            assert_eq!(EventType::parse(unknown), None, "{unknown:?}");
        }
    }

    #[test]
    fn every_status_change_makes_the_entered_status_event_whatever_the_sighting() {
        for sighting in SIGHTINGS {
            for from in STATUSES {
                for (to, entered) in ENTERING {
                    let payment = Some(PaymentStatus::Unpaid);
                    let made = changes(Some(seen(from, payment)), &seen(to, payment), sighting);
                    let expected: Vec<EventType> = if from == to {
                        vec![]
                    } else {
                        entered.into_iter().collect()
                    };
                    assert_eq!(made, expected, "{from:?} -> {to:?} ({sighting:?})");
                }
            }
        }
    }

    #[test]
    fn a_payment_status_change_to_a_known_value_makes_one_event() {
        for sighting in SIGHTINGS {
            for from in PAYMENT_STATUSES {
                for to in PAYMENT_STATUSES {
                    let made = changes(
                        Some(seen(Status::Open, from)),
                        &seen(Status::Open, to),
                        sighting,
                    );
                    let expected = if from != to && to.is_some() {
                        vec![EventType::PaymentStatusChanged]
                    } else {
                        vec![]
                    };
                    assert_eq!(made, expected, "{from:?} -> {to:?} ({sighting:?})");
                }
            }
        }
    }

    #[test]
    fn both_changing_makes_the_status_event_first() {
        let made = changes(
            Some(seen(Status::Processing, Some(PaymentStatus::Processing))),
            &seen(Status::Complete, Some(PaymentStatus::Paid)),
            Sighting::Polled,
        );
        assert_eq!(
            made,
            [EventType::Completed, EventType::PaymentStatusChanged]
        );
        // Back to open says nothing of the status, but the payment still counts.
        let made = changes(
            Some(seen(Status::Processing, Some(PaymentStatus::Processing))),
            &seen(Status::Open, Some(PaymentStatus::Failed)),
            Sighting::Read,
        );
        assert_eq!(made, [EventType::PaymentStatusChanged]);
    }

    #[test]
    fn a_created_sighting_first_makes_created_then_any_status_already_reached() {
        for (status, entered) in ENTERING {
            for payment in PAYMENT_STATUSES {
                let made = changes(None, &seen(status, payment), Sighting::Created);
                let mut expected = vec![EventType::Created];
                expected.extend(entered);
                assert_eq!(made, expected, "{status:?} {payment:?}");
            }
        }
    }

    #[test]
    fn any_other_first_sighting_is_a_silent_baseline() {
        for sighting in SIGHTINGS.into_iter().filter(|s| *s != Sighting::Created) {
            for status in STATUSES {
                for payment in PAYMENT_STATUSES {
                    let made = changes(None, &seen(status, payment), sighting);
                    assert_eq!(made, [], "{status:?} {payment:?} ({sighting:?})");
                }
            }
        }
    }

    #[test]
    fn seen_reads_the_statuses_as_given() {
        let session = open_session();
        assert_eq!(
            Seen::of(&session),
            seen(Status::Open, Some(PaymentStatus::Unpaid))
        );
        let later = session.as_of(at("2026-03-05T13:20:12Z"));
        assert_eq!(Seen::of(&later).status, Status::Expired);
    }

    #[test]
    fn stored_names_round_trip_and_are_the_wire_names() {
        for status in STATUSES {
            for payment in PAYMENT_STATUSES {
                let before = seen(status, payment);
                let (status_text, payment_text) = before.stored();
                assert_eq!(Seen::from_stored(status_text, payment_text), Some(before));
                assert_eq!(
                    serde_json::to_value(before).unwrap(),
                    serde_json::json!({"status": status_text, "payment_status": payment_text})
                );
            }
        }
        assert_eq!(Seen::from_stored("done", None), None);
        assert_eq!(Seen::from_stored("open", Some("settled")), None);
    }

    #[test]
    fn created_event_body() {
        let now = at("2026-03-04T13:20:11.250Z");
        let session = open_session().as_of(now);
        let event = event(EventType::Created, &session, None, now, EVENT_ID.into());
        assert_eq!(event.id, EVENT_ID);
        assert_eq!(event.kind, EventType::Created);
        assert_eq!(event.created_at, now);
        assert_eq!(event.account, "zenskar:default");
        assert_eq!(
            event.session_id,
            "zenskar:default:981c3edd-494c-4ff8-8ca0-6b44294984b7"
        );
        insta::assert_snapshot!(event.body);
    }

    #[test]
    fn completed_event_body() {
        let now = at("2026-03-04T13:31:02.123456Z");
        let mut session = open_session();
        session.status = Status::Complete;
        session.payment_status = Some(PaymentStatus::Paid);
        session.url = None;
        session.subscription_id = Some("7d0c6f9e-5b1a-4d2f-9c3e-8a4b2c1d0e9f".into());
        session.completed_at = Some(at("2026-03-04T13:30:58Z"));
        session.updated_at = session.completed_at;
        session.provider_status.status = Some("completed".into());
        session.provider_status.payment_status = Some("succeeded".into());
        let previous = Seen::of(&open_session());
        let event = event(
            EventType::Completed,
            &session.as_of(now),
            Some(previous),
            now,
            EVENT_ID.into(),
        );
        insta::assert_snapshot!(event.body);
    }

    #[test]
    fn payment_status_changed_event_body() {
        let now = at("2026-03-04T13:40:00Z");
        let mut session = open_session();
        session.status = Status::Processing;
        session.payment_status = Some(PaymentStatus::Failed);
        session.provider_status.status = Some("processing".into());
        session.provider_status.payment_status = Some("failed".into());
        let previous = seen(Status::Processing, Some(PaymentStatus::Processing));
        let kinds = changes(Some(previous), &Seen::of(&session), Sighting::Polled);
        assert_eq!(kinds, [EventType::PaymentStatusChanged]);
        let event = event(kinds[0], &session, Some(previous), now, EVENT_ID.into());
        insta::assert_snapshot!(event.body);
    }

    #[test]
    fn body_fields_in_product_order_and_data_is_the_session_as_given() {
        let now = at("2026-03-05T13:20:13Z");
        let session = open_session().as_of(now);
        let previous = Seen::of(&open_session());
        let event = event(
            EventType::Expired,
            &session,
            Some(previous),
            now,
            EVENT_ID.into(),
        );
        let keys = [
            "\"object\":\"event\"",
            "\"id\":",
            "\"type\":\"checkout_session.expired\"",
            "\"created_at\":\"2026-03-05T13:20:13.000Z\"",
            "\"account\":\"zenskar:default\"",
            "\"data\":",
            "\"previous\":{\"status\":\"open\",\"payment_status\":\"unpaid\"}",
        ];
        let positions: Vec<usize> = keys
            .iter()
            .map(|key| {
                event
                    .body
                    .find(key)
                    .unwrap_or_else(|| panic!("{key} missing"))
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        let body: serde_json::Value = serde_json::from_str(&event.body).unwrap();
        let data: CheckoutSession = serde_json::from_value(body["data"]["object"].clone()).unwrap();
        assert_eq!(data, session);
        assert_eq!(data.status, Status::Expired);
    }

    #[test]
    fn event_ids_are_prefixed() {
        assert_eq!(
            new_event_id("019a1f3c5e8b7d2a9c4f6e1b3d5a7c90"),
            "evt_019a1f3c5e8b7d2a9c4f6e1b3d5a7c90"
        );
    }
}
