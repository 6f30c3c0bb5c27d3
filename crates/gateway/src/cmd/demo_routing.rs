//! The demo's migration lines (PRODUCT §12): where a create without
//! `provider`/`account` would go, asked of `POST /v1/routing/explain`,
//! then the same create made, with the `x-routing-*` headers that say how.

use serde_json::{json, Value};

/// The demo's routed create: the shop's own customer id and the plan alias
/// (`config/demo.toml`'s catalog), no vendor named.
pub fn routed_create() -> Value {
    json!({"customer": "acme", "plan": "pro",
        "success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/no"})
}

/// What the demo printed lines show.
pub struct RoutingDemo {
    /// `POST /v1/routing/explain`'s answer.
    pub explained: Value,
    /// The routed create's session id and its `x-routing-*` headers.
    pub id: String,
    pub headers: Vec<(String, String)>,
}

/// Explain and make the routed create; `None` when this config routes
/// nothing (an edited demo config without rules).
pub async fn run(
    http: &reqwest::Client,
    gateway_url: &str,
    client_key: &str,
) -> Result<Option<RoutingDemo>, String> {
    let post = |path: &str| {
        http.post(format!("{gateway_url}{path}"))
            .bearer_auth(client_key)
            .header("content-type", "application/json")
            .body(routed_create().to_string())
    };
    let explained = post("/v1/routing/explain")
        .send()
        .await
        .map_err(|e| format!("demo: the gateway did not answer: {e}"))?;
    if !explained.status().is_success() {
        return Ok(None);
    }
    let explained: Value = read_json(explained).await?;
    let created = post("/v1/checkout-sessions")
        .send()
        .await
        .map_err(|e| format!("demo: the gateway did not answer: {e}"))?;
    let status = created.status();
    let headers = created
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-routing-"))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body: Value = read_json(created).await?;
    match body["id"].as_str() {
        Some(id) if status.is_success() => Ok(Some(RoutingDemo {
            explained,
            id: id.to_owned(),
            headers,
        })),
        _ => Err(format!("demo: the routed create failed ({status}): {body}")),
    }
}

async fn read_json(response: reqwest::Response) -> Result<Value, String> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("demo: unreadable answer: {e}"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| format!("demo: the gateway answered something that is not JSON: {e}"))
}

pub fn print(gateway: &str, auth: &str, demo: &RoutingDemo) {
    let json = "-H 'Content-Type: application/json'";
    let body = routed_create();
    let e = &demo.explained;
    println!();
    println!("## migration routing");
    println!("# a create that names no vendor: where it would go, and what it would send there (nothing is created)");
    println!("$ curl -sS --fail-with-body -X POST {gateway}/v1/routing/explain {auth} {json} -d '{body}'");
    println!(
        "#   → {} by rule `{}`, bucket {}, plan {}, customer {}",
        e["target"].as_str().unwrap_or("?"),
        e["rule"].as_str().unwrap_or("?"),
        e["bucket"],
        e["plan"].as_str().unwrap_or("?"),
        e["customer"].as_str().unwrap_or("?"),
    );
    println!("# the same create, routed: the x-routing-* headers say which rule and bucket chose the vendor");
    println!("$ curl -sS --fail-with-body -i -X POST {gateway}/v1/checkout-sessions {auth} {json} -d '{body}'");
    let said: Vec<String> = demo
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    println!("#   → made {} ({})", demo.id, said.join(", "));
    println!("# the rules in force, each share's bucket range, and creates and completions per rule and target");
    println!("$ curl -sS --fail-with-body {gateway}/v1/routing {auth}");
}
