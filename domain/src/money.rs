//! Money as integer minor units of one currency.
//!
//! Parsing rule for amounts typed by people (fees, prices, adjustments):
//! - optional leading `-`, then digits, then optionally ONE decimal separator,
//!   either `.` or `,`, followed by 1 up to the currency's number of minor digits;
//! - no thousands separators, no spaces inside, no currency symbols, no exponent;
//! - currencies without a minor unit (JPY, KRW, ISK) accept whole amounts only.
//!
//! So for EUR: "59" = 59.00, "59.00" = 59.00, "59,5" = 59.50, while "59.999",
//! "1,234.50" and "1.000,00" are rejected with a message rather than guessed.
//! No floating point is ever involved: digits are accumulated into an `i64`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency the platform supports, with its number of minor digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_digits: u8,
}

/// (code, minor digits, symbol written before the amount)
const CURRENCIES: &[(&str, u8, Option<&str>)] = &[
    ("AUD", 2, Some("A$")),
    ("BHD", 3, None),
    ("BRL", 2, Some("R$")),
    ("CAD", 2, Some("CA$")),
    ("CHF", 2, None),
    ("CZK", 2, None),
    ("DKK", 2, None),
    ("EUR", 2, Some("€")),
    ("GBP", 2, Some("£")),
    ("HKD", 2, Some("HK$")),
    ("HUF", 2, None),
    ("INR", 2, Some("₹")),
    ("ISK", 0, None),
    ("JPY", 0, Some("¥")),
    ("KRW", 0, Some("₩")),
    ("KWD", 3, None),
    ("MXN", 2, Some("MX$")),
    ("NOK", 2, None),
    ("NZD", 2, Some("NZ$")),
    ("PLN", 2, None),
    ("SEK", 2, None),
    ("SGD", 2, Some("S$")),
    ("USD", 2, Some("$")),
    ("ZAR", 2, Some("R")),
];

impl Currency {
    pub const EUR: Currency = Currency {
        code: *b"EUR",
        minor_digits: 2,
    };
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_digits: 2,
    };
    pub const GBP: Currency = Currency {
        code: *b"GBP",
        minor_digits: 2,
    };
    pub const JPY: Currency = Currency {
        code: *b"JPY",
        minor_digits: 0,
    };

    /// Looks up a supported currency by its ISO code (case-insensitive).
    pub fn from_code(code: &str) -> Result<Currency, UnknownCurrency> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == upper)
            .map(|(c, digits, _)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_digits: *digits,
                }
            })
            .ok_or_else(|| UnknownCurrency(code.trim().to_string()))
    }

    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES
            .iter()
            .map(|(c, _, _)| Currency::from_code(c).expect("table entries are valid"))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    pub fn minor_digits(&self) -> u8 {
        self.minor_digits
    }

    fn symbol(&self) -> Option<&'static str> {
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == self.code())
            .and_then(|(_, _, s)| *s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a supported currency code")]
pub struct UnknownCurrency(pub String);

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// Amounts typed by people (fees, payments, refunds, discounts) are below
/// this many major units.
pub const TYPED_LIMIT: i128 = 1_000_000_000;

/// An amount of money: integer minor units (cents) of one currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyParseError {
    #[error("enter an amount")]
    Empty,
    #[error(
        "use digits and at most one decimal separator (\".\" or \",\"), without thousands separators or symbols"
    )]
    NotANumber,
    #[error("{currency} amounts have at most {max} decimal places")]
    TooManyDecimals { currency: Currency, max: u8 },
    #[error("{0} has no minor unit: enter a whole amount")]
    NoMinorUnit(Currency),
    #[error("enter an amount below 1,000,000,000")]
    TooLarge,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Money {
        Money { minor: 0, currency }
    }

    /// Parses an amount typed by a person, by the rule in this module's docs.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyParseError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(MoneyParseError::Empty);
        }
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let mut parts = unsigned.splitn(2, ['.', ',']);
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next();
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(MoneyParseError::NotANumber);
        }
        let digits = currency.minor_digits;
        let fraction = fraction.unwrap_or("");
        if digits == 0 && !fraction.is_empty() {
            return Err(MoneyParseError::NoMinorUnit(currency));
        }
        if fraction.len() > digits as usize {
            return Err(MoneyParseError::TooManyDecimals {
                currency,
                max: digits,
            });
        }
        // Accumulate in i128 so that i64::MIN, whose magnitude has no positive i64, still parses.
        let mut magnitude: i128 = 0;
        let padded = fraction
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(digits as usize);
        for b in whole.bytes().chain(padded) {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or(MoneyParseError::TooLarge)?;
        }
        // Typed amounts stay below a billion of the major unit, so that even
        // a million of them summed fits an i64 (no total can overflow).
        if magnitude >= TYPED_LIMIT * 10_i128.pow(u32::from(digits)) {
            return Err(MoneyParseError::TooLarge);
        }
        let signed = if negative { -magnitude } else { magnitude };
        let minor = i64::try_from(signed).map_err(|_| MoneyParseError::TooLarge)?;
        Ok(Money { minor, currency })
    }

    /// The amount without symbol or grouping, as it would be typed back into a form: "1234.50".
    pub fn to_plain(&self) -> String {
        let (sign, whole, fraction) = self.split();
        match fraction {
            Some(f) => format!("{sign}{whole}.{f}"),
            None => format!("{sign}{whole}"),
        }
    }

    pub fn is_negative(&self) -> bool {
        self.minor < 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.minor.checked_add(other.minor).map(|minor| Money {
            minor,
            currency: self.currency,
        })
    }

    fn split(&self) -> (&'static str, u64, Option<String>) {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let digits = u32::from(self.currency.minor_digits);
        if digits == 0 {
            return (sign, abs, None);
        }
        let scale = 10u64.pow(digits);
        let fraction = format!("{:0width$}", abs % scale, width = digits as usize);
        (sign, abs / scale, Some(fraction))
    }
}

fn group_thousands(n: u64) -> String {
    let raw = n.to_string();
    let mut out = String::with_capacity(raw.len() + raw.len() / 3);
    for (i, ch) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Display form: "€1,234.50", "-€5.00", "¥5,900", "1,234.50 CHF".
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, whole, fraction) = self.split();
        let number = match fraction {
            Some(fr) => format!("{}.{}", group_thousands(whole), fr),
            None => group_thousands(whole),
        };
        match self.currency.symbol() {
            Some(symbol) => write!(f, "{sign}{symbol}{number}"),
            None => write!(f, "{sign}{number} {}", self.currency.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(text: &str) -> Result<i64, MoneyParseError> {
        Money::parse(text, Currency::EUR).map(|m| m.minor)
    }

    #[test]
    fn whole_amounts_and_both_decimal_separators_are_accepted() {
        assert_eq!(eur("59"), Ok(5900));
        assert_eq!(eur("59.00"), Ok(5900));
        assert_eq!(eur("59,5"), Ok(5950));
        assert_eq!(eur("59.5"), Ok(5950));
        assert_eq!(eur("0.01"), Ok(1));
        assert_eq!(eur("  12.30 "), Ok(1230));
        assert_eq!(eur("007"), Ok(700));
    }

    #[test]
    fn negative_amounts_parse_with_a_leading_minus() {
        assert_eq!(eur("-5"), Ok(-500));
        assert_eq!(eur("-0,99"), Ok(-99));
    }

    #[test]
    fn more_decimals_than_the_currency_has_are_rejected_not_rounded() {
        assert_eq!(
            eur("59.999"),
            Err(MoneyParseError::TooManyDecimals {
                currency: Currency::EUR,
                max: 2
            })
        );
        // "1,000" would be a thousands separator to some and a decimal to others: refuse to guess.
        assert_eq!(
            eur("1,000"),
            Err(MoneyParseError::TooManyDecimals {
                currency: Currency::EUR,
                max: 2
            })
        );
    }

    #[test]
    fn thousands_separators_symbols_and_junk_are_rejected() {
        for text in [
            "1,234.50", "1.000,00", "€59", "59 EUR", "5 9", "1e3", "abc", "-", ".5", "59.", "--5",
            "+5", "0x10",
        ] {
            assert_eq!(eur(text), Err(MoneyParseError::NotANumber), "{text:?}");
        }
        assert_eq!(eur(""), Err(MoneyParseError::Empty));
        assert_eq!(eur("   "), Err(MoneyParseError::Empty));
    }

    #[test]
    fn huge_values_are_rejected_instead_of_overflowing() {
        assert_eq!(eur("999999999.99"), Ok(99_999_999_999));
        assert_eq!(eur("-999999999.99"), Ok(-99_999_999_999));
        assert_eq!(eur("1000000000"), Err(MoneyParseError::TooLarge));
        assert_eq!(eur("92233720368547758.07"), Err(MoneyParseError::TooLarge));
        assert_eq!(
            Money::parse("1000000000", Currency::JPY),
            Err(MoneyParseError::TooLarge)
        );
        assert_eq!(
            eur("99999999999999999999999"),
            Err(MoneyParseError::TooLarge)
        );
    }

    #[test]
    fn yen_has_no_minor_unit() {
        assert_eq!(
            Money::parse("5900", Currency::JPY).map(|m| m.minor),
            Ok(5900)
        );
        assert_eq!(
            Money::parse("5900.00", Currency::JPY),
            Err(MoneyParseError::NoMinorUnit(Currency::JPY))
        );
        assert_eq!(Money::new(5900, Currency::JPY).to_string(), "¥5,900");
    }

    #[test]
    fn three_digit_currencies_keep_three_decimals() {
        let kwd = Currency::from_code("kwd").unwrap();
        assert_eq!(Money::parse("1.5", kwd).map(|m| m.minor), Ok(1500));
        assert_eq!(Money::new(1500, kwd).to_string(), "1.500 KWD");
    }

    #[test]
    fn formatting_groups_thousands_and_places_the_sign_first() {
        assert_eq!(Money::new(123450, Currency::EUR).to_string(), "€1,234.50");
        assert_eq!(Money::new(-500, Currency::EUR).to_string(), "-€5.00");
        assert_eq!(Money::new(5, Currency::USD).to_string(), "$0.05");
        assert_eq!(
            Money::new(100_000_000, Currency::GBP).to_string(),
            "£1,000,000.00"
        );
        let chf = Currency::from_code("CHF").unwrap();
        assert_eq!(Money::new(123450, chf).to_string(), "1,234.50 CHF");
        assert_eq!(
            Money::new(i64::MIN, Currency::EUR).to_string(),
            "-€92,233,720,368,547,758.08"
        );
    }

    #[test]
    fn plain_form_round_trips() {
        assert_eq!(Money::new(-123450, Currency::EUR).to_plain(), "-1234.50");
        assert_eq!(Money::new(7, Currency::JPY).to_plain(), "7");
    }

    #[test]
    fn unknown_currency_codes_are_refused() {
        assert!(Currency::from_code("XYZ").is_err());
        assert_eq!(Currency::from_code(" eur "), Ok(Currency::EUR));
    }

    #[test]
    fn adding_different_currencies_is_refused() {
        assert_eq!(
            Money::new(1, Currency::EUR).checked_add(Money::new(1, Currency::USD)),
            None
        );
        assert_eq!(
            Money::new(1, Currency::EUR).checked_add(Money::new(2, Currency::EUR)),
            Some(Money::new(3, Currency::EUR))
        );
    }

    proptest::proptest! {
        #[test]
        fn every_amount_survives_plain_text_round_trip(minor in proptest::num::i64::ANY) {
            for currency in Currency::all() {
                let money = Money::new(minor, currency);
                let limit = TYPED_LIMIT * 10_i128.pow(u32::from(currency.minor_digits));
                let expected = if i128::from(minor).abs() < limit {
                    Ok(money)
                } else {
                    Err(MoneyParseError::TooLarge)
                };
                proptest::prop_assert_eq!(Money::parse(&money.to_plain(), currency), expected);
            }
        }

        #[test]
        fn every_typed_amount_survives_plain_text_round_trip(minor in -99_999_999_999_i64..=99_999_999_999) {
            let money = Money::new(minor, Currency::EUR);
            proptest::prop_assert_eq!(Money::parse(&money.to_plain(), Currency::EUR), Ok(money));
        }
    }
}
