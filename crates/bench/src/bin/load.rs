//! Load helper for `bench/run.sh`, for what wrk cannot do: fill the gateway
//! (create N sessions, keeping their ids for the read scenarios) and check
//! coalescing (N callers at once for one uncached id).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use futures::stream::{self, StreamExt};
use std::io::Write;

#[derive(Parser)]
struct Cli {
    /// Gateway base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    gateway: String,
    /// Client key.
    #[arg(long)]
    key: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create `count` sessions (each answer is cached by the gateway) and
    /// write their ids, one per line, to `out`.
    Create {
        /// The create request body (JSON).
        #[arg(long)]
        body: String,
        #[arg(long)]
        count: usize,
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        #[arg(long)]
        out: PathBuf,
    },
    /// `callers` concurrent GETs of one id, released together; prints how
    /// many answered 200 and the X-Cache values seen.
    Burst {
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 1000)]
        callers: usize,
    },
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let cli = Cli::parse();
    let auth = format!("Bearer {}", cli.key);
    match cli.command {
        Command::Create {
            body,
            count,
            concurrency,
            out,
        } => create(&cli.gateway, &auth, body, count, concurrency, out).await,
        Command::Burst { id, callers } => burst(&cli.gateway, &auth, &id, callers).await,
    }
}

async fn create(
    gateway: &str,
    auth: &str,
    body: String,
    count: usize,
    concurrency: usize,
    out: PathBuf,
) -> Result<(), Failure> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("{gateway}/v1/checkout-sessions");
    let started = Instant::now();
    let mut answers = stream::iter(0..count)
        .map(|_| {
            let request = client
                .post(&url)
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(body.clone());
            async move {
                let response = request.send().await?;
                let status = response.status();
                let text = response.text().await?;
                if status != reqwest::StatusCode::CREATED {
                    return Err(format!("create answered {status}: {text}").into());
                }
                let created: serde_json::Value = serde_json::from_str(&text)?;
                created["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| Failure::from(format!("create answer without an id: {text}")))
            }
        })
        .buffer_unordered(concurrency);
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    let mut made = 0usize;
    while let Some(answer) = answers.next().await {
        writeln!(file, "{}", answer?)?;
        made += 1;
    }
    file.flush()?;
    let took = started.elapsed().as_secs_f64();
    println!(
        "{{\"created\":{made},\"seconds\":{took:.3},\"per_second\":{:.0}}}",
        made as f64 / took
    );
    Ok(())
}

async fn burst(gateway: &str, auth: &str, id: &str, callers: usize) -> Result<(), Failure> {
    // One connection per caller, so they reach the gateway side by side.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(callers)
        .build()?;
    let url = format!("{gateway}/v1/checkout-sessions/{id}");
    let start = Arc::new(tokio::sync::Barrier::new(callers));
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let request = client.get(&url).header("authorization", auth);
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let response = request.send().await?;
                let cache = response
                    .headers()
                    .get("x-cache")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none")
                    .to_owned();
                Ok::<_, reqwest::Error>((response.status().as_u16(), cache))
            })
        })
        .collect();
    let (mut ok, mut hit, mut miss) = (0usize, 0usize, 0usize);
    for task in tasks {
        let (status, cache) = task.await??;
        ok += usize::from(status == 200);
        hit += usize::from(cache == "hit");
        miss += usize::from(cache == "miss");
    }
    println!("{{\"callers\":{callers},\"ok\":{ok},\"x_cache_hit\":{hit},\"x_cache_miss\":{miss}}}");
    if ok != callers {
        return Err(format!("{} of {callers} callers did not get 200", callers - ok).into());
    }
    Ok(())
}
