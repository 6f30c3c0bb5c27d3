//! The checks `Routing::build` shares between the catalog and the rules:
//! names, references and targets, each refused with its key path.

use crate::{Accounts, ConfigError, Target};

/// Longest plan id or customer reference the catalog takes.
const MAX_REFERENCE_LEN: usize = 255;

/// Longest alias or rule name.
const MAX_NAME_LEN: usize = 64;

pub(crate) fn error(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        path: path.into(),
        message: message.into(),
    }
}

/// 1 to 64 characters, each lower-case ASCII, a digit or one of `extra`.
pub(crate) fn name(path: &str, what: &str, name: &str, extra: &[char]) -> Result<(), ConfigError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c);
    if (1..=MAX_NAME_LEN).contains(&name.len()) && name.chars().all(allowed) {
        return Ok(());
    }
    let extra: String = extra.iter().map(|c| format!(" {c}")).collect();
    Err(error(
        path,
        format!("{what} `{name}` must be 1 to {MAX_NAME_LEN} of a-z 0-9{extra}"),
    ))
}

/// A vendor's plan id or customer reference: what goes upstream as is.
pub(crate) fn reference(path: &str, what: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(error(path, format!("the {what} must not be empty")));
    }
    if value.chars().count() > MAX_REFERENCE_LEN {
        return Err(error(
            path,
            format!("the {what} is longer than {MAX_REFERENCE_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(error(
            path,
            format!("the {what} must not hold control characters"),
        ));
    }
    Ok(())
}

/// `provider:account` naming a configured account.
pub(crate) fn target(
    path: &str,
    value: &str,
    accounts: &dyn Accounts,
) -> Result<Target, ConfigError> {
    let target = Target::parse(value).ok_or_else(|| {
        error(
            path,
            format!("`{value}` is not a target: give \"provider:account\""),
        )
    })?;
    account(path, &target, accounts)?;
    Ok(target)
}

/// The account is configured.
pub(crate) fn account(
    path: &str,
    target: &Target,
    accounts: &dyn Accounts,
) -> Result<(), ConfigError> {
    if accounts.exists(target) {
        Ok(())
    } else {
        Err(error(
            path,
            format!(
                "no account {target} is configured (providers.{}.accounts.{})",
                target.provider, target.account
            ),
        ))
    }
}
