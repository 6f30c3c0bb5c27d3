//! A sandbox on a real loopback socket and a client for its Frontier
//! emulation; included by the `frontier_*` test files.

#![allow(dead_code)] // Each test binary uses a different part.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::{Client, Method, RequestBuilder};
use sandbox::frontier::seed;
use sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub const SERVICE: &str = "/frontier/raystack.frontier.v1beta1.FrontierService";

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

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// The seeded service user (administers every seeded org).
    Basic,
    /// The seeded PAT (Acme only).
    Bearer,
    None,
    /// A well-formed but unknown credential.
    Wrong,
}

pub fn authorize(request: RequestBuilder, auth: Auth) -> RequestBuilder {
    match auth {
        Auth::Basic => request.header(
            "authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", seed::CLIENT_ID, seed::CLIENT_SECRET))
            ),
        ),
        Auth::Bearer => request.bearer_auth(seed::BEARER_TOKEN),
        Auth::None => request,
        Auth::Wrong => request.bearer_auth("fpt_not_a_real_token"),
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        Reply {
            status,
            content_type,
            headers,
            text,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    pub fn session(&self) -> Value {
        self.json()["checkout_session"].clone()
    }

    /// A Connect error: `{"code": "<name>", "message"}` with its status.
    pub fn assert_connect_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/json", "{}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "{}", self.text);
        assert_eq!(body["message"], message, "{}", self.text);
    }

    /// A legacy `google.rpc.Status`: `{"code": <int>, "message", "details": []}`.
    pub fn assert_status(&self, status: u16, code: i64, message: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.content_type, "application/json", "{}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "{}", self.text);
        assert_eq!(body["message"], message, "{}", self.text);
        assert_eq!(body["details"], serde_json::json!([]), "{}", self.text);
    }
}

impl Running {
    /// A Connect unary call with a JSON body.
    pub async fn connect(&self, rpc: &str, auth: Auth, body: &Value) -> Reply {
        self.connect_raw(rpc, auth, "application/json", body.to_string())
            .await
    }

    pub async fn connect_raw(
        &self,
        rpc: &str,
        auth: Auth,
        content_type: &str,
        body: String,
    ) -> Reply {
        let request = self
            .client
            .post(format!("{}{SERVICE}/{rpc}", self.base))
            .header("content-type", content_type)
            .header("connect-protocol-version", "1")
            .body(body);
        Reply::read(authorize(request, auth).send().await.expect("send")).await
    }

    /// A legacy REST call; `path` is below `/frontier`.
    pub async fn rest(
        &self,
        method: Method,
        path: &str,
        auth: Auth,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}/frontier{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        Reply::read(authorize(request, auth).send().await.expect("send")).await
    }

    /// A control route below `/_sandbox/frontier`.
    pub async fn control(&self, path: &str, body: &Value) -> Reply {
        let response = self
            .client
            .post(format!("{}/_sandbox/frontier{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("control");
        Reply::read(response).await
    }

    pub async fn inspect(&self, id: &str) -> Value {
        let response = self
            .client
            .get(format!("{}/_sandbox/frontier/sessions/{id}", self.base))
            .send()
            .await
            .expect("inspect");
        Reply::read(response).await.json()
    }
}

pub fn checkouts(org: &str) -> String {
    format!("/v1beta1/organizations/{org}/billing/checkouts")
}

pub fn acme() -> String {
    seed::ORG_ACME_ID.to_string()
}

pub fn id_of(session: &Value) -> String {
    session["id"].as_str().expect("id").to_owned()
}
