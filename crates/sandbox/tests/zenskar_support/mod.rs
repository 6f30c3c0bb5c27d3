//! A sandbox on a real loopback socket, and a Zenskar client for it.

#![allow(dead_code)] // Each test binary uses a different part.

use reqwest::{Client, Method, StatusCode};
use sandbox::zenskar::seed;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

pub struct Zk {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: Client,
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub request_id: Option<String>,
    pub text: String,
}

impl Reply {
    async fn read(response: reqwest::Response) -> Reply {
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let status = response.status().as_u16();
        let content_type = header("content-type").unwrap_or_default();
        let location = header("location");
        let request_id = header("x-amzn-requestid");
        let text = response.text().await.expect("body");
        Reply {
            status,
            content_type,
            location,
            request_id,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.text);
        self.json()
    }

    /// The FastAPI 422 body's `(loc, type)` pairs.
    pub fn issues(&self) -> Vec<(Value, String)> {
        let body = self.expect(422);
        body["detail"]
            .as_array()
            .unwrap_or_else(|| panic!("no detail list: {}", self.text))
            .iter()
            .map(|i| {
                (
                    i["loc"].clone(),
                    i["type"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }
}

pub async fn start() -> Zk {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let sandbox = Sandbox::new(SandboxConfig::default());
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Zk {
        sandbox,
        base,
        client,
    }
}

/// Northwind on the Starter plan in USD (family A).
pub fn body_a() -> Value {
    json!({
        "contract": {"is_plan_based": true, "plan_id": seed::PLAN_STARTER_ID,
                     "currency": "USD", "start_date": "2026-03-01T00:00:00"},
        "customer_id": seed::CUSTOMER_NORTHWIND_ID,
    })
}

/// Northwind on the Starter plan (family B).
pub fn body_b() -> Value {
    json!({"plan_id": seed::PLAN_STARTER_ID, "customer_id": seed::CUSTOMER_NORTHWIND_ID})
}

pub fn merged(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if v.is_null() {
                b.remove(k);
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    base
}

impl Zk {
    pub fn url(&self, path: &str) -> String {
        format!("{}/zenskar{path}", self.base)
    }

    /// A call with the given headers only.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        Reply::read(request.send().await.expect("send")).await
    }

    /// A call with the seeded organisation and key.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let text = body.map(|b| b.to_string());
        self.raw(
            method,
            path,
            &[
                ("organisation", seed::ORGANISATION_ID),
                ("x-api-key", seed::API_KEY),
                ("apiversion", "20230501"),
            ],
            text.as_deref(),
        )
        .await
    }

    pub async fn create_a(&self, extra: Value) -> Reply {
        self.call(Method::POST, "/checkout", Some(merged(body_a(), extra)))
            .await
    }

    pub async fn create_a_ok(&self, extra: Value) -> Value {
        let reply = self.create_a(extra).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    pub async fn create_b(&self, extra: Value) -> Reply {
        self.call(Method::POST, "/checkouts", Some(merged(body_b(), extra)))
            .await
    }

    pub async fn create_b_ok(&self, extra: Value) -> Value {
        let reply = self.create_b(extra).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        reply.json()
    }

    pub async fn get_a(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("/checkout/{id}"), None)
            .await
    }

    pub async fn get_b(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("/checkouts/{id}"), None)
            .await
    }

    /// `POST /_sandbox/zenskar/sessions/{id}`.
    pub async fn control(&self, id: &str, body: Value) -> Reply {
        let url = format!("{}/_sandbox/zenskar/sessions/{id}", self.base);
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

    /// A control move that must succeed; the session as the API renders it.
    pub async fn control_ok(&self, id: &str, body: Value) -> Value {
        let reply = self.control(id, body).await;
        assert_eq!(reply.status, StatusCode::OK.as_u16(), "{}", reply.text);
        reply.json()["session"].clone()
    }

    pub async fn fail_next(&self, count: u32) {
        let url = format!("{}/_sandbox/zenskar/fail-next", self.base);
        let r = self
            .client
            .post(url)
            .json(&json!({ "count": count }))
            .send()
            .await
            .expect("send");
        assert!(r.status().is_success());
    }
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_owned()
}
