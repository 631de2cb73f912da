//! Domain types of tipline: what intelligence is, who owns it, and who may see it.
//!
//! This crate does no I/O. It owns the vocabulary every other crate speaks:
//! indicator kinds and their canonical values ([`canonical`]), TLP 2.0 ([`tlp`]),
//! organizations, roles and principals ([`org`]), groups and associations
//! ([`group`], [`association`]) and the visibility rule as pure logic
//! ([`visibility`]), which the store implements in SQL and the tests use as the oracle.

pub mod admin;
pub mod association;
pub mod canonical;
pub mod feed;
pub mod group;
pub mod import;
pub mod intel;
pub mod kind;
pub mod notify;
pub mod org;
pub mod tlp;
pub mod validate;
pub mod visibility;

pub use association::RelationshipType;
pub use canonical::{Canonical, ValueError, canonicalize, detect, refang};
pub use group::{AdversaryKind, GroupKind};
pub use kind::{IndicatorKind, IndicatorStatus};
pub use org::{ConstituencyKind, ContactRole, OrgKind, Principal, Role};
pub use tlp::Tlp;

/// Error for a word that is not one of an enumeration's names, e.g. `"purple"` as a TLP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {expected}")]
pub struct UnknownName {
    /// What was being parsed, e.g. `tlp`.
    pub what: &'static str,
    /// The rejected input.
    pub value: String,
    /// The accepted names, comma separated.
    pub expected: &'static str,
}

/// Declares a string enumeration with one canonical wire name per variant, plus
/// `as_str`, `FromStr` (with accepted aliases), `Display`, serde and OpenAPI support.
#[macro_export]
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
        $vis enum $name {
            $( $(#[$vmeta])* #[schema(rename = $wire)] $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The accepted names, comma separated (for error messages and help).
            pub const NAMES: &'static str = $crate::string_enum!(@join $($wire),+);

            /// The canonical wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let lower = s.trim().to_ascii_lowercase();
                match lower.as_str() {
                    $($wire $(| $alias)* => Ok($name::$variant),)+
                    _ => Err($crate::UnknownName { what: $what, value: s.to_string(), expected: Self::NAMES }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
    (@join $first:literal $(, $rest:literal)*) => { concat!($first $(, ", ", $rest)*) };
}
