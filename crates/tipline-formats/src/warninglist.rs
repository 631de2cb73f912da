//! MISP warninglists (known-benign lists: cidr, hostname, string, substring, regex).
