//! The caseworker's data model and rules. Pure: no I/O, no clocks, no randomness —
//! "today" and identifiers are always passed in, so every rule is testable.

/// Declares a closed set of named values with labels (for screens and CSV), short
/// codes (for command lines and keymaps) and a forgiving parser.
macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $( $variant:ident => $label:literal ),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash,
                 serde::Serialize, serde::Deserialize)]
        pub enum $name { $( $variant ),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];

            pub fn label(self) -> &'static str {
                match self { $( $name::$variant => $label ),+ }
            }

            /// Accepts the label or the variant name, in any case and spacing.
            pub fn parse(value: &str) -> Result<Self, $crate::domain::error::DomainError> {
                const OPTIONS: &[($name, &str)] = &[ $( ($name::$variant, $label) ),+ ];
                const VARIANTS: &[($name, &str)] = &[ $( ($name::$variant, stringify!($variant)) ),+ ];
                $crate::domain::error::parse_named(stringify!($name), value, OPTIONS)
                    .or_else(|e| $crate::domain::error::parse_named(stringify!($name), value, VARIANTS).map_err(|_| e))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

pub mod academic;
pub mod activity;
pub mod codes;
pub mod contact;
pub mod currency;
pub mod dates;
pub mod details;
pub mod district;
pub mod error;
pub mod fingerprint;
pub mod groups;
pub mod ids;
mod inline_text;
pub mod ops;
pub mod person;
pub mod records;
pub mod residence;
pub mod risk;
pub mod serde_added;
pub mod serde_date;
pub mod state;
pub mod summaries;
pub mod summary;
pub mod text;

pub use activity::CurrentActivity;
pub use codes::{ActivityCode, StatusGroup};
pub use contact::{Channel, ContactAttempt, Outcome};
pub use district::{Area, District};
pub use error::DomainError;
pub use ids::{DeviceId, OpId, PersonId, WorkerId};
pub use ops::{FieldSet, FieldValue, Hlc, Op, OpPayload, Stamp};
pub use person::YoungPerson;
pub use records::{FollowUp, IntendedDestination, Note, Rag, RiskRating, SeptemberGuaranteeOffer};
pub use state::PersonState;
pub use summaries::Summaries;
pub use summary::CaseSummary;
