//! Notifier tests: a real SMTP listener, a real HTTP endpoint.
