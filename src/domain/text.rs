//! The one rule for text that enters a record, whatever its source — import,
//! the command line, the workbench or another device through the hub: every
//! string in an op is checked here, by walking the op's own serialisation, so a
//! field added later is covered without anyone remembering to list it.
//!
//! - Characters: C0 controls (bar line feed and tab in notes), DEL, C1 controls
//!   and the Unicode bidirectional embeddings, overrides and isolates are
//!   refused. Controls can drive a terminal (clear the screen, retitle it) when
//!   a colleague's record is printed; bidi overrides make text display other
//!   than it reads ("Trojan Source", CVE-2021-42574).
//! - Lengths: a note-like field (`note`, `notes`, `text`, `reason`) at most
//!   [`MAX_TEXT`] characters, any other field at most [`MAX_LINE`]; no list in an
//!   op holds more than [`MAX_ITEMS`] entries. Fields with tighter rules (names,
//!   postcodes, phone numbers) check those as well.
//!
//! Messages name the field and the position, never the text: they may be logged.

use super::error::DomainError;
use serde::Serialize;
use serde::ser;

/// A short text held inline up to 24 bytes (names, workers' ids, providers,
/// a summary's phone numbers): decoding 52,500 summaries at unlock made a heap
/// allocation for each, and most are a few letters. Longer texts go to the
/// heap as a `String` would; the same bytes as a `String` on disk and on the
/// wire, and checked by the same rule (`check_text`).
pub type ShortText = compact_str::CompactString;

/// `text` lower-cased as `str::to_lowercase` does: ASCII (most names) a byte
/// at a time in place, anything else char by char through Unicode's tables.
/// Lower-casing char by char was nearly half of sorting 52,500 people by name
/// and a twentieth of checking a cohort file.
pub fn lower_case(text: &str) -> ShortText {
    if text.is_ascii() {
        let mut lowered = ShortText::from(text);
        lowered.make_ascii_lowercase();
        lowered
    } else {
        ShortText::from_str_to_lowercase(text)
    }
}

/// The longest one-line field (a provider's name, an address line, a handle).
pub const MAX_LINE: usize = 200;
/// The longest note-like field.
pub const MAX_TEXT: usize = 4000;
/// The most entries in any one list of an op (phones, address lines, workers).
pub const MAX_ITEMS: usize = 50;

/// Fields that may hold several lines.
const MULTILINE_FIELDS: &[&str] = &["note", "notes", "text", "reason"];

/// What is wrong with a character, or None if it may be stored.
pub fn refused_char(c: char, multiline: bool) -> Option<&'static str> {
    match c {
        '\n' | '\t' if multiline => None,
        '\u{0}'..='\u{1f}' | '\u{7f}' => Some("control character"),
        '\u{80}'..='\u{9f}' => Some("control character"),
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            Some("bidirectional override character")
        }
        _ => None,
    }
}

/// Text as it may be printed to a terminal, a log or a message: every
/// character the input rule refuses is shown visibly instead of acting — C0
/// controls and DEL as their control pictures (␛ for ESC), C1 controls and bidi
/// overrides as `<U+202E>`. Line feeds and tabs stay. The one sanitiser for every
/// text the program prints, since records from older versions or other
/// councils' files may still hold such characters.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| refused_char(c, true).is_some()) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            _ if refused_char(c, true).is_none() => out.push(c),
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
            '\u{7f}' => out.push('\u{2421}'),
            _ => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A cell as it may be written to a CSV file that someone will open in a
/// spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, tab or carriage
/// return is a formula there (OWASP, "CSV Injection"), so it gets a leading `'`
/// — unless it is simply a negative number, such as a gap below target.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.strip_prefix('-').is_some_and(|n| {
        n.bytes().any(|b| b.is_ascii_digit()) && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    });
    if risky && !number {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Checks one text: its characters and its length.
pub fn check_text(
    field: &'static str,
    value: &str,
    multiline: bool,
    max: usize,
) -> Result<(), DomainError> {
    let mut len = 0;
    for c in value.chars() {
        len += 1;
        if let Some(what) = refused_char(c, multiline) {
            return Err(DomainError::BadCharacter {
                field,
                what,
                position: len,
            });
        }
    }
    if len > max {
        return Err(DomainError::TooLong { field, len, max });
    }
    Ok(())
}

/// Checks every string and list inside `value` (an op's payload).
pub fn check_all<T: Serialize + ?Sized>(value: &T) -> Result<(), DomainError> {
    value.serialize(&mut Walker { field: "value" })
}

/// A serializer that writes nothing: it visits every string, remembering the
/// name of the field it is in.
struct Walker {
    field: &'static str,
}

impl Walker {
    fn text(&self, v: &str) -> Result<(), DomainError> {
        let multiline = MULTILINE_FIELDS.contains(&self.field);
        let max = if multiline { MAX_TEXT } else { MAX_LINE };
        check_text(self.field, v, multiline, max)
    }

    fn items(&self, len: Option<usize>) -> Result<(), DomainError> {
        match len {
            Some(n) if n > MAX_ITEMS => Err(DomainError::TooMany {
                field: self.field,
                len: n,
                max: MAX_ITEMS,
            }),
            _ => Ok(()),
        }
    }

    fn within<T: Serialize + ?Sized>(
        &mut self,
        field: &'static str,
        value: &T,
    ) -> Result<(), DomainError> {
        let outer = std::mem::replace(&mut self.field, field);
        let r = value.serialize(&mut *self);
        self.field = outer;
        r
    }
}

impl ser::Error for DomainError {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        DomainError::Invalid {
            field: "record",
            reason: "it cannot be encoded",
        }
    }
}

macro_rules! nothing_to_check {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, _: $ty) -> Result<(), DomainError> { Ok(()) })*
    };
}

impl ser::Serializer for &mut Walker {
    type Ok = ();
    type Error = DomainError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    nothing_to_check!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16,
        serialize_i32: i32, serialize_i64: i64, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64,
        serialize_bytes: &[u8], serialize_unit_struct: &'static str);

    /// Walked in the form the value is stored and sent in (postcard's), so
    /// dates are day numbers, not texts to format and check: what is checked
    /// is every text a value stores. (A value that still writes itself as
    /// text goes through serde's default `collect_str`, formatted and checked.)
    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_char(self, v: char) -> Result<(), DomainError> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), DomainError> {
        self.text(v)
    }
    fn serialize_none(self) -> Result<(), DomainError> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), DomainError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), DomainError> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), DomainError> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), DomainError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), DomainError> {
        self.within(variant, value)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Self, DomainError> {
        self.items(len)?;
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, DomainError> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, DomainError> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, DomainError> {
        self.field = variant;
        Ok(self)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Self, DomainError> {
        self.items(len)?;
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, DomainError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, DomainError> {
        Ok(self)
    }
}

/// The compound forms whose parts are visited in turn, in the field they are in.
macro_rules! visit_parts {
    ($($trait:ident: $method:ident),*) => {$(
        impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = DomainError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DomainError> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), DomainError> {
                Ok(())
            }
        }
    )*};
}

visit_parts!(
    SerializeSeq: serialize_element,
    SerializeTuple: serialize_element,
    SerializeTupleStruct: serialize_field,
    SerializeTupleVariant: serialize_field
);

/// The compound forms with named fields: each part is visited in its own.
macro_rules! visit_fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for &mut Walker {
            type Ok = ();
            type Error = DomainError;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), DomainError> {
                self.within(key, value)
            }
            fn end(self) -> Result<(), DomainError> {
                Ok(())
            }
        }
    )*};
}

visit_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for &mut Walker {
    type Ok = ();
    type Error = DomainError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), DomainError> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), DomainError> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), DomainError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_lower_cased_as_str_does_it() {
        for name in [
            "O'BRIEN",
            "O'BRIEN-Smith",
            "McLean-Smith",
            "mary ann",
            "ÉMILE",
            "ÖZTÜRK",
            "İlker",
            "İpek",
            "ΣΟΦΙΑ",
            "zoë",
            "Ærø",
            "",
            "A Name Longer Than Twenty-Four Bytes",
        ] {
            assert_eq!(lower_case(name).as_str(), name.to_lowercase(), "{name}");
        }
    }

    #[derive(Serialize)]
    struct Contact {
        note: String,
        provider: Option<String>,
        workers: Vec<String>,
    }

    fn contact(note: &str, provider: &str) -> Contact {
        Contact {
            note: note.into(),
            provider: Some(provider.into()),
            workers: vec!["j.smith".into()],
        }
    }

    #[test]
    fn ordinary_text_passes_and_notes_keep_their_lines() {
        assert_eq!(
            check_all(&contact("Rang twice.\nLeft a message.", "Hadlow College")),
            Ok(())
        );
        assert_eq!(check_all(&contact("Zoë O’Brien — Ł", "Łódź")), Ok(()));
    }

    #[test]
    fn controls_and_bidi_overrides_are_refused_wherever_they_are() {
        for bad in [
            "\u{1b}]0;owned\u{7}",
            "a\u{0}b",
            "\u{1b}[2J",
            "x\u{9b}y",
            "abc\u{202e}cod.exe",
        ] {
            let err = check_all(&contact("fine", bad)).unwrap_err();
            assert!(
                matches!(
                    err,
                    DomainError::BadCharacter {
                        field: "provider",
                        ..
                    }
                ),
                "{bad:?}: {err}"
            );
            assert!(
                !err.to_string().contains(bad),
                "the text itself is never echoed"
            );
        }
        assert!(
            check_all(&contact("fine\u{1b}[2J", "x")).is_err(),
            "notes too"
        );
        assert!(
            check_all(&contact("fine", "two\nlines")).is_err(),
            "one-line fields keep one line"
        );
    }

    /// A value that writes itself as text (`collect_str`), short or long.
    struct Shown(String);

    impl Serialize for Shown {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(&self.0)
        }
    }

    #[test]
    fn text_a_value_writes_of_itself_is_checked_however_long() {
        assert_eq!(check_all(&Shown("2026-11-23".into())), Ok(()));
        for bad in [
            "a\u{1b}[2J".to_string(),
            format!("{}\u{1b}[2J", "x".repeat(100)),
        ] {
            assert!(
                matches!(
                    check_all(&Shown(bad.clone())),
                    Err(DomainError::BadCharacter { .. })
                ),
                "{} bytes",
                bad.len()
            );
        }
        let long = "x".repeat(MAX_LINE + 1);
        assert!(matches!(
            check_all(&Shown(long)),
            Err(DomainError::TooLong { .. })
        ));
    }

    #[test]
    fn printing_shows_controls_instead_of_obeying_them() {
        assert_eq!(printable("plain\nnote"), "plain\nnote");
        assert!(matches!(printable("Zoë"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(printable("\u{1b}]0;x\u{7}"), "\u{241b}]0;x\u{2407}");
        assert_eq!(
            printable("a\u{202e}b\u{9b}c\u{7f}"),
            "a<U+202E>b<U+009B>c\u{2421}"
        );
        for s in ["\u{1b}[2J", "x\u{0}y", "\u{2066}z"] {
            assert!(
                printable(s)
                    .chars()
                    .all(|c| refused_char(c, true).is_none())
            );
        }
    }

    #[test]
    fn lengths_and_list_sizes_are_bounded() {
        let long = "x".repeat(MAX_LINE + 1);
        assert!(matches!(
            check_all(&contact("ok", &long)),
            Err(DomainError::TooLong {
                field: "provider",
                ..
            })
        ));
        assert_eq!(check_all(&contact(&"n".repeat(MAX_TEXT), "ok")), Ok(()));
        assert!(check_all(&contact(&"n".repeat(MAX_TEXT + 1), "ok")).is_err());
        let mut c = contact("ok", "ok");
        c.workers = vec!["w".into(); MAX_ITEMS + 1];
        assert!(matches!(
            check_all(&c),
            Err(DomainError::TooMany {
                field: "workers",
                ..
            })
        ));
    }
}
