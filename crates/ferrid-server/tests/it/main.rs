//! Black-box HTTP tests: the real server on port 0 with a fresh SQLite store per test.

mod assertion_defects;
mod audit;
mod bad_input;
mod bootstrap;
mod claims;
mod connection_defects;
mod connections;
mod discovery;
mod key_import_defects;
mod management;
mod management_defects;
mod oidc_clients;
mod openapi;
mod permissions;
mod private_key_jwt;
mod provider;
mod rotation;
mod route_matrix;
mod rust_oauth2;
mod secrets;
mod throttle;
mod throttle_defects;
mod token_endpoint;
mod token_targets;
mod users;
