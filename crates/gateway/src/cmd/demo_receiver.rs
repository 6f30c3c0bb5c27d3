//! The demo's webhook receiver: a small endpoint in the demo process (on
//! loopback, any free port) that the demo configures as the gateway's
//! webhook endpoint `demo`. It does what a merchant's receiver should do:
//! verify each delivery's Standard Webhooks signature with the endpoint's
//! secret, then act on it (here, print one line per event).

use std::io::Write;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use feed::signature::{self, Secret};
use tokio::net::TcpListener;

/// How far a delivery's timestamp may be from now (the standard's 5 min).
const TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// Largest delivery read.
const MAX_BODY: usize = 1024 * 1024;

/// A running receiver.
pub struct Receiver {
    /// Where to deliver: `http://127.0.0.1:PORT/webhooks`.
    pub url: String,
    /// The endpoint's signing secret, `whsec_…` (a new one per demo).
    pub secret: String,
}

/// A fresh `whsec_` secret: 24 random bytes.
pub fn generated_secret() -> String {
    let key: [u8; 24] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Listen on loopback and serve until the process ends.
pub async fn start() -> Result<Receiver, String> {
    let secret = generated_secret();
    let parsed = Secret::parse(&secret).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen for the demo's webhook receiver: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Router::new()
        .route("/webhooks", post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(parsed);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Receiver {
        url: format!("http://{addr}/webhooks"),
        secret,
    })
}

/// Verify, then act: one line per event on stdout.
async fn receive(State(secret): State<Secret>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let id = header("webhook-id");
    let verified = signature::verify(
        std::slice::from_ref(&secret),
        id,
        header("webhook-timestamp"),
        header("webhook-signature"),
        &body,
        chrono::Utc::now(),
        TOLERANCE,
    );
    if let Err(why) = verified {
        say(&format!("webhook refused: {why}"));
        return StatusCode::UNAUTHORIZED;
    }
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let kind = event["type"].as_str().unwrap_or("?");
    let session = event["data"]["object"]["id"].as_str().unwrap_or("?");
    say(&format!(
        "webhook verified: {kind} {session} (webhook-id {id})"
    ));
    StatusCode::NO_CONTENT
}

/// A line on stdout; nobody reading it any more is not an error here.
fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_takes_only_what_its_secret_signed() {
        let receiver = start().await.unwrap();
        let secret = Secret::parse(&receiver.secret).unwrap();
        let body = r#"{"type":"checkout_session.completed","data":{"object":{"id":"meteroid:default:che_1"}}}"#;
        let post = |secret: &Secret| {
            let at = chrono::Utc::now().timestamp();
            reqwest::Client::new()
                .post(&receiver.url)
                .header("webhook-id", "evt_1")
                .header("webhook-timestamp", at.to_string())
                .header(
                    "webhook-signature",
                    signature::sign(secret, "evt_1", at, body.as_bytes()),
                )
                .body(body)
                .send()
        };
        assert_eq!(post(&secret).await.unwrap().status(), 204);
        let other = Secret::parse(&generated_secret()).unwrap();
        assert_eq!(post(&other).await.unwrap().status(), 401);
    }
}
