//! Meteroid adapter, without I/O: `wire` (vendor serde types), `read`
//! (answers → canonical), `create` (canonical create → vendor body),
//! `errors` (vendor errors → canonical), and here the provider, the
//! account config and the requests.

pub mod create;
pub mod errors;
pub mod read;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use checkout_core::adapter::ConfigError;
use checkout_core::list::{ListFilter, ListSupport, Pagination};
use checkout_core::resolve;
use checkout_core::vendor::{listed, read_fetched, read_page};
use checkout_core::{
    CancelSession, Capabilities, CheckoutSession, Connector, CreateSession, Endpoint, Error,
    ErrorCode, Fetched, ListPage, ListQuery, Operation, Provider, Purpose, RequestContext, Secret,
    Status, VendorAnswer, VendorRequest,
};
use http::header::AUTHORIZATION;
use http::Method;
use serde::{Deserialize, Serialize};

pub const PROVIDER: &str = "meteroid";

/// Registration handle for the gateway.
pub struct Meteroid;

/// `che_` + unpadded base62 of a 128-bit value (vendor notes M5).
pub fn validate_session_id(reference: &str) -> Result<(), String> {
    let digits = reference
        .strip_prefix("che_")
        .ok_or_else(|| "a Meteroid checkout session id starts with `che_`".to_owned())?;
    if is_base62_u128(digits) {
        Ok(())
    } else {
        Err(
            "not a Meteroid checkout session id (1 to 22 base62 characters of a 128-bit value \
             after `che_`)"
                .to_owned(),
        )
    }
}

/// Unpadded base62 of a 128-bit value: what follows every Meteroid id prefix.
fn is_base62_u128(digits: &str) -> bool {
    !digits.is_empty()
        && digits.len() <= 22
        && digits
            .bytes()
            .try_fold(0u128, |acc, b| {
                let d = match b {
                    b'0'..=b'9' => b - b'0',
                    b'A'..=b'Z' => b - b'A' + 10,
                    b'a'..=b'z' => b - b'a' + 36,
                    _ => return None,
                };
                acc.checked_mul(62)?.checked_add(u128::from(d))
            })
            .is_some()
}

/// A customer id the list filter takes: `cus_…` or a hyphenated UUID. The
/// list, unlike create, resolves no alias (vendor notes M1).
pub fn is_customer_id(customer: &str) -> bool {
    is_uuid(customer) || customer.strip_prefix("cus_").is_some_and(is_base62_u128)
}

/// A hyphenated UUID, in either case: how Meteroid's API also takes the
/// ids it otherwise shows with a prefix.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// What a plan version id looks like (`plv_7n42DGM5Tflk9n8mt7Fhc7` in the
/// OpenAPI examples).
const PLAN_VERSION_PREFIX: &str = "plv_";

/// The vendor `status` that holds every session of a canonical status, if
/// exactly one does. `processing` also holds unknown vendor values and
/// `expired` sessions Meteroid still calls `CREATED`: neither can be asked.
pub fn list_status(status: Status) -> Option<&'static str> {
    match status {
        Status::Open => Some("CREATED"),
        Status::Complete => Some("COMPLETED"),
        Status::Canceled => Some("CANCELLED"),
        Status::Processing | Status::Expired | Status::Failed => None,
    }
}

impl Provider for Meteroid {
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
                "success_url",
                "cancel_url",
                "quantity (1 only)",
                "metadata (stored, never returned)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
            list: Some(ListSupport {
                pagination: Pagination::Whole,
                vendor_filters: vec![ListFilter::Customer, ListFilter::Status],
                customer_required: false,
                // List items are the same object as a get's.
                items_complete: true,
            }),
            cancel: true,
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        validate_session_id(reference)
    }

    /// A plan version id: `plv_…`, or the UUID the API also takes. Any
    /// `plv_` prefix counts, base62 or not: an alias that close is
    /// ambiguous to a reader too.
    fn could_be_plan_id(&self, plan: &str) -> bool {
        plan.starts_with(PLAN_VERSION_PREFIX) || is_uuid(plan)
    }

    /// A create is always a self-serve subscription checkout: Meteroid's
    /// REST create forces `checkout_type` to `SELF_SERVE`.
    fn create_purposes(&self) -> &'static [Purpose] {
        &[Purpose::Subscription]
    }

    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            if top.contains_key("sessions") && !top.contains_key("session") {
                return Err(Error::invalid_request(
                    "this is a Meteroid list body; normalize takes one get or create response",
                ));
            }
        }
        read::session_body(account, body)
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
        Ok(Arc::new(MeteroidAccount::from_config(account, config)?))
    }
}

/// `[providers.meteroid.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// `pv_<env>_…/…` API key; or give `api_key_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Which Meteroid API the deployment serves: `current` (the default) or
    /// `2026-08`, a deployment built from sources that predate redirect URLs.
    #[serde(default)]
    pub api_level: ApiLevel,
}

fn default_base_url() -> String {
    "https://api.meteroid.com".to_owned()
}

/// The Meteroid API an account's deployment serves. Self-hosted servers lag
/// the hosted one: the 2026-08-22 sources have no `success_url`/`cancel_url`
/// (vendor notes, "Drift and official clients"), and such a server would
/// drop them without a word, so they are refused for it instead.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum ApiLevel {
    /// Today's API, as SDK `meteroid` 0.30.1 describes it.
    #[default]
    #[serde(rename = "current")]
    Current,
    /// The API of the 2026-08-22 sources: no redirect URLs.
    #[serde(rename = "2026-08")]
    August2026,
}

impl ApiLevel {
    /// Whether create takes `success_url`/`cancel_url` and sessions carry them.
    pub fn has_redirect_urls(self) -> bool {
        self == ApiLevel::Current
    }
}

/// One Meteroid account: its config, endpoint (bearer API key) and
/// requests.
pub struct MeteroidAccount {
    account: String,
    config: AccountConfig,
    endpoint: Endpoint,
}

impl MeteroidAccount {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<MeteroidAccount, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let api_key =
            vendor_http::required_secret("api_key", &config.api_key, &config.api_key_file)?;
        let authorization = vendor_http::secret_header("api_key", "Bearer ", &api_key)?;
        let endpoint = vendor_http::endpoint(
            &config.base_url,
            vec![(AUTHORIZATION, authorization)],
            config.connect_timeout_ms,
            config.timeout_ms,
        )?;
        Ok(MeteroidAccount {
            account: account.to_owned(),
            config,
            endpoint,
        })
    }
}

/// The checkout sessions collection.
const SESSIONS: &str = "/api/v1/checkout-sessions";

impl Connector for MeteroidAccount {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn get(&self, reference: &str, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        // `reference` was checked against Meteroid's id format by the
        // gateway, so it is safe as a path segment.
        Ok(VendorRequest::new(
            Operation::Get,
            Method::GET,
            format!("{SESSIONS}/{reference}"),
        ))
    }

    fn read_get(&self, _reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    fn create(
        &self,
        request: &CreateSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        let body = create::create_request(request, self.config.api_level)?;
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
        _request: &CreateSession,
        answer: &VendorAnswer,
    ) -> Result<Fetched, Error> {
        self.read_session(answer)
    }

    /// The whole tenant in one answer; `customer` and a single status are
    /// the vendor's to apply, the rest is the gateway's.
    fn list(&self, query: &ListQuery, _ctx: &RequestContext) -> Result<VendorRequest, Error> {
        query.refuse_cursor(PROVIDER)?;
        let mut request = VendorRequest::new(Operation::List, Method::GET, SESSIONS);
        if let Some(customer) = &query.customer {
            if !is_customer_id(customer) {
                return Err(Error::invalid_request(format!(
                    "customer: {PROVIDER} lists by customer id only (`cus_…` or a UUID); \
                     an alias cannot be listed by"
                ))
                .with_provider(PROVIDER));
            }
            request = request.query("customer_id", customer.clone());
        }
        if let Some(status) = query.only_status().and_then(list_status) {
            request = request.query("status", status);
        }
        Ok(request)
    }

    fn read_list(&self, _query: &ListQuery, answer: &VendorAnswer) -> Result<ListPage, Error> {
        read_page(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| {
                let list: wire::RawSessionList = read::parse(body)?;
                let sessions = listed(PROVIDER, list.sessions, |s: wire::CheckoutSession| {
                    read::session(&self.account, &s)
                })?;
                Ok(ListPage::new(sessions, None))
            },
        )
    }

    /// `POST …/{id}/cancel`, no body: Meteroid records no reason.
    fn cancel(
        &self,
        reference: &str,
        _request: &CancelSession,
        _ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        // Checked again here: the reference becomes a path segment.
        validate_session_id(reference).map_err(|why| {
            Error::new(ErrorCode::InvalidId, format!("invalid session id: {why}"))
                .with_provider(PROVIDER)
        })?;
        Ok(VendorRequest::new(
            Operation::Cancel,
            Method::POST,
            format!("{SESSIONS}/{reference}/cancel"),
        ))
    }

    /// Meteroid answers one 400 both for an unknown session and for one that
    /// is no longer open: that one is `invalid_state`, which the gateway
    /// settles by reading the session (404, 409, or 200 if already cancelled).
    fn read_cancel(&self, _reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        read_fetched(
            PROVIDER,
            answer,
            |a| errors::cancel_error(a.status, a.is_json(), &a.body),
            |body| read::session_body(&self.account, body),
        )
    }

    /// A deployment older than redirect URLs takes neither on create.
    fn capabilities(&self) -> Option<Capabilities> {
        if self.config.api_level.has_redirect_urls() {
            return None;
        }
        let mut capabilities = Meteroid.capabilities();
        capabilities
            .create_fields
            .retain(|f| !matches!(*f, "success_url" | "cancel_url"));
        Some(capabilities)
    }

    /// A create may name its customer by alias, and sessions show only the
    /// customer's id: then the customer rules nothing out.
    fn could_be_created_by(&self, request: &CreateSession, listed: &CheckoutSession) -> bool {
        let by_alias = request
            .customer
            .as_deref()
            .is_some_and(|c| !is_customer_id(c));
        (by_alias || !resolve::other_customer(request, listed))
            && !resolve::other_plan(request, listed)
    }

    fn redacted_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

impl MeteroidAccount {
    /// Get and create both answer `{"session": …}`.
    fn read_session(&self, answer: &VendorAnswer) -> Result<Fetched, Error> {
        read_fetched(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| read::session_body(&self.account, body),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_make_subscriptions_only() {
        assert_eq!(Meteroid.create_purposes(), &[Purpose::Subscription]);
    }
    use serde_json::json;

    #[test]
    fn plan_ids_are_plan_versions_or_uuids() {
        let m = Meteroid;
        assert!(m.could_be_plan_id("plv_7n42DGM5Tflk9n8mt7Fhc7"));
        assert!(m.could_be_plan_id("0199B896-0135-7e6b-b52a-050aa7f8c874"));
        for alias in [
            "pro",
            "pro_monthly",
            "plv",
            "cus_1",
            "0199b896-0135-7e6b-b52a",
        ] {
            assert!(!m.could_be_plan_id(alias), "{alias}");
        }
    }

    #[test]
    fn config_requires_exactly_one_key_source() {
        let err = MeteroidAccount::from_config("default", json!({}))
            .err()
            .unwrap();
        assert_eq!(err.path, "api_key");
        let err =
            MeteroidAccount::from_config("default", json!({"api_key": "k", "api_key_file": "/x"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "api_key");
        let err = MeteroidAccount::from_config("default", json!({"api_key": "k", "timeout": 3}))
            .err()
            .unwrap();
        assert!(err.message.contains("timeout"), "{err}");
        let err =
            MeteroidAccount::from_config("default", json!({"api_key": "k", "timeout_ms": "slow"}))
                .err()
                .unwrap();
        assert_eq!(err.path, "timeout_ms");
    }

    #[test]
    fn api_level_defaults_to_current_and_names_the_older_deployment() {
        let current = account();
        assert_eq!(current.config.api_level, ApiLevel::Current);
        assert_eq!(current.redacted_config()["api_level"], "current");
        let old = MeteroidAccount::from_config(
            "old",
            json!({"api_key": "pv_sand_k/t", "api_level": "2026-08"}),
        )
        .unwrap();
        assert_eq!(old.config.api_level, ApiLevel::August2026);
        assert_eq!(old.redacted_config()["api_level"], "2026-08");
        for bad in [json!("2026-09"), json!("Current"), json!(2026)] {
            let err = MeteroidAccount::from_config("x", json!({"api_key": "k", "api_level": bad}))
                .err()
                .unwrap();
            assert_eq!(err.path, "api_level", "{bad}: {err}");
        }
    }

    #[test]
    fn an_older_deployment_lists_and_refuses_no_redirect_urls() {
        let request: CreateSession = serde_json::from_value(json!({
            "provider": "meteroid", "account": "default", "customer": "acme", "plan": "plv_1",
            "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"
        }))
        .unwrap();
        let ctx = RequestContext::default();
        let body = account().create(&request, &ctx).unwrap().body.unwrap();
        let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (&sent["success_url"], &sent["cancel_url"]),
            (
                &json!("https://shop.example/ok"),
                &json!("https://shop.example/no")
            )
        );
        let provider_fields = Meteroid.capabilities().create_fields;
        assert!(
            provider_fields.contains(&"success_url") && provider_fields.contains(&"cancel_url")
        );

        let old = MeteroidAccount::from_config(
            "old",
            json!({"api_key": "pv_sand_k/t", "api_level": "2026-08"}),
        )
        .unwrap();
        let err = old.create(&request, &ctx).unwrap_err();
        assert_eq!(err.code, ErrorCode::UnsupportedField);
        assert!(err.message.contains("`success_url`"), "{}", err.message);
        let own = old.capabilities().expect("differs from the provider's");
        assert!(!own.create_fields.iter().any(|f| f.ends_with("_url")));
        assert_eq!(own.create_fields.len(), provider_fields.len() - 2);
        assert!(own.cancel && own.list.is_some());
    }

    #[test]
    fn redacted_config_hides_the_key() {
        let c = MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_secret/tok"}))
            .unwrap();
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("pv_sand_secret"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn requests_are_built_without_io() {
        let c = MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_k/t"})).unwrap();
        let get = c.get("che_1", &RequestContext::default()).unwrap();
        assert_eq!(
            (get.method, get.path.as_str()),
            (Method::GET, "/api/v1/checkout-sessions/che_1")
        );
        assert_eq!(c.endpoint().base_url, "https://api.meteroid.com");
        assert!(c.endpoint().credentials[0].1.is_sensitive());
        let answer = VendorAnswer {
            status: 404,
            body: br#"{"code":"NOT_FOUND","message":"gone"}"#.to_vec().into(),
            ..VendorAnswer::default()
        };
        let err = c.read_get("che_1", &answer).unwrap_err();
        assert_eq!(
            (err.http_status, err.provider_http_status),
            (404, Some(404))
        );
    }

    fn account() -> MeteroidAccount {
        MeteroidAccount::from_config("default", json!({"api_key": "pv_sand_k/t"})).unwrap()
    }

    #[test]
    fn a_customer_named_by_alias_rules_no_listed_session_out() {
        let body = r#"{"session":{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"}}"#;
        let listed = read::session_body("default", body.as_bytes()).unwrap();
        let create = |customer: &str, plan: &str| CreateSession {
            provider: PROVIDER.into(),
            account: "default".into(),
            customer: Some(customer.into()),
            plan: Some(plan.into()),
            ..CreateSession::default()
        };
        let a = account();
        assert!(a.could_be_created_by(&create("acme", "plv_1"), &listed));
        assert!(a.could_be_created_by(&create("cus_1", "plv_1"), &listed));
        assert!(!a.could_be_created_by(&create("cus_2", "plv_1"), &listed));
        assert!(!a.could_be_created_by(&create("acme", "plv_2"), &listed));
        assert!(
            !a.lists_create_metadata(),
            "Meteroid never returns metadata"
        );
    }

    fn query(customer: Option<&str>, statuses: &[Status]) -> ListQuery {
        ListQuery {
            customer: customer.map(str::to_owned),
            statuses: statuses.to_vec(),
            limit: 20,
            ..ListQuery::default()
        }
    }

    fn pairs(r: &VendorRequest) -> Vec<(&str, &str)> {
        r.query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn list_requests_push_customer_ids_and_single_exact_statuses() {
        let c = account();
        let ctx = RequestContext::default();
        let all = c.list(&query(None, &[]), &ctx).unwrap();
        assert_eq!(
            (all.operation, all.method.clone(), all.path.as_str()),
            (Operation::List, Method::GET, "/api/v1/checkout-sessions")
        );
        assert!(all.query.is_empty() && all.body.is_none());
        let cus = "cus_19uzVEbTp1wplXRYVYOAYm";
        let r = c.list(&query(Some(cus), &[Status::Open]), &ctx).unwrap();
        assert_eq!(pairs(&r), [("customer_id", cus), ("status", "CREATED")]);
        let uuid = "0199b896-0135-7e6b-b52a-050aa7f8c874";
        let r = c
            .list(&query(Some(uuid), &[Status::Canceled]), &ctx)
            .unwrap();
        assert_eq!(pairs(&r), [("customer_id", uuid), ("status", "CANCELLED")]);
        let r = c.list(&query(None, &[Status::Complete]), &ctx).unwrap();
        assert_eq!(pairs(&r), [("status", "COMPLETED")]);
        // Several statuses, expiry (partly derived) and processing (which
        // holds unknown vendor values) are the gateway's to filter.
        for statuses in [
            &[Status::Open, Status::Complete][..],
            &[Status::Expired],
            &[Status::Processing],
            &[Status::Failed],
        ] {
            let r = c.list(&query(None, statuses), &ctx).unwrap();
            assert!(r.query.is_empty(), "{statuses:?}");
        }
        // Created bounds are never sent: Meteroid has no such filter.
        let mut dated = query(None, &[]);
        dated.created_gte = Some(chrono::Utc::now());
        assert!(c.list(&dated, &ctx).unwrap().query.is_empty());
    }

    #[test]
    fn list_refuses_aliases_and_cursors() {
        let c = account();
        let ctx = RequestContext::default();
        for alias in [
            "acme-42",
            "cus_",
            "cus_not-base62",
            "0199B896-0135-7E6B-B52A",
        ] {
            let e = c.list(&query(Some(alias), &[]), &ctx).unwrap_err();
            assert_eq!((e.code, e.http_status), (ErrorCode::InvalidRequest, 400));
            assert!(
                e.message.starts_with("customer:") && e.message.contains("meteroid"),
                "{}",
                e.message
            );
        }
        let mut paged = query(None, &[]);
        paged.cursor = Some("x".into());
        assert_eq!(
            c.list(&paged, &ctx).unwrap_err().code,
            ErrorCode::InvalidCursor
        );
    }

    #[test]
    fn cancel_requests() {
        let c = account();
        let r = c
            .cancel(
                "che_7n42DGM5Tflk9n8mt7Fhc7",
                &CancelSession {
                    reason: Some("duplicate".into()),
                    ..CancelSession::default()
                },
                &RequestContext::default(),
            )
            .unwrap();
        assert_eq!(
            (r.operation, r.method.clone(), r.path.as_str()),
            (
                Operation::Cancel,
                Method::POST,
                "/api/v1/checkout-sessions/che_7n42DGM5Tflk9n8mt7Fhc7/cancel"
            )
        );
        assert!(r.body.is_none() && r.query.is_empty() && r.headers.is_empty());
        let e = c
            .cancel(
                "che_../x",
                &CancelSession::default(),
                &RequestContext::default(),
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidId);
    }

    #[test]
    fn capabilities_say_what_list_and_cancel_do() {
        let caps = Meteroid.capabilities();
        assert!(caps.cancel);
        let list = caps.list.unwrap();
        assert_eq!(list.pagination, Pagination::Whole);
        assert_eq!(
            list.vendor_filters,
            [ListFilter::Customer, ListFilter::Status]
        );
        assert!(!list.customer_required && list.items_complete);
        assert!(account().capabilities().is_none(), "the provider's hold");
    }

    #[test]
    fn session_id_format() {
        assert!(
            validate_session_id("che_7n42DGM5Tflk9n8mt7Fhc7").is_ok(),
            "u128::MAX is the largest id"
        );
        assert!(validate_session_id("che_1").is_ok());
        for bad in [
            "",
            "che_",
            "cus_7n42DGM5Tflk9n8mt7Fhc7",
            "che_7n42DGM5Tflk9n8mt7Fhc8",
            "che_zzzzzzzzzzzzzzzzzzzzzz",
            "che_abc-def",
            "che_a.b",
            "che_0123456789012345678901x",
        ] {
            assert!(validate_session_id(bad).is_err(), "{bad:?}");
        }
    }
}
