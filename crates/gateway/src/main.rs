use checkout_gateway::cmd::{run, Cli};
use checkout_gateway::telemetry::shutdown_telemetry;
use clap::Parser;

// Measured in bench/run.sh: the request path allocates a little on every
// call, and mimalloc does that cheaper than glibc malloc (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logging starts once the config (and its log filter) is loaded.
    let outcome = run(Cli::parse()).await;
    shutdown_telemetry();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("checkout-gateway: {}", e.message);
            std::process::ExitCode::from(e.exit_code)
        }
    }
}
