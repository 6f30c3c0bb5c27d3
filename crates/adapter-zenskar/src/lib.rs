//! Zenskar adapter, without I/O: `wire` (vendor serde types), `read`
//! (answers → canonical, one file per family), `create` (canonical create →
//! each family's body), `errors` (vendor errors → canonical), and here the
//! provider, the account config and the requests.
//!
//! Zenskar documents two incompatible checkout APIs (vendor notes §2.1):
//! family A, `/checkout` (`checkout_session_status` + `payment_status`,
//! body idempotency key, cancel) and family B, `/checkouts` (free-form
//! `checkout_status`). Each account names its family in config; `normalize`
//! tells them apart from the body.

pub mod cancel;
pub mod create;
pub mod errors;
pub mod read;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use checkout_core::adapter::{unsupported, ConfigError};
use checkout_core::list::{ListFilter, ListSupport, Pagination};
use checkout_core::vendor::{listed, read_fetched, read_page, truncate_message};
use checkout_core::{
    CancelSession, Capabilities, CheckoutSession, Connector, CreateSession, Endpoint, Error,
    ErrorCode, Fetched, ListPage, ListQuery, Operation, Provider, Purpose, RequestContext, Secret,
    Status, VendorAnswer, VendorRequest,
};
use http::header::{HeaderName, HeaderValue};
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vendor_http::config_error;

pub const PROVIDER: &str = "zenskar";

/// Which of Zenskar's two checkout APIs an account uses.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum Family {
    /// Family A, `/checkout`: the documented default of both doc sites.
    #[default]
    #[serde(rename = "checkout")]
    Checkout,
    /// Family B, `/checkouts`.
    #[serde(rename = "checkouts")]
    Checkouts,
}

impl Family {
    /// The collection path, relative to the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Family::Checkout => "/checkout",
            Family::Checkouts => "/checkouts",
        }
    }

    /// The config value (`family = "…"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Checkout => "checkout",
            Family::Checkouts => "checkouts",
        }
    }
}

/// Registration handle for the gateway.
pub struct Zenskar;

/// Largest `limit` the family A list takes (vendor notes §2.6).
const MAX_PAGE: u32 = 100;

/// The family A `checkout_session_status` that holds every session of a
/// canonical status, if exactly one does. `closed` and `cancelled` each hold
/// expired and canceled sessions (by cancel reason), `processing` also holds
/// unknown values: those are the gateway's to filter.
pub fn list_status(status: Status) -> Option<&'static str> {
    match status {
        Status::Open => Some("open"),
        Status::Complete => Some("completed"),
        Status::Processing | Status::Expired | Status::Canceled | Status::Failed => None,
    }
}

/// Zenskar ids are UUIDs; the vendor answers with the lower-case hyphenated
/// form, so only that form is accepted (any other would come back different).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let bytes = reference.as_bytes();
    let shape_ok = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        });
    if shape_ok {
        Ok(())
    } else {
        Err("a Zenskar checkout id is a lower-case hyphenated UUID".to_owned())
    }
}

impl Provider for Zenskar {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer",
                "plan",
                "quantity (1 only)",
                "success_url",
                "cancel_url",
                "expires_at",
                "metadata (family checkout only, as custom_data)",
                "provider_options",
            ],
            provider_options: [wire::ALL_OPTION_FIELDS, wire::CANCEL_OPTION_FIELDS].concat(),
            // Family `checkout` (the default); a `checkouts` account says
            // otherwise through `Connector::capabilities`.
            list: Some(ListSupport {
                pagination: Pagination::Cursor {
                    max_limit: MAX_PAGE,
                },
                vendor_filters: vec![ListFilter::Customer, ListFilter::Status],
                customer_required: false,
                // Summaries: no contract, estimates, expiry or cancel reason.
                items_complete: false,
            }),
            cancel: true,
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    /// A plan id: a UUID, in any form the create path parses.
    fn could_be_plan_id(&self, plan: &str) -> bool {
        wire::Uuid::parse(plan).is_some()
    }

    /// A plan starts a subscription (a contract); on a `/checkouts` account
    /// `provider_options.contract_id` with `product_overrides` amends an
    /// existing one, which reads back as a plan change.
    fn create_purposes(&self) -> &'static [Purpose] {
        &[Purpose::Subscription, Purpose::PlanChange]
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        let family = read::detect_family(body)?;
        read::session_body(account, family, body)
    }

    fn read_error(&self, answer: &VendorAnswer) -> Error {
        errors::vendor_error(answer.status, answer.is_json(), &answer.body)
    }

    fn account_schema(&self) -> serde_json::Value {
        checkout_core::adapter::account_schema::<AccountConfig>()
    }

    fn build(
        &self,
        account: &str,
        config: serde_json::Value,
    ) -> Result<Arc<dyn Connector>, ConfigError> {
        Ok(Arc::new(ZenskarAccount::from_config(account, config)?))
    }
}

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const ORGANISATION: HeaderName = HeaderName::from_static("organisation");
const API_VERSION: HeaderName = HeaderName::from_static("apiversion");
/// Zenskar sits behind AWS API Gateway, which names each request so.
const AMZN_REQUEST_ID: &str = "x-amzn-requestid";

/// `[providers.zenskar.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Which checkout API this account uses: `checkout` (family A, the
    /// default) or `checkouts` (family B).
    #[serde(default)]
    pub family: Family,
    /// The `x-api-key`; or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    /// The organisation UUID, sent as the `organisation` header.
    pub organisation: String,
    /// Sent as the `apiversion` header.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_base_url() -> String {
    "https://api.zenskar.com".to_owned()
}
fn default_api_version() -> String {
    "20230501".to_owned()
}

/// One Zenskar account: its config, endpoint (the `x-api-key`) and the
/// `organisation` and `apiversion` headers every request carries.
pub struct ZenskarAccount {
    account: String,
    config: AccountConfig,
    endpoint: Endpoint,
    organisation: HeaderValue,
    api_version: HeaderValue,
}

impl ZenskarAccount {
    pub fn from_config(account: &str, value: Value) -> Result<ZenskarAccount, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let key = vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        // Marked sensitive so no HTTP layer ever prints it.
        let api_key = vendor_http::secret_header("api_key", "", &key)?;
        let organisation = uuid::Uuid::parse_str(&config.organisation)
            .ok()
            .and_then(|u| HeaderValue::from_str(&u.hyphenated().to_string()).ok())
            .ok_or_else(|| config_error("organisation", "must be the organisation's UUID"))?;
        let api_version = Some(config.api_version.as_str())
            .filter(|v| {
                !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            })
            .and_then(|v| HeaderValue::from_str(v).ok())
            .ok_or_else(|| {
                config_error(
                    "api_version",
                    "must be a version such as \"20230501\" (letters, digits, '-', '.')",
                )
            })?;
        // The base URL is checked before the timeouts, as it always was.
        vendor_http::base_url(&config.base_url)?;
        let endpoint = vendor_http::endpoint(
            &config.base_url,
            vec![(X_API_KEY, api_key)],
            config.connect_timeout_ms,
            config.timeout_ms,
        )?;
        Ok(ZenskarAccount {
            account: account.to_owned(),
            config,
            endpoint,
            organisation,
            api_version,
        })
    }

    pub fn family(&self) -> Family {
        self.config.family
    }

    /// A path below the base URL, in this account's family.
    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.config.family.path())
    }

    /// A request in this account's family, with the account's
    /// `organisation` and `apiversion` headers (the key is the endpoint's).
    fn request(&self, operation: Operation, method: Method, rest: &str) -> VendorRequest {
        VendorRequest::new(operation, method, self.path(rest))
            .header(ORGANISATION, self.organisation.clone())
            .header(API_VERSION, self.api_version.clone())
    }

    /// Get, create (and confirm) all answer one session of the account's
    /// family. Every error carries the vendor's status and, when AWS API
    /// Gateway names the request, its id.
    fn read_session(&self, answer: &VendorAnswer) -> Result<Fetched, Error> {
        let request_id = answer.header(AMZN_REQUEST_ID).map(truncate_message);
        read_fetched(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| read::session_body(&self.account, self.config.family, body),
        )
        .map_err(|e| e.with_provider_request_id(request_id))
    }
}

fn encode(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| {
        Error::new(
            ErrorCode::Internal,
            format!("cannot encode request body: {e}"),
        )
    })
}

impl Connector for ZenskarAccount {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        // `reference` was checked to be a UUID by the gateway, so it is
        // safe as a path segment.
        Ok(self.request(Operation::Get, Method::GET, &format!("/{reference}")))
    }

    fn read_get(&self, _reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    fn create(
        &self,
        request: &CreateSession,
        ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        let key = ctx.idempotency_key.as_deref();
        let json = match self.config.family {
            Family::Checkout => encode(&create::create_checkout(request, key)?)?,
            Family::Checkouts => encode(&create::create_checkouts(request, key)?)?,
        };
        Ok(self.request(Operation::Create, Method::POST, "").json(json))
    }

    fn read_create(
        &self,
        _request: &CreateSession,
        answer: &VendorAnswer,
    ) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    /// Family A deduplicates creates by the body `idempotency_key`, so a
    /// create carrying one may be repeated safely.
    fn create_is_idempotent(&self, ctx: &RequestContext) -> bool {
        self.config.family == Family::Checkout && ctx.idempotency_key.is_some()
    }

    /// Family A pages by `limit`/`cursor`, newest first; `customer_id` and
    /// `checkout_session_status` are documented filters. Its created-at
    /// range parameters are not named in the docs, so that filter stays the
    /// gateway's. Family B has no list.
    fn list(&self, query: &ListQuery, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        self.family_a_only(Operation::List)?;
        let mut request = self
            .request(Operation::List, Method::GET, "")
            .query("limit", query.page_size(MAX_PAGE).to_string())
            .query("order", "-created_at");
        if let Some(cursor) = &query.cursor {
            request = request.query("cursor", cursor.clone());
        }
        if let Some(customer) = &query.customer {
            if validate_session_id(customer).is_err() {
                return Err(Error::invalid_request(format!(
                    "customer: {PROVIDER} customers are lower-case hyphenated UUIDs"
                ))
                .with_provider(PROVIDER));
            }
            request = request.query("customer_id", customer.clone());
        }
        if let Some(status) = query.only_status().and_then(list_status) {
            request = request.query("checkout_session_status", status);
        }
        Ok(request)
    }

    fn read_list(&self, _query: &ListQuery, answer: &VendorAnswer) -> Result<ListPage, Error> {
        self.family_a_only(Operation::List)?;
        let request_id = answer.header(AMZN_REQUEST_ID).map(truncate_message);
        read_page(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| {
                let list: wire::RawCheckoutSessionList = read::parse(body)?;
                // A summary lacks what a get adds (contract, estimates,
                // expiry, cancel reason): those stay empty, never guessed.
                let sessions = listed(PROVIDER, list.data, |s: wire::CheckoutSession| {
                    read::session_a(&self.account, &s)
                })?;
                Ok(ListPage::new(sessions, list.next.filter(|c| !c.is_empty())))
            },
        )
        .map_err(|e| e.with_provider_request_id(request_id))
    }

    fn cancel(
        &self,
        reference: &str,
        request: &CancelSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        self.family_a_only(Operation::Cancel)?;
        // Checked again here: the reference becomes a path segment.
        validate_session_id(reference).map_err(|why| {
            Error::new(ErrorCode::InvalidId, format!("invalid session id: {why}"))
                .with_provider(PROVIDER)
        })?;
        let body = encode(&cancel::cancel_request(request)?)?;
        Ok(self
            .request(
                Operation::Cancel,
                Method::POST,
                &format!("/{reference}/cancel"),
            )
            .json(body))
    }

    fn read_cancel(&self, reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        self.family_a_only(Operation::Cancel)?;
        let request_id = answer.header(AMZN_REQUEST_ID).map(truncate_message);
        read_fetched(
            PROVIDER,
            answer,
            |a| errors::cancel_error(a.status, a.is_json(), &a.body),
            |body| cancel::cancelled_session(&self.account, reference, body),
        )
        .map_err(|e| e.with_provider_request_id(request_id))
    }

    fn capabilities(&self) -> Option<Capabilities> {
        (self.config.family == Family::Checkouts).then(|| Capabilities {
            list: None,
            cancel: false,
            ..Zenskar.capabilities()
        })
    }

    fn redacted_config(&self) -> Value {
        serde_json::to_value(&self.config).unwrap_or(Value::Null)
    }
}

impl ZenskarAccount {
    /// List and cancel exist in family A (`/checkout`) only.
    fn family_a_only(&self, operation: Operation) -> Result<(), Error> {
        match self.config.family {
            Family::Checkout => Ok(()),
            Family::Checkouts => {
                let mut e = unsupported(PROVIDER, operation);
                e.message = format!(
                    "{} (accounts of family `checkouts` have no {} endpoint)",
                    e.message,
                    operation.as_str()
                );
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_subscribe_or_amend() {
        assert_eq!(
            Zenskar.create_purposes(),
            &[Purpose::Subscription, Purpose::PlanChange]
        );
    }
    use serde_json::json;

    #[test]
    fn plan_ids_are_uuids_in_any_parsed_form() {
        for plan in [
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14",
            "3f1c9a527b4e4d2a9c610e8f5b7a2d14",
        ] {
            assert!(Zenskar.could_be_plan_id(plan), "{plan}");
        }
        for alias in ["pro", "enterprise-annual", "3f1c9a52"] {
            assert!(!Zenskar.could_be_plan_id(alias), "{alias}");
        }
    }

    #[test]
    fn session_id_format() {
        assert!(validate_session_id("3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14").is_ok());
        for bad in [
            "",
            "3F1C9A52-7B4E-4D2A-9C61-0E8F5B7A2D14",
            "3f1c9a527b4e4d2a9c610e8f5b7a2d14",
            "{3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14}",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d1",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14a",
            "3f1c9a52_7b4e-4d2a-9c61-0e8f5b7a2d14",
            "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2g14",
            "che_7n42DGM5Tflk9n8mt7Fhc7",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn family_config_values() {
        assert_eq!(Family::default(), Family::Checkout);
        let f: Family = serde_json::from_str("\"checkouts\"").unwrap();
        assert_eq!(
            (f, f.path(), f.as_str()),
            (Family::Checkouts, "/checkouts", "checkouts")
        );
        assert!(serde_json::from_str::<Family>("\"checkout_session\"").is_err());
    }

    const ORG: &str = "6c0e2a8f-3b1d-4e7a-9f25-8d4c1b0a7e63";

    fn family(family: &str) -> ZenskarAccount {
        ZenskarAccount::from_config(
            "default",
            json!({"api_key": "k", "organisation": "aa92a968-3677-4eef-a4b3-c34c686c61c4",
                   "family": family}),
        )
        .unwrap()
    }

    fn pairs(r: &VendorRequest) -> Vec<(&str, &str)> {
        r.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn list_requests_push_documented_filters_only() {
        let c = family("checkout");
        let ctx = RequestContext::default();
        let customer = "2e2b4910-61c8-407d-b343-d74c3e4271ac";
        let q = ListQuery {
            customer: Some(customer.into()),
            statuses: vec![Status::Complete],
            created_gte: Some(chrono::Utc::now()),
            created_lt: Some(chrono::Utc::now()),
            limit: 7,
            cursor: Some("eyJvZmZzZXQiOjV9".into()),
        };
        let r = c.list(&q, &ctx).unwrap();
        assert_eq!(
            (r.operation, r.method.clone(), r.path.as_str()),
            (Operation::List, Method::GET, "/checkout")
        );
        assert_eq!(
            pairs(&r),
            [
                ("limit", "7"),
                ("order", "-created_at"),
                ("cursor", "eyJvZmZzZXQiOjV9"),
                ("customer_id", customer),
                ("checkout_session_status", "completed"),
            ],
            "no created-at range: its parameter names are not documented"
        );
        let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["organisation", "apiversion"]);
        let open = ListQuery {
            statuses: vec![Status::Open],
            limit: 500,
            ..ListQuery::default()
        };
        assert_eq!(
            pairs(&c.list(&open, &ctx).unwrap()),
            [
                ("limit", "100"),
                ("order", "-created_at"),
                ("checkout_session_status", "open")
            ]
        );
        for statuses in [
            &[Status::Canceled][..],
            &[Status::Expired],
            &[Status::Processing],
            &[Status::Open, Status::Complete],
        ] {
            let q = ListQuery {
                statuses: statuses.to_vec(),
                limit: 20,
                ..ListQuery::default()
            };
            let r = c.list(&q, &ctx).unwrap();
            assert!(
                !pairs(&r)
                    .iter()
                    .any(|(k, _)| *k == "checkout_session_status"),
                "{statuses:?}"
            );
        }
        let bad = ListQuery {
            customer: Some("Northwind".into()),
            ..ListQuery::default()
        };
        let e = c.list(&bad, &ctx).unwrap_err();
        assert!(e.message.starts_with("customer:"), "{}", e.message);
    }

    #[test]
    fn cancel_requests() {
        let c = family("checkout");
        let id = "41dc23c2-867d-420c-9b0d-7dbbc85d6900";
        let r = c
            .cancel(
                id,
                &CancelSession {
                    reason: Some("Customer chose the annual plan instead".into()),
                    provider_options: json!({"reason_type": "customer_requested",
                                             "reference_id": "SUPPORT-20418"})
                    .as_object()
                    .cloned()
                    .unwrap(),
                },
                &RequestContext::default(),
            )
            .unwrap();
        assert_eq!(
            (r.operation, r.method.clone(), r.path.as_str()),
            (
                Operation::Cancel,
                Method::POST,
                format!("/checkout/{id}/cancel").as_str()
            )
        );
        let body: Value = serde_json::from_slice(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"reason_type": "customer_requested",
                   "reason": "Customer chose the annual plan instead",
                   "reference_id": "SUPPORT-20418"})
        );
        let e = c
            .cancel(
                "../x",
                &CancelSession::default(),
                &RequestContext::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidId);
    }

    #[test]
    fn family_checkouts_can_neither_list_nor_cancel() {
        let b = family("checkouts");
        let ctx = RequestContext::default();
        let e = b.list(&ListQuery::default(), &ctx).unwrap_err();
        assert_eq!(
            (e.code, e.http_status),
            (ErrorCode::UnsupportedOperation, 422)
        );
        assert!(e.message.contains("checkouts"), "{}", e.message);
        let e = b
            .cancel(
                "41dc23c2-867d-420c-9b0d-7dbbc85d6900",
                &CancelSession::default(),
                &ctx,
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::UnsupportedOperation);
        let caps = b.capabilities().expect("its own capabilities");
        assert!(caps.list.is_none() && !caps.cancel && caps.get && caps.create);
        assert!(family("checkout").capabilities().is_none());
        let a = Zenskar.capabilities();
        let list = a.list.expect("family checkout lists");
        assert_eq!(list.pagination, Pagination::Cursor { max_limit: 100 });
        assert_eq!(
            list.vendor_filters,
            [ListFilter::Customer, ListFilter::Status]
        );
        assert!(!list.items_complete && !list.customer_required && a.cancel);
    }

    fn build(v: Value) -> Result<ZenskarAccount, ConfigError> {
        ZenskarAccount::from_config("default", v)
    }

    /// The URL a request goes to: the base URL, then the request's path.
    fn url(c: &ZenskarAccount, rest: &str) -> String {
        format!("{}{}", c.endpoint().base_url, c.path(rest))
    }

    #[test]
    fn config_keys_and_defaults() {
        let c = build(json!({"api_key": "zsk", "organisation": ORG})).unwrap();
        assert_eq!(c.family(), Family::Checkout);
        assert_eq!(url(&c, "/x"), "https://api.zenskar.com/checkout/x");
        assert_eq!(c.api_version, "20230501");
        let c = build(
            json!({"api_key": "zsk", "organisation": ORG, "family": "checkouts",
                             "base_url": "http://127.0.0.1:9/zenskar/", "api_version": "20240301"}),
        )
        .unwrap();
        assert_eq!(url(&c, ""), "http://127.0.0.1:9/zenskar/checkouts");
        assert_eq!(c.api_version, "20240301");
        assert!(c.endpoint().credentials[0].1.is_sensitive());
    }

    #[test]
    fn config_errors_name_the_key() {
        for (v, path) in [
            (json!({"organisation": ORG}), "api_key"),
            (
                json!({"api_key": "k", "api_key_file": "/x", "organisation": ORG}),
                "api_key",
            ),
            (json!({"api_key": "k k", "organisation": ORG}), "api_key"),
            (
                json!({"api_key": "k", "organisation": "acme"}),
                "organisation",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "family": "checkout_session"}),
                "family",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "api_version": "2023 05"}),
                "api_version",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "timeout_ms": "slow"}),
                "timeout_ms",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "base_url": "ftp://x"}),
                "base_url",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "timeout_ms": 0}),
                "timeout_ms",
            ),
            (
                json!({"api_key": "k", "organisation": ORG, "connect_timeout_ms": 0}),
                "connect_timeout_ms",
            ),
        ] {
            let err = build(v.clone())
                .err()
                .unwrap_or_else(|| panic!("{v} accepted"));
            assert_eq!(err.path, path, "{v}: {err}");
        }
        let err = build(json!({"api_key": "k"})).err().unwrap();
        assert!(err.message.contains("organisation"), "{err}");
        let err = build(json!({"api_key": "k", "organisation": ORG, "organization": ORG}))
            .err()
            .unwrap();
        assert!(err.message.contains("organization"), "{err}");
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = build(json!({"api_key": "zsk_live_topsecret", "organisation": ORG})).unwrap();
        let shown = c.redacted_config();
        assert!(!shown.to_string().contains("topsecret"), "{shown}");
        assert_eq!(shown["api_key"], "***");
        assert_eq!(shown["family"], "checkout");
        assert_eq!(shown["organisation"], ORG);
        assert_eq!(shown["api_version"], "20230501");
    }

    fn answer(status: u16, body: &[u8]) -> VendorAnswer {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(AMZN_REQUEST_ID, HeaderValue::from_static("req-1"));
        VendorAnswer {
            status,
            headers,
            body: body.to_vec().into(),
        }
    }

    fn header<'r>(r: &'r VendorRequest, name: &str) -> Option<&'r str> {
        r.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.to_str().ok())
    }

    #[test]
    fn requests_are_built_without_io() {
        const SESSION: &str = "3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14";
        const CUSTOMER: &str = "0b6f3c1e-2a4d-4f7e-9b1a-5c8d7e6f4a32";
        const PLAN: &str = "7d2e9f4a-1c3b-4e5d-8f6a-9b0c1d2e3f4a";
        let keyed = RequestContext {
            request_id: "gw-1".to_owned(),
            idempotency_key: Some("key-1".to_owned()),
        };
        let plain = RequestContext::default();
        let create: CreateSession = serde_json::from_value(json!({
            "provider": "zenskar", "account": "default", "customer": CUSTOMER, "plan": PLAN,
            "provider_options": {"currency": "USD", "start_date": "2026-03-01"}}))
        .unwrap();
        let create_b: CreateSession = serde_json::from_value(json!({
            "provider": "zenskar", "account": "default", "customer": CUSTOMER, "plan": PLAN}))
        .unwrap();

        for (family, path, create) in [
            ("checkout", "/checkout", &create),
            ("checkouts", "/checkouts", &create_b),
        ] {
            let c = build(json!({"api_key": "zsk_secret", "organisation": ORG,
                                 "family": family, "base_url": "https://zenskar.test/"}))
            .unwrap();
            // The key is the endpoint's, sensitive; never on a request.
            assert_eq!(c.endpoint().base_url, "https://zenskar.test");
            assert_eq!(c.endpoint().credentials.len(), 1);
            assert_eq!(c.endpoint().credentials[0].0, "x-api-key");
            assert!(c.endpoint().credentials[0].1.is_sensitive());

            let get = c.get(SESSION, &keyed).unwrap();
            assert_eq!(get.operation, Operation::Get, "{family}");
            assert_eq!(
                (get.method.clone(), get.path.as_str()),
                (Method::GET, format!("{path}/{SESSION}").as_str())
            );
            assert!(get.query.is_empty() && get.body.is_none(), "{family}");
            assert_eq!(header(&get, "organisation"), Some(ORG), "{family}");
            assert_eq!(header(&get, "apiversion"), Some("20230501"), "{family}");
            assert_eq!(header(&get, "x-api-key"), None, "{family}");

            let ctx = if family == "checkout" { &keyed } else { &plain };
            let post = c.create(create, ctx).unwrap();
            assert_eq!(post.operation, Operation::Create, "{family}");
            assert_eq!(
                (post.method.clone(), post.path.as_str()),
                (Method::POST, path)
            );
            assert_eq!(header(&post, "content-type"), Some("application/json"));
            assert_eq!(header(&post, "organisation"), Some(ORG), "{family}");
            assert_eq!(header(&post, "apiversion"), Some("20230501"), "{family}");
            let body: Value = serde_json::from_slice(post.body.as_deref().unwrap()).unwrap();
            assert_eq!(body["customer_id"], CUSTOMER, "{family}");

            // A refusal is read into an error carrying the vendor's status
            // and the AWS request id.
            let err = c
                .read_get(
                    SESSION,
                    &answer(404, br#"{"detail":"Checkout session not found"}"#),
                )
                .unwrap_err();
            assert_eq!(
                (err.code, err.http_status, err.provider_http_status),
                (ErrorCode::NotFound, 404, Some(404)),
                "{family}"
            );
            assert_eq!(err.provider_request_id.as_deref(), Some("req-1"));
            // So is a 2xx body that is no session.
            let err = c.read_create(create, &answer(201, b"{}")).unwrap_err();
            assert_eq!(
                (err.code, err.provider_http_status),
                (ErrorCode::ProviderBadResponse, Some(201)),
                "{family}"
            );
        }

        // Family A: Zenskar takes the idempotency key in the body, not in a
        // header, and only then is a create safe to repeat.
        let a = build(json!({"api_key": "zsk", "organisation": ORG})).unwrap();
        let post = a.create(&create, &keyed).unwrap();
        let body: Value = serde_json::from_slice(post.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["idempotency_key"], "key-1");
        assert!(a.create_is_idempotent(&keyed));
        let post = a.create(&create, &plain).unwrap();
        let body: Value = serde_json::from_slice(post.body.as_deref().unwrap()).unwrap();
        assert!(body.get("idempotency_key").is_none());
        assert!(!a.create_is_idempotent(&plain));
        // Family B has no idempotency: a key is refused before any call.
        let b =
            build(json!({"api_key": "zsk", "organisation": ORG, "family": "checkouts"})).unwrap();
        assert!(!b.create_is_idempotent(&keyed));
        let err = b.create(&create_b, &keyed).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedField);
        assert_eq!(err.provider_http_status, None);
        // A session answer is read into the account's family.
        let ok = answer(
            200,
            br#"{"id":"3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14","checkout_status":"open","created_at":"2026-03-02T10:00:00Z"}"#,
        );
        let fetched = b.read_get(SESSION, &ok).unwrap();
        assert_eq!(fetched.session.provider_session_id, SESSION);
        assert!(fetched.raw.get().starts_with("{\"id\""));
    }
}
