//! Short, fixed-shape identifiers (UPN, ULN, postcode) held inline rather than
//! on the heap. Every summary carries up to three of them, and 52,500 summaries
//! are held at once: as `String`s they were three heap blocks each (about 100 B
//! a person with the allocator's overhead) and three allocations per summary
//! decoded at unlock. They stay strings on the wire and on disk.

use std::cmp::Ordering;
use std::fmt;

/// Up to `N` ASCII bytes, inline. Built only from checked text, so reading it
/// back as a `&str` cannot fail.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InlineAscii<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineAscii<N> {
    /// `None` when the text is longer than `N` or not ASCII.
    pub(crate) fn new(text: &str) -> Option<Self> {
        Self::from_ascii(text.as_bytes())
    }

    /// `None` when `ascii` is longer than `N` or not ASCII: for a parser
    /// that built the text byte by byte.
    pub(crate) fn from_ascii(ascii: &[u8]) -> Option<Self> {
        if ascii.len() > N || !ascii.is_ascii() || N > u8::MAX as usize {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..ascii.len()].copy_from_slice(ascii);
        Some(Self {
            len: ascii.len() as u8,
            bytes,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        let ascii = &self.bytes[..usize::from(self.len)];
        debug_assert!(ascii.is_ascii());
        // SAFETY: `new` is the only way to make one, and it takes ASCII
        // only, which is UTF-8. Not checked again here: the search index
        // reads every summary's postcode, UPN and ULN at unlock, and
        // checking them again was 3% of unlocking.
        unsafe { std::str::from_utf8_unchecked(ascii) }
    }
}

impl<const N: usize> Ord for InlineAscii<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl<const N: usize> PartialOrd for InlineAscii<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> fmt::Debug for InlineAscii<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Serde for an identifier that is a string outside and is only ever made by
/// its `parse`: decoding goes through the same check as typing it in, so
/// bytes from the wire or a damaged store cannot make one that typing could
/// not. Written as a visitor so that decoding borrows instead of allocating.
macro_rules! serde_as_parsed_str {
    ($ty:ty, $what:literal) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visit;
                impl serde::de::Visitor<'_> for Visit {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        <$ty>::parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(Visit)
            }
        }
    };
}
pub(crate) use serde_as_parsed_str;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_short_ascii_and_refuses_the_rest() {
        let a = InlineAscii::<8>::new("ME14 1XQ").expect("fits");
        assert_eq!(a.as_str(), "ME14 1XQ");
        assert!(InlineAscii::<8>::new("ME14 1XQZ").is_none());
        assert!(InlineAscii::<8>::new("É").is_none());
        assert_eq!(InlineAscii::<8>::new("").map(|a| a.as_str().len()), Some(0));
    }

    #[test]
    fn orders_as_the_text_does() {
        let short = InlineAscii::<8>::new("B1 1AA").expect("fits");
        let long = InlineAscii::<8>::new("AB1 1AA").expect("fits");
        assert!(long < short);
        assert_eq!("AB1 1AA" < "B1 1AA", long < short);
    }
}
