//! Protocol endpoints, framework-free: each takes the parts of an HTTP request it needs
//! and answers with a value or an [`ferrid_oauth::OAuthError`].

pub mod token;
