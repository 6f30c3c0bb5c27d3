//! Flowglad adapter, without I/O: `wire` (vendor serde types), `read`
//! (answers → canonical), `create` (canonical create → vendor body),
//! `errors` (vendor errors → canonical), `webhook` (what Flowglad's own
//! webhooks tell the change feed), and here the provider, the account
//! config and the requests.

pub mod create;
pub mod errors;
pub mod read;
pub mod webhook;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::list::{ListSupport, Pagination};
use checkout_core::vendor::{bad_response, listed, read_fetched, read_page};
use checkout_core::{
    Capabilities, CheckoutSession, Connector, CreateSession, Endpoint, Error, ErrorCode, Fetched,
    ListPage, ListQuery, Operation, Provider, Purpose, RequestContext, Secret, VendorAnswer,
    VendorRequest,
};
use http::header::AUTHORIZATION;
use http::Method;
use serde::{Deserialize, Serialize};

pub const PROVIDER: &str = "flowglad";

/// Registration handle for the gateway.
pub struct Flowglad;

/// What Flowglad's price ids start with, and so does `price_slug:`.
const PRICE_ID_PREFIX: &str = "price_";

const ID_PREFIX: &str = "chckt_session_";
/// nanoid length of every Flowglad id (vendor notes §1.4).
const ID_LEN: usize = 21;

/// `chckt_session_` + 21 characters of `[0-9A-Za-z]` (a nanoid).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let rest = reference
        .strip_prefix(ID_PREFIX)
        .ok_or_else(|| format!("a Flowglad checkout session id starts with `{ID_PREFIX}`"))?;
    if rest.len() == ID_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "a Flowglad checkout session id has {ID_LEN} letters or digits after `{ID_PREFIX}`"
        ))
    }
}

impl Provider for Flowglad {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer (customerExternalId; absent for anonymous sessions)",
                "plan (priceId, or price_slug:<slug>)",
                "quantity (product sessions)",
                "success_url (required)",
                "cancel_url (required)",
                "metadata (outputMetadata: strings of at most 500 characters, numbers, booleans)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
            list: Some(ListSupport {
                pagination: Pagination::Cursor {
                    max_limit: MAX_PAGE,
                },
                // No filter is documented for the list (vendor notes §1.8).
                vendor_filters: Vec::new(),
                customer_required: false,
                // List records come without the hosted `url` a get answers.
                items_complete: false,
            }),
            // No cancel or expire over REST (vendor notes §1.1).
            cancel: false,
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    /// A price id (`price_RcgaDoyGiqRVDxRMFApqr`) or a slug as `plan` gives
    /// one (`price_slug:<slug>`): both start `price_`.
    fn could_be_plan_id(&self, plan: &str) -> bool {
        plan.starts_with(PRICE_ID_PREFIX)
    }

    /// `product` sessions subscribe or buy (the price's type decides),
    /// `add_payment_method` collects a payment method and
    /// `activate_subscription` activates an existing subscription.
    fn create_purposes(&self) -> &'static [Purpose] {
        &[
            Purpose::Subscription,
            Purpose::Purchase,
            Purpose::Setup,
            Purpose::SubscriptionActivation,
        ]
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            if top.contains_key("data") && !top.contains_key("checkoutSession") {
                return Err(Error::invalid_request(
                    "this is a Flowglad list body; normalize takes one get or create response",
                ));
            }
        }
        read::session_body(account, body)
    }

    fn read_error(&self, answer: &VendorAnswer) -> Error {
        errors::vendor_error(answer.status, &answer.body, answer.header("x-request-id"))
    }

    fn account_schema(&self) -> serde_json::Value {
        checkout_core::adapter::account_schema::<AccountConfig>()
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Connector>, ConfigError> {
        Ok(Arc::new(FlowgladAccount::from_config(account, config)?))
    }
}

/// `[providers.flowglad.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Secret key (`sk_test_…` / `sk_live_…`); or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://app.flowglad.com".to_owned()
}

/// One Flowglad account: its config, endpoint (the API key as
/// `Authorization: Bearer <key>`) and requests.
pub struct FlowgladAccount {
    account: String,
    config: AccountConfig,
    endpoint: Endpoint,
}

impl FlowgladAccount {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<FlowgladAccount, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let api_key =
            vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        // Flowglad refuses any Authorization value with a space that is not
        // `Bearer <key>`, so a key with whitespace could never work. (It
        // also takes the bare key.) Marked sensitive by `secret_header`.
        let authorization = vendor_http::secret_header("api_key", "Bearer ", &api_key)?;
        let endpoint = vendor_http::endpoint(
            &config.base_url,
            vec![(AUTHORIZATION, authorization)],
            config.connect_timeout_ms,
            config.timeout_ms,
        )?;
        Ok(FlowgladAccount {
            account: account.to_owned(),
            config,
            endpoint,
        })
    }
}

/// The checkout sessions collection.
const SESSIONS: &str = "/api/v1/checkout-sessions";

/// Largest `limit` the list takes (vendor notes §1.8).
const MAX_PAGE: u32 = 100;

/// Flowglad lists oldest first unless its cursor says `"direction":
/// "backward"` (its paginated select: forward = ascending `createdAt`,
/// backward = descending, keyset on `createdAt` then `id`). The gateway
/// merges newest first, so the first page is asked with a cursor of the
/// vendor's own shape that starts past any session (`createdAt` is epoch
/// milliseconds: 9999-12-31T23:59:59.999Z); the vendor's next cursors keep
/// its direction. Base64 of `{"createdAt":253402300799999,"direction":
/// "backward","parameters":{}}`.
const NEWEST_FIRST: &str =
    "eyJjcmVhdGVkQXQiOjI1MzQwMjMwMDc5OTk5OSwiZGlyZWN0aW9uIjoiYmFja3dhcmQiLCJwYXJhbWV0ZXJzIjp7fX0=";

impl Connector for FlowgladAccount {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        // `reference` was checked against Flowglad's id format by the
        // gateway, so it is safe as a path segment.
        Ok(VendorRequest::new(
            Operation::Get,
            Method::GET,
            format!("{SESSIONS}/{reference}"),
        ))
    }

    fn read_get(&self, _reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        read_session(answer, |body| read::session_body(&self.account, body))
    }

    /// Flowglad has no idempotency for checkout sessions: a retried create
    /// makes a second session, so the caller's key is not forwarded (and
    /// [`Connector::create_is_idempotent`] stays `false`).
    fn create(
        &self,
        request: &CreateSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        let body = create::create_request(request)?;
        let json = serde_json::to_vec(&body).map_err(|e| {
            Error::new(
                ErrorCode::Internal,
                format!("cannot encode create body: {e}"),
            )
        })?;
        Ok(VendorRequest::new(Operation::Create, Method::POST, SESSIONS).json(json))
    }

    fn read_create(
        &self,
        request: &CreateSession,
        answer: &VendorAnswer,
    ) -> Result<Fetched, Error> {
        read_session(answer, |body| {
            read::created_session(&self.account, request, body)
        })
    }

    /// One page by `limit` (a string, 1–100) and the vendor's own cursor.
    /// Flowglad filters nothing: the gateway applies every filter.
    fn list(&self, query: &ListQuery, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        let cursor = query.cursor.as_deref().unwrap_or(NEWEST_FIRST);
        Ok(VendorRequest::new(Operation::List, Method::GET, SESSIONS)
            .query("limit", query.page_size(MAX_PAGE).to_string())
            .query("cursor", cursor))
    }

    fn read_list(&self, _query: &ListQuery, answer: &VendorAnswer) -> Result<ListPage, Error> {
        let header_id = answer.header(errors::REQUEST_ID_HEADER);
        read_page(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, &a.body, header_id),
            |body| {
                let list: wire::RawSessionList = read::parse(body)?;
                let next = list.next_cursor.filter(|c| !c.is_empty());
                let next_cursor = match (list.has_more, next) {
                    (Some(false), _) => None,
                    (Some(true), None) => {
                        return Err(bad_response(PROVIDER, "`hasMore` without a `nextCursor`"))
                    }
                    (_, next) => next,
                };
                // A record without its `url`: the hosted page stays null.
                let sessions = listed(PROVIDER, list.data, |s: wire::CheckoutSession| {
                    read::session(&self.account, &s, None)
                })?;
                Ok(ListPage::new(sessions, next_cursor))
            },
        )
        .map_err(|e| match e.provider_request_id {
            Some(_) => e,
            None => e.with_provider_request_id(header_id.map(str::to_owned)),
        })
    }

    /// `outputMetadata` comes back on every listed session.
    fn lists_create_metadata(&self) -> bool {
        true
    }

    /// The session's purchase id, once it has one ([`webhook`]).
    fn feed_hint(&self, raw: &serde_json::value::RawValue) -> Option<String> {
        webhook::feed_hint(raw)
    }

    /// `purchase.completed` names the purchase ([`webhook`]).
    fn webhook_hint(&self, body: &[u8]) -> Option<checkout_core::adapter::WebhookHint> {
        webhook::webhook_hint(body)
    }

    fn redacted_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

/// Get and create both answer `{checkoutSession, url}`. Every error carries
/// the vendor's status (`read_fetched`) and its request id: the error body's
/// `request_id`, else the `X-Request-Id` header.
fn read_session(
    answer: &VendorAnswer,
    session: impl FnOnce(&[u8]) -> Result<CheckoutSession, Error>,
) -> Result<Fetched, Error> {
    let header_id = answer.header(errors::REQUEST_ID_HEADER);
    read_fetched(
        PROVIDER,
        answer,
        |a| errors::vendor_error(a.status, &a.body, header_id),
        session,
    )
    .map_err(|e| match e.provider_request_id {
        Some(_) => e,
        None => e.with_provider_request_id(header_id.map(str::to_owned)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_subscribe_buy_set_up_or_activate() {
        assert_eq!(
            Flowglad.create_purposes(),
            &[
                Purpose::Subscription,
                Purpose::Purchase,
                Purpose::Setup,
                Purpose::SubscriptionActivation
            ]
        );
    }
    use serde_json::json;

    #[test]
    fn plan_ids_are_prices_or_price_slugs() {
        assert!(create::PRICE_SLUG_PREFIX.starts_with(PRICE_ID_PREFIX));
        for plan in ["price_RcgaDoyGiqRVDxRMFApqr", "price_slug:pro_monthly"] {
            assert!(Flowglad.could_be_plan_id(plan), "{plan}");
        }
        for alias in ["pro", "pro_price", "price", "prices"] {
            assert!(!Flowglad.could_be_plan_id(alias), "{alias}");
        }
    }

    #[test]
    fn config_requires_exactly_one_key_source_and_names_bad_keys() {
        let err = FlowgladAccount::from_config("default", json!({}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            FlowgladAccount::from_config("default", json!({"api_key": "k", "api_key_file": "/x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "api_key");
        let err = FlowgladAccount::from_config("default", json!({"api_key": "k", "apikey": "k"}))
            .err()
            .unwrap();
        assert!(err.message.contains("apikey"), "{err}");
        let err =
            FlowgladAccount::from_config("default", json!({"api_key": "k", "timeout_ms": "slow"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "timeout_ms");
        let err = FlowgladAccount::from_config("default", json!({"api_key": "sk test"}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            FlowgladAccount::from_config("default", json!({"api_key": "k", "base_url": "ftp://x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "base_url");
        let err = FlowgladAccount::from_config(
            "default",
            json!({"api_key": "k", "connect_timeout_ms": 0}),
        )
        .err()
        .unwrap();
        assert_eq!(err.path, "connect_timeout_ms");
    }

    #[test]
    fn config_reads_the_key_file_without_its_newline() {
        let path = std::env::temp_dir().join(format!("flowglad-key-{}", std::process::id()));
        std::fs::write(&path, "sk_test_abcd_fileKey\n").unwrap();
        let c = FlowgladAccount::from_config("default", json!({"api_key_file": path})).unwrap();
        let (name, authorization) = &c.endpoint().credentials[0];
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(
            authorization.to_str().unwrap(),
            "Bearer sk_test_abcd_fileKey"
        );
        assert!(authorization.is_sensitive());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = FlowgladAccount::from_config("default", json!({"api_key": "sk_test_abcd_secret"}))
            .unwrap();
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("sk_test_abcd_secret"), "{shown}");
        assert!(shown.contains("***"));
        assert!(shown.contains("https://app.flowglad.com"));
        assert!(!format!("{:?}", c.config).contains("secret"));
    }

    fn answer(status: u16, headers: &[(&'static str, &'static str)], body: &[u8]) -> VendorAnswer {
        let mut answer = VendorAnswer {
            status,
            body: body.to_vec().into(),
            ..VendorAnswer::default()
        };
        for (name, value) in headers {
            answer
                .headers
                .insert(*name, http::HeaderValue::from_static(value));
        }
        answer
    }

    const ID: &str = "chckt_session_a1B2c3D4e5F6g7H8i9J0k";

    #[test]
    fn list_requests_page_and_push_no_filter() {
        use checkout_core::Status;
        let c = FlowgladAccount::from_config("default", json!({"api_key": "sk_test_k"})).unwrap();
        let ctx = RequestContext::default();
        let q = ListQuery {
            customer: Some("cust_1".into()),
            statuses: vec![Status::Open],
            created_gte: Some(chrono::Utc::now()),
            limit: 20,
            ..ListQuery::default()
        };
        let r = c.list(&q, &ctx).unwrap();
        assert_eq!(
            (r.operation, r.method.clone(), r.path.as_str()),
            (Operation::List, Method::GET, "/api/v1/checkout-sessions")
        );
        // The first page is asked newest first, with the vendor's own
        // cursor shape.
        assert_eq!(r.query[0], ("limit".to_owned(), "20".to_owned()));
        assert_eq!(r.query[1].0, "cursor");
        let first: serde_json::Value = serde_json::from_slice(
            &base64::engine::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                &r.query[1].1,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            first,
            json!({"createdAt": 253_402_300_799_999_i64, "direction": "backward", "parameters": {}})
        );
        assert!(r.body.is_none());
        for (limit, sent) in [(0, "1"), (100, "100"), (101, "100"), (u32::MAX, "100")] {
            let q = ListQuery {
                limit,
                cursor: Some("eyJ9".into()),
                ..ListQuery::default()
            };
            let r = c.list(&q, &ctx).unwrap();
            assert_eq!(
                r.query,
                [
                    ("limit".to_owned(), sent.to_owned()),
                    ("cursor".to_owned(), "eyJ9".to_owned())
                ]
            );
        }
        let caps = Flowglad.capabilities();
        let list = caps.list.unwrap();
        assert_eq!(list.pagination, Pagination::Cursor { max_limit: 100 });
        assert!(list.vendor_filters.is_empty() && !list.items_complete);
        assert!(!caps.cancel);
        let e = c.cancel(ID, &Default::default(), &ctx).unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedOperation);
    }

    #[test]
    fn list_pages_end_where_flowglad_says() {
        let c = FlowgladAccount::from_config("default", json!({"api_key": "sk_test_k"})).unwrap();
        let q = ListQuery::default();
        let page = |body: &'static [u8]| c.read_list(&q, &answer(200, &[], body));
        let end = page(br#"{"data":[],"hasMore":false,"nextCursor":"x","total":0}"#).unwrap();
        assert!(end.sessions.is_empty() && end.next_cursor.is_none());
        let more = page(br#"{"data":[],"hasMore":true,"nextCursor":"abc","total":9}"#).unwrap();
        assert_eq!(more.next_cursor.as_deref(), Some("abc"));
        let e = page(br#"{"data":[],"hasMore":true,"total":9}"#).unwrap_err();
        assert_eq!(
            (e.code, e.provider_http_status),
            (ErrorCode::ProviderBadResponse, Some(200))
        );
        let e = c
            .read_list(
                &q,
                &answer(401, &[("x-request-id", "req_9")], b"API key invalid."),
            )
            .unwrap_err();
        assert_eq!(e.provider_http_status, Some(401));
        assert_eq!(e.provider_request_id.as_deref(), Some("req_9"));
    }

    #[test]
    fn requests_are_built_without_io() {
        let c = FlowgladAccount::from_config("default", json!({"api_key": "sk_test_k"})).unwrap();
        assert_eq!(c.endpoint().base_url, "https://app.flowglad.com");
        assert_eq!(c.endpoint().credentials.len(), 1);
        assert!(c.endpoint().credentials[0].1.is_sensitive());
        let ctx = RequestContext {
            request_id: "req-1".into(),
            idempotency_key: Some("idem-1".into()),
        };

        let get = c.get(ID, &ctx).unwrap();
        assert_eq!(get.operation, Operation::Get);
        assert_eq!(
            (get.method, get.path.as_str()),
            (
                Method::GET,
                "/api/v1/checkout-sessions/chckt_session_a1B2c3D4e5F6g7H8i9J0k"
            )
        );
        assert!(get.query.is_empty() && get.headers.is_empty() && get.body.is_none());

        let request: CreateSession = serde_json::from_value(json!({
            "provider": "flowglad", "account": "default", "customer": "ext-1",
            "plan": "price_abc", "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/no"
        }))
        .unwrap();
        let create = c.create(&request, &ctx).unwrap();
        assert_eq!(create.operation, Operation::Create);
        assert_eq!(
            (create.method, create.path.as_str()),
            (Method::POST, "/api/v1/checkout-sessions")
        );
        // Only the content type: Flowglad has no idempotency key, and the
        // gateway's request id was never sent to it.
        assert_eq!(
            create.headers,
            vec![(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json")
            )]
        );
        let sent: serde_json::Value =
            serde_json::from_slice(create.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            sent,
            serde_json::to_value(create::create_request(&request).unwrap()).unwrap()
        );
        assert!(!c.create_is_idempotent(&ctx));

        // A field Flowglad cannot honour is refused before any request exists.
        let mut refused = request.clone();
        refused.quantity = Some(0);
        assert_eq!(
            c.create(&refused, &ctx).unwrap_err().code,
            ErrorCode::InvalidRequest
        );

        let err = c
            .read_get(
                ID,
                &answer(
                    404,
                    &[("x-request-id", "hdr-1")],
                    br#"{"message":"Not found","code":"NOT_FOUND"}"#,
                ),
            )
            .unwrap_err();
        assert_eq!(
            (err.code, err.http_status, err.provider_http_status),
            (ErrorCode::NotFound, 404, Some(404))
        );
        assert_eq!(err.provider_request_id.as_deref(), Some("hdr-1"));
    }

    #[test]
    fn answers_are_read_with_the_vendor_status_and_request_id() {
        let c = FlowgladAccount::from_config("default", json!({"api_key": "sk_test_k"})).unwrap();
        // The unknown-id 500 is a 404; the body's request id wins over the header's.
        let err = c
            .read_get(
                ID,
                &answer(
                    500,
                    &[("x-request-id", "hdr-1")],
                    br#"{"error":"NotFoundError: No checkout sessions found with id: x","request_id":"body-1"}"#,
                ),
            )
            .unwrap_err();
        assert_eq!(
            (err.code, err.provider_http_status),
            (ErrorCode::NotFound, Some(500))
        );
        assert_eq!(err.provider_request_id.as_deref(), Some("body-1"));
        // The rate limit comes as a 401; its Retry-After is kept.
        let err = c
            .read_get(
                ID,
                &answer(401, &[("retry-after", "7")], b"Rate limit exceeded"),
            )
            .unwrap_err();
        assert_eq!(
            (err.code, err.provider_http_status),
            (ErrorCode::RateLimited, Some(401))
        );
        assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(7)));
        // An unreadable 2xx body carries the status and the header's request id.
        let err = c
            .read_get(ID, &answer(200, &[("x-request-id", "hdr-2")], b"{"))
            .unwrap_err();
        assert_eq!(
            (err.code, err.provider_http_status),
            (ErrorCode::ProviderBadResponse, Some(200))
        );
        assert_eq!(err.provider_request_id.as_deref(), Some("hdr-2"));
        // A create answer fills in the merchant's customer id; raw is kept.
        let body = format!(
            r#"{{"checkoutSession":{{"id":"{ID}","createdAt":1,"status":"open","type":"product","customerId":"cust_1"}},"url":"https://app.flowglad.com/checkout/{ID}"}}"#
        );
        let request: CreateSession = serde_json::from_value(json!({
            "provider": "flowglad", "account": "default", "customer": "ext-1",
            "plan": "price_abc", "success_url": "https://shop.example/ok",
            "cancel_url": "https://shop.example/no"
        }))
        .unwrap();
        let fetched = c
            .read_create(&request, &answer(200, &[], body.as_bytes()))
            .unwrap();
        assert_eq!(
            fetched.session.customer.unwrap().external_id.as_deref(),
            Some("ext-1")
        );
        assert_eq!(fetched.raw.get(), body);
        let fetched = c.read_get(ID, &answer(200, &[], body.as_bytes())).unwrap();
        assert_eq!(fetched.session.customer.unwrap().external_id, None);
    }

    #[test]
    fn session_id_format() {
        assert!(validate_session_id("chckt_session_a1B2c3D4e5F6g7H8i9J0k").is_ok());
        for bad in [
            "",
            "chckt_session_",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0kk",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0-",
            "chckt_session_a1B2c3D4e5F6g7H8i9J0_",
            "cs_test_a1B2c3D4e5F6g7H8i9J0k",
            "che_7n42DGM5Tflk9n8mt7Fhc7",
            "chckt_a1B2c3D4e5F6g7H8i9J0k",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn normalize_refuses_a_list_body() {
        let e = Flowglad
            .normalize("default", br#"{"data":[],"hasMore":false,"total":0}"#)
            .unwrap_err();
        assert!(e.message.contains("list body"), "{}", e.message);
    }
}
