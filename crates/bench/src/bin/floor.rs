//! The physical floor of the benchmark: a bare hyper HTTP/1.1 server that
//! answers every request with the same JSON body. Nothing can serve that
//! body more cheaply on this stack, so the gateway's cost is read against it.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Parser;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9300")]
    listen: SocketAddr,
    /// The body to serve (the bench passes the gateway's own answer, so both
    /// send the same bytes). Without it: a 1.5 KB JSON document.
    #[arg(long)]
    body: Option<PathBuf>,
}

fn default_body() -> Vec<u8> {
    let pad = "x".repeat(1_500 - 16);
    format!("{{\"padding\":\"{pad}\"}}").into_bytes()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let body = Bytes::from(match &args.body {
        Some(path) => std::fs::read(path)?,
        None => default_body(),
    });
    let listener = TcpListener::bind(args.listen).await?;
    eprintln!(
        "bench-floor: {} bytes on http://{}",
        body.len(),
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let mut response = Response::new(Full::new(body.clone()));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                async move { Ok::<_, std::convert::Infallible>(response) }
            });
            // A client hanging up mid-request is normal under load.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
