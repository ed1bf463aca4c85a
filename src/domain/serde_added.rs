//! Fields added to a stored struct after records were written with it.
//!
//! Postcard (the stored format) writes a struct's fields in order with no
//! names, so a field can be added only at the end of a struct stored on its
//! own (a record's folded state, its summary): bytes written before the field
//! existed then end exactly where it would begin. Such a field is read with
//! [`or_empty`], which takes that end for the field's empty value. The bytes
//! were sealed by this store, so no other short read can reach here: a
//! damaged record fails its authentication before it is decoded.

use serde::{Deserialize, Deserializer};

/// Reads a field added last, or its default where the bytes end before it.
pub fn or_empty<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    match T::deserialize(d) {
        Ok(value) => Ok(value),
        Err(e) if ended(&e) => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Whether a decoding error is the end of the bytes, and nothing else.
fn ended(e: &impl std::fmt::Display) -> bool {
    e.to_string() == postcard::Error::DeserializeUnexpectedEnd.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Before {
        a: u32,
        b: String,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct After {
        a: u32,
        b: String,
        #[serde(default, deserialize_with = "or_empty")]
        c: Vec<String>,
    }

    #[test]
    fn bytes_from_before_the_field_read_as_empty_and_new_bytes_as_written() {
        let old = postcard::to_allocvec(&Before {
            a: 7,
            b: "x".into(),
        })
        .expect("encode");
        let read: After = postcard::from_bytes(&old).expect("old bytes");
        assert_eq!(
            read,
            After {
                a: 7,
                b: "x".into(),
                c: Vec::new()
            }
        );
        let new = After {
            a: 7,
            b: "x".into(),
            c: vec!["y".into()],
        };
        let bytes = postcard::to_allocvec(&new).expect("encode");
        assert_eq!(postcard::from_bytes::<After>(&bytes).expect("new"), new);
    }

    #[test]
    fn other_errors_are_still_errors() {
        // A field that is there but wrong (a list longer than the bytes
        // hold is an end too; an invalid string is not).
        let mut bytes = postcard::to_allocvec(&Before {
            a: 7,
            b: "x".into(),
        })
        .expect("encode");
        bytes.extend([1, 1, 0xff]);
        assert!(postcard::from_bytes::<After>(&bytes).is_err());
    }
}
