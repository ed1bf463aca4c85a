//! Cohort import: a council's CSV of young people (docs/import-format.md).
//!
//! Every row is checked first; if any row is bad, nothing is written and every
//! problem is reported with its line, column and reason. Rows are matched to
//! people already in the store by UPN, else ULN, else name and date of birth,
//! and only what differs is written, as ordinary ops (so an import syncs like
//! any other change, and importing the same file twice writes nothing).

use crate::domain::activity::ActivitySource;
use crate::domain::dates::parse_date;
use crate::domain::error::DomainError;
use crate::domain::fingerprint::CohortFingerprint;
use crate::domain::ops::{FieldKey, FieldSet};
use crate::domain::person::{
    self, Address, Characteristic, CharacteristicSpan, Gender, LevelOfNeed, PersonName, PhoneLabel,
    PhoneNumber, Postcode, SendStatus, Uln, Upn,
};
use crate::domain::residence::{Authority, Residence};
use crate::domain::text::{self, ShortText, lower_case};
use crate::domain::{
    CurrentActivity, District, FieldValue, OpPayload, PersonId, PersonState, WorkerId,
};
use crate::replica::Replica;
use crate::store::{Origin, StoreError};
use chrono::NaiveDate;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;

mod source;
pub use source::{CohortFile, CohortReader, FileRows, RowSketch, RowSource};

/// The columns caseload reads; `*` marks the required ones.
pub const COLUMNS: &[&str] = &[
    "upn",
    "uln",
    "given_name*",
    "family_name*",
    "preferred_name",
    "date_of_birth*",
    "gender",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
    "mobile",
    "home_phone",
    "parent_phone",
    "email",
    "district*",
    "school_or_provider",
    "send",
    "level_of_need",
    "characteristics",
    "activity_code",
    "activity_start",
    "activity_confirmed",
    "activity_expected_end",
    "activity_provider",
    "assigned_worker",
    "la_of_residence",
    "la_of_education",
];

/// What tells two records apart: UPN and ULN.
type Ids = (Option<Upn>, Option<Uln>);
/// Lower-case given and family names with the date of birth.
type NameKey = (ShortText, ShortText, NaiveDate);
/// The UPN and ULN of everyone with one name and date of birth: nearly
/// always one, held inline (one allocation a name key fewer).
type Namesakes<T> = smallvec::SmallVec<[(T, Ids); 1]>;

/// The name key of a name and date of birth.
fn name_key(name: &PersonName, date_of_birth: NaiveDate) -> NameKey {
    (
        lower_case(&name.given),
        lower_case(&name.family),
        date_of_birth,
    )
}

/// Maps keyed by what a file or a record gives: hashed with foldhash, seeded
/// at random in each process (a file's author cannot choose keys that
/// collide), not std's SipHash, which was a tenth of building the matcher.
type KeyMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl CohortRow {
    /// What a row's record is found by: its UPN and ULN, and its name key.
    fn keys(&self) -> (Ids, NameKey) {
        (
            (self.upn, self.uln),
            name_key(&self.name, self.date_of_birth),
        )
    }
}

/// A date as a file gives it: DD/MM/YYYY or YYYY-MM-DD. As
/// `NaiveDate::parse_from_str`, with each format read once, not once a cell
/// (that was a fiftieth of checking a 52,500-row file).
fn file_date(text: &str) -> Option<NaiveDate> {
    use chrono::format::{Item, Parsed, StrftimeItems};
    // Both formats written in full (two-digit day and month), as nearly every
    // file gives them, read by hand: chrono's general parser was a seventh
    // of reading a row. Anything else (a one-digit day, a sign) goes to it.
    if let Some(date) = full_file_date(text.as_bytes()) {
        return date;
    }
    static FORMATS: std::sync::LazyLock<[Vec<Item<'static>>; 2]> = std::sync::LazyLock::new(|| {
        ["%d/%m/%Y", "%Y-%m-%d"].map(|f| StrftimeItems::new(f).collect())
    });
    FORMATS.iter().find_map(|items| {
        let mut parsed = Parsed::new();
        chrono::format::parse(&mut parsed, text, items.iter()).ok()?;
        parsed.to_naive_date().ok()
    })
}

/// `Some(answer)` when `text` is DD/MM/YYYY or YYYY-MM-DD with every digit
/// given; `None` to leave it to chrono.
fn full_file_date(text: &[u8]) -> Option<Option<NaiveDate>> {
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let (day, month, year) = match text {
        [_, _, b'/', _, _, b'/', _, _, _, _] => (&text[0..2], &text[3..5], &text[6..10]),
        [_, _, _, _, b'-', _, _, b'-', _, _] => (&text[8..10], &text[5..7], &text[0..4]),
        _ => return None,
    };
    let (day, month, year) = (number(day)?, number(month)?, number(year)?);
    Some(NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        month,
        day,
    ))
}

/// One problem with one cell (or row) of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// A checked row: the values it sets, and what identifies the person.
#[derive(Clone, Debug)]
pub struct CohortRow {
    pub line: usize,
    pub upn: Option<Upn>,
    pub uln: Option<Uln>,
    pub name: PersonName,
    pub date_of_birth: NaiveDate,
    /// Every field the row gives a value for (empty cells give none).
    pub values: Vec<FieldValue>,
}

impl CohortRow {
    /// The row's values as the fields of a new young person's record.
    fn as_new_person(&self) -> Vec<FieldSet> {
        self.values
            .iter()
            .map(|v| FieldSet::new(v.clone()))
            .collect()
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: usize,
    pub new_people: usize,
    pub updated_people: usize,
    pub changed_fields: usize,
    pub unchanged: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{} in {}; nothing was imported", count(.0.len(), "problem"), count(rows_with_problems(.0), "row"))]
    Invalid(Vec<RowError>),
    #[error("the file could not be read as CSV: {0}")]
    Csv(String),
    #[error("cannot read {0}")]
    Read(String),
    #[error("the file changed while it was being imported; nothing was imported")]
    Changed,
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Unknown columns listed one by one before the rest are counted.
const MAX_UNKNOWN_COLUMNS_SHOWN: usize = 10;

/// A header as it may be shown: cut short, and only printable characters.
fn column_label(h: &str) -> String {
    let shown: String = h
        .chars()
        .take(40)
        .map(|c| {
            if text::refused_char(c, false).is_some() {
                '?'
            } else {
                c
            }
        })
        .collect();
    if h.chars().count() > 40 {
        format!("{shown}…")
    } else {
        shown
    }
}

/// The file column a domain refusal is about (its field, in the file's words).
fn column_of(e: &DomainError) -> String {
    let known = |c: &str| COLUMNS.iter().any(|k| key(k) == c);
    match e
        .field()
        .map(|f| crate::domain::error::words(f).replace(' ', "_"))
    {
        Some(c) if known(&c) => c,
        Some(c) if c == "current_activity" => "activity_code".into(),
        Some(c) if c == "provider" => "activity_provider".into(),
        Some(c) if c == "activity_confirmation" => "activity_confirmed".into(),
        Some(c) if c == "expected_end" => "activity_expected_end".into(),
        Some(c) if c == "assigned_workers" => "assigned_worker".into(),
        _ => "-".into(),
    }
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// How many distinct lines of the file have a problem.
fn rows_with_problems(errors: &[RowError]) -> usize {
    errors.iter().map(|e| e.line).collect::<BTreeSet<_>>().len()
}

fn key(name: &str) -> String {
    name.trim_end_matches('*').to_string()
}

/// Reads and checks a whole file into memory. Returns every problem, not
/// just the first. (An import reads its file part by part: `CohortFile`.)
pub fn parse(input: impl Read, today: NaiveDate) -> Result<Vec<CohortRow>, ImportError> {
    let mut reader = CohortReader::new(input, today)?;
    let mut rows = Vec::new();
    while let Some(row) = reader.next_row() {
        rows.push(row);
    }
    reader.finish()?;
    Ok(rows)
}

fn parse_row<'r>(
    line: usize,
    cell: &dyn Fn(&str) -> Option<&'r str>,
    today: NaiveDate,
    err: &mut dyn FnMut(&str, String),
) -> Option<CohortRow> {
    let mut ok = true;
    let mut fail = |col: &str, reason: String, ok: &mut bool| {
        err(col, reason);
        *ok = false;
    };
    // Dates are typed as DD/MM/YYYY or YYYY-MM-DD; relative words make no sense in a file.
    let date = |col: &str,
                ok: &mut bool,
                fail: &mut dyn FnMut(&str, String, &mut bool)|
     -> Option<NaiveDate> {
        let v = cell(col)?;
        let parsed = file_date(v);
        if parsed.is_none() {
            fail(
                col,
                format!("{v:?} is not a date (use DD/MM/YYYY or YYYY-MM-DD)"),
                ok,
            );
        }
        parsed
    };
    let given = cell("given_name");
    let family = cell("family_name");
    if given.is_none() {
        fail("given_name", "required".into(), &mut ok);
    }
    if family.is_none() {
        fail("family_name", "required".into(), &mut ok);
    }
    let name = PersonName {
        given: given.unwrap_or_default().into(),
        family: family.unwrap_or_default().into(),
        preferred: cell("preferred_name").map(Into::into),
    };
    if ok && let Err(e) = name.validate() {
        fail("given_name", e.to_string(), &mut ok);
    }
    let dob = date("date_of_birth", &mut ok, &mut fail);
    if cell("date_of_birth").is_none() {
        fail("date_of_birth", "required".into(), &mut ok);
    }
    if let Some(d) = dob
        && let Err(e) = person::validate_date_of_birth(d, today)
    {
        fail("date_of_birth", e.to_string(), &mut ok);
    }
    let district = match cell("district") {
        None => {
            fail("district", "required".into(), &mut ok);
            None
        }
        Some(v) => District::parse(v)
            .map_err(|e| fail("district", e.to_string(), &mut ok))
            .ok(),
    };
    // Room for every value a row may give: grown by doubling, this vector
    // was reallocated three times a row.
    let mut values = Vec::with_capacity(COLUMNS.len());
    values.push(FieldValue::Name(name.clone()));
    let upn = cell("upn").and_then(|v| {
        Upn::parse(v)
            .map_err(|e| fail("upn", e.to_string(), &mut ok))
            .ok()
    });
    let uln = cell("uln").and_then(|v| {
        Uln::parse(v)
            .map_err(|e| fail("uln", e.to_string(), &mut ok))
            .ok()
    });
    if let Some(u) = &upn {
        values.push(FieldValue::Upn(Some(*u)));
    }
    if let Some(u) = &uln {
        values.push(FieldValue::Uln(Some(*u)));
    }
    if let Some(g) = cell("gender") {
        match Gender::parse(g) {
            Ok(g) => values.push(FieldValue::Gender(g)),
            Err(e) => fail("gender", e.to_string(), &mut ok),
        }
    }
    let postcode = cell("postcode").and_then(|v| {
        Postcode::parse(v)
            .map_err(|e| fail("postcode", e.to_string(), &mut ok))
            .ok()
    });
    let lines: Vec<String> = ["address_line_1", "address_line_2"]
        .iter()
        .filter_map(|c| cell(c))
        .map(str::to_string)
        .collect();
    if !lines.is_empty() || postcode.is_some() || cell("town").is_some() {
        let address = Address {
            lines,
            town: cell("town").unwrap_or_default().to_string(),
            postcode,
        };
        match address.validate() {
            Ok(()) => values.push(FieldValue::Address(address)),
            Err(e) => {
                // Blame the column that holds the fault.
                let column = match &e {
                    DomainError::TooLong { field: "town", .. } => "town",
                    _ => ["address_line_1", "address_line_2"]
                        .into_iter()
                        .find(|c| cell(c).is_some_and(|v| v.chars().count() > person::MAX_NAME))
                        .unwrap_or("address_line_1"),
                };
                fail(column, e.to_string(), &mut ok)
            }
        }
    }
    let mut phones = Vec::new();
    for (col, label) in [
        ("mobile", PhoneLabel::Mobile),
        ("home_phone", PhoneLabel::Home),
        ("parent_phone", PhoneLabel::ParentCarer),
    ] {
        if let Some(v) = cell(col) {
            match PhoneNumber::new(label, v) {
                Ok(p) => phones.push(p),
                Err(e) => fail(col, e.to_string(), &mut ok),
            }
        }
    }
    if !phones.is_empty() {
        phones.sort_by_key(|p| p.label);
        values.push(FieldValue::Phones(phones));
    }
    if let Some(e) = cell("email") {
        match person::validate_email(e) {
            Ok(()) => values.push(FieldValue::Email(Some(e.to_string()))),
            Err(er) => fail("email", er.to_string(), &mut ok),
        }
    }
    if let Some(d) = district {
        values.push(FieldValue::District(d));
    }
    if let Some(s) = cell("school_or_provider") {
        values.push(FieldValue::SchoolOrProvider(Some(s.to_string())));
    }
    // Blank in both leaves the record's residence as it is (a resident).
    let (lives, learns) = (cell("la_of_residence"), cell("la_of_education"));
    if lives.is_some() || learns.is_some() {
        let lives = Authority::parse(lives.unwrap_or(""))
            .map_err(|e| fail("la_of_residence", e.to_string(), &mut ok));
        let learns = Residence::parse_learns(learns.unwrap_or(""))
            .map_err(|e| fail("la_of_education", e.to_string(), &mut ok));
        if let (Ok(lives), Ok(learns)) = (lives, learns) {
            values.push(FieldValue::Residence(Residence::new(lives, learns)));
        }
    }
    if let Some(s) = cell("send") {
        let parsed = match s.to_lowercase().as_str() {
            "no" | "none" | "n" => Ok(SendStatus::NoSend),
            _ => SendStatus::parse(s),
        };
        match parsed {
            Ok(s) => values.push(FieldValue::Send(s)),
            Err(e) => fail("send", e.to_string(), &mut ok),
        }
    }
    if let Some(l) = cell("level_of_need") {
        let parsed = match l {
            "1" => Ok(LevelOfNeed::Intensive),
            "2" => Ok(LevelOfNeed::Extra),
            "3" => Ok(LevelOfNeed::Minimum),
            other => LevelOfNeed::parse(other),
        };
        match parsed {
            Ok(l) => values.push(FieldValue::LevelOfNeed(Some(l))),
            Err(_) => fail("level_of_need", format!("{l:?} is not 1, 2 or 3"), &mut ok),
        }
    }
    if let Some(list) = cell("characteristics") {
        for item in list.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, start) = match item.rsplit_once('@') {
                Some((n, d)) => (n.trim(), Some(d.trim())),
                None => (item, None),
            };
            let start = match start {
                None => dob
                    .map(|d| d.max(today - chrono::Days::new(365)))
                    .unwrap_or(today),
                Some(d) => match parse_date(d, today) {
                    Ok(d) => d,
                    Err(e) => {
                        fail("characteristics", e.to_string(), &mut ok);
                        continue;
                    }
                },
            };
            match Characteristic::parse(name) {
                Ok(c) => values.push(FieldValue::Characteristic(
                    c,
                    Some(CharacteristicSpan { start, end: None }),
                )),
                Err(e) => fail("characteristics", e.to_string(), &mut ok),
            }
        }
    }
    if let Some(code) = cell("activity_code") {
        let start = date("activity_start", &mut ok, &mut fail);
        let confirmed = date("activity_confirmed", &mut ok, &mut fail).or(start);
        let expected_end = date("activity_expected_end", &mut ok, &mut fail);
        match (code.parse(), start, confirmed) {
            (Err(e), _, _) => fail("activity_code", format!("{e}"), &mut ok),
            (_, None, _) if cell("activity_start").is_none() => fail(
                "activity_start",
                "required with an activity code".into(),
                &mut ok,
            ),
            (Ok(code), Some(start), Some(confirmed)) => {
                let a = CurrentActivity {
                    code,
                    start,
                    confirmed,
                    source: ActivitySource::Import,
                    expected_end,
                    provider: cell("activity_provider").map(Into::into),
                };
                match dob.map(|d| a.validate(d, today)) {
                    Some(Err(e)) => {
                        // Refusals naming no column of their own are the start's.
                        let column = Some(column_of(&e)).filter(|c| c != "-");
                        let column = column.as_deref().unwrap_or("activity_start");
                        fail(column, e.to_string(), &mut ok)
                    }
                    _ => values.push(FieldValue::CurrentActivity(a)),
                }
            }
            _ => {}
        }
    } else if cell("activity_start").is_some() {
        fail(
            "activity_code",
            "a start date needs an activity code".into(),
            &mut ok,
        );
    }
    if let Some(w) = cell("assigned_worker") {
        values.push(FieldValue::AssignedWorkers(BTreeSet::from([
            WorkerId::new(w),
        ])));
    }
    let date_of_birth = dob?;
    values.push(FieldValue::DateOfBirth(date_of_birth));
    ok.then_some(CohortRow {
        line,
        upn,
        uln,
        name,
        date_of_birth,
        values,
    })
}

/// Whether UPNs or ULNs show two records are different people.
fn distinguishable(a: &Ids, b: &Ids) -> bool {
    let differ = |x: Option<&str>, y: Option<&str>| matches!((x, y), (Some(x), Some(y)) if x != y);
    differ(a.0.as_ref().map(Upn::as_str), b.0.as_ref().map(Upn::as_str))
        || differ(a.1.as_ref().map(Uln::as_str), b.1.as_ref().map(Uln::as_str))
}

/// Finds the person a row is about: UPN, else ULN, else name and date of birth
/// (only someone whose UPN and ULN do not say otherwise).
/// Holds its keys (UPN and ULN are inline): built from the summaries the
/// target lends, not from a copy of them (52,500 summaries, 20 ms and about
/// 25 MB at the start of every import).
struct Matcher {
    by_upn: KeyMap<Upn, PersonId>,
    by_uln: KeyMap<Uln, PersonId>,
    by_name: KeyMap<NameKey, Namesakes<PersonId>>,
    /// Each record's cohort fingerprint as it stood before the import.
    fingerprints: KeyMap<PersonId, CohortFingerprint>,
}

impl Matcher {
    fn new(people: crate::domain::Summaries<'_>) -> Self {
        let n = people.len();
        let mut m = Matcher {
            by_upn: KeyMap::with_capacity_and_hasher(n, Default::default()),
            by_uln: KeyMap::with_capacity_and_hasher(n, Default::default()),
            by_name: KeyMap::with_capacity_and_hasher(n, Default::default()),
            fingerprints: KeyMap::with_capacity_and_hasher(n, Default::default()),
        };
        for s in people {
            if let Some(f) = s.cohort_fingerprint {
                m.fingerprints.insert(s.id, f);
            }
            if let Some(u) = s.upn {
                m.by_upn.insert(u, s.id);
            }
            if let Some(u) = s.uln {
                m.by_uln.insert(u, s.id);
            }
            m.by_name
                .entry(name_key(&s.name, s.date_of_birth))
                .or_default()
                .push((s.id, (s.upn, s.uln)));
        }
        m
    }

    /// Whether a row with this fingerprint gives exactly the values `id`'s
    /// record holds for the fields a cohort file may set, so that it would
    /// change nothing (`domain::fingerprint`). `false` says only "compare
    /// with the record".
    fn holds_already(&self, id: PersonId, row: Option<CohortFingerprint>) -> bool {
        row.is_some_and(|row| self.fingerprints.get(&id) == Some(&row))
    }

    /// The record a row with these keys is about, if any.
    fn find(&self, ids: &Ids, name: &NameKey) -> Option<PersonId> {
        ids.0
            .as_ref()
            .and_then(|u| self.by_upn.get(u))
            .or_else(|| ids.1.as_ref().and_then(|u| self.by_uln.get(u)))
            .copied()
            .or_else(|| {
                self.by_name
                    .get(name)?
                    .iter()
                    .find(|(_, other)| !distinguishable(other, ids))
                    .map(|(id, _)| *id)
            })
    }

    /// A row's record, if it has one, and whether the row would leave it as
    /// it is, judged from its fingerprint alone.
    /// (The fingerprint is made only for a row that matches a record.)
    fn judge(
        &self,
        ids: &Ids,
        name: &NameKey,
        fingerprint: impl FnOnce() -> Option<CohortFingerprint>,
    ) -> Judged {
        match self.find(ids, name) {
            Some(id) if self.holds_already(id, fingerprint()) => Judged::Unchanged,
            found => Judged::ToCompare(found),
        }
    }
}

/// What matching and a fingerprint tell of a row before its record is read.
enum Judged {
    /// It matches a record and would change nothing.
    Unchanged,
    /// Its record (if it has one) must be read and compared.
    ToCompare(Option<PersonId>),
}

/// What the row's value becomes for this person: a file without a preferred
/// name keeps the one recorded, and phone numbers replace only the kinds the
/// file gives (a mobile an officer added survives a file with a home number).
fn merged(state: &PersonState, value: &FieldValue) -> FieldValue {
    match (value, state.field(value.key())) {
        (FieldValue::Name(new), Some(FieldValue::Name(old))) if new.preferred.is_none() => {
            FieldValue::Name(PersonName {
                preferred: old.preferred.clone(),
                ..new.clone()
            })
        }
        (FieldValue::Phones(new), Some(FieldValue::Phones(old))) => {
            // Keep the recorded order: replace numbers of the kinds the file
            // gives where they stand, then add kinds not yet recorded.
            let mut phones: Vec<PhoneNumber> = old
                .iter()
                .map(|p| new.iter().find(|n| n.label == p.label).unwrap_or(p).clone())
                .collect();
            phones.extend(
                new.iter()
                    .filter(|n| !old.iter().any(|p| p.label == n.label))
                    .cloned(),
            );
            phones.dedup_by(|a, b| a.label == b.label && a.number == b.number);
            FieldValue::Phones(phones)
        }
        _ => value.clone(),
    }
}

/// The field sets that bring `state` to what the row says (only real changes).
fn changes(state: &PersonState, row: &CohortRow) -> Vec<FieldSet> {
    row.values
        .iter()
        .map(|v| merged(state, v))
        .filter(|v| state.field(v.key()) != Some(v))
        // A characteristic already held keeps its original start date.
        .filter(|v| {
            !matches!(
                (v.key(), state.field(v.key())),
                (
                    FieldKey::Characteristic(_),
                    Some(FieldValue::Characteristic(_, Some(_)))
                )
            )
        })
        .map(|v| FieldSet {
            supersedes: state
                .register(v.key())
                .map(|r| r.heads())
                .unwrap_or_default(),
            value: v,
        })
        .collect()
}

use crate::domain::Op;
use crate::store::OpTarget;

impl OpTarget for Replica {
    fn people(&self) -> crate::domain::Summaries<'_> {
        self.index().all()
    }
    fn person(&self, id: PersonId) -> Result<Option<PersonState>, StoreError> {
        Replica::person(self, id)
    }
    fn new_op(&mut self, person: PersonId, payload: OpPayload) -> crate::domain::Op {
        Replica::new_op(self, person, payload)
    }
    fn commit(&mut self, ops: &[crate::domain::Op]) -> Result<(), StoreError> {
        Replica::commit(self, ops, Origin::Local).map(|_| ())
    }
    fn commit_in_parts<E: From<StoreError>>(
        &mut self,
        next: &mut crate::store::NextPart<'_, Self, E>,
    ) -> Result<(), E> {
        Replica::commit_in_parts(self, next).map(drop)
    }
}

/// Rows worked out and written a part at a time: what bounds an import's
/// memory, whatever the size of the file.
const ROWS_A_PART: usize = 2_000;

/// Writes the checked rows: new people registered, existing ones changed where
/// the file differs. All or nothing: each change is worked out and checked
/// against the record as it stands, part by part, and the parts are committed
/// together (`OpTarget::commit_in_parts`), so a refusal, an error, a changed
/// file or a killed process leaves the store as it was.
pub fn apply(
    target: &mut impl OpTarget,
    rows: impl RowSource,
    today: NaiveDate,
) -> Result<ImportReport, ImportError> {
    let matching = Matching::of(target);
    apply_matching(target, matching, rows, today)
}

/// Works out and checks every change an import would make, writing nothing:
/// what `--dry-run` reports, by exactly the steps `apply` takes.
pub fn plan(
    target: &mut impl OpTarget,
    rows: impl RowSource,
    today: NaiveDate,
) -> Result<ImportReport, ImportError> {
    let matching = Matching::of(target);
    plan_matching(target, matching, rows, today)
}

/// `apply` with the target's people already keyed for matching.
pub fn apply_matching(
    target: &mut impl OpTarget,
    matching: Matching,
    rows: impl RowSource,
    today: NaiveDate,
) -> Result<ImportReport, ImportError> {
    run(target, matching, rows, today, true)
}

/// `plan` with the target's people already keyed for matching.
pub fn plan_matching(
    target: &mut impl OpTarget,
    matching: Matching,
    rows: impl RowSource,
    today: NaiveDate,
) -> Result<ImportReport, ImportError> {
    run(target, matching, rows, today, false)
}

/// A store's people keyed for matching rows to them: the first thing an
/// import builds (45 ms for 52,500 people), which the command builds while
/// the file is still being checked. Valid until the store next changes.
pub struct Matching(Matcher);

impl Matching {
    pub fn of(target: &impl OpTarget) -> Self {
        Matching(Matcher::new(target.people()))
    }
}

fn run<T: OpTarget>(
    target: &mut T,
    Matching(matcher): Matching,
    mut source: impl RowSource,
    today: NaiveDate,
    write: bool,
) -> Result<ImportReport, ImportError> {
    let mut planner = Planner {
        matcher,
        today,
        report: ImportReport::default(),
        errors: Vec::new(),
    };
    // Rows a first reading decided change nothing are not read again; if
    // that is every row, the file is not read again at all.
    let sketches = source.take_sketches();
    let passed = planner.pass_unchanged(&sketches);
    if !sketches.is_empty() && passed.len() == sketches.len() {
        return Ok(planner.report);
    }
    drop(sketches);
    source.pass_over(passed);
    let mut source = Some(source);
    let mut next = |target: &mut T| -> Result<Option<Vec<Op>>, ImportError> {
        let Some(rows_left) = source.as_mut() else {
            return Ok(None);
        };
        let rows: Vec<CohortRow> = std::iter::from_fn(|| rows_left.next_row())
            .take(ROWS_A_PART)
            .collect();
        if rows.is_empty() {
            let read = source.take().map_or(Ok(()), RowSource::finish);
            return planner.finish(read).map(|()| None);
        }
        let ops = planner.ops_for(target, &rows)?;
        // After a problem every row is still checked (all are told), but
        // nothing more is handed over to write.
        Ok(Some(if planner.errors.is_empty() {
            ops
        } else {
            Vec::new()
        }))
    };
    if write {
        target.commit_in_parts(&mut next)?;
    } else {
        while next(target)?.is_some() {}
    }
    Ok(planner.report)
}

/// Works out each row's change against the records as they stood before the
/// import, and checks it like any other change.
struct Planner {
    matcher: Matcher,
    today: NaiveDate,
    report: ImportReport,
    errors: Vec<RowError>,
}

impl Planner {
    fn ops_for(
        &mut self,
        target: &mut impl OpTarget,
        rows: &[CohortRow],
    ) -> Result<Vec<Op>, StoreError> {
        let mut ops = Vec::new();
        for row in rows {
            self.report.rows += 1;
            let (ids, name) = row.keys();
            // An unchanged row of a re-import, passed without reading its
            // record: equal values set nothing (what `changes` would find).
            let fingerprint = || CohortFingerprint::of(&row.values);
            let found = match self.matcher.judge(&ids, &name, fingerprint) {
                Judged::Unchanged => {
                    self.report.unchanged += 1;
                    continue;
                }
                Judged::ToCompare(found) => found,
            };
            let state = found.map(|id| target.person(id)).transpose()?.flatten();
            let (id, sets) = match (found, &state) {
                (Some(id), Some(state)) => (id, changes(state, row)),
                (Some(id), None) => (id, changes(&PersonState::new(id), row)),
                (None, _) => (PersonId::mint(), row.as_new_person()),
            };
            if sets.is_empty() {
                self.report.unchanged += 1;
                continue;
            }
            if found.is_some() {
                self.report.updated_people += 1;
                self.report.changed_fields += sets.len();
            } else {
                self.report.new_people += 1;
            }
            let payload = OpPayload::SetFields(sets);
            // Checked against the record as it stands, like any other change.
            match payload.validate(state.as_ref(), self.today) {
                Ok(()) => ops.push(target.new_op(id, payload)),
                Err(e) => self.errors.push(RowError {
                    line: row.line,
                    column: column_of(&e),
                    reason: e.to_string(),
                }),
            }
        }
        Ok(ops)
    }

    /// The lines of the rows that match a record and would change nothing,
    /// judged from a first reading's sketches, counted as read.
    fn pass_unchanged(&mut self, sketches: &[RowSketch]) -> Vec<usize> {
        let lines: Vec<usize> = sketches
            .iter()
            .filter(|s| {
                matches!(
                    self.matcher.judge(&s.ids, &s.name, || s.fingerprint),
                    Judged::Unchanged
                )
            })
            .map(|s| s.line)
            .collect();
        self.report.rows += lines.len();
        self.report.unchanged += lines.len();
        lines
    }

    /// Every problem, the file's and the changes', in line order.
    fn finish(&mut self, read: Result<(), ImportError>) -> Result<(), ImportError> {
        let mut errors = std::mem::take(&mut self.errors);
        match read {
            Ok(()) if errors.is_empty() => return Ok(()),
            Ok(()) => {}
            Err(ImportError::Invalid(more)) => errors.extend(more),
            Err(other) => return Err(other),
        }
        errors.sort_by_key(|e| e.line);
        Err(ImportError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_read_without_the_white_space_around_them() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let file = " given_name , family_name,date_of_birth ,district\n\
                    \u{a0}Dylan\t,  Kelly \u{2003},\t27/08/2010 , Dover\n";
        let rows = parse(file.as_bytes(), today).expect("a valid file");
        assert_eq!(rows[0].name.given.as_str(), "Dylan");
        assert_eq!(rows[0].name.family.as_str(), "Kelly");
        assert_eq!(
            rows[0].date_of_birth,
            NaiveDate::from_ymd_opt(2010, 8, 27).expect("date")
        );
        // Inside a cell, a control character is still refused.
        let file = "given_name,family_name,date_of_birth,district\n\
                    Dy\tlan,Kelly,27/08/2010,Dover\n";
        let Err(ImportError::Invalid(errors)) = parse(file.as_bytes(), today) else {
            panic!("a tab inside a name was taken");
        };
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 2);
    }

    #[test]
    fn a_file_date_reads_as_chrono_reads_it() {
        for text in [
            "05/12/2026",
            "5/12/2026",
            "2026-12-05",
            "2026-2-5",
            "31/02/2026",
            "2026/12/05",
            "05-12-2026",
            "",
            "05/12/26",
            " 05/12/2026",
            "05/12/2026x",
            "29/02/2024",
            "29/02/2023",
            "2024-02-29",
            "00/12/2026",
            "05/00/2026",
            "05/13/2026",
            "2026-13-05",
            "0000-01-01",
            "01/01/0000",
            "1a/12/2026",
            "05/12/2o26",
            "+2026-12-0",
            "2026-12-5 ",
            "٠٥/١٢/٢٠٢٦",
        ] {
            let chrono = ["%d/%m/%Y", "%Y-%m-%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(text, f).ok());
            assert_eq!(file_date(text), chrono, "{text:?}");
        }
        assert_eq!(
            file_date("05/12/2026"),
            NaiveDate::from_ymd_opt(2026, 12, 5)
        );
    }
}
