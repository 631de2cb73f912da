//! Groups: the STIX domain objects tipline keeps (adversaries, campaigns, malware, ...).

crate::string_enum! {
    /// What a group is.
    pub enum GroupKind as "group kind" {
        /// An intrusion set or threat actor.
        Adversary = "adversary" | "intrusion-set" | "threat-actor",
        /// A campaign.
        Campaign = "campaign",
        /// An incident.
        Incident = "incident",
        /// A malware family.
        Malware = "malware",
        /// A legitimate tool used by adversaries.
        Tool = "tool",
        /// A vulnerability (usually a CVE).
        Vulnerability = "vulnerability",
        /// A threat report.
        Report = "report",
    }
}

crate::string_enum! {
    /// What drives an adversary.
    pub enum AdversaryKind as "adversary kind" {
        /// Acting for a state.
        NationState = "nation-state" | "nation_state" | "state",
        /// Politically motivated activists.
        Hacktivist = "hacktivist",
        /// Financially motivated.
        Criminal = "criminal",
        /// Not known.
        Unknown = "unknown",
    }
}

/// Whether `s` is a well-formed CVE identifier (`CVE-YYYY-NNNN…`), case-insensitive.
pub fn is_cve_id(s: &str) -> bool {
    let upper = s.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && number.len() >= 4
        && number.len() <= 19
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cve_ids() {
        assert!(is_cve_id("CVE-2021-44228"));
        assert!(is_cve_id("cve-2024-1234567"));
        assert!(!is_cve_id("CVE-21-44228"));
        assert!(!is_cve_id("CVE-2021-442"));
        assert!(!is_cve_id("2021-44228"));
    }
}
