//! `berth registry serve`.
