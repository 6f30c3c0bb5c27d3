//! `checkout-gateway record`: one live session read from the vendor (as
//! the gateway reads it: the account from `--config`, through its guard),
//! redacted (`redact.rs`), and written as a fixture with its provenance row
//! in the folder's README, so the adapter's snapshot test shows it next.

use std::path::{Path, PathBuf};

use checkout_core::drift::bounded;
use checkout_core::CheckoutSession;
use chrono::{DateTime, Utc};
use clap::Args;
use vendor_http::Scrubber;

use crate::cmd::live::{failure, Live};
use crate::cmd::redact::redact;
use crate::cmd::CliError;
use crate::config::CONFIG_PATH_ENV;

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// TOML config file (the one `serve` reads).
    #[arg(long, env = CONFIG_PATH_ENV)]
    pub config: Option<PathBuf>,
    /// The configured account to read from: `provider:account`.
    #[arg(long, value_name = "PROVIDER:ACCOUNT")]
    pub account: String,
    /// The session: the vendor's id, or the canonical `provider:account:id`.
    #[arg(long)]
    pub id: String,
    /// The fixtures folder; the file goes to `<DIR>/<provider>/`.
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    pub fixtures: PathBuf,
    /// Write here instead of `<DIR>/<provider>/recorded_<status>_<date>.json`
    /// (the README beside it gets the row).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace a file (and its README row) that is already there.
    #[arg(long)]
    pub force: bool,
}

/// The heading of the provenance table in a fixture folder's README.
const TABLE_HEADER: &str = "| File | HTTP | Shows | As of | Provenance |";

pub async fn run(args: RecordArgs) -> Result<(), CliError> {
    let live = Live::open(args.config.as_deref(), &args.account)?;
    let reference = live.reference(&args.id)?;
    let label = live.label();
    let fetched = live
        .get(reference, "record")
        .await
        .map_err(|e| format!("{label}: reading {reference} failed: {}", failure(&e)))?;
    let account = live.account();
    // The vendor client scrubbed the answer already; a fixture is checked again.
    let scrubber = Scrubber::new(
        account
            .connector
            .endpoint()
            .credentials
            .iter()
            .map(|(_, v)| v.as_bytes()),
    );
    let body = redact(fetched.raw.get(), &scrubber).map_err(|e| format!("{label}: {e}"))?;
    // What is written must read as the answer did.
    account
        .provider
        .normalize(live.account_name(), body.as_bytes())
        .map_err(|e| {
            format!(
                "{label}: the redacted answer no longer reads: {}",
                e.message
            )
        })?;

    let now = Utc::now();
    let status = vendor_status(&fetched.session);
    let path = args.out.clone().unwrap_or_else(|| {
        args.fixtures
            .join(live.provider())
            .join(default_name(&status, now))
    });
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && !n.contains(['|', '`']))
        .ok_or_else(|| CliError::usage(format!("--out {}: not a file name", path.display())))?;
    let readme_path = path
        .parent()
        .map_or_else(|| PathBuf::from("README.md"), |d| d.join("README.md"));
    let readme = std::fs::read_to_string(&readme_path).map_err(|e| {
        format!(
            "{}: {e} (every fixture has a provenance row in its folder's README)",
            readme_path.display()
        )
    })?;
    let row = provenance_row(&file, &fetched.session, &status, now, &label);
    let readme = with_row(&readme, &file, &row, args.force)
        .map_err(|why| format!("{}: {why}", readme_path.display()))?;
    write_fixture(&path, &body, args.force)?;
    std::fs::write(&readme_path, readme).map_err(|e| format!("{}: {e}", readme_path.display()))?;
    println!("{}", path.display());
    eprintln!(
        "recorded {label} {reference} (vendor status {status:?}) to {}; its row is in {}",
        path.display(),
        readme_path.display()
    );
    Ok(())
}

/// The vendor's own status, bounded; the canonical one where it is empty.
fn vendor_status(session: &CheckoutSession) -> String {
    match session.provider_status.status.as_deref() {
        Some(s) if !s.is_empty() => bounded(s),
        _ => canonical_status(session),
    }
}

fn canonical_status(session: &CheckoutSession) -> String {
    serde_json::to_value(session.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `recorded_<status>_<YYYY-MM-DD>.json`, the status in lower-case
/// letters, digits and `_`.
fn default_name(status: &str, now: DateTime<Utc>) -> String {
    let slug: String = status
        .chars()
        .take(40)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '_',
        })
        .collect();
    format!("recorded_{slug}_{}.json", now.format("%Y-%m-%d"))
}

/// The README row, in the fixture kit's format: file, HTTP status, what it
/// shows, the vendor clock it was read at, where it came from.
fn provenance_row(
    file: &str,
    session: &CheckoutSession,
    status: &str,
    now: DateTime<Utc>,
    label: &str,
) -> String {
    format!(
        "| `{file}` | 200 | A live session read with get: vendor status `{status}` (canonical `{}`); \
         credentials, emails, names and URL tokens replaced by placeholders | {} | recorded {} from {label} |",
        canonical_status(session),
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now.format("%Y-%m-%d"),
    )
}

/// `readme` with `row` added at the end of its provenance table (or, with
/// `force`, in place of the file's row).
fn with_row(readme: &str, file: &str, row: &str, force: bool) -> Result<String, String> {
    let mut lines: Vec<&str> = readme.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim() == TABLE_HEADER)
        .ok_or_else(|| format!("no provenance table (`{TABLE_HEADER}`)"))?;
    let cell = format!("| `{file}` |");
    if let Some(at) = lines.iter().position(|l| l.starts_with(&cell)) {
        if !force {
            return Err(format!(
                "already has a row for {file}: pass --force to replace it"
            ));
        }
        lines[at] = row;
    } else {
        let end = lines[header..]
            .iter()
            .position(|l| !l.starts_with('|'))
            .map_or(lines.len(), |n| header + n);
        lines.insert(end, row);
    }
    let mut out = lines.join("\n");
    if readme.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn write_fixture(path: &Path, body: &str, force: bool) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => CliError::from(format!(
            "{} exists: pass --force to replace it, or --out to write elsewhere",
            path.display()
        )),
        _ => CliError::from(format!("{}: {e}", path.display())),
    })?;
    std::io::Write::write_all(&mut file, body.as_bytes())
        .map_err(|e| CliError::from(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_file_names() {
        let now = DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            default_name("AWAITING_PAYMENT", now),
            "recorded_awaiting_payment_2026-05-01.json"
        );
        assert_eq!(
            default_name("../x y", now),
            "recorded____x_y_2026-05-01.json"
        );
    }

    #[test]
    fn the_row_goes_at_the_end_of_the_table() {
        let readme = "# Fixtures\n\n| Kind | IDs |\n|---|---|\n| a | b |\n\n| File | HTTP | Shows | As of | Provenance |\n|---|---|---|---|---|\n| `get_a.json` | 200 | a | t | p |\n\nNotes.\n";
        let out = with_row(
            readme,
            "recorded_x.json",
            "| `recorded_x.json` | 200 | x | t | p |",
            false,
        )
        .unwrap();
        assert!(out.contains("| `get_a.json` | 200 | a | t | p |\n| `recorded_x.json` | 200 | x | t | p |\n\nNotes.\n"), "{out}");
        assert!(
            out.contains("| a | b |\n\n| File"),
            "the other table is left alone"
        );
        let again = with_row(
            &out,
            "recorded_x.json",
            "| `recorded_x.json` | 200 | y | t | p |",
            false,
        );
        assert!(again.unwrap_err().contains("--force"));
        let forced = with_row(
            &out,
            "recorded_x.json",
            "| `recorded_x.json` | 200 | y | t | p |",
            true,
        )
        .unwrap();
        assert!(forced.contains("| y |") && !forced.contains("| x |"));
        assert!(with_row("no table\n", "f", "r", false).is_err());
    }
}
