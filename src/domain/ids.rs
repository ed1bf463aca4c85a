//! Identifiers. All are opaque: none is derived from anything personal, so they
//! may appear as storage keys, in logs and in sync requests.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(Uuid::from_bytes(bytes))
            }
            /// The first eight hex digits: enough for a person to read out or type.
            pub fn short(&self) -> String {
                let mut out = String::with_capacity(8);
                self.write_short(&mut out);
                out
            }

            /// Appends the short form (the first eight hex digits) without
            /// allocating: the search index writes one per person at unlock.
            pub fn write_short(&self, out: &mut String) {
                use std::fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = write!(out, "{:08x}", self.0.as_u128() >> 96);
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A young person's record. Random (v4): reveals nothing about the person.
    PersonId
);
uuid_id!(
    /// One operation. Version 7, so ids sort roughly by creation time; only ever
    /// stored inside sealed values, never as a plaintext key.
    OpId
);
uuid_id!(
    /// One installation of caseload (a laptop, an account on a shared host).
    DeviceId
);

impl PersonId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl DeviceId {
    pub fn random() -> Self {
        Self(Uuid::new_v4())
    }
}

/// The worker who wrote an op or holds a caseload: their login name on the hub
/// (for example `j.smith`). Workers' names are not the young people's data, but they
/// are still only stored inside sealed values.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Debug)]
pub struct WorkerId(pub super::text::ShortText);

impl WorkerId {
    pub fn new(name: impl Into<super::text::ShortText>) -> Self {
        Self(name.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
