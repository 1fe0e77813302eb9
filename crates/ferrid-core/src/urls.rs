//! The public URLs of a deployment (DESIGN §2), derived from `--public-url`.

/// The public origin, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(String);

impl PublicUrl {
    /// Accepts an `http` or `https` origin, optionally with a path prefix.
    pub fn parse(s: &str) -> Result<PublicUrl, String> {
        let t = s.trim().trim_end_matches('/');
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"))
            .ok_or_else(|| format!("public URL '{s}' must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains(['?', '#', ' ']) {
            return Err(format!("public URL '{s}' must be an origin with an optional path"));
        }
        Ok(PublicUrl(t.to_owned()))
    }

    pub fn base(&self) -> &str {
        &self.0
    }

    /// `{base}/{tenant}/{track}`: the issuer of a track.
    pub fn issuer(&self, tenant: &str, track: &str) -> String {
        format!("{}/{tenant}/{track}", self.0)
    }

    /// The prefix of protocol endpoints: the issuer, or the app-scoped form `{issuer}/{app}`.
    pub fn endpoint_prefix(&self, tenant: &str, track: &str, app: Option<&str>) -> String {
        match app {
            Some(app) => format!("{}/{tenant}/{track}/{app}", self.0),
            None => self.issuer(tenant, track),
        }
    }

    /// Maps an issuer URL back to its tenant and track.
    pub fn split_issuer<'a>(&self, issuer: &'a str) -> Option<(&'a str, &'a str)> {
        let rest = issuer.strip_prefix(self.0.as_str())?.strip_prefix('/')?;
        let (tenant, track) = rest.split_once('/')?;
        (!track.contains('/')).then_some((tenant, track))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_round_trips() {
        let u = PublicUrl::parse("http://127.0.0.1:8080/").unwrap();
        let iss = u.issuer("t1", "prod");
        assert_eq!(iss, "http://127.0.0.1:8080/t1/prod");
        assert_eq!(u.split_issuer(&iss), Some(("t1", "prod")));
        assert_eq!(u.split_issuer("http://127.0.0.1:8080/t1/prod/x"), None);
        assert_eq!(u.split_issuer("http://evil/t1/prod"), None);
    }

    #[test]
    fn public_url_must_be_http() {
        assert!(PublicUrl::parse("ftp://x").is_err());
        assert!(PublicUrl::parse("http://").is_err());
    }
}
