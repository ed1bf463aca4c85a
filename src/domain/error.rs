//! Why a piece of domain input was refused. Messages name the problem, never the
//! person: they may end up in logs.

use super::dates::uk;
use chrono::NaiveDate;
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq, Clone)]
pub enum DomainError {
    #[error("unknown NCCIS activity code {0:?} (see docs/domain.md for the list)")]
    UnknownActivityCode(String),
    #[error("unknown {kind} {value:?}; expected one of: {expected}")]
    UnknownName {
        kind: &'static str,
        value: String,
        expected: String,
    },
    #[error("date of birth {} is in the future", uk(*.0))]
    BirthInFuture(NaiveDate),
    #[error(
        "date of birth {} is implausible for the post-16 cohort (more than 30 years ago)",
        uk(*.0)
    )]
    BirthTooEarly(NaiveDate),
    #[error("{what} on {} is before the young person was born", uk(*date))]
    BeforeBirth { what: &'static str, date: NaiveDate },
    #[error("{what} on {} is in the future", uk(*date))]
    InFuture { what: &'static str, date: NaiveDate },
    #[error(
        "the {later} ({}) is before the {earlier} ({}): it cannot come first",
        uk(*second),
        uk(*first)
    )]
    DatesOutOfOrder {
        earlier: &'static str,
        later: &'static str,
        first: NaiveDate,
        second: NaiveDate,
    },
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("{} is too long ({len} characters, at most {max})", words(field))]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error(
        "{} holds a {what} at character {position}: it cannot be stored",
        words(field)
    )]
    BadCharacter {
        field: &'static str,
        what: &'static str,
        position: usize,
    },
    #[error("{} has {len} entries (at most {max})", words(field))]
    TooMany {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} is not valid: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("“{outcome}” does not go with {channel}; {channel} can be: {expected}")]
    OutcomeDoesNotFit {
        channel: &'static str,
        outcome: &'static str,
        expected: String,
    },
    /// The typed value is not repeated: it may be a phone number or address.
    #[error("that {what} is not on the record for this channel; give one of: {options}")]
    NotOnRecord { what: &'static str, options: String },
    #[error(
        "unparseable date {0:?}: use DD/MM/YYYY, YYYY-MM-DD, today, tomorrow, +3d, +2w, +1m or a weekday"
    )]
    BadDate(String),
}

impl DomainError {
    /// The field a refusal is about, where it names one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DomainError::TooLong { field, .. }
            | DomainError::TooMany { field, .. }
            | DomainError::BadCharacter { field, .. }
            | DomainError::Invalid { field, .. } => Some(field),
            DomainError::Empty(field) => Some(field),
            DomainError::OutcomeDoesNotFit { .. } => Some("outcome"),
            DomainError::DatesOutOfOrder { later, .. } => Some(later),
            DomainError::BeforeBirth { what, .. } | DomainError::InFuture { what, .. } => {
                Some(what)
            }
            _ => None,
        }
    }
}

/// A field's name as words: "school_or_provider" and "SchoolOrProvider" read
/// "school or provider".
pub fn words(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for (i, c) in field.chars().enumerate() {
        if c == '_' {
            out.push(' ');
        } else if c.is_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a free-text field against a maximum length (in characters).
pub fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), DomainError> {
    let len = value.chars().count();
    if len > max {
        Err(DomainError::TooLong { field, len, max })
    } else {
        Ok(())
    }
}

/// Parses one of a fixed set of names (case- and separator-insensitive): the shared
/// door for every enum typed at the command line or read from a file.
pub fn parse_named<T: Copy>(
    kind: &'static str,
    value: &str,
    options: &[(T, &'static str)],
) -> Result<T, DomainError> {
    // Compared as streams, nothing allocated: an import parses several names
    // a row against every option.
    fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
    }
    // The usual case, ASCII on both sides, byte by byte: Unicode lower-casing
    // char by char was a tenth of checking a cohort file.
    fn norm_ascii(s: &str) -> impl Iterator<Item = u8> + '_ {
        s.bytes()
            .filter(u8::is_ascii_alphanumeric)
            .map(|b| b.to_ascii_lowercase())
    }
    let same = |name: &str| {
        if name.is_ascii() && value.is_ascii() {
            norm_ascii(name).eq(norm_ascii(value))
        } else {
            norm(name).eq(norm(value))
        }
    };
    options
        .iter()
        .find(|(_, name)| same(name))
        .map(|(v, _)| *v)
        .ok_or_else(|| DomainError::UnknownName {
            kind,
            value: value.to_string(),
            expected: options
                .iter()
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: [(u8, &str); 3] = [(1, "Not Known"), (2, "Not"), (3, "Élève")];

    #[test]
    fn a_name_matches_whatever_its_case_and_separators_and_only_whole() {
        for (typed, want) in [
            ("not known", 1),
            ("NOT-KNOWN", 1),
            ("not_known ", 1),
            ("not", 2),
            (" N.o.T ", 2),
            ("ÉLÈVE", 3),
            ("élève", 3),
        ] {
            assert_eq!(
                parse_named("kind", typed, &OPTIONS).ok(),
                Some(want),
                "{typed}"
            );
        }
        // "lve" is what an ASCII-only comparison would leave of "Élève".
        for typed in ["no", "not known at all", "", "-", "eleve", "lve"] {
            assert!(
                matches!(
                    parse_named("kind", typed, &OPTIONS),
                    Err(DomainError::UnknownName { kind: "kind", .. })
                ),
                "{typed}"
            );
        }
    }
}
