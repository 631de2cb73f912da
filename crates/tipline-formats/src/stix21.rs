//! STIX 2.1: objects, bundles, indicator patterns, and the mapping to and from tipline's model.
