//! `client_secret_basic` and `client_secret_post` (RFC 6749 §2.3.1), with the failure
//! throttle (RFC 9700 §2.5; docs/security.md): failed attempts always take the full path
//! and are throttled per client and per source address.
//!
//! The order of checks (docs/security.md, "Issue 18"):
//! 1. cheap checks — generated secrets (one SHA-256 each) and chosen secrets verified
//!    before (one keyed digest) — serve a correct credential whatever the buckets hold,
//!    so clients behind one address are not locked out by a neighbour's failures;
//! 2. a source (or client at that source) whose bucket is empty gets 429 for anything
//!    else;
//! 3. a secret that could be a chosen one takes a token *before* its slow check (given
//!    back if it was right), under the bounds of [`crate::throttle::slow`]; it is checked only
//!    against the chosen secrets whose `info` it shares, or against a dummy hash, so a
//!    wrong guess costs one slow hash whether the client exists or not.

use std::net::IpAddr;

use ferrid_oauth::OAuthError;

use crate::{
    client_auth::Credentials,
    credentials::{
        secret::{could_be_chosen, info_of},
        verified::verified,
    },
    model::{ClientAuthMethod, UnixTime},
    runtime::{ClientRuntime, ClientSecret, StoredSecret, TrackRuntime},
    throttle::{self, Throttle},
};

/// Each client has one configured method. A `client_secret_post` client may also send
/// its secret by Basic (as FoxIDs allows); a `client_secret_basic` client must use Basic.
pub fn method_allows(method: ClientAuthMethod, creds: &Credentials<'_>) -> bool {
    matches!(
        (method, creds),
        (ClientAuthMethod::ClientSecretBasic, Credentials::Basic { .. })
            | (ClientAuthMethod::ClientSecretPost, Credentials::Basic { .. } | Credentials::Post { .. })
    )
}

/// Where a secret check happens: the instance's throttle, the request's source and time.
pub struct Attempt<'a> {
    pub throttle: &'a Throttle,
    pub source: Option<IpAddr>,
    pub now: UnixTime,
}

/// Authenticates the client that `creds` (Basic or Post) name by `presented`; on an
/// app-scoped URL (`app`) the client must be that app (docs/api.md).
pub async fn authenticate<'t>(
    track: &'t TrackRuntime,
    creds: &Credentials<'_>,
    presented: &str,
    app: Option<&str>,
    at: &Attempt<'_>,
) -> Result<&'t ClientRuntime, OAuthError> {
    let sent = creds.client_id();
    let registered = sent.and_then(|id| track.clients.get(id));
    let client =
        registered.filter(|c| app.is_none_or(|a| a == c.name.as_str())).filter(|c| method_allows(c.method, creds));
    // Only a registered client has a bucket of its own; any other id, however long, is
    // counted in its source's bucket alone.
    let key = registered.map(|c| c.name.as_str());
    let gate = at.source.map(|ip| at.throttle.check(key, ip)).unwrap_or_default();
    let bytes = presented.as_bytes();
    // A cached chosen secret is not consulted for a client whose bucket at this source
    // is empty: the cheap check must not become a faster way to guess it.
    let tag = client.filter(|c| has_chosen(c) && gate.client.is_none()).map(|_| verified().tag(bytes));
    if let Some(c) = client
        && cheap_match(c, bytes, tag.as_ref())
    {
        return Ok(c);
    }
    if let (Some(ip), Some(wait)) = (at.source, gate.wait()) {
        if let (Some(k), Some(_)) = (key, tag) {
            at.throttle.held_back(k, ip);
        }
        return Err(throttled(wait));
    }
    let candidates: Vec<&StoredSecret> = client.map(|c| candidates(c, presented)).unwrap_or_default();
    let fail = || {
        if let Some(ip) = at.source {
            at.throttle.report(failure(track, sent, key.is_some(), ip, at.now));
        }
        Err(OAuthError::invalid_client())
    };
    if candidates.is_empty() && !could_be_chosen(presented) {
        // No chosen secret can be this long or short: a fast failure.
        if let Some(ip) = at.source {
            at.throttle.failed(failure(track, sent, key.is_some(), ip, at.now));
        }
        return Err(OAuthError::invalid_client());
    }
    // Every slow hash is paid for with a token, taken before it runs.
    let cost = candidates.len().max(1) as f64;
    if let Some(ip) = at.source
        && let Err(wait) = at.throttle.try_take(key, ip, cost)
    {
        return Err(throttled(wait));
    }
    let refund = || {
        if let Some(ip) = at.source {
            at.throttle.refund(key, ip, cost);
        }
    };
    let slot_key = format!("{}/{}/{}", track.tenant, track.track, key.unwrap_or(""));
    let Some(slot) = at.throttle.slow().enter(at.source, &slot_key) else {
        refund();
        return Err(throttled(std::time::Duration::ZERO));
    };
    let hashes = candidates.iter().map(|s| s.hash.clone()).collect();
    match (slot.verify(hashes, presented).await, client) {
        (Some(i), Some(c)) => {
            verified().remember(&candidates[i].id, bytes);
            refund();
            Ok(c)
        }
        _ => fail(),
    }
}

fn failure<'a>(
    track: &'a TrackRuntime,
    client: Option<&'a str>,
    registered: bool,
    source: IpAddr,
    at: UnixTime,
) -> throttle::Attempt<'a> {
    throttle::Attempt { tenant: &track.tenant, track: &track.track, client, registered, source, at }
}

fn throttled(wait: std::time::Duration) -> OAuthError {
    OAuthError::throttled(wait.as_secs().saturating_add(1))
}

fn has_chosen(client: &ClientRuntime) -> bool {
    client.secrets.iter().any(|s| s.chosen().is_some())
}

/// Checks `presented` against every generated secret, and (with its keyed digest `tag`)
/// every chosen secret verified before, in constant time per secret and without an
/// early exit.
fn cheap_match(client: &ClientRuntime, presented: &[u8], tag: Option<&[u8; 32]>) -> bool {
    let mut matched = false;
    for s in &client.secrets {
        matched |= match (s.chosen(), tag) {
            // every generated secret has the same public length: a presented secret of
            // another length (say 300 KB) is not hashed at all
            (None, _) => presented.len() == crate::credentials::secret::GENERATED_LEN && s.matches_fast(presented),
            (Some(c), Some(t)) => verified().matches_tag(&c.id, t),
            (Some(_), None) => false,
        };
    }
    matched
}

/// The chosen secrets `presented` can be: those with the same `info` (docs/security.md: the
/// first 3 characters of a secret longer than 20, none for a shorter one).
fn candidates<'c>(client: &'c ClientRuntime, presented: &str) -> Vec<&'c StoredSecret> {
    let info = info_of(presented);
    client.secrets.iter().filter_map(ClientSecret::chosen).filter(|s| s.info == info).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::SecretHash;

    fn chosen(id: &str, secret: &str) -> ClientSecret {
        let rec = crate::credentials::secret::record_chosen(&secret.to_owned().into(), 0, &crate::env::SystemRng);
        ClientSecret::of(crate::model::SecretRecord { id: id.into(), ..rec })
    }

    /// A `client_secret_post` client `c` holding `secrets`.
    fn client_with(secrets: Vec<ClientSecret>) -> ClientRuntime {
        ClientRuntime {
            name: ferrid_oauth::name::Name::parse("c").unwrap(),
            method: ClientAuthMethod::ClientSecretPost,
            secrets: secrets.into(),
            grants: Arc::new([]),
            token_lifetime: 300,
            keys: Box::new([]),
            claims: None,
            grant_types: crate::runtime::GrantTypes::default(),
            oidc: None,
        }
    }

    #[test]
    fn only_the_chosen_secrets_sharing_the_info_are_candidates() {
        let fake = |id: &str, info: Option<&str>| {
            ClientSecret::Stored(Box::new(StoredSecret {
                id: id.into(),
                info: info.map(str::to_owned),
                hash: SecretHash::Pbkdf2Sha512 { iterations: 1, salt: vec![0], hash: vec![0] },
            }))
        };
        let generated = crate::credentials::secret::record_generated(
            &crate::credentials::secret::generate(&crate::env::SystemRng),
            0,
            &crate::env::SystemRng,
        );
        let client = client_with(vec![
            fake("a", Some("abc")),
            fake("b", Some("xyz")),
            fake("short", None),
            ClientSecret::of(generated),
        ]);
        let ids = |p: &str| candidates(&client, p).iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("abc-and-some-more-characters"), ["a"]);
        assert_eq!(ids("nothing-like-any-of-them"), Vec::<String>::new());
        assert_eq!(ids("sixteen-chars-xx"), ["short"]);
    }

    #[test]
    fn a_cached_chosen_secret_matches_cheaply_and_only_with_its_digest() {
        let s = chosen("cached-1", "a person chose this one");
        let client = client_with(vec![s]);
        let p = b"a person chose this one";
        assert!(!cheap_match(&client, p, Some(&verified().tag(p))), "not verified yet");
        verified().remember("cached-1", p);
        assert!(cheap_match(&client, p, Some(&verified().tag(p))));
        assert!(!cheap_match(&client, p, None), "not consulted without the digest");
        assert!(!cheap_match(&client, b"a person chose this onE", Some(&verified().tag(b"a person chose this onE"))));
    }
}
