//! ArcSight Common Event Format (CEF) lines, and LEEF.
