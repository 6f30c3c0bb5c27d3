//! What every vendor's control routes (`/_sandbox/<vendor>/…`, no vendor
//! auth) share: the `{"error": …}` failure, JSON bodies that fail in that
//! form, and `GET|POST /sessions/{id}` (inspect, move along the lifecycle)
//! over a vendor's own ids, views and moves.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::json;

use super::lifecycle::MoveError;

/// A control-route failure: `{"error": "…"}` with a fitting status.
#[derive(Debug)]
pub(crate) struct ControlError {
    status: StatusCode,
    message: String,
}

impl ControlError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ControlError {
        ControlError {
            status,
            message: message.into(),
        }
    }

    /// 409: the move is off the vendor's lifecycle.
    pub(crate) fn conflict(message: impl Into<String>) -> ControlError {
        ControlError::new(StatusCode::CONFLICT, message)
    }

    /// 400: the id or body is not what the route takes.
    pub(crate) fn bad_request(message: impl Into<String>) -> ControlError {
        ControlError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

fn rejected(e: JsonRejection) -> ControlError {
    ControlError::bad_request(e.body_text())
}

/// A control route's JSON body; a bad one is a 400 in the control form.
pub(crate) struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ControlError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ControlError> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(body)| Body(body))
            .map_err(rejected)
    }
}

/// For `deserialize_with`: absent stays `None` (unchanged), `null` is
/// `Some(None)` (cleared).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Why a session control did not answer with the session.
#[derive(Debug)]
pub(crate) enum Refused {
    /// No such session: the kit says so in the vendor's words ([`SessionControls::NOUN`]).
    NotFound,
    Error(ControlError),
}

impl From<ControlError> for Refused {
    fn from(e: ControlError) -> Refused {
        Refused::Error(e)
    }
}

impl<S> MoveError<S> {
    /// A move the lifecycle refused, for the control route: no such
    /// session, or a 409 saying `why` in the vendor's words.
    pub(crate) fn refused(self, why: impl FnOnce(S, S) -> String) -> Refused {
        match self {
            MoveError::NotFound => Refused::NotFound,
            MoveError::Illegal { from, to } => ControlError::conflict(why(from, to)).into(),
        }
    }
}

/// A vendor's side of `GET|POST /sessions/{id}`.
pub(crate) trait SessionControls: Send + Sync + 'static {
    /// What a 404 calls a session: `no {NOUN} {id}`.
    const NOUN: &'static str;
    type Id: Send;
    /// The POST body.
    type Move: DeserializeOwned + Send + 'static;

    fn parse_id(raw: &str) -> Result<Self::Id, ControlError>;

    /// The session as the vendor's API shows it, plus what it keeps private.
    fn inspect(&self, id: Self::Id, headers: &HeaderMap) -> Result<Response, Refused>;

    /// What the hosted page, the payment provider or a worker would do to it.
    fn apply(
        &self,
        id: Self::Id,
        change: Self::Move,
        headers: &HeaderMap,
    ) -> Result<Response, Refused>;
}

/// One vendor's control routes: `GET|POST /sessions/{id}`, plus its own
/// `extra` routes over the same state.
pub(crate) fn router<C: SessionControls>(vendor: Arc<C>, extra: Router<Arc<C>>) -> Router {
    Router::new()
        .route("/sessions/{id}", get(inspect::<C>).post(apply::<C>))
        .merge(extra)
        .with_state(vendor)
}

fn worded<C: SessionControls>(refused: Refused, raw: &str) -> ControlError {
    match refused {
        Refused::NotFound => {
            ControlError::new(StatusCode::NOT_FOUND, format!("no {} {raw}", C::NOUN))
        }
        Refused::Error(e) => e,
    }
}

async fn inspect<C: SessionControls>(
    State(vendor): State<Arc<C>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, ControlError> {
    let id = C::parse_id(&raw)?;
    vendor
        .inspect(id, &headers)
        .map_err(|r| worded::<C>(r, &raw))
}

/// The id is checked before the body, as the vendors' routes did.
async fn apply<C: SessionControls>(
    State(vendor): State<Arc<C>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Result<Json<C::Move>, JsonRejection>,
) -> Result<Response, ControlError> {
    let id = C::parse_id(&raw)?;
    let Json(change) = body.map_err(rejected)?;
    vendor
        .apply(id, change, &headers)
        .map_err(|r| worded::<C>(r, &raw))
}
