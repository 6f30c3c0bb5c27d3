//! Raystack Frontier adapter, without I/O: `wire` (vendor serde types),
//! `read` (answers → canonical), `create` (canonical create → vendor body),
//! `errors` (vendor errors → canonical), and here the provider, the
//! account config and the requests.
//!
//! Current Frontier serves ConnectRPC JSON only (one POST per RPC); older
//! deployments serve the grpc-gateway REST API. Each account picks its
//! protocol. The canonical reference is the checkout UUID for Connect, and
//! `<org_id>:<checkout UUID>` for legacy REST, whose GET path needs the org.

pub mod create;
pub mod errors;
pub mod read;
pub mod wire;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use checkout_core::adapter::ConfigError;
use checkout_core::list::{ListFilter, ListSupport, Pagination};
use checkout_core::resolve;
use checkout_core::vendor::{listed, read_fetched, read_page, with_vendor_status};
use checkout_core::{
    Capabilities, CheckoutSession, Connector, CreateSession, Endpoint, Error, ErrorCode, Fetched,
    ListPage, ListQuery, Operation, Provider, Purpose, RequestContext, Secret, VendorAnswer,
    VendorRequest,
};
use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use http::Method;
use serde::{Deserialize, Serialize};
use vendor_http::config_error;

use crate::read::Origin;

pub const PROVIDER: &str = "frontier";

/// Which of Frontier's two APIs an account speaks.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// ConnectRPC unary JSON: `POST /raystack.frontier.v1beta1.FrontierService/<Rpc>`.
    #[default]
    Connect,
    /// The legacy grpc-gateway REST API (`/v1beta1/organizations/{org_id}/billing/checkouts…`).
    Rest,
}

/// Registration handle for the gateway.
pub struct Frontier;

/// The vendor part of a canonical id, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference<'a> {
    /// Present in legacy REST references only.
    pub org_id: Option<&'a str>,
    pub checkout_id: &'a str,
}

/// A checkout id as Frontier makes them (`uuid.New().String()`): a UUID in
/// lower-case hyphenated form, the only form its answers echo back.
pub fn is_checkout_id(s: &str) -> bool {
    is_uuid(s)
}

/// An id as Frontier makes every id (checkouts, plans, organizations):
/// `uuid.New().String()`, lower-case and hyphenated.
fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => matches!(b, b'0'..=b'9' | b'a'..=b'f'),
        })
}

/// Longest organization reference accepted in a legacy REST id.
const MAX_ORG_LEN: usize = 100;

/// An organization as it may appear in a legacy REST id and URL path:
/// its UUID (or name), letters, digits, `-` and `_` only.
pub fn validate_org_id(org: &str) -> Result<(), String> {
    let ok = (3..=MAX_ORG_LEN).contains(&org.len())
        && org
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "a Frontier organization id has 3 to {MAX_ORG_LEN} letters, digits, '-' or '_'"
        ))
    }
}

/// `<checkout uuid>` (Connect) or `<org_id>:<checkout uuid>` (legacy REST).
pub fn parse_reference(reference: &str) -> Result<Reference<'_>, String> {
    let (org_id, checkout_id) = match reference.split_once(':') {
        Some((org, id)) => {
            validate_org_id(org)?;
            (Some(org), id)
        }
        None => (None, reference),
    };
    if !is_checkout_id(checkout_id) {
        return Err(
            "a Frontier checkout reference is the checkout UUID (lower case), or \
             <org_id>:<checkout UUID> for a legacy REST account"
                .to_owned(),
        );
    }
    Ok(Reference {
        org_id,
        checkout_id,
    })
}

impl Provider for Frontier {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            get: true,
            create: true,
            create_fields: vec![
                "customer (organization id)",
                "plan (plan id or name)",
                "quantity (product purchases; 1 for plans)",
                "success_url ({{.CheckoutID}} is replaced by Frontier)",
                "cancel_url ({{.CheckoutID}} is replaced by Frontier)",
                "provider_options",
            ],
            provider_options: wire::CREATE_OPTION_FIELDS.to_vec(),
            list: Some(ListSupport {
                pagination: Pagination::Whole,
                // The organization is the list's only parameter (vendor notes F7).
                vendor_filters: vec![ListFilter::Customer],
                customer_required: true,
                // List items are the same object as a get's.
                items_complete: true,
            }),
            // No cancel or expire RPC (vendor notes F1).
            cancel: false,
        }
    }

    fn validate_reference(&self, reference: &str) -> Result<(), String> {
        parse_reference(reference).map(|_| ())
    }

    /// A plan id: a UUID. Frontier also takes a plan by its name, and no
    /// shape tells a name from an alias; the routing's check that no alias
    /// equals a plan id of the catalog covers the names the catalog knows.
    fn could_be_plan_id(&self, plan: &str) -> bool {
        is_uuid(plan)
    }

    /// `plan` subscribes, `provider_options.product_body` buys a product,
    /// `provider_options.setup_body` collects a payment method.
    fn create_purposes(&self) -> &'static [Purpose] {
        &[Purpose::Subscription, Purpose::Purchase, Purpose::Setup]
    }

    /// The body does not name its organization, so the id is always the
    /// Connect form (the checkout UUID) and `customer` is null.
    fn normalize(&self, account: &str, body: &[u8]) -> Result<CheckoutSession, Error> {
        if let Ok(serde_json::Value::Object(top)) =
            serde_json::from_slice::<serde_json::Value>(body)
        {
            let is_list = top.is_empty()
                || ["checkout_sessions", "checkoutSessions"]
                    .iter()
                    .any(|k| top.contains_key(*k));
            if is_list {
                return Err(Error::invalid_request(
                    "this is a Frontier list body (Connect sends `{}` for an empty list); \
                     normalize takes one get or create response",
                ));
            }
        }
        read::session_body(account, Origin::UNKNOWN, body)
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
        Ok(Arc::new(FrontierAccount::from_config(account, config)?))
    }
}

/// `[providers.frontier.accounts.<name>]`.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Required: Frontier is self-hosted. Its Connect port (8002 by
    /// default), or for `rest` the grpc-gateway's (7400 in the vendor docs).
    #[serde(default)]
    pub base_url: String,
    #[serde(default)]
    pub protocol: Protocol,
    /// Service-user client id (Basic auth user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_file: Option<PathBuf>,
    /// An access token, service-user JWT or personal access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<PathBuf>,
    #[serde(default = "vendor_http::default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    #[serde(default = "vendor_http::default_timeout_ms")]
    pub timeout_ms: u64,
    /// Organization ids to list when a list names no `customer`: Frontier
    /// lists per organization only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<String>,
}

fn printable(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// The Authorization header: exactly one scheme, checked and built once.
fn authorization(config: &AccountConfig) -> Result<HeaderValue, ConfigError> {
    let client_secret = vendor_http::optional_secret(
        "client_secret",
        &config.client_secret,
        &config.client_secret_file,
    )?;
    let bearer = vendor_http::optional_secret(
        "bearer_token",
        &config.bearer_token,
        &config.bearer_token_file,
    )?;
    let value =
        match (&config.client_id, client_secret, bearer) {
            (Some(_), _, Some(_)) | (None, Some(_), Some(_)) => return Err(config_error(
                "bearer_token",
                "set client credentials (client_id + client_secret) or a bearer token, not both",
            )),
            (Some(id), Some(secret), None) => {
                // RFC 7617: the user id cannot contain ':'.
                if !printable(id) || id.contains(':') {
                    return Err(config_error(
                        "client_id",
                        "must be printable, without spaces or ':'",
                    ));
                }
                if !printable(secret.expose()) {
                    return Err(config_error(
                        "client_secret",
                        "must be a non-empty secret of printable characters without spaces",
                    ));
                }
                let pair = format!("{id}:{}", secret.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            (Some(_), None, None) => {
                return Err(config_error(
                    "client_secret",
                    "missing: client_id needs client_secret or client_secret_file",
                ))
            }
            (None, Some(_), None) => {
                return Err(config_error(
                    "client_id",
                    "missing: client_secret needs client_id",
                ))
            }
            (None, None, Some(token)) => {
                if !printable(token.expose()) {
                    return Err(config_error(
                        "bearer_token",
                        "must be a non-empty token of printable characters without spaces",
                    ));
                }
                format!("Bearer {}", token.expose())
            }
            (None, None, None) => return Err(config_error(
                "client_id",
                "missing credentials: set client_id with client_secret (or client_secret_file), \
                 or bearer_token (or bearer_token_file)",
            )),
        };
    // Both schemes' values were checked printable above: a valid header.
    vendor_http::credential_header("client_secret", &value)
}

/// One Frontier account: its config, endpoint (Basic or bearer auth) and
/// requests, over Connect or the legacy REST gateway.
pub struct FrontierAccount {
    account: String,
    config: AccountConfig,
    /// Its credential is `Basic …` or `Bearer …`, marked sensitive so no
    /// HTTP layer prints it; vendor-http scrubs it from every answer.
    endpoint: Endpoint,
}

impl FrontierAccount {
    pub fn from_config(
        account: &str,
        value: serde_json::Value,
    ) -> Result<FrontierAccount, ConfigError> {
        let config: AccountConfig = vendor_http::parse_config(value)?;
        let authorization = authorization(&config)?;
        if config.base_url.is_empty() {
            return Err(config_error(
                "base_url",
                "missing: Frontier is self-hosted; give the URL of its Connect API \
                 (or, with protocol = \"rest\", of its REST gateway)",
            ));
        }
        let endpoint = vendor_http::endpoint(
            &config.base_url,
            vec![(AUTHORIZATION, authorization)],
            config.connect_timeout_ms,
            config.timeout_ms,
        )?;
        // Each org becomes a request field or (legacy REST) a path segment.
        for (i, org) in config.orgs.iter().enumerate() {
            validate_org_id(org).map_err(|why| config_error(&format!("orgs[{i}]"), &why))?;
            if config.orgs[..i].contains(org) {
                return Err(config_error(&format!("orgs[{i}]"), "listed twice"));
            }
        }
        Ok(FrontierAccount {
            account: account.to_owned(),
            config,
            endpoint,
        })
    }

    /// Turn an answer that carries one session into it, or into the
    /// canonical error `refused` makes of a non-2xx.
    fn read_session(
        &self,
        answer: &VendorAnswer,
        origin: Origin<'_>,
        refused: fn(u16, bool, &[u8]) -> Error,
    ) -> Result<Fetched, Error> {
        read_fetched(
            PROVIDER,
            answer,
            |a| refused(a.status, a.is_json(), &a.body),
            |body| read::session_body(&self.account, origin, body),
        )
    }
}

/// The Connect service every checkout RPC belongs to.
const SERVICE: &str = "raystack.frontier.v1beta1.FrontierService";

/// A Connect unary call: `POST /<service>/<method>` with a JSON body.
fn connect(operation: Operation, method: &str, body: Vec<u8>) -> VendorRequest {
    VendorRequest::new(operation, Method::POST, format!("/{SERVICE}/{method}"))
        .json(body)
        .header(
            HeaderName::from_static("connect-protocol-version"),
            HeaderValue::from_static("1"),
        )
}

/// Legacy REST: the org's checkouts collection, `org` already checked.
fn checkouts_path(org: &str) -> String {
    format!("/v1beta1/organizations/{org}/billing/checkouts")
}

/// Frontier logs the caller's x-request-id with the call.
fn with_request_id(request: VendorRequest, ctx: &RequestContext) -> VendorRequest {
    match HeaderValue::from_str(&ctx.request_id) {
        Ok(id) if !ctx.request_id.is_empty() => {
            request.header(HeaderName::from_static("x-request-id"), id)
        }
        _ => request,
    }
}

/// The reference of a get, checked against the account's protocol.
fn checked_reference(protocol: Protocol, reference: &str) -> Result<(Option<&str>, &str), Error> {
    let parsed = parse_reference(reference).map_err(|why| {
        Error::new(ErrorCode::InvalidId, format!("invalid session id: {why}"))
            .with_provider(PROVIDER)
    })?;
    match (protocol, parsed.org_id) {
        (Protocol::Connect, None) | (Protocol::Rest, Some(_)) => {
            Ok((parsed.org_id, parsed.checkout_id))
        }
        (Protocol::Connect, Some(_)) => Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: this frontier account speaks Connect, whose session ids are \
             frontier:<account>:<checkout UUID> (no organization)",
        )
        .with_provider(PROVIDER)),
        (Protocol::Rest, None) => Err(Error::new(
            ErrorCode::InvalidId,
            "invalid session id: this frontier account speaks the legacy REST API, whose session \
             ids carry the organization: frontier:<account>:<org_id>:<checkout UUID>",
        )
        .with_provider(PROVIDER)),
    }
}

fn encode(body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|e| Error::new(ErrorCode::Internal, format!("cannot encode request: {e}")))
}

impl Connector for FrontierAccount {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn get(&self, reference: &str, ctx: &RequestContext) -> Result<VendorRequest, Error> {
        let (org, checkout_id) = checked_reference(self.config.protocol, reference)?;
        let request = match (self.config.protocol, org) {
            // Both parts were checked against their id formats: safe path segments.
            (Protocol::Rest, Some(org)) => VendorRequest::new(
                Operation::Get,
                Method::GET,
                format!("{}/{checkout_id}", checkouts_path(org)),
            ),
            _ => connect(
                Operation::Get,
                "GetCheckout",
                encode(&serde_json::json!({ "id": checkout_id }))?,
            ),
        };
        Ok(with_request_id(request, ctx))
    }

    fn read_get(&self, reference: &str, answer: &VendorAnswer) -> Result<Fetched, Error> {
        // `get` accepted this reference, so this cannot fail; if it did, the
        // error would still carry the vendor's status.
        let (org, _) = checked_reference(self.config.protocol, reference)
            .map_err(|e| with_vendor_status(e, answer.status))?;
        match (self.config.protocol, org) {
            (Protocol::Rest, Some(org)) => {
                let origin = Origin {
                    org_id: Some(org),
                    org_in_reference: true,
                };
                self.read_session(answer, origin, errors::legacy_get_error)
            }
            _ => self.read_session(answer, Origin::UNKNOWN, errors::vendor_error),
        }
    }

    fn create(
        &self,
        request: &CreateSession,
        ctx: &RequestContext,
    ) -> Result<VendorRequest, Error> {
        let mut body = create::create_request(request)?;
        let request = match self.config.protocol {
            Protocol::Connect => connect(Operation::Create, "CreateCheckout", encode(&body)?),
            Protocol::Rest => {
                let org = body.org_id.take().unwrap_or_default();
                // The org becomes a path segment and part of the session id.
                validate_org_id(&org).map_err(|why| {
                    Error::invalid_request(format!(
                        "customer: {why} (a legacy REST account keeps it in its session ids)"
                    ))
                    .with_provider(PROVIDER)
                })?;
                VendorRequest::new(Operation::Create, Method::POST, checkouts_path(&org))
                    .json(encode(&body)?)
            }
        };
        Ok(with_request_id(request, ctx))
    }

    fn read_create(
        &self,
        request: &CreateSession,
        answer: &VendorAnswer,
    ) -> Result<Fetched, Error> {
        // The body does not name its organization: the create request did
        // (`customer`, required by `create`), as `org_id` or in the path.
        let origin = Origin {
            org_id: Some(request.customer.as_deref().unwrap_or_default()),
            org_in_reference: self.config.protocol == Protocol::Rest,
        };
        self.read_session(answer, origin, errors::vendor_error)
    }

    /// Every checkout of one organization: `ListCheckouts {org_id}` (Connect)
    /// or a GET of the org's checkouts collection (legacy REST). The org is
    /// the list's only parameter; the gateway applies every other filter.
    fn list(&self, query: &ListQuery, ctx: &RequestContext) -> Result<VendorRequest, Error> {
        query.refuse_cursor(PROVIDER)?;
        let org = query.customer.as_deref().ok_or_else(|| {
            Error::invalid_request(format!(
                "customer: {PROVIDER} lists the checkouts of one organization; give `customer` \
                 (the organization id) or configure the account's `orgs`"
            ))
            .with_provider(PROVIDER)
        })?;
        validate_org_id(org).map_err(|why| {
            Error::invalid_request(format!("customer: {why}")).with_provider(PROVIDER)
        })?;
        let request = match self.config.protocol {
            Protocol::Connect => connect(
                Operation::List,
                "ListCheckouts",
                encode(&serde_json::json!({ "org_id": org }))?,
            ),
            Protocol::Rest => VendorRequest::new(Operation::List, Method::GET, checkouts_path(org)),
        };
        Ok(with_request_id(request, ctx))
    }

    fn read_list(&self, query: &ListQuery, answer: &VendorAnswer) -> Result<ListPage, Error> {
        // The items do not name their organization: the request did.
        let origin = Origin {
            org_id: query.customer.as_deref(),
            org_in_reference: self.config.protocol == Protocol::Rest,
        };
        read_page(
            PROVIDER,
            answer,
            |a| errors::vendor_error(a.status, a.is_json(), &a.body),
            |body| {
                // The list is a message (an object); serde would also take
                // an array for a struct whose one field has a default.
                if body.trim_ascii_start().first() != Some(&b'{') {
                    return Err(checkout_core::vendor::bad_response(
                        PROVIDER,
                        "the list is not a JSON object",
                    ));
                }
                let list: wire::RawSessionList = read::parse(body)?;
                let sessions = listed(
                    PROVIDER,
                    list.checkout_sessions,
                    |s: wire::CheckoutSession| read::session(&self.account, origin, &s),
                )?;
                Ok(ListPage::new(sessions, None))
            },
        )
    }

    fn list_customers(&self) -> &[String] {
        &self.config.orgs
    }

    /// A session shows its plan's id (a UUID); a create may name the plan
    /// by name instead, and then the plan rules nothing out.
    fn could_be_created_by(&self, request: &CreateSession, listed: &CheckoutSession) -> bool {
        let plan_by_id = request.plan.as_deref().is_some_and(is_uuid);
        let other_plan = plan_by_id && resolve::other_plan(request, listed);
        !resolve::other_customer(request, listed) && !other_plan
    }

    fn redacted_config(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_subscribe_buy_or_set_up() {
        assert_eq!(
            Frontier.create_purposes(),
            &[Purpose::Subscription, Purpose::Purchase, Purpose::Setup]
        );
    }
    use serde_json::json;

    #[test]
    fn plan_ids_are_uuids_and_names_are_not_told_apart() {
        assert!(Frontier.could_be_plan_id("3f1c9a52-7b4e-4d2a-9c61-0e8f5b7a2d14"));
        // A plan name has no shape: the catalog's own check covers it.
        for alias in ["pro", "starter-monthly", "3f1c9a52-7b4e-4d2a"] {
            assert!(!Frontier.could_be_plan_id(alias), "{alias}");
        }
    }

    const ID: &str = "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37";
    const ORG: &str = "8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8";

    #[test]
    fn references_of_both_protocols() {
        assert_eq!(
            parse_reference(ID),
            Ok(Reference {
                org_id: None,
                checkout_id: ID
            })
        );
        let legacy = format!("8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8:{ID}");
        assert_eq!(
            parse_reference(&legacy).map(|r| r.org_id),
            Ok(Some("8d0c3f64-52b1-4c5e-a0f3-7b2e9c41d6a8"))
        );
        assert!(parse_reference(&format!("acme-corp:{ID}")).is_ok());
    }

    #[test]
    fn malformed_references_are_refused() {
        for bad in [
            "",
            "5B0F8B4E-3C1D-4F7A-9E2B-6D8C1A4F0E37",
            "5b0f8b4e3c1d4f7a9e2b6d8c1a4f0e37",
            "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e3",
            "5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37x",
            "cs_test_a1B2c3D4e5F6g7H8",
            "ab:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "a.b.c:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "org:org:5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            ":5b0f8b4e-3c1d-4f7a-9e2b-6d8c1a4f0e37",
            "acme:",
        ] {
            assert!(parse_reference(bad).is_err(), "{bad:?}");
        }
        let long_org = format!("{}:{ID}", "o".repeat(MAX_ORG_LEN + 1));
        assert!(parse_reference(&long_org).is_err());
    }

    #[test]
    fn the_organization_and_a_plan_given_by_id_rule_a_listed_session_out() {
        const PLAN: &str = "74d6592b-c0ce-4a49-b30e-418eddb39ec7";
        let account = build(base(json!({"bearer_token": "fpt_abc"}))).unwrap();
        let listed = CheckoutSession {
            customer: Some(checkout_core::Customer {
                id: Some("org_1".into()),
                ..Default::default()
            }),
            plan: Some(checkout_core::PlanRef {
                id: PLAN.into(),
                kind: "plan".into(),
            }),
            ..serde_json::from_value(
                json!({"object": "checkout_session", "id": "frontier:default:x",
                "provider": "frontier", "account": "default", "provider_session_id": "x",
                "status": "open", "payment_status": null, "purpose": "subscription", "url": null,
                "success_url": null, "cancel_url": null, "customer": null, "plan": null,
                "quantity": null, "subscription_id": null, "invoice_id": null, "amount_total": null,
                "livemode": null, "metadata": {}, "created_at": "2026-11-29T10:00:00Z",
                "updated_at": null, "expires_at": null, "completed_at": null,
                "provider_status": {"status": null, "payment_status": null}}),
            )
            .unwrap()
        };
        let create = |org: &str, plan: &str| CreateSession {
            provider: PROVIDER.into(),
            account: "default".into(),
            customer: Some(org.into()),
            plan: Some(plan.into()),
            ..CreateSession::default()
        };
        // A plan named by name may be listed by id: it rules nothing out.
        assert!(account.could_be_created_by(&create("org_1", "starter_monthly"), &listed));
        assert!(!account.could_be_created_by(&create("org_2", "starter_monthly"), &listed));
        // A plan given by id is compared.
        assert!(account.could_be_created_by(&create("org_1", PLAN), &listed));
        let other = "3235c01d-1dcc-4478-9f08-7c7d0031679c";
        assert!(!account.could_be_created_by(&create("org_1", other), &listed));
    }

    fn build(v: serde_json::Value) -> Result<FrontierAccount, ConfigError> {
        FrontierAccount::from_config("default", v)
    }

    fn base(extra: serde_json::Value) -> serde_json::Value {
        let mut v = json!({"base_url": "http://127.0.0.1:8002"});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        v
    }

    #[test]
    fn exactly_one_auth_scheme() {
        for (extra, path) in [
            (json!({}), "client_id"),
            (json!({"client_id": "svc"}), "client_secret"),
            (json!({"client_secret": "s"}), "client_id"),
            (
                json!({"client_id": "svc", "client_secret": "s", "bearer_token": "t"}),
                "bearer_token",
            ),
            (
                json!({"client_id": "svc", "client_secret": "s", "client_secret_file": "/x"}),
                "client_secret",
            ),
            (
                json!({"bearer_token": "t", "bearer_token_file": "/x"}),
                "bearer_token",
            ),
            (
                json!({"client_id": "a:b", "client_secret": "s"}),
                "client_id",
            ),
            (json!({"bearer_token": "two words"}), "bearer_token"),
            (
                json!({"bearer_token_file": "/no/such/token/file"}),
                "bearer_token_file",
            ),
            (json!({"bearer_token": "t", "protocol": "grpc"}), "protocol"),
            (json!({"bearer_token": "t", "timeout": 3}), ""),
            (json!({"bearer_token": "t", "timeout_ms": 0}), "timeout_ms"),
            (
                json!({"bearer_token": "t", "connect_timeout_ms": 0}),
                "connect_timeout_ms",
            ),
        ] {
            let err = build(base(extra.clone())).err().expect("must fail");
            assert!(
                err.path == path || (path.is_empty() && err.message.contains("timeout")),
                "{extra}: {err}"
            );
        }
        let err = build(json!({"bearer_token": "t"}))
            .err()
            .expect("no base_url");
        assert_eq!(err.path, "base_url", "{err}");
        assert!(build(base(json!({"client_id": "svc", "client_secret": "s"}))).is_ok());
        assert!(build(base(json!({"bearer_token": "fpt_abc", "protocol": "rest"}))).is_ok());
    }

    #[test]
    fn secrets_come_from_files_and_never_show() {
        let dir = std::env::temp_dir().join(format!("frontier-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("secret");
        std::fs::write(&file, "s3cr3t-value\n").unwrap();
        let c = build(base(
            json!({"client_id": "svc-1", "client_secret_file": file}),
        ))
        .unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode("svc-1:s3cr3t-value");
        let (name, authorization) = &c.endpoint().credentials[0];
        assert_eq!(name, AUTHORIZATION);
        assert_eq!(authorization.to_str().unwrap(), format!("Basic {expected}"));
        assert!(authorization.is_sensitive());
        let c = build(base(
            json!({"client_id": "svc-1", "client_secret": "s3cr3t-value"}),
        ))
        .unwrap();
        // vendor-http's client makes its per-account scrubber, the one
        // every request of it uses, from the endpoint's credentials alike.
        let scrubber =
            vendor_http::Scrubber::new(c.endpoint().credentials.iter().map(|(_, v)| v.as_bytes()));
        let mut headers = http::HeaderMap::new();
        headers.insert(AUTHORIZATION, c.endpoint().credentials[0].1.clone());
        assert!(scrubber.covers(&headers));
        let echoed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("svc-1:s3cr3t-value");
        let body = format!(r#"{{"code":16,"message":"bad credentials {echoed}"}}"#);
        let clean = scrubber.scrub(body.into());
        assert_eq!(
            &clean[..],
            br#"{"code":16,"message":"bad credentials ***"}"#
        );
        let shown = c.redacted_config().to_string();
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("***") && shown.contains("svc-1") && shown.contains("connect"));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn references_must_match_the_protocol() {
        assert_eq!(
            checked_reference(Protocol::Connect, ID).unwrap(),
            (None, ID)
        );
        let legacy = format!("{ORG}:{ID}");
        assert_eq!(
            checked_reference(Protocol::Rest, &legacy).unwrap(),
            (Some(ORG), ID)
        );
        for (protocol, reference, needle) in [
            (Protocol::Connect, legacy.as_str(), "speaks Connect"),
            (Protocol::Rest, ID, "legacy REST"),
            (Protocol::Rest, "nope", "checkout UUID"),
        ] {
            let e = checked_reference(protocol, reference).unwrap_err();
            assert_eq!((e.code, e.http_status), (ErrorCode::InvalidId, 400));
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

    #[test]
    fn requests_are_built_without_io() {
        let ctx = RequestContext {
            request_id: "req-7".to_owned(),
            ..RequestContext::default()
        };
        let connect = build(base(json!({"bearer_token": "fpt_abc"}))).unwrap();
        assert_eq!(connect.endpoint().base_url, "http://127.0.0.1:8002");
        let (name, credential) = &connect.endpoint().credentials[0];
        assert_eq!(
            (name, credential.to_str().unwrap()),
            (&AUTHORIZATION, "Bearer fpt_abc")
        );
        assert!(credential.is_sensitive());
        let get = connect.get(ID, &ctx).unwrap();
        assert_eq!(
            (get.operation, get.method.clone(), get.path.as_str()),
            (
                Operation::Get,
                Method::POST,
                "/raystack.frontier.v1beta1.FrontierService/GetCheckout"
            )
        );
        assert!(get.query.is_empty());
        let headers: Vec<_> = get
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-type", "application/json"),
                ("connect-protocol-version", "1"),
                ("x-request-id", "req-7"),
            ]
        );
        assert_eq!(
            get.body.as_deref(),
            Some(format!(r#"{{"id":"{ID}"}}"#).as_bytes())
        );

        let legacy = build(base(
            json!({"client_id": "svc", "client_secret": "s", "protocol": "rest"}),
        ))
        .unwrap();
        let reference = format!("{ORG}:{ID}");
        let get = legacy.get(&reference, &RequestContext::default()).unwrap();
        assert_eq!(
            (get.method.clone(), get.path.as_str()),
            (
                Method::GET,
                format!("/v1beta1/organizations/{ORG}/billing/checkouts/{ID}").as_str()
            )
        );
        assert!(get.headers.is_empty(), "no body, no empty x-request-id");
        assert_eq!(get.body, None);

        // Non-2xx answers become errors carrying the vendor's status.
        let answer = |status: u16, body: &'static [u8]| {
            let mut headers = http::HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            VendorAnswer {
                status,
                headers,
                body: body.into(),
            }
        };
        let err = connect
            .read_get(
                ID,
                &answer(404, br#"{"code":"not_found","message":"gone"}"#),
            )
            .unwrap_err();
        assert_eq!(
            (err.http_status, err.provider_http_status),
            (404, Some(404))
        );
        let unknown = br#"{"code":13,"message":"internal server error","details":[]}"#;
        let err = legacy
            .read_get(&reference, &answer(500, unknown))
            .unwrap_err();
        assert_eq!(
            (err.code, err.http_status, err.provider_http_status),
            (ErrorCode::NotFound, 404, Some(500)),
            "the legacy read of an unknown id"
        );
        let err = connect.read_get(ID, &answer(500, unknown)).unwrap_err();
        assert_eq!(
            (err.code, err.provider_http_status),
            (ErrorCode::ProviderError, Some(500)),
            "Connect keeps the vendor-failure mapping"
        );
        let mut busy = answer(503, br#"{"code":"unavailable","message":"retry later"}"#);
        busy.headers
            .insert("retry-after", HeaderValue::from_static("3"));
        let err = connect.read_get(ID, &busy).unwrap_err();
        assert_eq!(err.provider_http_status, Some(503));
        assert_eq!(err.retry_after, Some(std::time::Duration::from_secs(3)));
        let err = connect.read_get(ID, &answer(200, b"{}")).unwrap_err();
        assert_eq!(
            (err.code, err.provider_http_status),
            (ErrorCode::ProviderBadResponse, Some(200))
        );
    }

    #[test]
    fn orgs_are_configured_and_checked() {
        let c = build(base(
            json!({"bearer_token": "t", "orgs": [ORG, "acme-corp"]}),
        ))
        .unwrap();
        assert_eq!(c.list_customers(), [ORG, "acme-corp"]);
        assert_eq!(c.redacted_config()["orgs"], json!([ORG, "acme-corp"]));
        assert!(build(base(json!({"bearer_token": "t"})))
            .unwrap()
            .list_customers()
            .is_empty());
        for (orgs, path) in [
            (json!(["ok-org", "a/b"]), "orgs[1]"),
            (json!(["ab"]), "orgs[0]"),
            (json!([ORG, ORG]), "orgs[1]"),
            (json!("acme"), "orgs"),
        ] {
            let err = build(base(json!({"bearer_token": "t", "orgs": orgs})))
                .err()
                .expect("must fail");
            assert_eq!(err.path, path, "{orgs}: {err}");
        }
        let schema = Frontier.account_schema();
        assert_eq!(schema["properties"]["orgs"]["type"], "array", "{schema}");
    }

    #[test]
    fn list_requests_of_both_protocols() {
        use checkout_core::Status;
        let ctx = RequestContext {
            request_id: "req-7".to_owned(),
            ..RequestContext::default()
        };
        let q = ListQuery {
            customer: Some(ORG.to_owned()),
            statuses: vec![Status::Open],
            created_gte: Some(chrono::Utc::now()),
            limit: 20,
            ..ListQuery::default()
        };
        let connect = build(base(json!({"bearer_token": "fpt_abc"}))).unwrap();
        let r = connect.list(&q, &ctx).unwrap();
        assert_eq!(
            (r.operation, r.method.clone(), r.path.as_str()),
            (
                Operation::List,
                Method::POST,
                "/raystack.frontier.v1beta1.FrontierService/ListCheckouts"
            )
        );
        assert_eq!(
            r.body.as_deref(),
            Some(format!(r#"{{"org_id":"{ORG}"}}"#).as_bytes()),
            "the org only: no other filter exists"
        );
        assert!(r.query.is_empty());
        let legacy = build(base(json!({"bearer_token": "fpt_abc", "protocol": "rest"}))).unwrap();
        let r = legacy.list(&q, &ctx).unwrap();
        assert_eq!(
            (r.method.clone(), r.path.as_str()),
            (
                Method::GET,
                format!("/v1beta1/organizations/{ORG}/billing/checkouts").as_str()
            )
        );
        assert!(r.query.is_empty() && r.body.is_none());
        for c in [&connect, &legacy] {
            let e = c.list(&ListQuery::default(), &ctx).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest);
            assert!(e.message.contains("orgs"), "{}", e.message);
            let bad = ListQuery {
                customer: Some("../admin".into()),
                ..ListQuery::default()
            };
            assert_eq!(
                c.list(&bad, &ctx).unwrap_err().code,
                ErrorCode::InvalidRequest
            );
            let paged = ListQuery {
                cursor: Some("x".into()),
                ..q.clone()
            };
            assert_eq!(
                c.list(&paged, &ctx).unwrap_err().code,
                ErrorCode::InvalidCursor
            );
            let e = c.cancel(ID, &Default::default(), &ctx).unwrap_err();
            assert_eq!(e.code, ErrorCode::UnsupportedOperation);
        }
        let caps = Frontier.capabilities();
        let list = caps.list.unwrap();
        assert_eq!(list.pagination, Pagination::Whole);
        assert_eq!(list.vendor_filters, [ListFilter::Customer]);
        assert!(list.customer_required && list.items_complete && !caps.cancel);
    }

    #[test]
    fn list_answers_of_both_protocols() {
        let q = ListQuery {
            customer: Some(ORG.to_owned()),
            ..ListQuery::default()
        };
        let ok = |body: String| VendorAnswer {
            status: 200,
            body: body.into_bytes().into(),
            ..VendorAnswer::default()
        };
        let item = format!(r#"{{"id":"{ID}","state":"open","created_at":"2026-11-18T10:15:42Z"}}"#);
        let connect = build(base(json!({"bearer_token": "fpt_abc"}))).unwrap();
        let page = connect
            .read_list(&q, &ok(format!(r#"{{"checkout_sessions":[{item}]}}"#)))
            .unwrap();
        assert_eq!(
            page.sessions[0].session.id,
            format!("frontier:default:{ID}")
        );
        assert_eq!(page.sessions[0].raw.get(), item);
        assert_eq!(
            page.sessions[0]
                .session
                .customer
                .as_ref()
                .and_then(|c| c.id.as_deref()),
            Some(ORG),
            "the org the list was asked for"
        );
        for empty in [
            "{}",
            r#"{"checkout_sessions":[]}"#,
            r#"{"checkout_sessions":null}"#,
        ] {
            let page = connect.read_list(&q, &ok(empty.to_owned())).unwrap();
            assert!(
                page.sessions.is_empty() && page.next_cursor.is_none(),
                "{empty}"
            );
        }
        let legacy = build(base(json!({"bearer_token": "fpt_abc", "protocol": "rest"}))).unwrap();
        let page = legacy
            .read_list(&q, &ok(format!(r#"{{"checkoutSessions":[{item}]}}"#)))
            .unwrap();
        assert_eq!(
            page.sessions[0].session.id,
            format!("frontier:default:{ORG}:{ID}"),
            "legacy references carry the org"
        );
        let mut denied = ok(r#"{"code":"permission_denied","message":"denied"}"#.to_owned());
        denied.status = 403;
        let e = connect.read_list(&q, &denied).unwrap_err();
        assert_eq!(
            (e.code, e.provider_http_status),
            (ErrorCode::ProviderAuthFailed, Some(403))
        );
    }

    #[test]
    fn creates_and_their_answers_without_io() {
        let create: CreateSession = serde_json::from_value(json!({
            "provider": "frontier", "account": "default",
            "customer": ORG, "plan": "starter_monthly"
        }))
        .unwrap();
        let session = format!(
            r#"{{"checkout_session":{{"id":"{ID}","state":"open","plan":"starter_monthly","created_at":"2026-11-18T10:15:42Z"}}}}"#
        );
        let ok = VendorAnswer {
            status: 200,
            body: session.into_bytes().into(),
            ..VendorAnswer::default()
        };

        let connect = build(base(json!({"bearer_token": "fpt_abc"}))).unwrap();
        let post = connect.create(&create, &RequestContext::default()).unwrap();
        assert_eq!(
            (post.operation, post.method.clone(), post.path.as_str()),
            (
                Operation::Create,
                Method::POST,
                "/raystack.frontier.v1beta1.FrontierService/CreateCheckout"
            )
        );
        let sent: serde_json::Value =
            serde_json::from_slice(post.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent["org_id"], ORG);
        assert_eq!(sent["subscription_body"]["plan"], "starter_monthly");
        let fetched = connect.read_create(&create, &ok).unwrap();
        assert_eq!(fetched.session.id, format!("frontier:default:{ID}"));
        assert_eq!(
            fetched.session.customer.and_then(|c| c.id).as_deref(),
            Some(ORG)
        );
        assert!(!connect.create_is_idempotent(&RequestContext::default()));

        let legacy = build(base(json!({"bearer_token": "fpt_abc", "protocol": "rest"}))).unwrap();
        let post = legacy.create(&create, &RequestContext::default()).unwrap();
        assert_eq!(
            (post.method.clone(), post.path.as_str()),
            (
                Method::POST,
                format!("/v1beta1/organizations/{ORG}/billing/checkouts").as_str()
            )
        );
        assert_eq!(post.headers.len(), 1, "content type only");
        let sent: serde_json::Value =
            serde_json::from_slice(post.body.as_deref().unwrap()).unwrap();
        assert!(sent.get("org_id").is_none(), "the org is in the path");
        let fetched = legacy.read_create(&create, &ok).unwrap();
        assert_eq!(fetched.session.id, format!("frontier:default:{ORG}:{ID}"));
        let mut bad_org = create.clone();
        bad_org.customer = Some("a/b".to_owned());
        let err = legacy
            .create(&bad_org, &RequestContext::default())
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequest);
        assert!(err.message.starts_with("customer:"), "{}", err.message);
    }
}
