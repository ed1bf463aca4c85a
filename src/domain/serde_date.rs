//! Compact dates for the stored format. chrono writes dates as text, and parsing
//! text dates was most of the cost of decoding a summary at unlock. In binary
//! formats (postcard, at rest and on the wire) a date is its day number and a
//! date-time its seconds; human-readable formats (JSON output) keep ISO text.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        d.serialize(s)
    } else {
        s.serialize_i32(chrono::Datelike::num_days_from_ce(d))
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    if d.is_human_readable() {
        NaiveDate::deserialize(d)
    } else {
        let days = i32::deserialize(d)?;
        NaiveDate::from_num_days_from_ce_opt(days)
            .ok_or_else(|| serde::de::Error::custom("day number out of range"))
    }
}

pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct W<'a>(#[serde(with = "super")] &'a NaiveDate);
        d.as_ref().map(W).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        #[derive(Deserialize)]
        struct W(#[serde(with = "super")] NaiveDate);
        Ok(Option::<W>::deserialize(d)?.map(|w| w.0))
    }
}

pub mod datetime {
    use super::*;

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            t.serialize(s)
        } else {
            s.serialize_i64(t.and_utc().timestamp())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        if d.is_human_readable() {
            NaiveDateTime::deserialize(d)
        } else {
            let secs = i64::deserialize(d)?;
            chrono::DateTime::from_timestamp(secs, 0)
                .map(|t| t.naive_utc())
                .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super")]
        d: NaiveDate,
        #[serde(with = "super::opt")]
        o: Option<NaiveDate>,
        #[serde(with = "super::datetime")]
        t: chrono::NaiveDateTime,
    }

    #[test]
    fn binary_is_compact_and_json_stays_readable() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let v = T {
            d,
            o: Some(d),
            t: d.and_hms_opt(9, 30, 5).unwrap(),
        };
        let bin = postcard::to_allocvec(&v).unwrap();
        assert!(bin.len() < 16, "{} bytes", bin.len());
        assert_eq!(postcard::from_bytes::<T>(&bin).unwrap(), v);
        let json = serde_json::to_string(&v).unwrap();
        assert!(json.contains("\"2026-11-23\""), "{json}");
        assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);
        let none = T { o: None, ..v };
        assert_eq!(
            postcard::from_bytes::<T>(&postcard::to_allocvec(&none).unwrap()).unwrap(),
            none
        );
    }
}
