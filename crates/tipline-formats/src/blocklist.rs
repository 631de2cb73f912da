//! Plain IP/CIDR blocklists (FireHOL netset/ipset, Spamhaus DROP, one per line) and CSV with a column mapping.
