//! The visibility rule of DESIGN.md §3, in SQL. The one place it is implemented for reads.
//!
//! Every fragment assumes `$1` is bound to the reader's organization id (see
//! `Sql::for_reader`). The rule, for an object `X` owned by `W`, marked `tlp`, shared to
//! communities and granted to organizations (tables `object_shares`, `object_grants`):
//!
//! * the reader owns `X`, or is granted it: visible at any TLP;
//! * CLEAR: visible to every authenticated principal;
//! * GREEN, AMBER: visible to members of a community `X` is shared to, and to subscribers
//!   of `W` when `W` is a source;
//! * AMBER+STRICT, RED: nothing more.
//!
//! `tipline_model::visibility::is_visible` states the same rule in Rust; the property tests
//! check that both agree for every principal of random worlds.

/// SQL condition: the row aliased `alias` (with `id`, `owner_id`, `tlp`) is visible to `$1`.
pub fn visible(alias: &str) -> String {
    format!(
        "({a}.owner_id = $1 OR {a}.tlp = 'clear' \
         OR EXISTS (SELECT 1 FROM object_grants vg WHERE vg.object_id = {a}.id AND vg.org_id = $1) \
         OR ({a}.tlp IN ('green', 'amber') AND (\
             EXISTS (SELECT 1 FROM object_shares vs JOIN community_members vm \
                     ON vm.community_id = vs.community_id \
                     WHERE vs.object_id = {a}.id AND vm.org_id = $1) \
             OR EXISTS (SELECT 1 FROM source_subscriptions vu \
                        WHERE vu.source_id = {a}.owner_id AND vu.org_id = $1))))",
        a = alias
    )
}

/// SQL condition: the object whose id is the column `id_column` and whose table is named by
/// `type_column` (`indicator` or `group`) exists and is visible to `$1`.
pub(crate) fn endpoint_visible(id_column: &str, type_column: &str) -> String {
    format!(
        "(({t} = 'indicator' AND EXISTS (SELECT 1 FROM indicators ei WHERE ei.id = {c} AND {vi})) \
         OR ({t} = 'group' AND EXISTS (SELECT 1 FROM intel_groups eg WHERE eg.id = {c} AND {vg})))",
        t = type_column,
        c = id_column,
        vi = visible("ei"),
        vg = visible("eg"),
    )
}

/// SQL condition: the association aliased `alias` is visible to `$1`, and so are both of
/// its ends (an association must never reveal an object its reader cannot see).
pub(crate) fn association_visible(alias: &str) -> String {
    format!(
        "({own} AND {src} AND {dst})",
        own = visible(alias),
        src = endpoint_visible(&format!("{alias}.source_id"), &format!("{alias}.source_type")),
        dst = endpoint_visible(&format!("{alias}.target_id"), &format!("{alias}.target_type")),
    )
}

/// SQL condition: the sighting aliased `alias` is visible to `$1`, and so is its indicator.
pub(crate) fn sighting_visible(alias: &str) -> String {
    format!(
        "({own} AND EXISTS (SELECT 1 FROM indicators si WHERE si.id = {alias}.indicator_id AND {vi}))",
        own = visible(alias),
        vi = visible("si"),
    )
}
