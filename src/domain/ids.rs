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
            /// Eight hex digits, enough for a person to read out or type: those
            /// that tell the id from its neighbours ([`short_digits`]).
            pub fn short(&self) -> String {
                let mut out = String::with_capacity(8);
                self.write_short(&mut out);
                out
            }

            /// Appends the short form without allocating: the search index
            /// writes one per person at unlock.
            pub fn write_short(&self, out: &mut String) {
                // By hand, not `write!("{:08x}")`: the formatting machinery
                // was 2% of unlocking.
                let digits = short_digits(&self.0);
                for nibble in (0..8).rev().map(|n| (digits >> (4 * n)) & 0xf) {
                    out.push(char::from(b"0123456789abcdef"[nibble as usize]));
                }
            }

            /// Whether `given` (lower-case hex, no dashes) begins the short
            /// form or the whole id: what a caseworker types to name it.
            pub fn begins_with(&self, given: &str) -> bool {
                self.short().starts_with(given) || self.0.simple().to_string().starts_with(given)
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

/// The short form's digits: a minted id's last eight (its run and count, which
/// come first, are shared with the ids made beside it), any other's first eight.
fn short_digits(id: &Uuid) -> u32 {
    let bits = id.as_u128();
    if id.get_version_num() == 8 {
        bits as u32
    } else {
        (bits >> 96) as u32
    }
}

uuid_id!(
    /// A young person's record: minted by [`PersonId::mint`] (version 8; records
    /// from before it are random, version 4). Reveals nothing about the person.
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
    /// A new record's id. The ids one process mints follow one another in
    /// sled's key order: a random 60-bit run, then a 30-bit count from a random
    /// start, then that count scrambled (UUID version 8, RFC 9562's own layout).
    /// sled keeps a tree's keys in order, so the people an import registers are
    /// appended where the last one went instead of scattered over every leaf of
    /// the `people` and `ops` trees (docs/architecture.md, "Ids that follow one
    /// another"). The scrambled count, last, is the short form a caseworker
    /// reads and types: as unlike its neighbours' as a random id's. Unlike a
    /// version 7 id it holds no time: all it tells is which records one run
    /// made and in what order, which sled's log shows anyway.
    pub fn mint() -> Self {
        use std::sync::OnceLock;
        use std::sync::atomic::{AtomicU32, Ordering};
        static RUN: OnceLock<(u64, AtomicU32)> = OnceLock::new();
        let (run, count) = RUN.get_or_init(|| {
            let seed = Uuid::new_v4().as_u128();
            // The count is 30 bits (the variant takes two); starting below
            // 2^29 leaves half a billion ids before it wraps.
            (seed as u64, AtomicU32::new((seed >> 64) as u32 >> 3))
        });
        Self::minted(*run, count.fetch_add(1, Ordering::Relaxed))
    }

    fn minted(run: u64, count: u32) -> Self {
        let count = count & (u32::MAX >> 2);
        let tail = (u64::from(count) << 32) | u64::from(scramble(count));
        let bytes = ((u128::from(run) << 64) | u128::from(tail)).to_be_bytes();
        Self(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }

    /// The two bytes that say which summary page the person's summary is
    /// kept in: a minted id's last two (its scrambled count), a random id's
    /// first two (where stores before minting put them).
    pub fn page_bytes(&self) -> [u8; 2] {
        let b = self.as_bytes();
        if self.0.get_version_num() == 8 {
            [b[14], b[15]]
        } else {
            [b[0], b[1]]
        }
    }
}

/// A bijection of `u32` that spreads consecutive numbers (Wellons' lowbias32;
/// each step is invertible), so consecutive counts get unrelated short forms.
fn scramble(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_ids_follow_one_another_and_never_repeat() {
        let ids: Vec<PersonId> = (0..1_000).map(|_| PersonId::mint()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in sled's key order");
        assert!(ids.iter().all(|id| id.0.get_version_num() == 8));
        assert_ne!(PersonId::minted(7, 1 << 20), PersonId::minted(8, 1 << 20));
    }

    #[test]
    fn neighbours_have_unlike_short_forms_that_name_them() {
        let start = (1 << 29) - 5_000;
        let ids: Vec<PersonId> = (start..start + 60_000)
            .map(|n| PersonId::minted(0xDEAD_BEEF, n))
            .collect();
        let shorts: std::collections::HashSet<String> = ids.iter().map(|id| id.short()).collect();
        assert_eq!(shorts.len(), ids.len(), "no two alike");
        let first_four: std::collections::HashSet<&str> = shorts.iter().map(|s| &s[..4]).collect();
        assert!(
            first_four.len() > 30_000,
            "typed from the left, they part at once"
        );
        let id = ids[17];
        assert!(id.begins_with(&id.short()[..5]));
        assert!(id.begins_with(&id.0.simple().to_string()[..12]));
        assert!(!id.begins_with("zz"));
    }

    #[test]
    fn a_run_of_minted_ids_spreads_over_every_summary_page() {
        let mut taken = [0u32; 1024];
        for count in 1_000..1_000 + 52_500 {
            let page = u16::from_be_bytes(PersonId::minted(0xDEAD_BEEF, count).page_bytes());
            taken[usize::from(page % 1024)] += 1;
        }
        let (least, most) = (taken.iter().min(), taken.iter().max());
        assert!(
            least >= Some(&20) && most <= Some(&90),
            "{least:?}..{most:?}"
        );
    }

    #[test]
    fn a_random_id_keeps_its_short_form_and_page() {
        let id = PersonId(uuid::Builder::from_random_bytes([0x12; 16]).into_uuid());
        assert_eq!(id.page_bytes(), [0x12, 0x12]);
        assert_eq!(id.short(), "12121212");
        let made_in_a_test = PersonId(Uuid::from_u128(0xABCD_1234 << 96 | 5));
        assert_eq!(made_in_a_test.page_bytes(), [0xAB, 0xCD]);
        assert_eq!(made_in_a_test.short(), "abcd1234");
        // Eight digits always, leading zeros kept.
        let small = PersonId(Uuid::from_u128(0x0000_0F0A << 96));
        assert_eq!(small.short(), "00000f0a");
        assert_eq!(small.short(), format!("{:08x}", 0x0F0A));
    }
}
