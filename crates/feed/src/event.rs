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

/// What the gateway last saw of a session (the store keeps it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
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

impl Serialize for Seen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Seen", 2)?;
        out.serialize_field("status", &self.status)?;
        out.serialize_field("payment_status", &self.payment_status)?;
        out.end()
    }
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
