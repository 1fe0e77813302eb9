//! One table of exit statuses for every subcommand (docs/cli.md "Exit status"), and one
//! way of reporting a failure: a single line `ferrid COMMAND: message` on standard
//! error — never a backtrace, whatever `RUST_BACKTRACE` says, since a user's mistake is
//! not a crash.

use std::process::ExitCode;

/// What kind of failure ended a command; its discriminant is the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Refused or failed for another reason: a validation error, a server error, an
    /// answer not understood, a server that stopped with an error.
    Failed = 1,
    /// The command line is wrong (clap's own errors too), no credentials were given,
    /// or a local file named on it cannot be read.
    Usage = 2,
    /// Authentication or authorization failed (credentials or token refused, 401/403).
    Auth = 3,
    /// Not found, already exists, or changed since read (404, 409, 412).
    NotFound = 4,
    /// The network: a server or database that cannot be reached, a listen address that
    /// cannot be resolved or bound.
    Network = 5,
    /// A setting or configuration file is refused: an unknown key, an invalid value,
    /// settings that do not go together, a TLS file or master key that does not load.
    Config = 6,
}

/// A failed command: its kind and the one line that explains it.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure { exit, message: message.into() }
    }

    /// Prints `ferrid {command}: {message}` on standard error and gives the status.
    pub fn report(&self, command: &str) -> ExitCode {
        eprintln!("ferrid {command}: {}", self.message);
        ExitCode::from(self.exit as u8)
    }
}

/// The exit statuses, as shown under every subcommand's `--help`.
pub const EXIT_STATUS_HELP: &str = "Exit status: 0 done; 1 refused or failed for another reason; 2 bad \
arguments, no credentials or an unreadable file; 3 authentication or authorization failed; 4 not found, already \
exists or changed since read; 5 a server, database or listen address that cannot be reached, resolved or bound; 6 \
a refused setting or configuration file (docs/cli.md).";

/// A status for an HTTP error answer.
pub fn for_http_status(status: u16) -> Exit {
    match status {
        401 | 403 => Exit::Auth,
        404 | 409 | 412 => Exit::NotFound,
        _ => Exit::Failed,
    }
}

/// A status for an OAuth error code (RFC 6749 §5.2): a client authentication failure
/// is an authentication failure; any other refusal is a refusal.
pub fn for_oauth_error(error: &str) -> Exit {
    match error {
        "invalid_client" | "unauthorized_client" | "access_denied" => Exit::Auth,
        _ => Exit::Failed,
    }
}

/// One line from an error and its causes (`outer: inner: …`), without a backtrace.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_statuses_are_the_documented_numbers() {
        let table = [
            (Exit::Failed, 1),
            (Exit::Usage, 2),
            (Exit::Auth, 3),
            (Exit::NotFound, 4),
            (Exit::Network, 5),
            (Exit::Config, 6),
        ];
        for (exit, code) in table {
            assert_eq!(exit as u8, code, "{exit:?}");
        }
        let doc = include_str!("../../../docs/cli.md");
        for (exit, code) in table {
            assert!(doc.contains(&format!("| {code} |")), "docs/cli.md has no row for {exit:?} ({code})");
        }
    }

    #[test]
    fn http_and_oauth_refusals_map_to_one_table() {
        assert_eq!(for_http_status(401), Exit::Auth);
        assert_eq!(for_http_status(403), Exit::Auth);
        assert_eq!(for_http_status(404), Exit::NotFound);
        assert_eq!(for_http_status(412), Exit::NotFound);
        assert_eq!(for_http_status(400), Exit::Failed);
        assert_eq!(for_http_status(503), Exit::Failed);
        assert_eq!(for_oauth_error("invalid_client"), Exit::Auth);
        assert_eq!(for_oauth_error("invalid_scope"), Exit::Failed);
    }

    #[test]
    fn an_error_chain_is_one_line() {
        let e = anyhow::anyhow!("inner\nsecond line").context("outer");
        assert_eq!(one_line(&e), "outer: inner second line");
    }
}
