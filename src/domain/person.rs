//! Who the young person is and how to reach them.

use super::academic;
use super::contact::Channel;
use super::district::{Area, District};
use super::error::{DomainError, check_len};
use super::ids::{PersonId, WorkerId};
use super::inline_text::{InlineAscii, serde_as_parsed_str};
use super::text::ShortText;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub const MAX_NAME: usize = 100;
pub const MAX_TEXT: usize = 4000;

named_enum!(Gender {
    Female => "Female",
    Male => "Male",
    NonBinary => "Non-binary",
    NotKnown => "Not known",
    PreferNotToSay => "Prefer not to say",
});

named_enum!(
    /// Special educational needs and disabilities. An EHC plan (or an older statement
    /// or learning difficulty assessment) extends the tracking cohort to 25.
    SendStatus {
        NoSend => "No SEND",
        SenSupport => "SEN support",
        EhcPlan => "EHC plan",
        StatementOrLda => "Statement or LDA",
    }
);

impl SendStatus {
    pub fn has_ehc_plan(self) -> bool {
        matches!(self, SendStatus::EhcPlan | SendStatus::StatementOrLda)
    }
}

named_enum!(
    /// NCCIS individual characteristics (vulnerable groups), each held with dates.
    Characteristic {
        LookedAfterThisLa => "Looked after (this LA)",
        LookedAfterOtherLa => "Looked after (other LA)",
        CareLeaverThisLa => "Care leaver (this LA)",
        CareLeaverOtherLa => "Care leaver (other LA)",
        RefugeeAsylumSeeker => "Refugee / asylum seeker",
        Uasc => "Unaccompanied asylum-seeking child",
        Pregnant => "Pregnant",
        ParentCaring => "Parent – caring for own child",
        ParentNotCaring => "Parent – not caring for own child",
        TeenageMother => "Teenage mother",
        CarerNotOwnChild => "Carer – not own child",
        SubstanceMisuse => "Substance misuse",
        SupervisedByYot => "Supervised by YOT",
        AlternativeProvision => "Alternative provision",
        FreeSchoolMeals => "Free school meals",
        ElectiveHomeEducation => "Elective home education",
        PupilReferralUnit => "Pupil referral unit",
    }
);

impl Characteristic {
    /// A short tag for tables that have no room for the label.
    pub fn tag(self) -> &'static str {
        use Characteristic::*;
        match self {
            LookedAfterThisLa | LookedAfterOtherLa => "CiC",
            CareLeaverThisLa | CareLeaverOtherLa => "CL",
            RefugeeAsylumSeeker | Uasc => "ASY",
            Pregnant => "PRG",
            ParentCaring | ParentNotCaring | TeenageMother => "PAR",
            CarerNotOwnChild => "CAR",
            SubstanceMisuse => "SUB",
            SupervisedByYot => "YOT",
            AlternativeProvision => "AP",
            FreeSchoolMeals => "FSM",
            ElectiveHomeEducation => "EHE",
            PupilReferralUnit => "PRU",
        }
    }
}

named_enum!(
    /// NCCIS level of need: 1 intensive, 2 extra, 3 minimum support.
    LevelOfNeed {
        Intensive => "1 – intensive support",
        Extra => "2 – extra support",
        Minimum => "3 – minimum support",
    }
);

named_enum!(PhoneLabel {
    Mobile => "Mobile",
    Home => "Home",
    ParentCarer => "Parent/carer",
    Other => "Other",
});

named_enum!(ConsentStatus {
    Given => "Consent given",
    Refused => "Consent refused",
    NotAsked => "Not yet asked",
});

/// A date-bounded characteristic. `end` is inclusive and optional.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacteristicSpan {
    #[serde(with = "crate::domain::serde_date")]
    pub start: NaiveDate,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub end: Option<NaiveDate>,
}

impl CharacteristicSpan {
    pub fn covers(&self, on: NaiveDate) -> bool {
        self.start <= on && self.end.is_none_or(|end| on <= end)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PersonName {
    pub given: ShortText,
    pub family: ShortText,
    pub preferred: Option<ShortText>,
}

impl PersonName {
    /// "Given Family", with the preferred name in quotes when it differs.
    pub fn display(&self) -> String {
        match &self.preferred {
            Some(p) if !p.is_empty() && *p != self.given => {
                format!("{} \"{}\" {}", self.given, p, self.family)
            }
            _ => format!("{} {}", self.given, self.family),
        }
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        if self.given.trim().is_empty() {
            return Err(DomainError::Empty("given name"));
        }
        if self.family.trim().is_empty() {
            return Err(DomainError::Empty("family name"));
        }
        check_len("given name", &self.given, MAX_NAME)?;
        check_len("family name", &self.family, MAX_NAME)?;
        if let Some(p) = &self.preferred {
            check_len("preferred name", p, MAX_NAME)?;
        }
        Ok(())
    }
}

/// Unique Pupil Number: a letter, eleven digits, then a digit or (for a temporary
/// UPN) a letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Upn(InlineAscii<13>);
serde_as_parsed_str!(Upn, "a UPN");

impl Upn {
    /// Allocates nothing: every summary decoded at unlock comes through here.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let v = value.trim();
        let mut b = [0u8; 13];
        let ok = v.len() == 13 && v.is_ascii() && {
            b.copy_from_slice(v.as_bytes());
            b.make_ascii_uppercase();
            b[0].is_ascii_uppercase()
                && b[1..12].iter().all(u8::is_ascii_digit)
                && b[12].is_ascii_alphanumeric()
        };
        match InlineAscii::from_ascii(&b) {
            Some(v) if ok => Ok(Self(v)),
            _ => Err(DomainError::Invalid {
                field: "UPN",
                reason: "expected a letter, 11 digits, then a digit or letter (13 characters)",
            }),
        }
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// Unique Learner Number: ten digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uln(InlineAscii<10>);
serde_as_parsed_str!(Uln, "a ULN");

impl Uln {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let v = value.trim();
        let ok = v.len() == 10 && v.bytes().all(|b| b.is_ascii_digit());
        match InlineAscii::new(v).filter(|_| ok) {
            Some(v) => Ok(Self(v)),
            None => Err(DomainError::Invalid {
                field: "ULN",
                reason: "expected 10 digits",
            }),
        }
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// A UK postcode, normalised to upper case with one space before the inward code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Postcode(InlineAscii<8>);
serde_as_parsed_str!(Postcode, "a postcode");

impl Postcode {
    /// Allocates nothing: every summary decoded at unlock comes through here.
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let bad = DomainError::Invalid {
            field: "postcode",
            reason: "not the shape of a UK postcode (for example ME14 1XQ)",
        };
        // The form this makes ("ME14 1XQ"), as every stored one is: checked
        // as it stands, without being made again.
        if let Some(p) = Self::as_made(value.as_bytes()) {
            return Ok(p);
        }
        let mut compact = [0u8; 7];
        let mut len = 0;
        for c in value.chars().filter(|c| !c.is_whitespace()) {
            if !c.is_ascii() || len == compact.len() {
                return Err(bad);
            }
            compact[len] = (c as u8).to_ascii_uppercase();
            len += 1;
        }
        if len < 5 {
            return Err(bad);
        }
        let (ob, ib) = compact[..len].split_at(len - 3);
        // "ME141XQ" -> "ME14 1XQ": one space before the inward code.
        let mut spaced = [b' '; 8];
        spaced[..ob.len()].copy_from_slice(ob);
        spaced[ob.len() + 1..=len].copy_from_slice(ib);
        match InlineAscii::from_ascii(&spaced[..=len]) {
            Some(v) if has_shape(ob, ib) => Ok(Self(v)),
            _ => Err(bad),
        }
    }

    /// `value` if it is already as `parse` makes a postcode: upper case,
    /// one space before the inward code, the shape right.
    fn as_made(value: &[u8]) -> Option<Self> {
        let (ob, spaced_ib) = value.split_at_checked(value.len().checked_sub(4)?)?;
        let ib = spaced_ib.strip_prefix(b" ")?;
        let upper = |b: &u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        let made = ob.iter().all(upper) && ib.iter().all(upper) && has_shape(ob, ib);
        InlineAscii::from_ascii(value).filter(|_| made).map(Self)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The outward and inward codes ("ME14", "1XQ").
    pub fn halves(&self) -> (&str, &str) {
        let text = self.as_str();
        // Made with one space before the three characters of the inward code.
        let (outward, inward) = text.split_at(text.len().saturating_sub(4));
        (outward, inward.trim_start())
    }
}

/// Whether an outward code (A9, A99, AA9, AA99, A9A, AA9A) and an inward code
/// (9AA) have a UK postcode's shape.
fn has_shape(outward: &[u8], inward: &[u8]) -> bool {
    let inward_ok = inward.len() == 3
        && inward[0].is_ascii_digit()
        && inward[1..].iter().all(u8::is_ascii_alphabetic);
    let letters = outward
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let rest = &outward[letters..];
    let outward_ok = (1..=2).contains(&letters)
        && !rest.is_empty()
        && rest[0].is_ascii_digit()
        && match rest.len() {
            1 => true,
            2 => rest[1].is_ascii_alphanumeric(),
            _ => false,
        };
    inward_ok && outward_ok
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub lines: Vec<String>,
    pub town: String,
    pub postcode: Option<Postcode>,
}

impl Address {
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.lines.len() > 4 {
            return Err(DomainError::Invalid {
                field: "address",
                reason: "at most four lines before the town",
            });
        }
        for line in &self.lines {
            check_len("address line", line, MAX_NAME)?;
        }
        check_len("town", &self.town, MAX_NAME)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    pub label: PhoneLabel,
    pub number: String,
}

impl PhoneNumber {
    pub fn new(label: PhoneLabel, number: &str) -> Result<Self, DomainError> {
        let number = number.trim();
        let digits = number.chars().filter(char::is_ascii_digit).count();
        let allowed = number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'));
        if !allowed || !(10..=15).contains(&digits) {
            return Err(DomainError::Invalid {
                field: "phone number",
                reason: "expected 10 to 15 digits, optionally with spaces, +, - or brackets",
            });
        }
        Ok(Self {
            label,
            number: number.to_string(),
        })
    }

    /// Digits only: what search matches against, so "07700 900" finds "07700900…".
    pub fn digits(&self) -> String {
        digits(&self.number)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialHandle {
    pub platform: String,
    pub handle: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactPreferences {
    pub preferred: Option<Channel>,
    pub avoid: Vec<Channel>,
    pub notes: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub status: ConsentStatus,
    #[serde(with = "crate::domain::serde_date::opt")]
    pub recorded_on: Option<NaiveDate>,
    pub note: String,
}

impl Consent {
    /// "Consent given (23/11/2026): by phone, to a.khan".
    pub fn describe(&self) -> String {
        let mut words = self.status.label().to_string();
        if let Some(on) = self.recorded_on {
            words.push_str(&format!(" ({})", super::dates::uk(on)));
        }
        if !self.note.is_empty() {
            words.push_str(&format!(": {}", self.note));
        }
        words
    }
}

impl Default for Consent {
    fn default() -> Self {
        Self {
            status: ConsentStatus::NotAsked,
            recorded_on: None,
            note: String::new(),
        }
    }
}

/// Assessment facts that feed the risk-of-NEET suggestion but are not NCCIS
/// characteristics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RiskIndicators {
    pub attendance_below_90: bool,
    pub exclusions: bool,
    pub english_additional_language: bool,
    pub not_on_track_level2: bool,
}

/// A young person as the caseworker sees them: the current value of every field.
/// Built by [`super::state::PersonState::young_person`] from the op fold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct YoungPerson {
    pub id: PersonId,
    pub name: PersonName,
    #[serde(with = "crate::domain::serde_date")]
    pub date_of_birth: NaiveDate,
    pub gender: Gender,
    pub upn: Option<Upn>,
    pub uln: Option<Uln>,
    pub address: Address,
    pub phones: Vec<PhoneNumber>,
    pub email: Option<String>,
    pub social: Vec<SocialHandle>,
    pub contact_preferences: ContactPreferences,
    pub consent: Consent,
    pub district: District,
    pub school_or_provider: Option<String>,
    pub send: SendStatus,
    pub characteristics: Vec<(Characteristic, CharacteristicSpan)>,
    pub level_of_need: Option<LevelOfNeed>,
    pub risk_indicators: RiskIndicators,
    pub assigned_workers: BTreeSet<WorkerId>,
    /// Numbers and addresses found not to work, kept so nobody tries them again.
    pub not_working: Vec<super::details::NotWorking>,
    /// Where they live and learn, by authority: whether the headline counts them.
    #[serde(default, deserialize_with = "super::serde_added::or_empty")]
    pub residence: super::residence::Residence,
}

impl YoungPerson {
    pub fn area(&self) -> Area {
        self.district.area()
    }
    pub fn academic_age(&self, on: NaiveDate) -> i32 {
        academic::academic_age(self.date_of_birth, on)
    }
    pub fn year_group(&self, on: NaiveDate) -> i32 {
        academic::year_group(self.date_of_birth, on)
    }
    pub fn in_statutory_cohort(&self, on: NaiveDate, send_upper_age: i32) -> bool {
        academic::in_statutory_cohort(
            self.date_of_birth,
            on,
            self.send.has_ehc_plan(),
            send_upper_age,
        )
    }
    pub fn has_characteristic(&self, c: Characteristic, on: NaiveDate) -> bool {
        self.characteristics
            .iter()
            .any(|(k, span)| *k == c && span.covers(on))
    }
}

/// Rejects a date of birth in the future or implausibly long ago.
pub fn validate_date_of_birth(dob: NaiveDate, today: NaiveDate) -> Result<(), DomainError> {
    if dob > today {
        return Err(DomainError::BirthInFuture(dob));
    }
    // "More than 30 years ago" to the day: 30 years and a month is refused.
    if today
        .checked_sub_months(chrono::Months::new(12 * 30))
        .is_some_and(|limit| dob < limit)
    {
        return Err(DomainError::BirthTooEarly(dob));
    }
    Ok(())
}

/// The digits of a typed number, for comparing numbers however they are spaced.
pub fn digits(typed: &str) -> String {
    typed.chars().filter(char::is_ascii_digit).collect()
}

pub fn validate_email(email: &str) -> Result<(), DomainError> {
    let e = email.trim();
    check_len("email", e, 254)?;
    match e.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace) =>
        {
            Ok(())
        }
        _ => Err(DomainError::Invalid {
            field: "email",
            reason: "expected name@domain",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postcodes_normalise_and_reject_bad_shapes() {
        assert_eq!(Postcode::parse("me14 1xq").unwrap().as_str(), "ME14 1XQ");
        assert_eq!(Postcode::parse("CT9  1AB").unwrap().as_str(), "CT9 1AB");
        assert_eq!(Postcode::parse("W1A0AX").unwrap().as_str(), "W1A 0AX");
        assert_eq!(Postcode::parse("TN1 1AA").unwrap().as_str(), "TN1 1AA");
        for bad in [
            "",
            "ME14",
            "1234 567",
            "ME14 XQ1",
            "MEE14 1XQ",
            "ME14 1X",
            "ÄE1 1AA",
        ] {
            assert!(Postcode::parse(bad).is_err(), "{bad:?} accepted");
        }
        // Already in the form parsing makes, or nearly: the same checks.
        for bad in [
            "ME14 XQ1",
            "MEE14 1XQ",
            "1234 567",
            "ME14  1XQ",
            " ME14 1XQ",
        ] {
            if let Ok(p) = Postcode::parse(bad) {
                assert_eq!(p.as_str(), "ME14 1XQ", "{bad:?}");
            }
        }
        assert_eq!(Postcode::parse("ME1 41XQ").unwrap().as_str(), "ME14 1XQ");
        let p = Postcode::parse("w1a0ax").unwrap();
        assert_eq!(p.halves(), ("W1A", "0AX"));
        assert_eq!(Postcode::parse("CT9 1AB").unwrap().halves(), ("CT9", "1AB"));
    }

    #[test]
    fn upn_and_uln_shapes() {
        assert!(Upn::parse("A886123456789").is_ok());
        assert!(Upn::parse("a88612345678B").is_ok());
        assert!(Upn::parse("A88612345678").is_err());
        assert!(Upn::parse("1886123456789").is_err());
        assert!(Uln::parse("1234567890").is_ok());
        assert!(Uln::parse("12345").is_err());
    }

    #[test]
    fn identifiers_are_strings_on_disk_and_decoding_checks_them_as_typing_does() {
        // Stored when these were `String`s: the same bytes decode to the same value.
        let stored =
            postcard::to_allocvec(&("A88612345678B", "1234567890", "CT9 1AB")).expect("encode");
        let (upn, uln, postcode): (Upn, Uln, Postcode) =
            postcard::from_bytes(&stored).expect("decode");
        assert_eq!(upn.as_str(), "A88612345678B");
        assert_eq!(uln.as_str(), "1234567890");
        assert_eq!(postcode.as_str(), "CT9 1AB");
        assert_eq!(
            postcard::to_allocvec(&(upn, uln, postcode)).expect("encode"),
            stored
        );
        assert_eq!(
            serde_json::to_string(&postcode).expect("json"),
            "\"CT9 1AB\""
        );
        for hostile in ["A88612345678B-and-then-some", "", "NOT A CODE"] {
            let bytes = postcard::to_allocvec(&hostile).expect("encode");
            assert!(postcard::from_bytes::<Upn>(&bytes).is_err(), "{hostile:?}");
            assert!(postcard::from_bytes::<Uln>(&bytes).is_err(), "{hostile:?}");
            assert!(
                postcard::from_bytes::<Postcode>(&bytes).is_err(),
                "{hostile:?}"
            );
        }
        let many = serde_json::from_str::<Vec<Postcode>>(r#"["me14 1xq"]"#).expect("json");
        assert_eq!(many[0].as_str(), "ME14 1XQ");
    }

    proptest::proptest! {
        /// Decoding re-parses what was stored, so parsing what parsing made
        /// must give it back unchanged, for any input that parses.
        #[test]
        fn parsing_a_parsed_identifier_gives_it_back(
            text in proptest::prop_oneof![
                " ?[A-Za-z]{1,2}[0-9][A-Za-z0-9]?[ \t]{0,2}[0-9][A-Za-z]{2} ?",
                " ?[A-Za-z][0-9]{11}[A-Za-z0-9] ?",
                " ?[0-9]{10} ?",
                "[A-Za-z0-9 \t]{0,16}",
            ],
        ) {
            if let Ok(p) = Postcode::parse(&text) {
                proptest::prop_assert_eq!(Postcode::parse(p.as_str()).ok(), Some(p));
            }
            if let Ok(u) = Upn::parse(&text) {
                proptest::prop_assert_eq!(Upn::parse(u.as_str()).ok(), Some(u));
            }
            if let Ok(u) = Uln::parse(&text) {
                proptest::prop_assert_eq!(Uln::parse(u.as_str()).ok(), Some(u));
            }
        }
    }

    #[test]
    fn phone_numbers_need_enough_digits() {
        assert!(PhoneNumber::new(PhoneLabel::Mobile, "07700 900123").is_ok());
        assert!(PhoneNumber::new(PhoneLabel::Mobile, "+44 (0)1227 123456").is_ok());
        assert!(PhoneNumber::new(PhoneLabel::Mobile, "123").is_err());
        assert!(PhoneNumber::new(PhoneLabel::Mobile, "07700 9001x3").is_err());
    }

    #[test]
    fn date_of_birth_rules() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let tomorrow = today.succ_opt().unwrap();
        assert_eq!(
            validate_date_of_birth(tomorrow, today),
            Err(DomainError::BirthInFuture(tomorrow))
        );
        let old = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        assert!(validate_date_of_birth(old, today).is_err());
        let ok = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        assert!(validate_date_of_birth(ok, today).is_ok());
        // Thirty years to the day is the limit; 30 years and a day is over it.
        let thirty = NaiveDate::from_ymd_opt(1996, 11, 23).unwrap();
        assert!(validate_date_of_birth(thirty, today).is_ok());
        let over = thirty.pred_opt().unwrap();
        assert_eq!(
            validate_date_of_birth(over, today),
            Err(DomainError::BirthTooEarly(over))
        );
        assert!(
            DomainError::BirthTooEarly(over)
                .to_string()
                .contains("22/11/1996")
        );
    }

    #[test]
    fn names_are_required_and_bounded() {
        let mut n = PersonName {
            given: "Ada".into(),
            family: "Stone".into(),
            preferred: Some("Addy".into()),
        };
        assert!(n.validate().is_ok());
        assert_eq!(n.display(), "Ada \"Addy\" Stone");
        n.family = "  ".into();
        assert_eq!(n.validate(), Err(DomainError::Empty("family name")));
        n.family = "x".repeat(101).into();
        assert!(matches!(n.validate(), Err(DomainError::TooLong { .. })));
    }

    #[test]
    fn enums_parse_by_label_or_variant() {
        assert_eq!(Gender::parse("female"), Ok(Gender::Female));
        assert_eq!(SendStatus::parse("ehc plan"), Ok(SendStatus::EhcPlan));
        assert_eq!(SendStatus::parse("EhcPlan"), Ok(SendStatus::EhcPlan));
        assert_eq!(
            Characteristic::parse("supervised by yot"),
            Ok(Characteristic::SupervisedByYot)
        );
        assert!(Characteristic::parse("wizard").is_err());
    }

    #[test]
    fn characteristic_spans_are_inclusive() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let span = CharacteristicSpan {
            start: d(1, 1),
            end: Some(d(6, 30)),
        };
        assert!(span.covers(d(1, 1)) && span.covers(d(6, 30)));
        assert!(!span.covers(d(7, 1)));
    }
}
