//! The in-process hot cache: recent answers by (provider, subject), bounded in size, each
//! kept until its `expires_at`. In front of the store's cache, so repeated lookups (a
//! playbook enriching the same addresses for every alert) cost a hash lookup.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tipline_store::EnrichmentRecord;

/// Bounded map of fresh answers.
#[derive(Debug)]
pub struct HotCache {
    capacity: usize,
    entries: Mutex<HashMap<(String, String), Arc<EnrichmentRecord>>>,
}

impl HotCache {
    /// A cache of at most `capacity` answers (0 disables it).
    pub fn new(capacity: usize) -> HotCache {
        HotCache { capacity, entries: Mutex::new(HashMap::new()) }
    }

    /// The fresh answer of `provider` about `subject`, if cached.
    pub fn get(
        &self,
        provider: &str,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Option<Arc<EnrichmentRecord>> {
        if self.capacity == 0 {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(provider.to_string(), subject.to_string()))
            .filter(|record| record.expires_at > now)
            .cloned()
    }

    /// Keep `record`. When full, expired answers go first, then the ones closest to expiry.
    pub fn put(&self, record: Arc<EnrichmentRecord>, now: DateTime<Utc>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let key = (record.provider.clone(), record.subject.clone());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, r| r.expires_at > now);
            if entries.len() >= self.capacity {
                // Evict an eighth, soonest to expire first.
                let mut by_expiry: Vec<_> =
                    entries.iter().map(|(k, r)| (r.expires_at, k.clone())).collect();
                by_expiry.sort();
                for (_, k) in by_expiry.into_iter().take(self.capacity.div_ceil(8)) {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, record);
    }

    /// How many answers are held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn record(subject: &str, ttl: i64) -> Arc<EnrichmentRecord> {
        let now = Utc::now();
        Arc::new(EnrichmentRecord {
            provider: "p".into(),
            subject: subject.into(),
            fetched_at: now,
            expires_at: now + Duration::seconds(ttl),
            normalized: serde_json::Value::Null,
            raw: None,
        })
    }

    #[test]
    fn keeps_fresh_answers_within_capacity() {
        let cache = HotCache::new(8);
        let now = Utc::now();
        cache.put(record("a", 60), now);
        cache.put(record("stale", -1), now);
        assert!(cache.get("p", "a", now).is_some());
        assert!(cache.get("p", "stale", now).is_none());
        for i in 0..20 {
            cache.put(record(&format!("s{i}"), 100 + i), now);
        }
        assert!(cache.len() <= 8);
        assert!(cache.get("p", "s19", now).is_some());
        assert!(HotCache::new(0).get("p", "a", now).is_none());
    }
}
