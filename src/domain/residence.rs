//! Where a young person lives and where they learn, by local authority.
//!
//! The DfE's headline cohort is the authority's residents, wherever they
//! learn; residents of other authorities who learn here are tracked but not
//! counted (their own authority counts them). Every record is of a resident
//! learning here until it says otherwise.

use super::error::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Another local authority, by its DfE three-digit code ("305" is Bromley).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LaCode(u16);

impl LaCode {
    pub fn new(code: u16) -> Result<Self, DomainError> {
        if (201..=999).contains(&code) {
            Ok(Self(code))
        } else {
            Err(DomainError::Invalid {
                field: "local authority",
                reason: "give \"here\" or the authority's three-digit DfE code, e.g. 305",
            })
        }
    }

    pub fn code(self) -> u16 {
        self.0
    }
}

/// A local authority: this one, or another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Authority {
    #[default]
    Here,
    Other(LaCode),
}

impl Authority {
    /// "here", "this", "" (this authority) or another's code.
    pub fn parse(typed: &str) -> Result<Self, DomainError> {
        let typed = typed.trim();
        match typed.to_ascii_lowercase().as_str() {
            "" | "here" | "this" | "this la" => Ok(Authority::Here),
            other => other
                .parse::<u16>()
                .map_err(|_| DomainError::Invalid {
                    field: "local authority",
                    reason: "give \"here\" or the authority's three-digit DfE code, e.g. 305",
                })
                .and_then(LaCode::new)
                .map(Authority::Other),
        }
    }

    /// What a form shows: "here", or the code.
    pub fn text(self) -> String {
        match self {
            Authority::Here => "here".into(),
            Authority::Other(c) => c.code().to_string(),
        }
    }
}

impl fmt::Display for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authority::Here => f.write_str("this authority"),
            Authority::Other(c) => write!(f, "LA {}", c.code()),
        }
    }
}

/// The authority a young person lives in and, where different, the one
/// where they learn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residence {
    pub lives: Authority,
    /// `None`: where they live.
    pub learns: Option<Authority>,
}

impl Residence {
    /// From the two texts a form or a file gives: where they live ("" is
    /// here) and where they learn ("" or "same" is where they live).
    pub fn parse(lives: &str, learns: &str) -> Result<Self, DomainError> {
        Ok(Self::new(
            Authority::parse(lives)?,
            Self::parse_learns(learns)?,
        ))
    }

    /// Where they learn, typed: "" or "same" is where they live (`None`).
    pub fn parse_learns(typed: &str) -> Result<Option<Authority>, DomainError> {
        match typed.trim().to_ascii_lowercase().as_str() {
            "" | "same" => Ok(None),
            _ => Authority::parse(typed).map(Some),
        }
    }

    /// Learning where they live is said once.
    pub fn new(lives: Authority, learns: Option<Authority>) -> Self {
        Self {
            lives,
            learns: learns.filter(|l| *l != lives),
        }
    }

    /// Whatever it came from (a peer's op is decoded, not parsed): every
    /// code in range.
    pub fn validate(&self) -> Result<(), DomainError> {
        for a in [Some(self.lives), self.learns].into_iter().flatten() {
            if let Authority::Other(c) = a {
                LaCode::new(c.code())?;
            }
        }
        Ok(())
    }

    /// Counted in this authority's headline: a resident, wherever they learn.
    pub fn resident_here(&self) -> bool {
        self.lives == Authority::Here
    }

    /// Where they learn: where they live unless said otherwise.
    pub fn learns_in(&self) -> Authority {
        self.learns.unwrap_or(self.lives)
    }

    /// The two texts a form shows, each authority named ("here" or a
    /// code), so what is on the form is what is saved (see [`Residence::parse`]).
    pub fn texts(&self) -> (String, String) {
        (self.lives.text(), self.learns_in().text())
    }

    /// In words, with whether the headline counts them.
    pub fn describe(&self) -> String {
        match (self.lives, self.learns_in()) {
            (Authority::Here, Authority::Here) => "Lives and learns here".into(),
            (Authority::Here, elsewhere) => {
                format!("Lives here, learns in {elsewhere} (counted here)")
            }
            (lives, Authority::Here) => {
                format!("Lives in {lives}, learns here (tracked, not counted here)")
            }
            (lives, learns) if lives == learns => {
                format!("Lives and learns in {lives} (tracked, not counted here)")
            }
            (lives, learns) => {
                format!("Lives in {lives}, learns in {learns} (tracked, not counted here)")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn la(code: u16) -> Authority {
        Authority::Other(LaCode::new(code).expect("code"))
    }

    #[test]
    fn residence_is_read_from_words_or_codes_and_said_once() {
        let r = Residence::parse("", "").expect("here");
        assert_eq!(r, Residence::default());
        assert!(r.resident_here());
        let away = Residence::parse("here", "305").expect("learns away");
        assert_eq!(away.learns, Some(la(305)));
        assert!(away.resident_here(), "a resident learning elsewhere counts");
        let visitor = Residence::parse("305", "here").expect("learns here");
        assert!(!visitor.resident_here());
        assert_eq!(visitor.learns_in(), Authority::Here);
        assert_eq!(
            Residence::parse("305", "305").expect("same").learns,
            None,
            "learning where they live is said once"
        );
        assert_eq!(
            Residence::parse("305", "same").expect("same").lives,
            la(305)
        );
        for bad in ["Bromley", "12", "1000", "-3"] {
            assert!(Residence::parse(bad, "").is_err(), "{bad}");
        }
        for r in [r, away, visitor] {
            let (lives, learns) = r.texts();
            assert_eq!(Residence::parse(&lives, &learns), Ok(r));
        }
        assert_eq!(
            visitor.describe(),
            "Lives in LA 305, learns here (tracked, not counted here)"
        );
    }
}
