//! The `checkout-gateway` command line (PRODUCT §7).

pub mod demo;
pub mod demo_receiver;
pub mod demo_routing;
pub mod demo_stripe;
pub mod drift;
pub mod live;
pub mod record;
pub mod redact;
pub mod serve;

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};

use crate::config::{self, CONFIG_PATH_ENV};
use crate::registry;
use crate::telemetry::{init_logging, LogFormat};

pub use serve::CliResult;

#[derive(Debug, Parser)]
#[command(
    name = "checkout-gateway",
    version,
    about = "One HTTP API for checkout sessions across billing vendors"
)]
pub struct Cli {
    /// Log line format (to stderr).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gateway.
    Serve {
        /// TOML config file.
        #[arg(long, env = CONFIG_PATH_ENV)]
        config: Option<PathBuf>,
    },
    /// Start the vendor sandbox and a gateway in front of it on loopback, no vendor account needed.
    Demo(demo::DemoArgs),
    /// Serve only the vendor sandbox.
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:9100")]
        listen: String,
        /// At start, fill every vendor with N sessions created over the last
        /// 30 days, in the vendor's own mix of statuses (1..=100000), for
        /// paging tests and benchmarks. Also at run time:
        /// `POST /_sandbox/<vendor>/fill {"count": N, "days"?: D}`.
        #[arg(long, value_name = "N")]
        fill: Option<usize>,
    },
    /// Turn a vendor's get/create response body (stdin) into canonical JSON (stdout).
    Normalize {
        #[arg(long)]
        provider: String,
        #[arg(long, default_value = "default")]
        account: String,
        /// "Now" for derived expiry (RFC 3339); default: the current time.
        #[arg(long, value_parser = parse_at)]
        at: Option<DateTime<Utc>>,
    },
    /// Print the SHA-256 of a client key read from stdin, for `clients.<name>.key_sha256`.
    HashKey,
    /// Read one live session from a vendor account and write it, redacted,
    /// as a fixture (with its provenance row in the folder's README).
    Record(record::RecordArgs),
    /// Read recent sessions of a vendor account and report what the
    /// gateway does not know: unknown fields and values, statuses no rule
    /// maps, failed reads. Exit 1 on drift, 2 on a usage or config error.
    Drift(drift::DriftArgs),
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Load and validate the config; print the effective config with secrets as `***`.
    Check {
        #[arg(long, env = CONFIG_PATH_ENV)]
        config: Option<PathBuf>,
    },
    /// Print the JSON Schema of the whole configuration (every vendor's
    /// account table included).
    Schema,
}

fn parse_at(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.to_utc())
        .map_err(|e| format!("not an RFC 3339 timestamp: {e}"))
}

/// Why a command stopped: its message, and the process's exit code (1, or
/// 2 for a usage or configuration error where a command tells them apart).
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub exit_code: u8,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            exit_code: 2,
        }
    }
}

impl From<String> for CliError {
    fn from(message: String) -> CliError {
        CliError {
            message,
            exit_code: 1,
        }
    }
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let format = cli.log_format;
    match cli.command {
        Command::Serve { config } => Ok(serve::serve(config.as_deref(), format).await?),
        Command::Demo(args) => Ok(demo::run(args, format).await?),
        Command::Sandbox { listen, fill } => {
            init_logging(format, &crate::config::LogConfig::default())?;
            Ok(serve::run_sandbox(&listen, fill).await?)
        }
        Command::Normalize {
            provider,
            account,
            at,
        } => Ok(normalize(&provider, &account, at)?),
        Command::HashKey => Ok(hash_key()?),
        Command::Record(args) => record::run(args).await,
        Command::Drift(args) => drift::run(args).await,
        Command::Config {
            command: ConfigCommand::Check { config },
        } => Ok(config_check(config.as_deref())?),
        Command::Config {
            command: ConfigCommand::Schema,
        } => {
            let json =
                serde_json::to_string_pretty(&config::schema()).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(())
        }
    }
}

fn normalize(provider: &str, account: &str, at: Option<DateTime<Utc>>) -> CliResult {
    let p = registry::provider(provider).ok_or_else(|| {
        format!(
            "unknown provider {provider:?} (supported: {})",
            registry::provider_names()
        )
    })?;
    if !checkout_core::id::is_valid_account_name(account) {
        return Err(format!("--account {account:?} is not an account name"));
    }
    let mut body = Vec::new();
    std::io::stdin()
        .read_to_end(&mut body)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    let session = p.normalize(account, &body).map_err(|e| e.message)?;
    let session = session.as_of(at.unwrap_or_else(Utc::now));
    let json = serde_json::to_string_pretty(&session).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}

/// Shortest client key accepted: anything shorter is guessable.
const MIN_CLIENT_KEY_LEN: usize = 16;

fn hash_key() -> CliResult {
    let mut key = String::new();
    std::io::stdin()
        .read_to_string(&mut key)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    let key = key.trim_end_matches(['\r', '\n']);
    if key.len() < MIN_CLIENT_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("a client key is at least {MIN_CLIENT_KEY_LEN} printable ASCII characters without spaces"));
    }
    println!("{}", crate::auth::to_hex(&crate::auth::key_hash(key)));
    Ok(())
}

fn config_check(path: Option<&Path>) -> CliResult {
    let (config, state) = serve::load(&config::figment(path))?;
    let json = serde_json::to_string_pretty(&state.redacted(&config)).map_err(|e| e.to_string())?;
    println!("{json}");
    Ok(())
}
