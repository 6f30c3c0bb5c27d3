//! Exact money: integer minor units plus an ISO 4217 currency. No floats.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Amount in the currency's minor unit (cents for USD, yen for JPY).
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown currency {0:?}")]
    UnknownCurrency(String),
    #[error("{amount} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        amount: Decimal,
        currency: String,
        exponent: u32,
    },
    #[error("{0} does not fit in 64-bit minor units")]
    Overflow(Decimal),
}

/// Number of minor-unit digits of an ISO 4217 currency.
///
/// Currencies absent from the two exception lists use 2, which is what
/// ISO 4217 assigns to every other active currency.
pub fn currency_exponent(code: &str) -> Option<u32> {
    const ZERO: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
    if !valid {
        return None;
    }
    Some(if ZERO.contains(&code) {
        0
    } else if THREE.contains(&code) {
        3
    } else {
        2
    })
}

impl Money {
    /// Build from a decimal amount in major units (`29.99` USD → 2999).
    /// Refuses rather than rounds: an amount finer than the currency allows
    /// means something upstream is wrong, and money must not be invented.
    pub fn from_major(amount: Decimal, currency: &str) -> Result<Money, MoneyError> {
        let currency = currency.to_ascii_uppercase();
        let exponent = currency_exponent(&currency)
            .ok_or_else(|| MoneyError::UnknownCurrency(currency.clone()))?;
        let scaled = amount
            .checked_mul(Decimal::from(10_i64.pow(exponent)))
            .ok_or(MoneyError::Overflow(amount))?;
        if scaled.normalize().scale() != 0 {
            return Err(MoneyError::TooPrecise {
                amount,
                currency,
                exponent,
            });
        }
        let amount_minor = i64::try_from(scaled).map_err(|_| MoneyError::Overflow(amount))?;
        Ok(Money {
            amount_minor,
            currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn minor_units_follow_the_currency_exponent() {
        assert_eq!(
            Money::from_major(dec("29.99"), "usd").unwrap().amount_minor,
            2999
        );
        assert_eq!(
            Money::from_major(dec("500"), "JPY").unwrap().amount_minor,
            500
        );
        assert_eq!(
            Money::from_major(dec("1.234"), "KWD").unwrap().amount_minor,
            1234
        );
        assert_eq!(
            Money::from_major(dec("0.10"), "EUR").unwrap().amount_minor,
            10
        );
    }

    #[test]
    fn refuses_to_round_or_guess() {
        assert!(matches!(
            Money::from_major(dec("1.5"), "JPY"),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::from_major(dec("1"), "US"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            Money::from_major(dec("100000000000000000000"), "USD"),
            Err(MoneyError::Overflow(_))
        ));
    }
}
