//! One module per grant type, and the tokens of the user grants (`user`).

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod user;
