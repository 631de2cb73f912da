//! Traffic Light Protocol 2.0 markings.
//!
//! TLP 1.0's `WHITE` is accepted as an alias of `CLEAR` on input; output is always TLP 2.0.

crate::string_enum! {
    /// A TLP 2.0 marking. Ordered from least to most restrictive.
    pub enum Tlp as "tlp" {
        /// May be shared freely.
        Clear = "clear" | "white" | "tlp:clear" | "tlp:white",
        /// May be shared within the community.
        Green = "green" | "tlp:green",
        /// Limited disclosure: recipients' organizations and their clients.
        Amber = "amber" | "tlp:amber",
        /// Limited disclosure: recipients' organizations only.
        AmberStrict = "amber+strict" | "tlp:amber+strict",
        /// For the eyes and ears of individual recipients only.
        Red = "red" | "tlp:red",
    }
}

impl Tlp {
    /// Whether a non-owner may pass an object with this marking on to a third party
    /// (export, TAXII, notification). Only CLEAR and GREEN may be re-shared.
    pub fn allows_resharing(self) -> bool {
        matches!(self, Tlp::Clear | Tlp::Green)
    }

    /// Whether sharing to a community or a source subscription makes the object
    /// visible to members (GREEN and AMBER); AMBER+STRICT and RED need an explicit grant.
    pub fn visible_through_communities(self) -> bool {
        matches!(self, Tlp::Green | Tlp::Amber)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tlp2_names_and_tlp1_aliases() {
        for (input, expected) in [
            ("clear", Tlp::Clear),
            ("WHITE", Tlp::Clear),
            ("TLP:CLEAR", Tlp::Clear),
            ("green", Tlp::Green),
            ("amber", Tlp::Amber),
            ("AMBER+STRICT", Tlp::AmberStrict),
            ("red", Tlp::Red),
        ] {
            assert_eq!(input.parse::<Tlp>().unwrap(), expected, "{input}");
        }
        let err = "purple".parse::<Tlp>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown tlp `purple`; expected one of: clear, green, amber, amber+strict, red"
        );
    }

    #[test]
    fn order_is_by_restriction() {
        assert!(Tlp::Clear < Tlp::Green && Tlp::Green < Tlp::Amber);
        assert!(Tlp::Amber < Tlp::AmberStrict && Tlp::AmberStrict < Tlp::Red);
    }
}
