//! A sandbox on a real loopback socket and a Flowglad client for it, for
//! the `flowglad_*` tests (each includes this file as `mod support`).

#![allow(dead_code)] // Each test binary uses a different part.

use reqwest::{Client, Method};
use sandbox::flowglad::seed;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

pub const SESSIONS: &str = "/api/v1/checkout-sessions";

pub struct Running {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: Client,
}

pub async fn start() -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("local addr"));
    let sandbox = Sandbox::new(SandboxConfig::default());
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    Running {
        sandbox,
        base,
        client: Client::new(),
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub request_id: Option<String>,
    pub text: String,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header("content-type").unwrap_or_default();
        let request_id = header("x-request-id");
        let text = response.text().await.expect("body");
        Reply {
            status,
            content_type,
            request_id,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn session(&self) -> Value {
        self.json()["checkoutSession"].clone()
    }

    /// A plain-text answer, as `new Response(text)` sends it.
    pub fn assert_text(&self, status: u16, text: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "text/plain;charset=UTF-8");
        assert_eq!(self.text, text);
    }

    /// The handler's JSON error: `{"error", "code"?, "request_id", …}`,
    /// whose `request_id` is the `X-Request-Id` header.
    pub fn assert_server_error(&self, status: u16, code: Option<&str>) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/json", "{}", self.text);
        let body = self.json();
        assert_eq!(body["code"].as_str(), code, "{body}");
        let id = self.request_id.as_deref().expect("x-request-id");
        assert_eq!(body["request_id"], id, "{body}");
        body["error"].clone()
    }
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        format!("{}/flowglad{path}", self.base)
    }

    /// A vendor call with `Authorization` set to `auth` (if any).
    pub async fn call_as(
        &self,
        auth: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(value) = auth {
            request = request.header("authorization", value);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_vec());
        }
        Reply::read(request.send().await.expect("send")).await
    }

    /// A vendor call with the seeded key as a bearer token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("JSON"));
        self.call_as(
            Some(&format!("Bearer {}", seed::API_KEY)),
            method,
            path,
            bytes.as_deref(),
        )
        .await
    }

    pub async fn create(&self, checkout_session: Value) -> Reply {
        self.call(
            Method::POST,
            SESSIONS,
            Some(json!({ "checkoutSession": checkout_session })),
        )
        .await
    }

    /// A product session for `acme` on the pro price, plus `extra` fields.
    pub async fn create_ok(&self, extra: Value) -> Reply {
        let mut session = json!({
            "type": "product",
            "customerExternalId": seed::CUSTOMER_ACME_EXTERNAL_ID,
            "priceId": seed::PRICE_PRO_MONTHLY_ID,
            "successUrl": "https://shop.example/ok",
            "cancelUrl": "https://shop.example/no",
        });
        if let (Some(s), Some(e)) = (session.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    s.remove(k);
                } else {
                    s.insert(k.clone(), v.clone());
                }
            }
        }
        let reply = self.create(session).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply
    }

    pub async fn get(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("{SESSIONS}/{id}"), None)
            .await
    }

    pub async fn list(&self, query: &str) -> Reply {
        self.call(Method::GET, &format!("{SESSIONS}{query}"), None)
            .await
    }

    /// `POST /_sandbox/flowglad/<path>`.
    pub async fn control(&self, path: &str, body: Value) -> Reply {
        let url = format!("{}/_sandbox/flowglad{path}", self.base);
        Reply::read(
            self.client
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("send"),
        )
        .await
    }

    /// Moves a session along its lifecycle; asserts the control route agreed.
    pub async fn move_to(&self, id: &str, body: Value) -> Value {
        let reply = self.control(&format!("/sessions/{id}"), body).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.session()
    }
}

/// The id's string from a record.
pub fn id_of(record: &Value) -> String {
    record["id"].as_str().expect("id").to_owned()
}
