//! Indicator extraction from free text, defanged forms included, in a single pass.
