//! The standard scopes of OpenID Connect Core 1.0 §5.4 and the claims each releases (and
//! `offline_access`, §11, which releases none): the one table ferrid reads for a client
//! that registers no `scopes`, for discovery's `scopes_supported` and `claims_supported`
//! (docs/model.md "OpenID Connect clients").

/// Scope → the claims it releases.
pub const STANDARD: [(&str, &[&str]); 6] = [
    ("openid", &["sub"]),
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    ("offline_access", &[]),
];

/// The claims a standard scope releases; `None` for any other scope.
pub fn standard_claims(scope: &str) -> Option<&'static [&'static str]> {
    STANDARD.iter().find(|(s, _)| *s == scope).map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_scopes_release_the_claims_of_openid_connect_core_5_4() {
        assert_eq!(standard_claims("email"), Some(&["email", "email_verified"][..]));
        assert_eq!(standard_claims("profile").map(<[_]>::len), Some(14));
        assert_eq!(standard_claims("offline_access"), Some(&[][..]));
        assert_eq!(standard_claims("orders"), None);
    }
}
