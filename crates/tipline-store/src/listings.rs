//! Listings: what each pull of a blocklist feed said, as listing periods, and the queries
//! the mistaken-blocklisting work stands on ("what is listed inside partner X's networks?",
//! "which lists have ever had this address?").
//!
//! A pull is applied in one transaction: the pulled entries are compared with the feed's
//! open listings; new ones are upserted as indicators owned by the feed's source and open
//! a listing (`listing.added`), vanished ones are delisted (`listing.removed`) and their
//! indicators expire unless another list of the same source still has them, and the feed's
//! state is written under its lease.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tipline_model::feed::{Feed, Listing, PullCounts, PullStatus};
use tipline_model::intel::IndicatorInput;
use tipline_model::{
    Canonical, ConstituencyKind, IndicatorKind, IndicatorStatus, canonicalize, detect,
};
use uuid::Uuid;

use crate::events::EventWrite;
use crate::feeds::{ClaimedFeed, PullOutcome, finish_pull, touch_listed_indicators};
use crate::groups::escape_like;
use crate::indicators::{ListFilters, Page, next_cursor, page_limit};
use crate::rows::{parse, uuid};
use crate::sql::Sql;
use crate::visibility::visible;
use crate::{StoreError, StoreResult, Viewer, audit, from_micros, micros, new_id, now};

/// One entry of a pulled list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    /// The canonical value.
    pub indicator: Canonical,
    /// The list's reference for it (Spamhaus `SBL…`).
    pub reference: Option<String>,
    /// The list's comment for it.
    pub comment: Option<String>,
}

/// Filters for [`Viewer::search_listings`]; all optional, all narrow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListingQuery {
    /// Listings of this feed.
    pub feed_id: Option<Uuid>,
    /// Listings covering this value: an address inside a listed network, a network
    /// overlapping one, a domain or its parent domains, or the exact value of other kinds.
    pub value: Option<String>,
    /// Listings inside this organization's constituency (networks overlapping its CIDRs,
    /// its domains and their subdomains, its ASNs). Your own organization, or any for
    /// host administrators.
    pub org_id: Option<Uuid>,
    /// `true`: only listings still listed; `false`: only delisted ones.
    pub current: Option<bool>,
    /// Changed at or after this time (RFC 3339).
    pub updated_since: Option<DateTime<Utc>>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
}

const LISTING_COLUMNS: &str = "l.id, l.feed_id, l.owner_id, l.tlp, l.kind, l.value, l.reference, \
    l.comment, l.indicator_id, l.first_listed, \
    CASE WHEN l.delisted_at IS NULL THEN COALESCE(f.confirmed_at, l.last_listed) ELSE l.last_listed END AS last_listed, \
    l.delisted_at, l.updated_at";

#[derive(FromRow)]
struct ListingRow {
    id: String,
    feed_id: String,
    owner_id: String,
    tlp: String,
    kind: String,
    value: String,
    reference: Option<String>,
    comment: Option<String>,
    indicator_id: Option<String>,
    first_listed: i64,
    last_listed: i64,
    delisted_at: Option<i64>,
    updated_at: i64,
}

impl ListingRow {
    fn into_model(self) -> StoreResult<Listing> {
        Ok(Listing {
            id: uuid(&self.id)?,
            feed_id: uuid(&self.feed_id)?,
            owner_id: uuid(&self.owner_id)?,
            tlp: parse(&self.tlp)?,
            kind: parse(&self.kind)?,
            value: self.value,
            reference: self.reference,
            comment: self.comment,
            indicator_id: self.indicator_id.as_deref().map(uuid).transpose()?,
            first_listed: from_micros(self.first_listed),
            last_listed: from_micros(self.last_listed),
            delisted_at: self.delisted_at.map(from_micros),
        })
    }
}

/// An open listing as the diff needs it.
#[derive(FromRow)]
struct OpenListing {
    id: String,
    kind: String,
    value: String,
    reference: Option<String>,
    indicator_id: Option<String>,
    first_listed: i64,
}

/// Rows per multi-row statement (listings have 13 columns; SQLite binds at most 32,766).
const BATCH: usize = 1000;

impl Viewer<'_> {
    /// Apply one pull of a list feed: compare `entries` with the feed's open listings and
    /// record the difference, all in one transaction fenced on the lease (see the module
    /// documentation). `rejected` counts bad lines skipped by a lenient feed.
    pub async fn apply_list_pull(
        &self,
        claimed: &ClaimedFeed,
        entries: Vec<ListedEntry>,
        rejected: i64,
        mut outcome: PullOutcome,
    ) -> StoreResult<PullCounts> {
        self.require_platform_admin()?;
        let feed = &claimed.feed;
        // Distinct entries, first occurrence wins.
        let mut pulled: Vec<ListedEntry> = Vec::with_capacity(entries.len());
        let mut seen: HashSet<(IndicatorKind, String)> = HashSet::with_capacity(entries.len());
        for entry in entries {
            if seen.insert((entry.indicator.kind, entry.indicator.value.clone())) {
                pulled.push(entry);
            }
        }
        let at = micros(now());
        let mut tx = self.store.write().await?;
        let conn: &mut AnyConnection = &mut tx.tx;
        let mut sql = Sql::new(
            "SELECT id, kind, value, reference, indicator_id, first_listed FROM listings WHERE delisted_at IS NULL AND feed_id = ",
        );
        sql.bind(feed.id.to_string());
        let open: Vec<OpenListing> = sql.fetch_all(&mut *conn).await?;
        let open_keys: HashMap<(String, String), usize> =
            open.iter().enumerate().map(|(i, l)| ((l.kind.clone(), l.value.clone()), i)).collect();
        let mut added: Vec<&ListedEntry> = Vec::new();
        let mut still: Vec<bool> = vec![false; open.len()];
        let mut reference_changes: Vec<(String, Option<String>)> = Vec::new();
        for entry in &pulled {
            let key = (entry.indicator.kind.as_str().to_string(), entry.indicator.value.clone());
            match open_keys.get(&key) {
                Some(&i) => {
                    still[i] = true;
                    if open[i].reference != entry.reference && entry.reference.is_some() {
                        reference_changes.push((open[i].id.clone(), entry.reference.clone()));
                    }
                }
                None => added.push(entry),
            }
        }
        let removed: Vec<&OpenListing> =
            open.iter().zip(&still).filter(|(_, s)| !**s).map(|(l, _)| l).collect();
        let counts = PullCounts {
            entries: pulled.len() as i64,
            added: added.len() as i64,
            removed: removed.len() as i64,
            unchanged: (pulled.len() - added.len()) as i64,
            rejected,
        };
        let mut events = EventWrite::default();

        // New listings: upsert their indicators (owned by the source), reactivate those
        // that had expired, open the listings.
        let inputs: Vec<IndicatorInput> =
            added.iter().map(|entry| indicator_input(feed, entry)).collect();
        let checked = self.check_indicators(&inputs, true)?;
        let (upserted, _) = self.upsert_checked(conn, &checked, true).await?;
        for chunk in upserted.ids.chunks(BATCH) {
            let mut sql = Sql::new(
                "UPDATE indicators SET status = 'active', updated_at = $1 WHERE status = 'expired' AND id IN (",
            );
            sql.value(at).bind_list(chunk.iter().map(Uuid::to_string)).push(")");
            sql.execute(&mut *conn).await?;
        }
        let relisted = previously_listed(conn, feed.id, &added).await?;
        for (chunk, ids) in added.chunks(BATCH).zip(upserted.ids.chunks(BATCH)) {
            let mut sql = Sql::new(
                "INSERT INTO listings (id, feed_id, owner_id, tlp, kind, value, net_lo, net_hi, \
                 reference, comment, indicator_id, first_listed, last_listed, updated_at) VALUES ",
            );
            for (j, (entry, indicator_id)) in chunk.iter().zip(ids).enumerate() {
                let id = new_id();
                let (lo, hi) = match net_range(&entry.indicator) {
                    Some((lo, hi)) => (Some(lo), Some(hi)),
                    None => (None, None),
                };
                sql.push(if j == 0 { "(" } else { ", (" })
                    .bind(id.to_string())
                    .push(", ")
                    .bind(feed.id.to_string())
                    .push(", ")
                    .bind(feed.source_id.to_string())
                    .push(", ")
                    .bind(feed.tlp.as_str().to_string())
                    .push(", ")
                    .bind(entry.indicator.kind.as_str().to_string())
                    .push(", ")
                    .bind(entry.indicator.value.clone())
                    .push(", ")
                    .bind(lo)
                    .push(", ")
                    .bind(hi)
                    .push(", ")
                    .bind(entry.reference.clone())
                    .push(", ")
                    .bind(entry.comment.clone().map(|c| truncate(c, 1000)))
                    .push(", ")
                    .bind(indicator_id.to_string())
                    .push(", ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(", ")
                    .bind(at)
                    .push(")");
                events.add(
                    "listing.added",
                    Some(id),
                    Some(feed.source_id),
                    serde_json::json!({
                        "id": id, "feed_id": feed.id, "feed": feed.name, "source_id": feed.source_id,
                        "kind": entry.indicator.kind, "value": entry.indicator.value,
                        "reference": entry.reference, "indicator_id": indicator_id,
                        "relisted": relisted.contains(&(entry.indicator.kind.as_str().to_string(), entry.indicator.value.clone())),
                    }),
                    at,
                );
            }
            sql.execute(&mut *conn).await?;
        }

        // Delistings: close the listings, expire indicators no other open listing holds.
        let confirmed: Option<(Option<i64>,)> = {
            let mut sql = Sql::new("SELECT confirmed_at FROM feeds WHERE id = ");
            sql.bind(feed.id.to_string());
            sql.fetch_optional(&mut *conn).await?
        };
        let last_confirmed = confirmed.and_then(|(c,)| c);
        for chunk in removed.chunks(BATCH) {
            let mut sql = Sql::new(
                "UPDATE listings SET delisted_at = $1, delist_reason = 'dropped', updated_at = $1, last_listed = ",
            );
            sql.value(at);
            match last_confirmed {
                Some(c) => sql.bind(c),
                None => sql.push("first_listed"),
            };
            sql.push(" WHERE id IN (").bind_list(chunk.iter().map(|l| l.id.clone())).push(")");
            sql.execute(&mut *conn).await?;
            for listing in chunk {
                let last_listed = last_confirmed.unwrap_or(listing.first_listed);
                events.add(
                    "listing.removed",
                    Some(uuid(&listing.id)?),
                    Some(feed.source_id),
                    serde_json::json!({
                        "id": listing.id, "feed_id": feed.id, "feed": feed.name, "source_id": feed.source_id,
                        "kind": listing.kind, "value": listing.value, "reference": listing.reference,
                        "indicator_id": listing.indicator_id,
                        "first_listed": from_micros(listing.first_listed),
                        "last_listed": from_micros(last_listed),
                        "delisted_at": from_micros(at),
                    }),
                    at,
                );
            }
        }
        let candidates: Vec<String> =
            removed.iter().filter_map(|l| l.indicator_id.clone()).collect();
        for chunk in candidates.chunks(BATCH) {
            let mut sql = Sql::new(
                "SELECT i.id, i.kind, i.value FROM indicators i WHERE i.status = 'active' AND i.id IN (",
            );
            sql.bind_list(chunk.iter().cloned()).push(
                ") AND NOT EXISTS (SELECT 1 FROM listings l WHERE l.indicator_id = i.id AND l.delisted_at IS NULL)",
            );
            let expiring: Vec<(String, String, String)> = sql.fetch_all(&mut *conn).await?;
            if expiring.is_empty() {
                continue;
            }
            let mut sql =
                Sql::new("UPDATE indicators SET status = 'expired', updated_at = $1 WHERE id IN (");
            sql.value(at).bind_list(expiring.iter().map(|(id, _, _)| id.clone())).push(")");
            sql.execute(&mut *conn).await?;
            for (id, kind, value) in expiring {
                let id = uuid(&id)?;
                events.add(
                    "indicator.updated",
                    Some(id),
                    Some(feed.source_id),
                    serde_json::json!({ "id": id, "kind": kind, "value": value, "owner_id": feed.source_id, "status": IndicatorStatus::Expired }),
                    at,
                );
            }
        }
        for (id, reference) in reference_changes {
            let mut sql = Sql::new("UPDATE listings SET reference = ");
            sql.bind(reference).push(" WHERE id = ").bind(id);
            sql.execute(&mut *conn).await?;
        }
        events.write(conn).await?;
        touch_listed_indicators(conn, feed.id).await?;
        outcome.status = PullStatus::Ok;
        outcome.counts = counts;
        finish_pull(conn, &claimed.lease, &outcome).await?;
        audit::record(
            conn,
            &self.principal,
            "feed.pull",
            "feed",
            Some(feed.id),
            serde_json::to_value(counts).unwrap_or_default(),
        )
        .await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Listings the principal may see that match every filter, by last change then id.
    pub async fn search_listings(&self, query: &ListingQuery) -> StoreResult<Page<Listing>> {
        let limit = page_limit(query.limit)?;
        let mut conn = self.store.pool().acquire().await?;
        let mut sql = Sql::for_reader(&self.org());
        sql.push("SELECT ")
            .push(LISTING_COLUMNS)
            .push(" FROM listings l JOIN feeds f ON f.id = l.feed_id WHERE ")
            .push(&visible("l"));
        if let Some(feed) = query.feed_id {
            sql.push(" AND l.feed_id = ").bind(feed.to_string());
        }
        match query.current {
            Some(true) => sql.push(" AND l.delisted_at IS NULL"),
            Some(false) => sql.push(" AND l.delisted_at IS NOT NULL"),
            None => &mut sql,
        };
        if let Some(value) = &query.value {
            let canonical =
                detect(value).map_err(|e| StoreError::invalid("value", e.to_string()))?;
            sql.push(" AND ");
            push_covering(&mut sql, &canonical);
        }
        if let Some(org) = query.org_id {
            if !self.principal.is_platform_admin() && org != self.principal.org_id {
                return Err(StoreError::NotFound { what: "organization", id: org.to_string() });
            }
            let mut select = Sql::new("SELECT kind, value FROM org_constituency WHERE org_id = ");
            select.bind(org.to_string());
            let entries: Vec<(String, String)> = select.fetch_all(&mut conn).await?;
            sql.push(" AND (1 = 0");
            for (kind, value) in entries {
                sql.push(" OR ");
                push_inside(&mut sql, parse(&kind)?, &value);
            }
            sql.push(")");
        }
        let filters = ListFilters {
            tag: None,
            owner_id: None,
            tlp: None,
            updated_since: query.updated_since,
            cursor: query.cursor.as_deref(),
        };
        filters.push(&mut sql, "l")?;
        sql.push(" ORDER BY l.updated_at, l.id LIMIT ").bind(limit + 1);
        let mut rows: Vec<ListingRow> = sql.fetch_all(&mut conn).await?;
        let next_cursor = next_cursor(&mut rows, limit, |r| (r.updated_at, &r.id));
        let items = rows.into_iter().map(ListingRow::into_model).collect::<StoreResult<_>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// The indicator a new listing upserts: owned by the feed's source with its defaults.
fn indicator_input(feed: &Feed, entry: &ListedEntry) -> IndicatorInput {
    let mut attributes = std::collections::BTreeMap::new();
    if let Some(reference) = &entry.reference {
        attributes.insert("reference".to_string(), reference.clone());
    }
    IndicatorInput {
        kind: Some(entry.indicator.kind),
        value: entry.indicator.value.clone(),
        owner_id: Some(feed.source_id),
        tlp: Some(feed.tlp),
        confidence: Some(feed.confidence),
        tags: feed.tags.clone(),
        attributes,
        ..Default::default()
    }
}

/// The keys among `added` that this feed listed before (a relisting).
async fn previously_listed(
    conn: &mut AnyConnection,
    feed_id: Uuid,
    added: &[&ListedEntry],
) -> StoreResult<HashSet<(String, String)>> {
    let mut found = HashSet::new();
    for chunk in added.chunks(BATCH) {
        let mut sql = Sql::new(
            "SELECT DISTINCT kind, value FROM listings WHERE delisted_at IS NOT NULL AND feed_id = ",
        );
        sql.bind(feed_id.to_string())
            .push(" AND value IN (")
            .bind_list(chunk.iter().map(|e| e.indicator.value.clone()))
            .push(")");
        found.extend(sql.fetch_all::<(String, String)>(&mut *conn).await?);
    }
    Ok(found)
}

/// `l` covers `value`: overlapping network, the domain or a parent of it, or the same value.
fn push_covering(sql: &mut Sql, value: &Canonical) {
    if let Some((lo, hi)) = net_range(value) {
        sql.push("(l.net_lo <= ").bind(hi).push(" AND l.net_hi >= ").bind(lo).push(")");
    } else if value.kind == IndicatorKind::Domain {
        let parents: Vec<String> = value
            .value
            .match_indices('.')
            .map(|(i, _)| value.value[i + 1..].to_string())
            .chain(std::iter::once(value.value.clone()))
            .collect();
        sql.push("(l.kind = 'domain' AND l.value IN (").bind_list(parents).push("))");
    } else {
        sql.push("(l.kind = ")
            .bind(value.kind.as_str().to_string())
            .push(" AND l.value = ")
            .bind(value.value.clone())
            .push(")");
    }
}

/// `l` is inside one constituency entry: a network overlapping the CIDR, the domain or a
/// subdomain of it, the ASN.
fn push_inside(sql: &mut Sql, kind: ConstituencyKind, value: &str) {
    match kind {
        ConstituencyKind::Cidr => {
            match canonicalize(IndicatorKind::Cidr, value).ok().and_then(|c| net_range(&c)) {
                Some((lo, hi)) => {
                    sql.push("(l.net_lo <= ").bind(hi).push(" AND l.net_hi >= ").bind(lo).push(")");
                }
                None => {
                    sql.push("1 = 0");
                }
            }
        }
        ConstituencyKind::Domain => {
            sql.push("(l.kind = 'domain' AND (l.value = ")
                .bind(value.to_string())
                .push(" OR l.value LIKE ")
                .bind(format!("%.{}", escape_like(value)))
                .push(" ESCAPE '\\'))");
        }
        ConstituencyKind::Asn => {
            sql.push("(l.kind = 'asn' AND l.value = ").bind(value.to_string()).push(")");
        }
    }
}

/// First and last address of an address or network, as 32 hex digits of the IPv6 form
/// (IPv4 mapped into `::ffff:0:0/96`), so ranges compare as text.
pub(crate) fn net_range(value: &Canonical) -> Option<(String, String)> {
    let (address, prefix) = match value.kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => (value.value.parse::<IpAddr>().ok()?, None),
        IndicatorKind::Cidr => {
            let (address, prefix) = value.value.split_once('/')?;
            (address.parse::<IpAddr>().ok()?, Some(prefix.parse::<u32>().ok()?))
        }
        _ => return None,
    };
    let (bits, prefix) = match address {
        IpAddr::V4(v4) => (u128::from(v4.to_ipv6_mapped()), prefix.map_or(128, |p| p + 96)),
        IpAddr::V6(v6) => (u128::from(v6), prefix.unwrap_or(128)),
    };
    if prefix > 128 {
        return None;
    }
    let host_mask = if prefix == 0 { u128::MAX } else { (1u128 << (128 - prefix)) - 1 };
    let lo = bits & !host_mask;
    let hi = lo | host_mask;
    Some((format!("{lo:032x}"), format!("{hi:032x}")))
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    fn ipv6_of(hex: &str) -> Option<Ipv6Addr> {
        u128::from_str_radix(hex, 16).ok().map(Ipv6Addr::from)
    }

    fn range(kind: IndicatorKind, value: &str) -> Option<(String, String)> {
        net_range(&Canonical { kind, value: value.into() })
    }

    #[test]
    fn ranges_of_addresses_and_networks() {
        assert_eq!(
            range(IndicatorKind::Ipv4, "192.0.2.1"),
            Some((
                "00000000000000000000ffffc0000201".into(),
                "00000000000000000000ffffc0000201".into()
            ))
        );
        assert_eq!(
            range(IndicatorKind::Cidr, "192.0.2.0/24"),
            Some((
                "00000000000000000000ffffc0000200".into(),
                "00000000000000000000ffffc00002ff".into()
            ))
        );
        assert_eq!(
            range(IndicatorKind::Cidr, "2001:db8::/32"),
            Some((
                "20010db8000000000000000000000000".into(),
                "20010db8ffffffffffffffffffffffff".into()
            ))
        );
        assert_eq!(
            range(IndicatorKind::Cidr, "0.0.0.0/0"),
            Some((
                "00000000000000000000ffff00000000".into(),
                "00000000000000000000ffffffffffff".into()
            ))
        );
        assert_eq!(range(IndicatorKind::Domain, "evil.example"), None);
        let (lo, _) = range(IndicatorKind::Cidr, "192.0.2.0/24").unwrap();
        assert_eq!(ipv6_of(&lo).unwrap().to_ipv4_mapped().unwrap().to_string(), "192.0.2.0");
    }
}
