//! OTLP export (feature `otlp`): spans reach a collector over OTLP/HTTP.
#![cfg(feature = "otlp")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::routing::post;

const BIN: &str = env!("CARGO_BIN_EXE_checkout-gateway");

#[tokio::test]
async fn spans_are_exported_to_the_collector() {
    let received: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let sink = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(body);
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/v1/traces", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sandbox-listen",
            "127.0.0.1:0",
        ])
        .env("CHECKOUT_GATEWAY__LOG__OTLP_ENDPOINT", &endpoint)
        .current_dir(repo)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    for line in stdout.lines().map_while(Result::ok) {
        if line.starts_with("Ctrl-C") {
            break;
        }
    }
    // The demo made one create on start; stop it so the batch is flushed.
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "demo did not stop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let bodies = received.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(!bodies.is_empty(), "no spans exported");
    let all: Vec<u8> = bodies.concat();
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("checkout-gateway"), "service name exported");
    assert!(
        text.contains("upstream_attempt") || text.contains("request"),
        "gateway spans exported"
    );
}
