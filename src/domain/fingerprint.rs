//! A record's cohort fingerprint: what lets an unchanged re-import pass a
//! row without reading the record it matches.
//!
//! A re-import compares each row with the record it matches, field by field
//! (`import::changes`); reading and decrypting the 52,500 records of a county
//! was most of an unchanged re-import. The summary (in memory after unlock)
//! now carries a fingerprint of the current values of the fields a cohort
//! file may set, and a row whose own values have the same fingerprint would
//! change nothing: equal fingerprints mean equal values (BLAKE3 of their
//! encodings, cut to 128 bits), and a row equal to the record sets nothing.
//! Only a match is trusted. Anything else — a field an officer added, a value
//! the file merges (a preferred name it lacks, a phone of another kind), a
//! summary stored before fingerprints — is compared with the record as before.

use super::ops::{FieldKey, FieldValue};
use serde::de::Visitor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// See the module's documentation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CohortFingerprint([u8; 16]);

impl CohortFingerprint {
    /// The fingerprint of these values, in whatever order they come; `None`
    /// if one cannot be encoded (then nothing is ever taken as unchanged).
    pub fn of<'a>(values: impl IntoIterator<Item = &'a FieldValue>) -> Option<Self> {
        // Made at every summary's making, so little on the heap: a record
        // holds one value a field (a file's row too, or it never matches).
        let mut values: smallvec::SmallVec<[&FieldValue; 24]> = values.into_iter().collect();
        values.sort_unstable_by_key(|v| v.key());
        // The values encoded one after another into one buffer, hashed in
        // one call: postcard writes a few bytes at a time, and through an
        // `io::Write` (a hasher, or a buffer in front of it) each write has
        // a fixed cost (the fingerprint was a sixth of checking a cohort
        // file). Postcard's encoding is prefix-free (a value's bytes say
        // where it ends), so values written one after another are told
        // apart; the count ends them. A plain hasher, its purpose named in
        // its first bytes (the derived-key mode would hash its context at
        // every call).
        let mut bytes = Vec::with_capacity(512);
        bytes.extend_from_slice(b"caseload cohort fingerprint\0");
        for v in &values {
            bytes = postcard::to_extend(v, bytes).ok()?;
        }
        bytes.extend_from_slice(&(values.len() as u64).to_le_bytes());
        let hasher = blake3::hash(&bytes);
        let mut out = [0; 16];
        out.copy_from_slice(&hasher.as_bytes()[..16]);
        Some(Self(out))
    }
}

impl std::fmt::Debug for CohortFingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A digest of personal values: never printed.
        f.write_str("CohortFingerprint(..)")
    }
}

/// Stored as a byte string (read at unlock in one copy, not sixteen
/// visits); left out of what people read (`--json`), where it would mean
/// nothing to them: written there as null.
impl Serialize for CohortFingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_none()
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for CohortFingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Sixteen;
        impl Visitor<'_> for Sixteen {
            type Value = CohortFingerprint;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("16 bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                <[u8; 16]>::try_from(v)
                    .map(CohortFingerprint)
                    .map_err(|_| E::invalid_length(v.len(), &self))
            }
        }
        d.deserialize_bytes(Sixteen)
    }
}

impl FieldKey {
    /// Whether a cohort file may set this field (docs/import-format.md).
    pub fn set_by_cohort_file(self) -> bool {
        match self {
            FieldKey::Name
            | FieldKey::DateOfBirth
            | FieldKey::Gender
            | FieldKey::Upn
            | FieldKey::Uln
            | FieldKey::Address
            | FieldKey::Phones
            | FieldKey::Email
            | FieldKey::District
            | FieldKey::SchoolOrProvider
            | FieldKey::Send
            | FieldKey::Characteristic(_)
            | FieldKey::LevelOfNeed
            | FieldKey::AssignedWorkers
            | FieldKey::CurrentActivity
            | FieldKey::Residence => true,
            FieldKey::Social
            | FieldKey::ContactPreferences
            | FieldKey::Consent
            | FieldKey::RiskIndicators
            | FieldKey::NotWorking => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::person::{Consent, PersonName};
    use crate::domain::{CaseSummary, District, PersonId, PersonState};
    use chrono::NaiveDate;

    fn values(given: &str) -> Vec<FieldValue> {
        vec![
            FieldValue::Name(PersonName {
                given: given.into(),
                family: "Okoro".into(),
                preferred: None,
            }),
            FieldValue::DateOfBirth(NaiveDate::from_ymd_opt(2010, 3, 14).expect("date")),
            FieldValue::District(District::Thanet),
            FieldValue::Email(None),
        ]
    }

    fn record(values: Vec<FieldValue>) -> PersonState {
        PersonState::registered(PersonId(uuid::Uuid::from_u128(7)), values)
    }

    #[test]
    fn equal_values_in_any_order_alike_and_any_difference_apart() {
        let mut reversed = values("Priya");
        reversed.reverse();
        assert_eq!(
            CohortFingerprint::of(&values("Priya")),
            CohortFingerprint::of(&reversed)
        );
        assert!(CohortFingerprint::of(&values("Priya")).is_some());
        for other in [
            values("Priyа"), // a Cyrillic a
            values("Priya")[..3].to_vec(),
            [
                values("Priya"),
                vec![FieldValue::Email(Some(String::new()))],
            ]
            .concat(),
        ] {
            assert_ne!(
                CohortFingerprint::of(&values("Priya")),
                CohortFingerprint::of(&other)
            );
        }
    }

    /// Fingerprints already stored must still match: the bytes hashed are
    /// the values' encodings one after another, however they are fed in.
    #[test]
    fn the_bytes_hashed_are_the_values_encodings_in_key_order() {
        let long = "x".repeat(700);
        for values in [
            values("Priya"),
            [
                values("Priya"),
                vec![FieldValue::SchoolOrProvider(Some(long))],
            ]
            .concat(),
        ] {
            let mut sorted: Vec<&FieldValue> = values.iter().collect();
            sorted.sort_by_key(|v| v.key());
            let mut bytes = b"caseload cohort fingerprint\0".to_vec();
            for v in &sorted {
                bytes.extend(postcard::to_allocvec(v).expect("encoded"));
            }
            bytes.extend((sorted.len() as u64).to_le_bytes());
            let whole = blake3::hash(&bytes);
            let mut expected = [0; 16];
            expected.copy_from_slice(&whole.as_bytes()[..16]);
            assert_eq!(
                CohortFingerprint::of(&values),
                Some(CohortFingerprint(expected))
            );
        }
    }

    #[test]
    fn a_record_is_fingerprinted_by_the_fields_a_cohort_file_may_set_only() {
        let registered = CaseSummary::of(&record(values("Priya"))).expect("registered");
        assert_eq!(
            registered.cohort_fingerprint,
            CohortFingerprint::of(&values("Priya"))
        );
        // Consent is the officer's to record, never the file's.
        let with_consent = [
            values("Priya"),
            vec![FieldValue::Consent(Consent::default())],
        ];
        let consented = CaseSummary::of(&record(with_consent.concat())).expect("registered");
        assert_eq!(consented.cohort_fingerprint, registered.cohort_fingerprint);

        // Stored without it (before fingerprints): read as none, so never
        // taken as unchanged. Written with it: read back as written.
        let mut bytes = postcard::to_allocvec(&registered).expect("encode");
        let back: CaseSummary = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(back.cohort_fingerprint, registered.cohort_fingerprint);
        // A tag, the length and the 16 bytes.
        assert_eq!(bytes[bytes.len() - 18..bytes.len() - 16], [1, 16]);
        bytes.truncate(bytes.len() - 18);
        let old: CaseSummary = postcard::from_bytes(&bytes).expect("decode");
        assert_eq!(old.cohort_fingerprint, None);

        let short = [vec![15], vec![0; 15]].concat();
        assert!(postcard::from_bytes::<CohortFingerprint>(&short).is_err());

        // `doctor` takes it for the summary of the record, and nothing else.
        let made = Some(&registered);
        assert!(CaseSummary::is_stored_as(made, Some(&old)));
        assert!(CaseSummary::is_stored_as(made, Some(&registered)));
        let renamed = CaseSummary::of(&record(values("Pri"))).expect("registered");
        let old_renamed = CaseSummary {
            cohort_fingerprint: None,
            ..renamed.clone()
        };
        assert!(!CaseSummary::is_stored_as(made, Some(&old_renamed)));
        assert!(!CaseSummary::is_stored_as(made, Some(&renamed)));
        assert!(!CaseSummary::is_stored_as(made, None));
        assert!(!CaseSummary::is_stored_as(None, Some(&old)));

        // Never shown: not in JSON, not in a debug print.
        let json = serde_json::to_value(&registered).expect("json");
        assert_eq!(json["cohort_fingerprint"], serde_json::Value::Null);
        assert!(format!("{registered:?}").contains("CohortFingerprint(..)"));
    }
}
