//! One configured vendor account, from the command line (`record`,
//! `drift`): built from the gateway's config exactly as `serve` builds it
//! (connector, client, guard), and called through the same guard, so a
//! command reads the vendor the way the gateway would.

use std::path::Path;

use checkout_core::{Error, Fetched, ListPage, ListQuery, RequestContext};

use crate::cmd::serve::load;
use crate::cmd::CliError;
use crate::config;
use crate::state::{Account, AppState};
use crate::upstream::error_code_name;

/// A configured account, and the state that holds it.
pub struct Live {
    state: AppState,
    provider: String,
    account: String,
}

impl Live {
    /// The account `provider:account` of the config at `path`; a malformed
    /// name, a bad config or an account it lacks is a usage error.
    pub fn open(path: Option<&Path>, spec: &str) -> Result<Live, CliError> {
        let (provider, account) = spec
            .split_once(':')
            .filter(|(p, a)| !p.is_empty() && !a.is_empty() && !a.contains(':'))
            .ok_or_else(|| {
                CliError::usage(format!("--account {spec:?} is not `provider:account`"))
            })?;
        let (_, state) = load(&config::figment(path)).map_err(CliError::usage)?;
        let key = (provider.to_owned(), account.to_owned());
        if !state.accounts.contains_key(&key) {
            return Err(CliError::usage(format!(
                "--account {spec}: no such account in the configuration"
            )));
        }
        Ok(Live {
            state,
            provider: key.0,
            account: key.1,
        })
    }

    pub fn account(&self) -> &Account {
        // `open` checked it is there, and nothing removes it.
        &self.state.accounts[&(self.provider.clone(), self.account.clone())]
    }

    pub fn provider(&self) -> &str {
        &self.provider
    }

    pub fn account_name(&self) -> &str {
        &self.account
    }

    /// `provider:account`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.provider, self.account)
    }

    /// The vendor reference in `id`: given bare, or as this account's
    /// canonical id (`provider:account:reference`); checked against the
    /// vendor's id format.
    pub fn reference<'a>(&self, id: &'a str) -> Result<&'a str, CliError> {
        let prefix = format!("{}:", self.label());
        let reference = id.strip_prefix(&prefix).unwrap_or(id);
        self.account()
            .provider
            .validate_reference(reference)
            .map_err(|why| CliError::usage(format!("--id {id:?}: {why}")))?;
        Ok(reference)
    }

    /// Read one session, through the account's guard.
    pub async fn get(&self, reference: &str, what: &str) -> Result<Fetched, Error> {
        let a = self.account();
        a.guard
            .get(&*a.connector, &a.client, reference, true, &context(what))
            .await
    }

    /// One list page, through the account's guard.
    pub async fn list(&self, query: &ListQuery, what: &str) -> Result<ListPage, Error> {
        let a = self.account();
        a.guard
            .list(&*a.connector, &a.client, query, &context(what))
            .await
    }
}

/// A request id saying which command made the call.
fn context(what: &str) -> RequestContext {
    RequestContext {
        request_id: format!("{what}-{}", uuid::Uuid::new_v4()),
        idempotency_key: None,
    }
}

/// A failed call as a command reports it: the canonical code and the
/// vendor's HTTP status, never the vendor's words.
pub fn failure(e: &Error) -> String {
    match e.provider_http_status {
        Some(status) => format!("{} (vendor HTTP {status})", error_code_name(e)),
        None => error_code_name(e),
    }
}
