//! The gateway's own OpenAPI 3.1 document, generated from the handlers and types.
//!
//! Each handler's `#[utoipa::path]` lists what only that route answers. The
//! answers every route shares (the HTTP layer's limits, a wrong method, and
//! for routes that take a client key: authentication, scope, rate limit) are
//! added here from one table, with each status taken from
//! `ErrorCode::http_status`, so they cannot drift from what the code sends.

use checkout_core::create::limits;
use checkout_core::ErrorCode;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::registry;

#[derive(OpenApi)]
#[openapi(
    info(title = "checkout-gateway", description = "One HTTP API for checkout sessions across billing vendors."),
    paths(
        crate::routes::sessions::get_session,
        crate::routes::sessions::create_session,
        crate::routes::list::list_sessions,
        crate::routes::sessions::cancel_session,
        crate::routes::providers::list_providers,
        crate::routes::health::healthz,
        crate::routes::health::readyz,
        crate::routes::health::metrics,
        crate::routes::admin::reload,
        crate::routes::events::list_events,
        crate::routes::event_stream::stream_events,
        crate::routes::vendor_webhooks::vendor_webhook,
        crate::routes::webhooks::redeliver_event,
        crate::routes::webhooks::event_deliveries,
        crate::routes::routing::explain,
        crate::routes::routing::routing_in_force,
        crate::routes::customers::list_customers,
        crate::routes::customers::get_customer,
        crate::routes::customers::put_customer,
        crate::routes::customers::delete_customer,
    ),
    components(schemas(
        checkout_core::CheckoutSession,
        checkout_core::CreateSession,
        checkout_core::error::ErrorBody,
        checkout_core::error::ErrorDetail,
        checkout_core::ErrorCode,
        crate::routes::events::EventDoc,
    )),
    modifiers(&ClientKeyAuth, &SharedResponses, &CreateBody, &CreateExamples)
)]
pub struct ApiDoc;

struct ClientKeyAuth;

impl Modify for ClientKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "client_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A gateway client key from the `clients` config table"))
                    .build(),
            ),
        );
    }
}

/// What any route may answer before its handler runs: the HTTP layer's
/// limits, connection admission and a method the route does not take.
pub const EVERY_ROUTE: [(ErrorCode, &str); 5] = [
    (
        ErrorCode::InvalidRequest,
        "`invalid_request`: the HTTP request itself is malformed",
    ),
    (
        ErrorCode::MethodNotAllowed,
        "`method_not_allowed`: this route does not take that method",
    ),
    (
        ErrorCode::UriTooLong,
        "`uri_too_long`: the request target is longer than the gateway accepts",
    ),
    (
        ErrorCode::HeadersTooLarge,
        "`headers_too_large`: a request header, or all of them, is larger than the gateway accepts",
    ),
    (
        ErrorCode::Overloaded,
        "`overloaded`: no room for another connection or request now",
    ),
];

/// What every route that takes a client key may answer besides.
pub const AUTHENTICATED: [(ErrorCode, &str); 3] = [
    (
        ErrorCode::Unauthenticated,
        "`unauthenticated`: missing or unknown client key",
    ),
    (
        ErrorCode::Forbidden,
        "`forbidden`: the key lacks the scope this route needs (the message names it)",
    ),
    (
        ErrorCode::TooManyRequests,
        "`too_many_requests`: this client key is over its rate limit; see `Retry-After` and the `RateLimit-*` headers",
    ),
];

/// Headers an error response may carry, by code. None is required: a
/// vendor's 429 or 503 relayed on the same status need not carry them.
fn headers_of(code: ErrorCode) -> Vec<(&'static str, Header)> {
    let seconds = |what: &str| {
        HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .description(Some(what))
            .build()
    };
    match code {
        ErrorCode::TooManyRequests => vec![
            ("retry-after", seconds("Seconds to wait before retrying")),
            (
                "ratelimit-limit",
                seconds("Requests this key may make in one window"),
            ),
            (
                "ratelimit-remaining",
                seconds("Requests left in the current window"),
            ),
            (
                "ratelimit-reset",
                seconds("Seconds until the window resets"),
            ),
        ],
        ErrorCode::Overloaded => vec![("retry-after", seconds("Seconds to wait before retrying"))],
        ErrorCode::Unauthenticated => vec![(
            "www-authenticate",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Bearer`"))
                .build(),
        )],
        _ => Vec::new(),
    }
}

fn error_body() -> RefOr<Schema> {
    Ref::from_schema_name("ErrorBody").into()
}

/// Adds the shared answers to every operation, merging into a status the
/// handler already lists (its description gains the shared reason; a body
/// other than the error body becomes "that or the error body").
struct SharedResponses;

impl Modify for SharedResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                let authenticated = operation.security.as_ref().is_some_and(|s| !s.is_empty());
                let shared = EVERY_ROUTE.iter().chain(
                    authenticated
                        .then_some(&AUTHENTICATED)
                        .into_iter()
                        .flatten(),
                );
                for &(code, why) in shared {
                    add_response(operation, code, why);
                }
            }
        }
    }
}

fn add_response(operation: &mut Operation, code: ErrorCode, why: &str) {
    let status = code.http_status().to_string();
    let responses = &mut operation.responses.responses;
    let Some(RefOr::T(existing)) = responses.get_mut(&status) else {
        let mut response = ResponseBuilder::new()
            .description(why)
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(error_body())).build(),
            )
            .build();
        add_headers(&mut response, code);
        responses.insert(status, RefOr::T(response));
        return;
    };
    existing.description = format!("{}; or {why}", existing.description);
    let content = existing
        .content
        .entry("application/json".to_owned())
        .or_insert_with(|| ContentBuilder::new().build());
    content.schema = match content.schema.take() {
        None => Some(error_body()),
        Some(RefOr::Ref(r)) if r.ref_location == "#/components/schemas/ErrorBody" => {
            Some(RefOr::Ref(r))
        }
        Some(other) => Some(RefOr::T(Schema::OneOf(
            OneOfBuilder::new().item(other).item(error_body()).build(),
        ))),
    };
    add_headers(existing, code);
}

fn add_headers(response: &mut Response, code: ErrorCode) {
    for (name, header) in headers_of(code) {
        response.headers.entry(name.to_owned()).or_insert(header);
    }
}

/// The create body's schema, completed from the code: `provider` lists the
/// supported providers, and `metadata` gets the create-time limits. (The
/// metadata limits are set here rather than on the field so that the
/// field's serde attributes can change without touching the schema.)
struct CreateBody;

impl Modify for CreateBody {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(RefOr::T(Schema::Object(create))) = openapi
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("CreateSession"))
        else {
            return;
        };
        create
            .properties
            .insert("metadata".to_owned(), limits::metadata().into());
        if let Some(RefOr::T(Schema::Object(provider))) = create.properties.get_mut("provider") {
            let names = registry::providers()
                .iter()
                .map(|p| p.name().into())
                .collect();
            provider.enum_values = Some(names);
        }
    }
}

/// The create body's examples are the demo's own creates, one per vendor
/// account: they work against the demo as written, and they lead the
/// contract fuzzing to every vendor.
struct CreateExamples;

impl Modify for CreateExamples {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(content) = openapi
            .paths
            .paths
            .get_mut("/v1/checkout-sessions")
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.request_body.as_mut())
            .and_then(|body| body.content.get_mut("application/json"))
        else {
            return;
        };
        for tour in crate::examples::tours() {
            let example = ExampleBuilder::new()
                .summary(tour.title)
                .value(Some(tour.create))
                .build();
            let name = format!("{}:{}", tour.provider, tour.account);
            content.examples.insert(name, RefOr::T(example));
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::{json, Value};

    use super::*;

    fn doc() -> Value {
        serde_json::to_value(document()).unwrap()
    }

    fn statuses(op: &Value) -> BTreeSet<u16> {
        op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect()
    }

    /// Every operation, as `(METHOD path, operation)`.
    fn operations(doc: &Value) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                out.push((format!("{} {path}", method.to_uppercase()), op.clone()));
            }
        }
        out
    }

    /// The routes whose handlers call `authorize`.
    const AUTHENTICATED_ROUTES: [&str; 17] = [
        "GET /v1/checkout-sessions/{id}",
        "POST /v1/checkout-sessions",
        "GET /v1/checkout-sessions",
        "POST /v1/checkout-sessions/{id}/cancel",
        "GET /v1/providers",
        "GET /metrics",
        "POST /admin/reload",
        "GET /v1/events",
        "GET /v1/events/stream",
        "POST /v1/events/{id}/redeliver",
        "GET /v1/events/{id}/deliveries",
        "POST /v1/routing/explain",
        "GET /v1/routing",
        "GET /v1/customers",
        "GET /v1/customers/{id}",
        "PUT /v1/customers/{id}",
        "DELETE /v1/customers/{id}",
    ];

    /// Routes that take no client key but a vendor's signature: 401 when
    /// it does not verify, and no scope or client budget.
    const SIGNED_ROUTES: [&str; 1] = ["POST /v1/vendor-webhooks/{provider}/{account}"];

    #[test]
    fn every_operation_lists_the_shared_answers() {
        let doc = doc();
        let ops = operations(&doc);
        assert_eq!(
            ops.len(),
            AUTHENTICATED_ROUTES.len() + SIGNED_ROUTES.len() + 2,
            "{:?}",
            ops.iter().map(|o| &o.0).collect::<Vec<_>>()
        );
        for (route, op) in &ops {
            let listed = statuses(op);
            for status in [400, 405, 414, 431, 503] {
                assert!(listed.contains(&status), "{route} lacks {status}");
            }
            let authenticated = AUTHENTICATED_ROUTES.contains(&route.as_str());
            assert_eq!(op["security"].is_array(), authenticated, "{route} security");
            let signed = SIGNED_ROUTES.contains(&route.as_str());
            for status in [401, 403, 429] {
                assert_eq!(
                    listed.contains(&status),
                    authenticated || (signed && status == 401),
                    "{route} and {status}"
                );
            }
            // Every error status carries the error body (alone or beside another).
            for status in listed.iter().filter(|s| **s >= 400) {
                let schema =
                    &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
                let refs = match schema["oneOf"].as_array() {
                    Some(items) => items.clone(),
                    None => vec![schema.clone()],
                };
                assert!(
                    refs.iter()
                        .any(|r| r["$ref"] == "#/components/schemas/ErrorBody"),
                    "{route} {status}: {schema}"
                );
            }
            if authenticated {
                let headers = &op["responses"]["429"]["headers"];
                for name in [
                    "retry-after",
                    "ratelimit-limit",
                    "ratelimit-remaining",
                    "ratelimit-reset",
                ] {
                    assert!(headers[name].is_object(), "{route} 429 lacks {name}");
                }
            }
        }
    }

    #[test]
    fn the_shared_statuses_are_the_codes_own() {
        let doc = doc();
        let (_, session) = operations(&doc)
            .into_iter()
            .find(|(r, _)| r == "GET /v1/checkout-sessions/{id}")
            .unwrap();
        for (code, why) in EVERY_ROUTE.iter().chain(&AUTHENTICATED) {
            let response = &session["responses"][code.http_status().to_string()];
            assert!(
                response["description"].as_str().unwrap().contains(why),
                "{code:?}"
            );
        }
    }

    #[test]
    fn sessions_list_exactly_what_they_answer() {
        let doc = doc();
        let find = |route: &str| {
            let (_, op) = operations(&doc)
                .into_iter()
                .find(|(r, _)| r == route)
                .unwrap();
            statuses(&op).into_iter().collect::<Vec<_>>()
        };
        assert_eq!(
            find("GET /v1/checkout-sessions/{id}"),
            [200, 400, 401, 403, 404, 405, 409, 414, 422, 429, 431, 502, 503, 504]
        );
        assert_eq!(
            find("POST /v1/checkout-sessions"),
            [201, 400, 401, 403, 404, 405, 409, 413, 414, 415, 422, 429, 431, 502, 503, 504]
        );
        assert_eq!(find("GET /healthz"), [200, 400, 405, 414, 431, 503]);
    }

    /// The feed's page holds events of the documented shape, and the
    /// stream says it is a stream (`.ci/contract-fuzz` leaves it out: it
    /// never ends).
    #[test]
    fn the_feed_is_documented() {
        let doc = doc();
        let page = &doc["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]
            ["application/json"]["schema"];
        assert_eq!(page["$ref"], "#/components/schemas/EventList");
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["EventList"]["properties"]["data"]["items"]["$ref"],
            "#/components/schemas/Event"
        );
        let event = &schemas["Event"];
        let mut fields: Vec<&str> = event["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "account",
                "created_at",
                "data",
                "id",
                "object",
                "previous",
                "type"
            ]
        );
        assert!(
            event["required"]
                .as_array()
                .unwrap()
                .contains(&json!("previous")),
            "previous is always there (null on a first sight)"
        );
        let types: BTreeSet<&str> = schemas["EventType"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let all: BTreeSet<&str> = feed::EventType::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(types, all);
        let stream = &doc["paths"]["/v1/events/stream"]["get"]["responses"]["200"]["content"];
        assert!(stream["text/event-stream"].is_object(), "{stream}");
    }

    /// Real event bodies (made by the `feed` crate, first sight and a
    /// change) in a real page match the documented `EventList`, as the
    /// contract fuzzing checks against a running gateway.
    #[test]
    fn a_page_of_real_events_matches_its_schema() {
        use checkout_core::{PaymentStatus, Status};
        use feed::{EventType, Seen};

        let body = br#"{"session":{"id":"che_1","customer_id":"cus_1","plan_version_id":"plv_1","status":"CREATED","checkout_type":"SELF_SERVE","created_at":"2026-01-19T10:00:00Z"}}"#;
        let session = adapter_meteroid::read::session_body("default", body).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-01-19T10:00:05.123Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let first = feed::event(EventType::Created, &session, None, at, "evt_1".into());
        let previous = Seen {
            status: Status::Open,
            payment_status: Some(PaymentStatus::Unpaid),
        };
        let change = feed::event(
            EventType::Completed,
            &session,
            Some(previous),
            at,
            "evt_2".into(),
        );
        let page: Value = serde_json::from_str(&format!(
            r#"{{"object":"list","data":[{},{}],"has_more":false,"next_cursor":"2"}}"#,
            first.body, change.body
        ))
        .unwrap();

        let doc = doc();
        let schema = json!({
            "$ref": "#/components/schemas/EventList",
            "components": doc["components"],
        });
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&page)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        // And it can fail: a page missing what the schema requires.
        let mut broken = page.clone();
        broken["data"][1]["previous"]["status"] = json!("paid");
        assert!(!validator.is_valid(&broken));
    }

    #[test]
    fn error_type_and_code_are_enums_of_every_value() {
        let doc = doc();
        let schemas = &doc["components"]["schemas"];
        let strings = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        };
        let types = strings(&schemas["ErrorDetail"]["properties"]["type"]["enum"]);
        let expected: BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|c| c.error_type().to_owned())
            .collect();
        assert_eq!(types, expected);
        assert!(types.contains("permission_error"));
        assert_eq!(
            schemas["ErrorDetail"]["properties"]["code"]["$ref"],
            "#/components/schemas/ErrorCode"
        );
        let codes = strings(&schemas["ErrorCode"]["enum"]);
        let expected: BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(codes, expected);
    }

    /// The create schema's limits are the ones `input.rs` enforces: each
    /// number read from the document is probed at the bound and one past it.
    #[test]
    fn create_limits_are_the_ones_the_input_checks_enforce() {
        let doc = doc();
        let create = &doc["components"]["schemas"]["CreateSession"]["properties"];
        let n = |v: &Value| v.as_u64().unwrap() as usize;
        let check = |extra: Value, ok: bool, field: &str| {
            let mut body = json!({"provider": "meteroid", "account": "default"});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            let result = crate::service::input::parse_create(body.to_string().as_bytes(), false);
            match (ok, result) {
                (true, Err(e)) => panic!("{body} refused: {}", e.message),
                (false, Ok(_)) => panic!("{body} accepted"),
                (false, Err(e)) => assert!(e.message.starts_with(field), "{body}: {}", e.message),
                (true, Ok(_)) => {}
            }
        };

        assert_eq!(create["quantity"]["minimum"], 1);
        let (min, max) = (
            n(&create["quantity"]["minimum"]),
            n(&create["quantity"]["maximum"]),
        );
        check(json!({"quantity": min}), true, "quantity");
        check(json!({"quantity": min - 1}), false, "quantity");
        check(json!({"quantity": max}), true, "quantity");
        check(json!({"quantity": max + 1}), false, "quantity");

        for field in ["customer", "plan"] {
            assert_eq!(create[field]["minLength"], 1);
            let max = n(&create[field]["maxLength"]);
            check(json!({field: "a".repeat(max)}), true, field);
            check(json!({field: "a".repeat(max + 1)}), false, field);
            check(json!({field: ""}), false, field);
        }

        let max = n(&create["account"]["maxLength"]);
        let probe = |account: String, ok: bool| {
            let body = json!({"provider": "meteroid", "account": account});
            let result = crate::service::input::parse_create(body.to_string().as_bytes(), false);
            assert_eq!(result.is_ok(), ok, "{body}");
        };
        probe("a".repeat(max), true);
        probe("a".repeat(max + 1), false);

        for field in ["success_url", "cancel_url"] {
            let max = n(&create[field]["maxLength"]);
            let prefix = "https://shop.example/";
            let url = |len: usize| format!("{prefix}{}", "a".repeat(len - prefix.len()));
            check(json!({field: url(max)}), true, field);
            check(json!({field: url(max + 1)}), false, field);
        }

        let metadata = &create["metadata"];
        let keys = n(&metadata["maxProperties"]);
        let map =
            |count: usize| -> Value { (0..count).map(|i| (format!("k{i}"), json!("v"))).collect() };
        check(json!({"metadata": map(keys)}), true, "metadata");
        check(json!({"metadata": map(keys + 1)}), false, "metadata");
        let key_len = n(&metadata["propertyNames"]["maxLength"]);
        assert_eq!(metadata["propertyNames"]["minLength"], 1);
        check(
            json!({"metadata": {"k".repeat(key_len): 1}}),
            true,
            "metadata",
        );
        check(
            json!({"metadata": {"k".repeat(key_len + 1): 1}}),
            false,
            "metadata",
        );
        check(json!({"metadata": {"": 1}}), false, "metadata");
        let value_len = n(&metadata["additionalProperties"]["oneOf"][0]["maxLength"]);
        check(
            json!({"metadata": {"k": "v".repeat(value_len)}}),
            true,
            "metadata",
        );
        check(
            json!({"metadata": {"k": "v".repeat(value_len + 1)}}),
            false,
            "metadata",
        );
    }

    #[test]
    fn create_examples_are_valid_bodies_for_every_provider() {
        let doc = doc();
        let examples = doc["paths"]["/v1/checkout-sessions"]["post"]["requestBody"]["content"]
            ["application/json"]["examples"]
            .as_object()
            .unwrap();
        let mut providers = BTreeSet::new();
        for (name, example) in examples {
            let body = example["value"].to_string();
            let parsed = crate::service::input::parse_create(body.as_bytes(), false)
                .unwrap_or_else(|e| panic!("{name}: {}", e.message));
            providers.insert(parsed.provider);
        }
        let all: BTreeSet<String> = registry::providers()
            .iter()
            .map(|p| p.name().to_owned())
            .collect();
        assert_eq!(providers, all);
    }

    #[test]
    fn create_lists_the_supported_providers() {
        let doc = doc();
        let listed =
            &doc["components"]["schemas"]["CreateSession"]["properties"]["provider"]["enum"];
        let names: Vec<Value> = registry::providers()
            .iter()
            .map(|p| json!(p.name()))
            .collect();
        assert_eq!(listed.as_array().unwrap(), &names);
    }
}
