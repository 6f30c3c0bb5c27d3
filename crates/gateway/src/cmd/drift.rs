//! `checkout-gateway drift`: how far a vendor account has moved from what
//! the gateway knows. Lists up to `--sample` recent sessions (where the
//! account can list), reads each with get, and reports the unknown fields
//! and values of every answer (`checkout_core::drift`), the statuses no
//! rule maps, and the reads that failed (their code and vendor status, no
//! vendor data). Exit 0 when clean, 1 on any drift or failed read, 2 on a
//! usage or configuration error.

use std::collections::BTreeMap;
use std::path::PathBuf;

use checkout_core::drift::{bounded, Kind, Unknowns};
use checkout_core::{Error, Fetched, ListQuery};
use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cmd::live::{failure, Live};
use crate::cmd::CliError;
use crate::config::CONFIG_PATH_ENV;

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// TOML config file (the one `serve` reads).
    #[arg(long, env = CONFIG_PATH_ENV)]
    pub config: Option<PathBuf>,
    /// The configured account to check: `provider:account`.
    #[arg(long, value_name = "PROVIDER:ACCOUNT")]
    pub account: String,
    /// How many recent sessions to list and read (1..=1000).
    #[arg(long, value_name = "N", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sample: u32,
    /// Read these sessions (vendor or canonical ids) instead of listing;
    /// for accounts that cannot list. Repeatable.
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Vendor list pages one check may ask for (each is up to the vendor's page size).
const MAX_PAGES: usize = 50;

/// What a check found.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Report {
    /// `provider:account`.
    pub account: String,
    /// Sessions the list gave (`null` when ids were given).
    pub listed: Option<usize>,
    /// Sessions read with get, successfully.
    pub read: usize,
    /// Unknown fields, with how many answers held each.
    pub unknown_fields: Vec<Seen>,
    /// Unknown enum values (`field=value`), with how many answers held each.
    pub unknown_values: Vec<Seen>,
    /// The vendor statuses no rule maps (among the unknown values).
    pub unknown_statuses: Vec<String>,
    /// Calls that failed: which, and how (code and vendor status only).
    pub failed: Vec<Failed>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Seen {
    pub name: String,
    pub answers: usize,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Failed {
    /// `list`, or `get <id>`.
    pub call: String,
    /// The canonical error code, and the vendor's HTTP status when it answered.
    pub error: String,
}

impl Report {
    pub fn drifted(&self) -> bool {
        !(self.unknown_fields.is_empty()
            && self.unknown_values.is_empty()
            && self.unknown_statuses.is_empty()
            && self.failed.is_empty())
    }

    /// The readable form.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let listed = self
            .listed
            .map_or_else(String::new, |n| format!(", {n} listed"));
        out.push_str(&format!(
            "{}: {} sessions read{listed}\n",
            self.account, self.read
        ));
        let section = |out: &mut String, title: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for line in lines {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        };
        let seen = |list: &[Seen]| {
            list.iter()
                .map(|s| format!("{}  ({} answers)", s.name, s.answers))
                .collect()
        };
        section(&mut out, "unknown fields", seen(&self.unknown_fields));
        section(&mut out, "unknown values", seen(&self.unknown_values));
        section(
            &mut out,
            "statuses no rule knows",
            self.unknown_statuses.clone(),
        );
        section(
            &mut out,
            "failed reads",
            self.failed
                .iter()
                .map(|f| format!("{}: {}", f.call, f.error))
                .collect(),
        );
        out.push_str(if self.drifted() {
            "drift found\n"
        } else {
            "no drift\n"
        });
        out
    }
}

/// Tallies the unknowns of the answers read.
#[derive(Default)]
struct Tally {
    fields: BTreeMap<String, usize>,
    values: BTreeMap<String, usize>,
    statuses: BTreeMap<String, ()>,
}

impl Tally {
    fn answer(&mut self, unknown: &Unknowns) {
        for u in unknown {
            let counts = match u.kind {
                Kind::Field => &mut self.fields,
                Kind::Value => &mut self.values,
            };
            *counts.entry(u.name.clone()).or_default() += 1;
        }
    }

    /// A session read: its answer's unknowns, and its status if a value
    /// unknown names it (the rule for it fell through).
    fn session(&mut self, fetched: &Fetched) {
        self.answer(&fetched.unknown);
        let status = &fetched.session.provider_status;
        for vendor in [&status.status, &status.payment_status]
            .into_iter()
            .flatten()
        {
            let named = bounded(vendor);
            if fetched.unknown.iter().any(|u| {
                u.kind == Kind::Value && u.name.split_once('=').map(|(_, v)| v) == Some(&named)
            }) {
                self.statuses.insert(named, ());
            }
        }
    }

    fn into_report(self, report: &mut Report) {
        let seen = |m: BTreeMap<String, usize>| {
            m.into_iter()
                .map(|(name, answers)| Seen { name, answers })
                .collect()
        };
        report.unknown_fields = seen(self.fields);
        report.unknown_values = seen(self.values);
        report.unknown_statuses = self.statuses.into_keys().collect();
    }
}

pub async fn run(args: DriftArgs) -> Result<(), CliError> {
    let live = Live::open(args.config.as_deref(), &args.account)?;
    let report = check(&live, args.sample as usize, &args.ids).await?;
    match args.format {
        Format::Text => print!("{}", report.text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        ),
    }
    if report.drifted() {
        return Err(CliError::from(format!("drift found at {}", report.account)));
    }
    Ok(())
}

/// List (or take `ids`), read each, tally.
pub async fn check(live: &Live, sample: usize, ids: &[String]) -> Result<Report, CliError> {
    let mut report = Report {
        account: live.label(),
        ..Report::default()
    };
    let mut tally = Tally::default();
    let references: Vec<String> = if ids.is_empty() {
        let listed = list(live, sample, &mut tally, &mut report).await?;
        report.listed = Some(listed.len());
        listed
    } else {
        ids.iter()
            .map(|id| live.reference(id).map(str::to_owned))
            .collect::<Result<_, _>>()?
    };
    for reference in references {
        match live.get(&reference, "drift").await {
            Ok(fetched) => {
                report.read += 1;
                tally.session(&fetched);
            }
            Err(e) => report.failed.push(failed(&format!("get {reference}"), &e)),
        }
    }
    tally.into_report(&mut report);
    Ok(report)
}

/// The references of up to `sample` of the account's newest sessions, the
/// list answers' unknowns tallied; an account that cannot list is a usage
/// error naming `--id`.
async fn list(
    live: &Live,
    sample: usize,
    tally: &mut Tally,
    report: &mut Report,
) -> Result<Vec<String>, CliError> {
    let account = live.account();
    let cannot = |why: &str| {
        CliError::usage(format!(
            "{}: {why}: name sessions to read with --id ID (repeatable)",
            live.label()
        ))
    };
    let Some(support) = account.capabilities().list else {
        return Err(cannot("this account cannot list sessions"));
    };
    let customers: Vec<Option<String>> = if support.customer_required {
        let customers = account.connector.list_customers();
        if customers.is_empty() {
            return Err(cannot(
                "this vendor lists per customer (organization) and the account names none (`orgs`)",
            ));
        }
        customers.iter().cloned().map(Some).collect()
    } else {
        vec![None]
    };
    let mut sessions = Vec::new();
    for customer in customers {
        let mut cursor = None;
        for _ in 0..MAX_PAGES {
            let query = ListQuery {
                customer: customer.clone(),
                limit: u32::try_from(sample).unwrap_or(u32::MAX),
                cursor: cursor.take(),
                ..ListQuery::default()
            };
            let page = match live.list(&query, "drift").await {
                Ok(page) => page,
                Err(e) => {
                    report.failed.push(failed("list", &e));
                    break;
                }
            };
            tally.answer(&page.unknown);
            let got = page.sessions.len();
            sessions.extend(page.sessions.into_iter().map(|f| f.session));
            cursor = page.next_cursor;
            if cursor.is_none() || got == 0 || sessions.len() >= sample {
                break;
            }
        }
    }
    // Newest first, whichever order the vendor lists in.
    sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    sessions.truncate(sample);
    Ok(sessions
        .iter()
        .filter_map(|s| s.session_id().ok().map(|id| id.reference().to_owned()))
        .collect())
}

/// A failed call in the report's words.
fn failed(call: &str, e: &Error) -> Failed {
    Failed {
        call: call.to_owned(),
        error: failure(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use checkout_core::drift::Unknown;

    #[test]
    fn a_clean_report_says_so_and_any_finding_is_drift() {
        let mut r = Report {
            account: "meteroid:default".into(),
            listed: Some(2),
            read: 2,
            ..Report::default()
        };
        assert!(!r.drifted());
        assert_eq!(
            r.text(),
            "meteroid:default: 2 sessions read, 2 listed\nno drift\n"
        );
        r.failed.push(failed(
            "get che_1",
            &Error::from_vendor_status("meteroid", 503, "secret vendor words"),
        ));
        assert!(r.drifted());
        let text = r.text();
        assert!(
            text.contains("get che_1: provider_unavailable (vendor HTTP 503)"),
            "{text}"
        );
        assert!(!text.contains("secret vendor words"));
    }

    #[test]
    fn unknowns_are_tallied_per_answer() {
        let mut tally = Tally::default();
        let unknown: Unknowns = [
            Unknown {
                kind: Kind::Value,
                name: "status=PAYMENT_FAILED".into(),
            },
            Unknown {
                kind: Kind::Value,
                name: "checkout_type=QUOTE".into(),
            },
            Unknown {
                kind: Kind::Field,
                name: "session.risk".into(),
            },
        ]
        .into_iter()
        .collect();
        tally.answer(&unknown);
        tally.answer(&unknown);
        let mut report = Report::default();
        tally.into_report(&mut report);
        assert_eq!(
            report.unknown_values,
            [
                Seen {
                    name: "checkout_type=QUOTE".into(),
                    answers: 2
                },
                Seen {
                    name: "status=PAYMENT_FAILED".into(),
                    answers: 2
                },
            ]
        );
        assert_eq!(
            report.unknown_fields,
            [Seen {
                name: "session.risk".into(),
                answers: 2
            }]
        );
    }
}
