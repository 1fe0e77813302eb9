//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1).

use crate::{client_auth::Credentials, model::ClientAuthMethod, runtime::ClientRuntime};

/// Chosen secrets verified once, process-wide, keyed by secret id (random and never
/// reused): an entry of a removed secret is never consulted again, since only the ids
/// of a client's current secrets are looked up. One cache, not one per client, keeps
/// the snapshot small with many clients.
fn verified() -> &'static crate::secret::VerifiedCache {
    static CACHE: std::sync::OnceLock<crate::secret::VerifiedCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Slow (PBKDF2) checks allowed at once, process-wide.
static SLOW_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Each client has one configured method. A `client_secret_post` client may also send
/// its secret by Basic (as FoxIDs allows); a `client_secret_basic` client must use Basic.
pub fn method_allows(method: ClientAuthMethod, creds: &Credentials<'_>) -> bool {
    matches!(
        (method, creds),
        (ClientAuthMethod::ClientSecretBasic, Credentials::Basic { .. })
            | (ClientAuthMethod::ClientSecretPost, Credentials::Basic { .. } | Credentials::Post { .. })
    )
}

/// Checks `presented` against every secret of the client, in constant time per secret.
/// Generated secrets cost one SHA-256 each; a chosen secret's slow hash runs on the
/// blocking pool once, then is recognised from the in-memory keyed digest.
pub async fn verify(client: &ClientRuntime, presented: &str) -> bool {
    let bytes = presented.as_bytes();
    let mut matched = false;
    for (id, hash) in &client.secrets {
        // No early exit: every fast secret is checked, whatever matched.
        let ok = if hash.is_slow() { verified().matches(id, bytes) } else { hash.verify(bytes) };
        matched |= ok;
    }
    if matched {
        return true;
    }
    for (id, hash) in client.secrets.iter().filter(|(_, h)| h.is_slow()) {
        let (hash, secret) = (hash.clone(), presented.to_owned());
        // At most SLOW_CHECKS slow hashes run at once: a flood of wrong guesses against
        // chosen secrets waits here instead of occupying every core.
        let Ok(_permit) = SLOW_CHECKS.acquire().await else { return false };
        let ok = tokio::task::spawn_blocking(move || hash.verify(secret.as_bytes())).await.unwrap_or(false);
        if ok {
            verified().remember(id, bytes);
            return true;
        }
    }
    false
}
