//! Where an import's rows come from: a cohort file read row by row, never
//! held whole (a whole council's file is 52,500 rows), or rows in memory.
//!
//! Every row passes every check here — the one rule for stored text, the
//! columns' own rules, the check any new record gets, duplicates within the
//! file — and rows with problems are kept back and reported together at the
//! end, each with its line, column and reason.

use super::{
    COLUMNS, CohortRow, Ids, ImportError, KeyMap, MAX_UNKNOWN_COLUMNS_SHOWN, NameKey, Namesakes,
    RowError, column_label, column_of, distinguishable, key, parse_row,
};
use crate::domain::fingerprint::CohortFingerprint;
use crate::domain::person::{Uln, Upn};
use crate::domain::{OpPayload, text};
use chrono::NaiveDate;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Rows handed over one at a time; problems are told by `finish`.
pub trait RowSource {
    /// The next row without problems (rows with problems are kept for `finish`).
    fn next_row(&mut self) -> Option<CohortRow>;
    /// Every problem found, once the rows have all been read.
    fn finish(self) -> Result<(), ImportError>;
    /// What a first reading kept of each row (`RowSketch`), handed over
    /// once; none if the rows were not read before.
    fn take_sketches(&mut self) -> Vec<RowSketch> {
        Vec::new()
    }
    /// The rows on these lines (ascending) are decided from their sketches:
    /// they are not handed over.
    fn pass_over(&mut self, _lines: Vec<usize>) {}
}

/// What a file's first reading keeps of each row: what finds the record it is
/// about and tells whether it would change it (its fingerprint), about 130 B
/// a row. A re-import decides from these which rows change nothing, and does
/// not read and check those rows again (an unchanged file is not read again
/// at all); the second reading's digest still proves that the rows it did
/// read are the ones checked.
pub struct RowSketch {
    pub(super) line: usize,
    pub(super) ids: Ids,
    pub(super) name: NameKey,
    pub(super) fingerprint: Option<CohortFingerprint>,
}

/// Rows already read and checked.
impl RowSource for std::vec::IntoIter<CohortRow> {
    fn next_row(&mut self) -> Option<CohortRow> {
        self.next()
    }
    fn finish(self) -> Result<(), ImportError> {
        Ok(())
    }
}

/// A cohort file read and checked row by row.
pub struct CohortReader<R> {
    csv: csv::Reader<R>,
    headers: Vec<String>,
    /// Each column's place in a row, found once rather than along the
    /// headers for every cell (a twelfth of checking a file).
    places: KeyMap<String, usize>,
    today: NaiveDate,
    record: csv::StringRecord,
    /// Records read so far (a line number is this plus the header's line).
    records: usize,
    errors: Vec<RowError>,
    /// Set when these bytes were read and checked whole before (`FileRows`,
    /// whose digest proves it at the end): the checks that only refuse, the
    /// new record's rules and duplicates within the file, are not repeated.
    /// Each change is still checked against its record when it is written.
    checked_before: bool,
    seen_upn: KeyMap<Upn, usize>,
    seen_uln: KeyMap<Uln, usize>,
    seen_name: KeyMap<NameKey, Namesakes<usize>>,
    /// Each good row's sketch, kept when `sketching` (a file's first reading).
    sketching: bool,
    sketches: Vec<RowSketch>,
    /// Lines not to hand over (ascending), and how far through them.
    passed_over: Vec<usize>,
    passed: usize,
}

impl<R: Read> CohortReader<R> {
    /// Reads the header line and checks the columns: unknown, missing and
    /// repeated columns refuse the whole file before any row is read.
    pub fn new(input: R, today: NaiveDate) -> Result<Self, ImportError> {
        // Headers and cells are trimmed where they are read (below,
        // `cell_of`, and the check of every cell): csv's own trimming copies
        // each row twice.
        let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let headers: Vec<String> = csv
            .headers()
            .map_err(|e| ImportError::Csv(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_lowercase().replace([' ', '-'], "_"))
            .collect();
        check_headers(&headers)?;
        let places = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        Ok(Self {
            csv,
            headers,
            places,
            today,
            record: csv::StringRecord::new(),
            records: 0,
            errors: Vec::new(),
            checked_before: false,
            seen_upn: KeyMap::default(),
            seen_uln: KeyMap::default(),
            seen_name: KeyMap::default(),
            sketching: false,
            sketches: Vec::new(),
            passed_over: Vec::new(),
            passed: 0,
        })
    }

    /// Whether the row on `line` is one not to hand over.
    fn is_passed_over(&mut self, line: usize) -> bool {
        while self.passed_over.get(self.passed).is_some_and(|&l| l < line) {
            self.passed += 1;
        }
        let passed = self.passed_over.get(self.passed) == Some(&line);
        self.passed += usize::from(passed);
        passed
    }

    /// The reader the file came from, once every row is read.
    pub fn finish_into_inner(self) -> Result<R, ImportError> {
        if self.errors.is_empty() {
            Ok(self.csv.into_inner())
        } else {
            Err(ImportError::Invalid(self.errors))
        }
    }

    /// Checks the record just read: the row if it has no problem.
    fn checked(&mut self, line: usize) -> Option<CohortRow> {
        let record = &self.record;
        let headers = &self.headers;
        let places = &self.places;
        let cell = |name: &str| cell_of(places, record, name);
        let mut row_errors = Vec::new();
        let mut err = |column: &str, reason: String| {
            row_errors.push(RowError {
                line,
                column: column.into(),
                reason,
            })
        };
        // Every cell passes the one rule for stored text before anything reads it.
        let mut clean = true;
        for (i, value) in record.iter().enumerate() {
            if let Err(e) = text::check_text("this cell", value.trim(), false, text::MAX_LINE) {
                let column = headers.get(i).map_or("-".into(), |h| column_label(h));
                err(&column, e.to_string());
                clean = false;
            }
        }
        let parsed = if clean {
            parse_row(line, &cell, self.today, &mut err)
        } else {
            None
        };
        // The same check every change gets when it is written, so a dry run
        // finds whatever the real import would refuse.
        let parsed = parsed.filter(|row| {
            self.checked_before
                || match OpPayload::SetFields(row.as_new_person()).validate(None, self.today) {
                    Ok(()) => true,
                    Err(e) => {
                        err(&column_of(&e), e.to_string());
                        false
                    }
                }
        });
        let mut sketch = None;
        if let Some(row) = parsed.as_ref().filter(|_| !self.checked_before) {
            let mut twice = |first: Option<usize>, what: &str| {
                if let Some(first) = first {
                    err(
                        what,
                        format!("the same as line {first}: the file lists this young person twice"),
                    );
                }
            };
            if let Some(u) = row.upn {
                twice(self.seen_upn.insert(u, line), "upn");
            }
            if let Some(u) = row.uln {
                twice(self.seen_uln.insert(u, line), "uln");
            }
            // Same name and birthday is a duplicate only if no UPN or ULN
            // tells the two apart: in a county, namesakes share birthdays.
            let (ids, who) = row.keys();
            let earlier = self.seen_name.entry(who.clone()).or_default();
            if let Some((first, _)) = earlier
                .iter()
                .find(|(_, other)| !distinguishable(other, &ids))
            {
                err(
                    "family_name",
                    format!(
                        "same name and date of birth as line {first}, and no UPN or ULN to tell them apart: the file lists this young person twice"
                    ),
                );
            }
            earlier.push((line, ids));
            sketch = Some(RowSketch {
                line,
                ids,
                name: who,
                fingerprint: None,
            });
        }
        let fine = row_errors.is_empty();
        self.errors.extend(row_errors);
        let parsed = parsed.filter(|_| fine);
        if let (Some(row), Some(mut sketch)) = (&parsed, sketch.filter(|_| self.sketching)) {
            sketch.fingerprint = CohortFingerprint::of(&row.values);
            self.sketches.push(sketch);
        }
        parsed
    }
}

impl<R: Read> RowSource for CohortReader<R> {
    fn next_row(&mut self) -> Option<CohortRow> {
        loop {
            let read = self.csv.read_record(&mut self.record);
            self.records += 1;
            let line = self.records + 1;
            match read {
                Ok(false) => return None,
                Ok(true) if self.is_passed_over(line) => {}
                Ok(true) => {
                    if let Some(row) = self.checked(line) {
                        return Some(row);
                    }
                }
                Err(e) => self.errors.push(RowError {
                    line,
                    column: "-".into(),
                    reason: format!("not a valid CSV row: {e}"),
                }),
            }
        }
    }

    fn finish(self) -> Result<(), ImportError> {
        self.finish_into_inner().map(drop)
    }
}

/// The named column's value in `record`, if it has one.
fn cell_of<'r>(
    places: &KeyMap<String, usize>,
    record: &'r csv::StringRecord,
    name: &str,
) -> Option<&'r str> {
    places
        .get(name)
        .and_then(|&i| record.get(i))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn check_headers(headers: &[String]) -> Result<(), ImportError> {
    let known: Vec<String> = COLUMNS.iter().map(|c| key(c)).collect();
    let mut errors = Vec::new();
    let mut unknown = 0;
    for (i, h) in headers.iter().enumerate() {
        if let Some(first) = headers[..i].iter().position(|earlier| earlier == h) {
            errors.push(RowError {
                line: 1,
                column: column_label(h),
                reason: format!(
                    "column {} names the same column as column {}: give each column once",
                    i + 1,
                    first + 1
                ),
            });
        } else if !known.contains(h) {
            unknown += 1;
            if unknown <= MAX_UNKNOWN_COLUMNS_SHOWN {
                errors.push(RowError {
                    line: 1,
                    column: column_label(h),
                    reason: format!("unknown column (columns are: {})", known.join(", ")),
                });
            }
        }
    }
    if unknown > MAX_UNKNOWN_COLUMNS_SHOWN {
        errors.push(RowError {
            line: 1,
            column: "-".into(),
            reason: format!(
                "and {} more unknown columns",
                unknown - MAX_UNKNOWN_COLUMNS_SHOWN
            ),
        });
    }
    for required in COLUMNS.iter().filter(|c| c.ends_with('*')) {
        if !headers.contains(&key(required)) {
            errors.push(RowError {
                line: 1,
                column: key(required),
                reason: "required column is missing".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// A reader that digests what passes through it.
pub struct Digesting<R> {
    inner: R,
    digest: blake3::Hasher,
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// A cohort file on disk, read once to check it (before the store is even
/// unlocked) and again, row by row, to import it. Its digest is taken on the
/// first reading; a second reading that differs (the file was changed in
/// between) fails at `finish`, so an import never writes a file it did not
/// check.
pub struct CohortFile {
    path: PathBuf,
    digest: blake3::Hash,
    sketches: Vec<RowSketch>,
}

impl CohortFile {
    /// Reads the whole file once, checking every row on its own (columns,
    /// values, duplicates), holding none of them.
    pub fn check(path: &Path, today: NaiveDate) -> Result<Self, ImportError> {
        let mut reader = Self::reader(path, today)?;
        reader.sketching = true;
        while reader.next_row().is_some() {}
        let sketches = std::mem::take(&mut reader.sketches);
        let read = reader.finish_into_inner()?;
        Ok(Self {
            path: path.to_path_buf(),
            digest: read.digest.finalize(),
            sketches,
        })
    }

    /// The file again, row by row, for an import (which reads only the rows
    /// it cannot decide from their sketches).
    pub fn read(self, today: NaiveDate) -> Result<FileRows, ImportError> {
        let mut reader = Self::reader(&self.path, today)?;
        reader.checked_before = true;
        Ok(FileRows {
            reader,
            expected: self.digest,
            sketches: self.sketches,
        })
    }

    fn reader(
        path: &Path,
        today: NaiveDate,
    ) -> Result<CohortReader<Digesting<std::io::BufReader<std::fs::File>>>, ImportError> {
        let file = std::fs::File::open(path)
            .map_err(|e| ImportError::Read(format!("{}: {e}", path.display())))?;
        CohortReader::new(
            Digesting {
                inner: std::io::BufReader::new(file),
                digest: blake3::Hasher::new(),
            },
            today,
        )
    }
}

/// A checked file's rows, read again.
pub struct FileRows {
    reader: CohortReader<Digesting<std::io::BufReader<std::fs::File>>>,
    expected: blake3::Hash,
    sketches: Vec<RowSketch>,
}

impl RowSource for FileRows {
    fn next_row(&mut self) -> Option<CohortRow> {
        self.reader.next_row()
    }
    fn take_sketches(&mut self) -> Vec<RowSketch> {
        std::mem::take(&mut self.sketches)
    }
    fn pass_over(&mut self, lines: Vec<usize>) {
        self.reader.passed_over = lines;
        self.reader.passed = 0;
    }
    fn finish(self) -> Result<(), ImportError> {
        let read = self.reader.finish_into_inner()?;
        if read.digest.finalize() == self.expected {
            Ok(())
        } else {
            Err(ImportError::Changed)
        }
    }
}
