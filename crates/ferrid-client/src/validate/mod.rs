//! Bearer-JWT validation (RFC 6750, RFC 7519, RFC 8725) for resource servers.
//!
//! A [`Validator`] checks, in order, stopping at the first failure:
//! 1. the token is a compact JWS whose header `alg` is one of the configured algorithms
//!    (the token never chooses: RFC 8725 §3.1) and that has no `crit` (RFC 7515 §4.1.11);
//! 2. the header `typ` equals the configured one, if any (RFC 8725 §3.11, RFC 9068 §4);
//! 3. a key from the JWKS fits the `kid` and `alg` (see [`JwksCache`]);
//! 4. the signature verifies;
//! 5. `exp` is present and not past, `nbf` not future, both with leeway (RFC 7519 §4.1.4-5);
//! 6. `iss` equals the configured issuer (§4.1.1), `aud` names one of the audiences (§4.1.3);
//! 7. the required scopes (any or all) and roles (any) are present.
//!
//! Steps 1–6 answer 401 `invalid_token`, step 7 answers 403 `insufficient_scope`
//! (RFC 6750 §3.1); see [`ValidationError`].
//!
//! Signatures are verified by aws-lc-rs against keys parsed once per JWKS fetch
//! ([`JwksCache::parsed_keys`]). A token that passed steps 1–6 is remembered by the
//! digest of its bytes ([`ValidatorConfig::verified_cache_size`]): presented again while
//! the key set that verified it is still the one held and fresh, it skips steps 1–4,
//! whose outcome depends only on those bytes, the configuration and the key set; steps
//! 5–7 run on every request (docs/client.md "Verified tokens").
//!
//! # Introspection (RFC 7662)
//! With [`ValidatorConfig::introspection`] set, the token is also sent to an
//! introspection endpoint (see [`IntrospectionConfig`] for the cache):
//! - [`Introspect::After`]: steps 1–7 first; a token that passes is then introspected
//!   and refused with 401 `invalid_token` unless the answer is `active: true` — so a
//!   revoked token stops working within the cache time (10 s by default).
//! - [`Introspect::Instead`]: no local JWT validation (keys are never fetched, no
//!   algorithm is needed; the token may be opaque). The answer must be `active: true`;
//!   its `exp` and `nbf`, when present, are checked with the leeway; when an issuer is
//!   configured the answer's `iss` must equal it, and when audiences are configured its
//!   `aud` (a string or an array) must name one — a missing `iss` or `aud` is refused
//!   then, as in step 6. Step 7 runs on the answer, which becomes the [`Claims`].
//!
//! When the endpoint cannot answer the request is refused with 503
//! ([`ValidationError::IntrospectionUnavailable`], `temporarily_unavailable`,
//! `Retry-After: 10`): the layer fails closed.

mod claims;
mod fifo;
mod introspect;
mod jwks;
mod jws;
mod keys;
mod layer;
mod verified;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

pub use claims::Claims;
use introspect::Introspector;
pub use introspect::{Introspect, IntrospectionConfig};
pub use jsonwebtoken::Algorithm;
pub use jwks::{JwksCache, KeySource};
use jws::{ClaimRules, Refusal};
pub use layer::{Validate, ValidateLayer, ValidationError, bearer_token};
use verified::VerifiedTokens;

/// Whether every required scope must be present, or one is enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeMatch {
    /// At least one (KrakenD's default).
    #[default]
    Any,
    /// Every one.
    All,
}

/// What a [`Validator`] accepts.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// Where the keys come from.
    pub keys: KeySource,
    /// Accepted signature algorithms; asymmetric only. May be empty with
    /// [`Introspect::Instead`].
    pub algorithms: Vec<Algorithm>,
    /// Required `iss`. With [`KeySource::Discovery`] and no value here, the discovered
    /// issuer is required.
    pub issuer: Option<String>,
    /// Accepted audiences: `aud` must name at least one. Empty: `aud` is not checked.
    pub audiences: Vec<String>,
    /// Clock skew allowed on `exp` and `nbf`. Default 30 s.
    pub leeway: Duration,
    /// Required header `typ`, compared without case and without an `application/` prefix
    /// (e.g. `at+jwt` for RFC 9068 access tokens).
    pub typ: Option<String>,
    /// Required scopes.
    pub scopes: Vec<String>,
    /// The claim holding scopes (dotted paths allowed). Default `scope`.
    pub scopes_key: String,
    /// Any or all of `scopes`.
    pub scopes_match: ScopeMatch,
    /// Roles of which the token needs at least one.
    pub roles: Vec<String>,
    /// The claim holding roles (dotted paths allowed). Default `roles`.
    pub roles_key: String,
    /// How long fetched keys are used. Default 15 minutes.
    pub cache_duration: Duration,
    /// Least time between two requests to the key server. Default 10 s.
    pub refetch_interval: Duration,
    /// Introspect as well as, or instead of, validating locally. Default none.
    pub introspection: Option<IntrospectionConfig>,
    /// Most tokens remembered as verified (by the SHA-256 digest of the token) so that
    /// their signature is not checked again while the key set is unchanged; the claim,
    /// scope and role checks still run on each request. Default 10 000; 0 turns it off.
    pub verified_cache_size: usize,
}

impl ValidatorConfig {
    /// Defaults for everything but the keys and algorithms.
    pub fn new(keys: KeySource, algorithms: Vec<Algorithm>) -> ValidatorConfig {
        ValidatorConfig {
            keys,
            algorithms,
            issuer: None,
            audiences: Vec::new(),
            leeway: Duration::from_secs(30),
            typ: None,
            scopes: Vec::new(),
            scopes_key: "scope".into(),
            scopes_match: ScopeMatch::Any,
            roles: Vec::new(),
            roles_key: "roles".into(),
            cache_duration: Duration::from_secs(900),
            refetch_interval: Duration::from_secs(10),
            introspection: None,
            verified_cache_size: 10_000,
        }
    }
}

/// A validator configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorConfigError {
    /// No algorithm given.
    #[error("no algorithm configured")]
    NoAlgorithm,
    /// HS256/384/512: a shared secret cannot come from a JWKS (RFC 8725 §2.1).
    #[error("{0:?} is symmetric; only RS*, PS*, ES* and EdDSA are accepted")]
    Symmetric(Algorithm),
    /// The key URL, the introspection URL or the introspection client's credentials
    /// cannot be used.
    #[error(transparent)]
    Url(#[from] crate::token::ConfigError),
}

struct Inner {
    cfg: ValidatorConfig,
    jwks: JwksCache,
    verified: VerifiedTokens,
    /// Signatures checked so far (step 4 run).
    signatures: AtomicU64,
    introspector: Option<Introspector>,
}

/// Validates bearer tokens; cheap to clone. See the module documentation.
#[derive(Clone)]
pub struct Validator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validator").field("config", &self.inner.cfg).finish()
    }
}

impl Validator {
    /// A validator with its own key cache.
    pub fn new(cfg: ValidatorConfig, http: reqwest::Client) -> Result<Validator, ValidatorConfigError> {
        let jwks = JwksCache::new(http, cfg.keys.clone(), cfg.cache_duration, cfg.refetch_interval);
        Validator::with_cache(cfg, jwks)
    }

    /// A validator using an existing key cache (validators of one issuer share one);
    /// `cfg.keys` is ignored in favour of the cache's source.
    pub fn with_cache(mut cfg: ValidatorConfig, jwks: JwksCache) -> Result<Validator, ValidatorConfigError> {
        let instead = cfg.introspection.as_ref().is_some_and(|i| i.mode == Introspect::Instead);
        if cfg.algorithms.is_empty() && !instead {
            return Err(ValidatorConfigError::NoAlgorithm);
        }
        match jwks.source() {
            KeySource::JwksUrl(u) => crate::token::check_url(u)?,
            KeySource::Discovery(issuer) => {
                crate::token::check_url(issuer)?;
                cfg.issuer.get_or_insert_with(|| issuer.clone());
            }
        }
        // RFC 8725 §2.1: a shared secret cannot come from a JWKS.
        if let Some(&alg) =
            cfg.algorithms.iter().find(|a| matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
        {
            return Err(ValidatorConfigError::Symmetric(alg));
        }
        let introspector = match &cfg.introspection {
            Some(i) => Some(Introspector::new(i.clone(), jwks.http().clone())?),
            None => None,
        };
        let verified = VerifiedTokens::new(cfg.verified_cache_size);
        let signatures = AtomicU64::new(0);
        Ok(Validator { inner: Arc::new(Inner { cfg, jwks, verified, signatures, introspector }) })
    }

    /// The configuration in force.
    pub fn config(&self) -> &ValidatorConfig {
        &self.inner.cfg
    }

    /// How many token signatures this validator has checked. A token presented again
    /// while remembered as verified is not checked again.
    pub fn signatures_checked(&self) -> u64 {
        self.inner.signatures.load(Ordering::Relaxed)
    }

    /// Validates the `Authorization` header(s) of a request.
    pub async fn validate_headers(&self, headers: &axum::http::HeaderMap) -> Result<Claims, ValidationError> {
        self.validate(bearer_token(headers)?).await
    }

    /// Validates a token: a compact JWT checked locally, introspected as well or instead
    /// when so configured (see the module documentation).
    pub async fn validate(&self, token: &str) -> Result<Claims, ValidationError> {
        match &self.inner.introspector {
            None => self.validate_jwt(token).await,
            Some(i) if i.mode() == Introspect::After => {
                let claims = self.validate_jwt(token).await?;
                self.active_answer(i, token).await?;
                Ok(claims)
            }
            Some(i) => {
                let answer = self.active_answer(i, token).await?;
                self.check_answer(&answer)?;
                self.check_access(Claims::new(answer.as_ref().clone()))
            }
        }
    }

    /// The introspection answer, which must say `active: true`.
    async fn active_answer(
        &self,
        i: &Introspector,
        token: &str,
    ) -> Result<Arc<serde_json::Map<String, serde_json::Value>>, ValidationError> {
        let answer = i.answer(token).await.map_err(ValidationError::IntrospectionUnavailable)?;
        if answer.get("active") != Some(&serde_json::Value::Bool(true)) {
            return Err(ValidationError::InvalidToken("the token is not active".into()));
        }
        Ok(answer)
    }

    /// [`Introspect::Instead`]: times, issuer and audience of an active answer.
    fn check_answer(&self, a: &serde_json::Map<String, serde_json::Value>) -> Result<(), ValidationError> {
        use serde_json::Value;
        let cfg = &self.inner.cfg;
        let invalid = |r: Refusal| Err(ValidationError::InvalidToken(r.describe().to_owned()));
        let now = crate::env::unix_now();
        let leeway = cfg.leeway.as_secs();
        if a.get("exp").and_then(Value::as_u64).is_some_and(|exp| exp.saturating_add(leeway) <= now) {
            return invalid(Refusal::Expired);
        }
        if a.get("nbf").and_then(Value::as_u64).is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return invalid(Refusal::NotYetValid);
        }
        if let Some(iss) = &cfg.issuer
            && a.get("iss").and_then(Value::as_str) != Some(iss.as_str())
        {
            return invalid(Refusal::Issuer);
        }
        if !cfg.audiences.is_empty() {
            let named = |v: &Value| v.as_str().is_some_and(|s| cfg.audiences.iter().any(|a| a == s));
            let ok = match a.get("aud") {
                Some(Value::Array(list)) => list.iter().any(named),
                Some(v) => named(v),
                None => false,
            };
            if !ok {
                return invalid(Refusal::Audience);
            }
        }
        Ok(())
    }

    /// Steps 1–7 on a compact JWT.
    async fn validate_jwt(&self, token: &str) -> Result<Claims, ValidationError> {
        self.validate_jwt_at(token, crate::env::unix_now()).await
    }

    /// Steps 1–7 at wall time `now`: a token verified before (the same bytes, under the
    /// key set still held and fresh) skips steps 1–4, whose outcome those three fix.
    async fn validate_jwt_at(&self, token: &str, now: u64) -> Result<Claims, ValidationError> {
        let key = fifo::key_of(token);
        if let Some(claims) = self.inner.verified.get(&key, self.inner.jwks.fresh_generation()) {
            if let Err(r) = jws::check_claims(claims.as_map(), &self.claim_rules(), now) {
                self.inner.verified.remove(&key);
                return Err(ValidationError::InvalidToken(r.describe().to_owned()));
            }
            return self.check_access(claims);
        }
        let (claims, exp, generation) = self.verify(token, now).await?;
        self.inner.verified.put(key, claims.clone(), exp, generation, now);
        self.check_access(claims)
    }

    /// Steps 1–6; the claims, their `exp` and the generation of the key set that
    /// verified the signature.
    async fn verify(&self, token: &str, now: u64) -> Result<(Claims, u64, u64), ValidationError> {
        let invalid = |r: Refusal| ValidationError::InvalidToken(r.describe().to_owned());
        let jws = jws::split(token).map_err(invalid)?;
        // RFC 8725 §3.1: the algorithm must be one configured, whatever the token says.
        let alg = jws
            .header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|a| self.inner.cfg.algorithms.contains(a))
            .ok_or_else(|| invalid(Refusal::Algorithm))?;
        // RFC 7515 §4.1.11: no extension is understood.
        if jws.header.crit {
            return Err(invalid(Refusal::Critical));
        }
        if let Some(want) = &self.inner.cfg.typ {
            let strip = |t: &str| t.to_ascii_lowercase().trim_start_matches("application/").to_owned();
            if jws.header.typ.as_deref().map(strip) != Some(strip(want)) {
                return Err(invalid(Refusal::Typ));
            }
        }
        let candidates = self.inner.jwks.candidates(jws.header.kid.as_deref(), alg).await.map_err(|e| match e {
            jwks::KeyError::Unknown => invalid(Refusal::UnknownKey),
            jwks::KeyError::Unavailable(why) => ValidationError::KeysUnavailable(why),
        })?;
        let signature = ferrid_oauth::b64::decode(jws.signature).ok_or_else(|| invalid(Refusal::Malformed))?;
        self.inner.signatures.fetch_add(1, Ordering::Relaxed);
        let verified = candidates
            .keys
            .iter()
            .any(|k| k.verifier(alg).is_some_and(|v| v.verify_sig(jws.signing_input.as_bytes(), &signature).is_ok()));
        if !verified {
            return Err(invalid(Refusal::Signature));
        }
        let claims = ferrid_oauth::b64::decode(jws.payload)
            .and_then(|raw| jws::object(&raw))
            .ok_or_else(|| invalid(Refusal::Malformed))?;
        let exp = jws::check_claims(&claims, &self.claim_rules(), now).map_err(invalid)?;
        Ok((Claims::new(claims), exp, candidates.generation))
    }

    fn claim_rules(&self) -> ClaimRules<'_> {
        let cfg = &self.inner.cfg;
        ClaimRules { issuer: cfg.issuer.as_deref(), audiences: &cfg.audiences, leeway: cfg.leeway.as_secs() }
    }

    /// Step 7: scopes and roles.
    fn check_access(&self, claims: Claims) -> Result<Claims, ValidationError> {
        let cfg = &self.inner.cfg;
        if !claims::matches(&claims.words(&cfg.scopes_key), &cfg.scopes, cfg.scopes_match == ScopeMatch::All) {
            return Err(ValidationError::InsufficientScope { scope: cfg.scopes.join(" ") });
        }
        if !claims::matches(&claims.words(&cfg.roles_key), &cfg.roles, false) {
            return Err(ValidationError::MissingRole);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests;
