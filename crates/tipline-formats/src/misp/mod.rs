//! MISP events, feeds (manifest.json + {uuid}.json) and galaxy clusters.
