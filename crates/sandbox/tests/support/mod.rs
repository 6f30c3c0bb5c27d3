//! A sandbox on a real loopback socket, and a client for it.

#![allow(dead_code)] // Each test binary uses a different part.

use reqwest::{Client, Method, Response};
use sandbox::{MeteroidConfig, Sandbox, SandboxConfig, DEMO_METEROID_API_KEY};
use serde_json::Value;

pub const SESSIONS: &str = "/api/v1/checkout-sessions";

pub struct Running {
    pub sandbox: Sandbox,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub client: Client,
}

pub async fn start() -> Running {
    start_with(|_| {}).await
}

/// Starts a sandbox whose checkout URLs point at itself.
pub async fn start_with(adjust: impl FnOnce(&mut MeteroidConfig)) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let base = format!("http://{addr}");
    let mut meteroid = MeteroidConfig {
        public_url: format!("{base}/meteroid"),
        ..MeteroidConfig::default()
    };
    adjust(&mut meteroid);
    let sandbox = Sandbox::new(SandboxConfig {
        meteroid,
        ..SandboxConfig::default()
    });
    tokio::spawn(sandbox::serve(listener, sandbox.clone()));
    Running {
        sandbox,
        base,
        client: Client::new(),
    }
}

/// A response read whole: status, content type, body text and JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub text: String,
}

impl Reply {
    pub async fn read(response: Response) -> Reply {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        Reply {
            status,
            content_type,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn session(&self) -> Value {
        self.json()["session"].clone()
    }

    /// Asserts the vendor's JSON error body.
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/json", "{}", self.text);
        assert_eq!(
            self.json(),
            serde_json::json!({"code": code, "message": message})
        );
    }

    /// Asserts one of axum's plain-text rejections.
    pub fn assert_text(&self, status: u16, starts_with: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.content_type.starts_with("text/plain"),
            "{}: {}",
            self.content_type,
            self.text
        );
        assert!(self.text.starts_with(starts_with), "{}", self.text);
    }
}

impl Running {
    pub fn meteroid(&self, path: &str) -> String {
        format!("{}/meteroid{path}", self.base)
    }

    /// A vendor call with the demo key.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self
            .client
            .request(method, self.meteroid(path))
            .bearer_auth(DEMO_METEROID_API_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.expect("send")).await
    }

    pub async fn create(&self, body: Value) -> Reply {
        self.call(Method::POST, SESSIONS, Some(body)).await
    }

    /// Creates a session for alias `acme` on the starter plan, plus `extra`.
    pub async fn create_ok(&self, extra: Value) -> Value {
        let mut body = serde_json::json!({
            "customer_id": sandbox::meteroid::seed::CUSTOMER_ACME_ALIAS,
            "plan_version_id": sandbox::meteroid::seed::PLAN_VERSION_STARTER_ID,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let reply = self.create(body).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.session()
    }

    pub async fn get(&self, id: &str) -> Reply {
        self.call(Method::GET, &format!("{SESSIONS}/{id}"), None)
            .await
    }

    pub async fn list(&self, query: &str) -> Reply {
        self.call(Method::GET, &format!("{SESSIONS}{query}"), None)
            .await
    }

    pub async fn cancel(&self, id: &str) -> Reply {
        self.call(Method::POST, &format!("{SESSIONS}/{id}/cancel"), None)
            .await
    }

    /// `POST /_sandbox/meteroid/sessions/{id}`.
    pub async fn control_move(&self, id: &str, body: Value) -> Reply {
        let url = format!("{}/_sandbox/meteroid/sessions/{id}", self.base);
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

    pub async fn control_inspect(&self, id: &str) -> Reply {
        let url = format!("{}/_sandbox/meteroid/sessions/{id}", self.base);
        Reply::read(self.client.get(url).send().await.expect("send")).await
    }

    /// `POST /_sandbox/meteroid/expire-overdue`.
    pub async fn expire_overdue(&self) -> Value {
        let url = format!("{}/_sandbox/meteroid/expire-overdue", self.base);
        Reply::read(self.client.post(url).send().await.expect("send"))
            .await
            .json()
    }
}

/// The id's string from a session value.
pub fn id_of(session: &Value) -> String {
    session["id"].as_str().expect("id").to_owned()
}
