//! The visibility rule (DESIGN.md §3) as pure logic.
//!
//! The store implements the same rule in SQL (`tipline_store::visibility`); this function is
//! the specification the store is tested against: the property tests build random worlds and
//! check that every read through the API returns exactly what [`is_visible`] allows.

use uuid::Uuid;

use crate::Tlp;

/// What the rule needs to know about an object: its owner, marking, the communities it is
/// shared to and the organizations granted it explicitly.
#[derive(Debug, Clone)]
pub struct ObjectFacts<'a> {
    /// The owning organization (partner, host or source).
    pub owner: Uuid,
    /// The TLP marking.
    pub tlp: Tlp,
    /// Communities the owner shared the object to.
    pub shared_to: &'a [Uuid],
    /// Organizations granted the object explicitly (e.g. the victim named on a case).
    pub granted_to: &'a [Uuid],
}

/// What the rule needs to know about the reader's organization.
pub trait ReaderFacts {
    /// The reader's organization.
    fn org(&self) -> Uuid;
    /// Whether the reader's organization is a member of `community`.
    fn is_member(&self, community: Uuid) -> bool;
    /// Whether the reader's organization subscribes to the source organization `source`.
    fn subscribes_to(&self, source: Uuid) -> bool;
}

/// Whether the reader may see the object.
///
/// | TLP | visible when |
/// |---|---|
/// | any | reader owns it, or reader is granted it |
/// | CLEAR | always |
/// | GREEN, AMBER | reader is a member of a community it is shared to, or subscribes to its source owner |
/// | AMBER+STRICT, RED | only the "any" row |
pub fn is_visible(reader: &impl ReaderFacts, object: &ObjectFacts<'_>) -> bool {
    let org = reader.org();
    if object.owner == org || object.granted_to.contains(&org) {
        return true;
    }
    match object.tlp {
        Tlp::Clear => true,
        Tlp::Green | Tlp::Amber => {
            object.shared_to.iter().any(|c| reader.is_member(*c))
                || reader.subscribes_to(object.owner)
        }
        Tlp::AmberStrict | Tlp::Red => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Reader {
        org: Uuid,
        communities: Vec<Uuid>,
        sources: Vec<Uuid>,
    }

    impl ReaderFacts for Reader {
        fn org(&self) -> Uuid {
            self.org
        }
        fn is_member(&self, community: Uuid) -> bool {
            self.communities.contains(&community)
        }
        fn subscribes_to(&self, source: Uuid) -> bool {
            self.sources.contains(&source)
        }
    }

    #[test]
    fn table_of_the_design() {
        let (me, other, community, source) =
            (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3), Uuid::from_u128(4));
        let member = Reader { org: me, communities: vec![community], sources: vec![source] };
        let outsider = Reader { org: me, communities: vec![], sources: vec![] };
        let shared = [community];
        let granted = [me];
        let check = |reader: &Reader, owner, tlp, shared_to: &[Uuid], granted_to: &[Uuid]| {
            is_visible(reader, &ObjectFacts { owner, tlp, shared_to, granted_to })
        };
        for tlp in Tlp::ALL.iter().copied() {
            assert!(check(&outsider, me, tlp, &[], &[]), "owner sees {tlp}");
            assert!(check(&outsider, other, tlp, &[], &granted), "grantee sees {tlp}");
        }
        assert!(check(&outsider, other, Tlp::Clear, &[], &[]));
        for tlp in [Tlp::Green, Tlp::Amber] {
            assert!(check(&member, other, tlp, &shared, &[]));
            assert!(!check(&outsider, other, tlp, &shared, &[]));
            assert!(check(&member, source, tlp, &[], &[]), "subscriber sees {tlp} of its source");
            assert!(!check(&member, other, tlp, &[], &[]), "unshared {tlp} stays with owner");
        }
        for tlp in [Tlp::AmberStrict, Tlp::Red] {
            assert!(!check(&member, other, tlp, &shared, &[]));
            assert!(!check(&member, source, tlp, &[], &[]));
        }
    }
}
