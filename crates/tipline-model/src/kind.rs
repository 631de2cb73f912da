//! Indicator kinds and statuses.

crate::string_enum! {
    /// What an indicator's value is. Each kind has one canonical form (see [`crate::canonical`]).
    pub enum IndicatorKind as "indicator kind" {
        /// An IPv4 address, dotted quad.
        Ipv4 = "ipv4" | "ipv4-addr" | "ip",
        /// An IPv6 address in RFC 5952 form.
        Ipv6 = "ipv6" | "ipv6-addr",
        /// An IPv4 or IPv6 network, `address/prefix` with no host bits set.
        Cidr = "cidr" | "network",
        /// A domain name in lower-case ASCII (IDNs as punycode), no trailing dot.
        Domain = "domain" | "domain-name" | "hostname" | "fqdn",
        /// A URL, normalized (WHATWG URL parsing, lower-case scheme and host, no fragment).
        Url = "url" | "uri",
        /// An email address, lower-case.
        Email = "email" | "email-addr",
        /// An MD5 digest, lower-case hex.
        Md5 = "md5",
        /// A SHA-1 digest, lower-case hex.
        Sha1 = "sha1" | "sha-1",
        /// A SHA-256 digest, lower-case hex.
        Sha256 = "sha256" | "sha-256",
        /// An autonomous system number, `AS` followed by the decimal number.
        Asn = "asn" | "as" | "autonomous-system",
    }
}

crate::string_enum! {
    /// Lifecycle of an indicator.
    pub enum IndicatorStatus as "indicator status" {
        /// In force: matches are reported.
        Active = "active",
        /// No longer believed malicious because it aged out.
        Expired = "expired",
        /// Judged a false positive.
        FalsePositive = "false_positive" | "false-positive",
        /// Explicitly allowed; matches are suppressed.
        Allowlisted = "allowlisted",
    }
}
