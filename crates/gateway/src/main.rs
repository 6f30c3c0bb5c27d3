use checkout_gateway::cli::{run, Cli};
use checkout_gateway::observe::shutdown_telemetry;
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logging starts once the config (and its log filter) is loaded.
    let outcome = run(Cli::parse()).await;
    shutdown_telemetry();
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("checkout-gateway: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
