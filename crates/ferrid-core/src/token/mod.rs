//! Tokens ferrid issues, shared by every grant: [`access`] (RFC 9068 JWT access tokens).

pub mod access;
