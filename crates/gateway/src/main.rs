use checkout_gateway::cli::{run, Cli};
use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Logging starts once the config (and its log filter) is loaded.
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("checkout-gateway: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
