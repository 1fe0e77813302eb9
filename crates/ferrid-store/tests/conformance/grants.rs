//! Issue 14: authorization codes, user grants, refresh tokens, issued access tokens and
//! consent (`GrantStore`), on both backends.

use ferrid_core::store::{Redeemed, UserRef};

use super::*;

fn person(tenant: &str, track: &str, id: &str) -> User {
    User {
        tenant: n(tenant),
        track: n(track),
        id: id.into(),
        username: Some(format!("name-{id}")),
        email: None,
        email_verified: false,
        password: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$dGFn".into()),
        claims: serde_json::Map::new(),
        disabled: false,
        version: 1,
        created: 1,
        updated: 1,
    }
}

fn code(tenant: &str, track: &str, user_id: &str, d: u8, expires: i64) -> AuthCode {
    AuthCode {
        tenant: n(tenant),
        track: n(track),
        digest: [d; 32],
        client: n("web"),
        user_id: user_id.into(),
        sid: "sid-1".into(),
        redirect_uri: "https://app.example/cb".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        code_challenge_method: Some("S256".into()),
        nonce: Some(format!("nonce-{d}")),
        scope: "openid profile offline_access".into(),
        auth_time: 5,
        created: 10,
        expires,
        grant_id: None,
    }
}

fn grant(tenant: &str, track: &str, user_id: &str, id: &str, expires: i64) -> UserGrant {
    UserGrant {
        tenant: n(tenant),
        track: n(track),
        id: id.into(),
        client: n("web"),
        user_id: user_id.into(),
        sid: "sid-1".into(),
        scope: "openid offline_access".into(),
        auth_time: 5,
        created: 10,
        expires,
        revoked: false,
    }
}

fn refresh(d: u8, grant_id: &str, expires: i64) -> RefreshRecord {
    RefreshRecord { digest: [d; 32], grant_id: grant_id.into(), created: 10, expires, used: false }
}

fn issued(jti: &str, grant_id: &str, expires: i64) -> IssuedToken {
    IssuedToken { jti: jti.into(), grant_id: grant_id.into(), expires }
}

fn uref(tenant: &str, track: &str, id: &str) -> UserRef {
    track_ref(tenant, track).user(id)
}

/// Tenant `a` (tracks `master` and `prod`) with user `u1` in `prod`.
async fn seed_user(s: &dyn AllPorts) {
    seed(s, "a").await;
    s.create_user(&person("a", "prod", "u1"), &au()).await.unwrap();
}

/// A grant `id` of `u1` in `a/prod` with refresh token `[d; 32]` and access token `jti`.
async fn seed_grant(s: &dyn AllPorts, id: &str, d: u8, jti: &str) {
    let g = grant("a", "prod", "u1", id, 1000);
    s.create_grant(&g, Some(&refresh(d, id, 500)), &issued(jti, id, 100)).await.unwrap();
}

#[tokio::test]
async fn a_code_is_redeemed_once_then_found_used_by_its_first_grant() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        let c = code("a", "prod", "u1", 1, 40);
        s.create_code(&c).await.unwrap();
        let first = s.redeem_code(&at, &[1; 32], "g1").await.unwrap();
        assert_eq!(first, Redeemed::First(AuthCode { grant_id: Some("g1".into()), ..c.clone() }), "{l}");
        let again = s.redeem_code(&at, &[1; 32], "g2").await.unwrap();
        assert_eq!(again, Redeemed::Again(AuthCode { grant_id: Some("g1".into()), ..c.clone() }), "{l}");
        assert!(is(StoreError::NotFound, s.redeem_code(&at, &[9; 32], "g3").await), "{l}: unknown code");
        assert!(is(StoreError::Conflict, s.create_code(&c).await), "{l}: a digest is stored once");
        // a code for a user that does not exist is refused
        assert!(is(StoreError::NotFound, s.create_code(&code("a", "prod", "nobody", 2, 40)).await), "{l}");
    }
}

#[tokio::test]
async fn of_two_concurrent_redemptions_exactly_one_is_first() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        for d in 1..=10u8 {
            s.create_code(&code("a", "prod", "u1", d, 40)).await.unwrap();
            let digest = [d; 32];
            let (x, y) = tokio::join!(s.redeem_code(&at, &digest, "gx"), s.redeem_code(&at, &digest, "gy"));
            let (x, y) = (x.unwrap(), y.unwrap());
            let (won, lost) = match (&x, &y) {
                (Redeemed::First(w), Redeemed::Again(a)) | (Redeemed::Again(a), Redeemed::First(w)) => (w, a),
                _ => panic!("{l}: {x:?} and {y:?}"),
            };
            assert_eq!(lost.grant_id, won.grant_id, "{l}: the second sees the first's grant");
        }
    }
}

#[tokio::test]
async fn a_grant_and_its_refresh_token_round_trip() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        let g = grant("a", "prod", "u1", "g1", 1000);
        s.create_grant(&g, Some(&refresh(1, "g1", 500)), &issued("j1", "g1", 100)).await.unwrap();
        assert_eq!(s.get_refresh(&at, &[1; 32]).await.unwrap(), (refresh(1, "g1", 500), g.clone()), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[9; 32]).await), "{l}");
        assert!(!s.token_revoked(&at, "j1").await.unwrap(), "{l}");
        assert!(!s.token_revoked(&at, "unknown").await.unwrap(), "{l}: a jti the store does not know");
        // a grant without a refresh token (no offline_access)
        s.create_grant(&grant("a", "prod", "u1", "g2", 1000), None, &issued("j2", "g2", 100)).await.unwrap();
        assert!(!s.token_revoked(&at, "j2").await.unwrap(), "{l}");
        // an id is stored once, and nothing of a refused grant is written
        let dup = s.create_grant(&g, Some(&refresh(3, "g1", 500)), &issued("j3", "g1", 100)).await;
        assert!(is(StoreError::Conflict, dup), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[3; 32]).await), "{l}");
        // a grant for a user that does not exist is refused
        let orphan = grant("a", "prod", "nobody", "g4", 1000);
        assert!(is(StoreError::NotFound, s.create_grant(&orphan, None, &issued("j4", "g4", 100)).await), "{l}");
    }
}

#[tokio::test]
async fn rotation_uses_the_old_token_once_and_stores_the_new() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        seed_grant(s, "g1", 1, "j1").await;
        assert!(s.rotate_refresh(&at, &[1; 32], &refresh(2, "g1", 600), &issued("j2", "g1", 200)).await.unwrap());
        assert!(s.get_refresh(&at, &[1; 32]).await.unwrap().0.used, "{l}: the old one is used");
        assert_eq!(s.get_refresh(&at, &[2; 32]).await.unwrap().0, refresh(2, "g1", 600), "{l}");
        // rotating a used token again is refused and writes nothing
        let again = s.rotate_refresh(&at, &[1; 32], &refresh(3, "g1", 700), &issued("j3", "g1", 300)).await;
        assert!(!again.unwrap(), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[3; 32]).await), "{l}");
        assert!(!s.get_refresh(&at, &[2; 32]).await.unwrap().0.used, "{l}: the current one is untouched");
        // a token that does not exist is refused too
        let gone = s.rotate_refresh(&at, &[9; 32], &refresh(4, "g1", 700), &issued("j4", "g1", 300)).await;
        assert!(!gone.unwrap(), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[4; 32]).await), "{l}");
        // two concurrent rotations of the current token: exactly one succeeds
        let (r5, r6, j5, j6) =
            (refresh(5, "g1", 800), refresh(6, "g1", 800), issued("j5", "g1", 300), issued("j6", "g1", 300));
        let (x, y) = tokio::join!(s.rotate_refresh(&at, &[2; 32], &r5, &j5), s.rotate_refresh(&at, &[2; 32], &r6, &j6));
        assert!(x.unwrap() ^ y.unwrap(), "{l}");
        let stored = [s.get_refresh(&at, &[5; 32]).await.is_ok(), s.get_refresh(&at, &[6; 32]).await.is_ok()];
        assert_eq!(stored.iter().filter(|x| **x).count(), 1, "{l}: only the winner's token is stored");
    }
}

#[tokio::test]
async fn revoking_a_grant_revokes_its_access_tokens_and_refuses_its_refresh_tokens() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        seed_grant(s, "g1", 1, "j1").await;
        seed_grant(s, "g2", 2, "j2").await;
        assert!(s.rotate_refresh(&at, &[1; 32], &refresh(3, "g1", 600), &issued("j3", "g1", 200)).await.unwrap());
        s.revoke_grant(&at, "g1", 50).await.unwrap();
        assert!(s.token_revoked(&at, "j1").await.unwrap(), "{l}");
        assert!(s.token_revoked(&at, "j3").await.unwrap(), "{l}: also the tokens of later rotations");
        assert!(!s.token_revoked(&at, "j2").await.unwrap(), "{l}: another grant is untouched");
        assert!(s.get_refresh(&at, &[3; 32]).await.unwrap().1.revoked, "{l}");
        let refused = s.rotate_refresh(&at, &[3; 32], &refresh(4, "g1", 700), &issued("j4", "g1", 300)).await;
        assert!(!refused.unwrap(), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[4; 32]).await), "{l}");
        assert!(!s.get_refresh(&at, &[3; 32]).await.unwrap().0.used, "{l}: a refused rotation writes nothing");
        // revoking again is harmless
        s.revoke_grant(&at, "g1", 60).await.unwrap();
        assert!(s.token_revoked(&at, "j1").await.unwrap(), "{l}");
    }
}

#[tokio::test]
async fn a_grant_revoked_before_it_is_stored_cannot_be_stored() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        assert!(matches!(s.redeem_code(&at, &[1; 32], "g1").await.unwrap(), Redeemed::First(_)), "{l}");
        // the code is used again before its first use stored its grant
        let Redeemed::Again(reused) = s.redeem_code(&at, &[1; 32], "g2").await.unwrap() else { panic!("{l}") };
        s.revoke_grant(&at, reused.grant_id.as_deref().unwrap(), 20).await.unwrap();
        let (g1, r1, j1) = (grant("a", "prod", "u1", "g1", 1000), refresh(1, "g1", 500), issued("j1", "g1", 100));
        assert!(is(StoreError::Conflict, s.create_grant(&g1, Some(&r1), &j1).await), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[1; 32]).await), "{l}: nothing of it was stored");
        assert!(!s.token_revoked(&at, "j1").await.unwrap(), "{l}: its access token was never recorded");
        // the first use storing its grant first: the reuse then revokes it
        s.create_code(&code("a", "prod", "u1", 2, 40)).await.unwrap();
        s.redeem_code(&at, &[2; 32], "g2").await.unwrap();
        seed_grant(s, "g2", 2, "j2").await;
        s.revoke_grant(&at, "g2", 20).await.unwrap();
        assert!(s.token_revoked(&at, "j2").await.unwrap(), "{l}");
        // an id no code was redeemed for records nothing (and revoking it is no error)
        s.revoke_grant(&at, "g3", 20).await.unwrap();
        seed_grant(s, "g3", 3, "j3").await;
        assert!(!s.token_revoked(&at, "j3").await.unwrap(), "{l}");
    }
}

#[tokio::test]
async fn consent_is_remembered_per_user_and_client_and_replaced() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        s.create_user(&person("a", "prod", "u2"), &au()).await.unwrap();
        let u1 = uref("a", "prod", "u1");
        assert_eq!(s.get_consent(&u1, "web").await.unwrap(), None, "{l}");
        let scopes = vec!["openid".to_owned(), "email".to_owned(), "party-api:read".to_owned()];
        s.put_consent(&u1, "web", &scopes, 5).await.unwrap();
        assert_eq!(s.get_consent(&u1, "web").await.unwrap(), Some(scopes), "{l}");
        s.put_consent(&u1, "web", &["openid".to_owned()], 6).await.unwrap();
        assert_eq!(s.get_consent(&u1, "web").await.unwrap(), Some(vec!["openid".to_owned()]), "{l}");
        s.put_consent(&u1, "web", &[], 7).await.unwrap();
        assert_eq!(s.get_consent(&u1, "web").await.unwrap(), Some(vec![]), "{l}: an empty consent is kept");
        assert_eq!(s.get_consent(&u1, "other").await.unwrap(), None, "{l}: per client");
        assert_eq!(s.get_consent(&uref("a", "prod", "u2"), "web").await.unwrap(), None, "{l}: per user");
        let nobody = uref("a", "prod", "nobody");
        assert!(is(StoreError::NotFound, s.put_consent(&nobody, "web", &[], 5).await), "{l}");
    }
}

#[tokio::test]
async fn deleting_a_user_deletes_its_codes_grants_tokens_and_consents() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        s.create_user(&person("a", "prod", "u2"), &au()).await.unwrap();
        let at = track_ref("a", "prod");
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        seed_grant(s, "g1", 1, "j1").await;
        s.put_consent(&uref("a", "prod", "u1"), "web", &["openid".to_owned()], 5).await.unwrap();
        s.create_code(&code("a", "prod", "u2", 2, 40)).await.unwrap();
        let g2 = grant("a", "prod", "u2", "g2", 1000);
        s.create_grant(&g2, Some(&refresh(2, "g2", 500)), &issued("j2", "g2", 100)).await.unwrap();
        s.put_consent(&uref("a", "prod", "u2"), "web", &["openid".to_owned()], 5).await.unwrap();
        s.delete_user(&uref("a", "prod", "u1"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.redeem_code(&at, &[1; 32], "gx").await), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[1; 32]).await), "{l}");
        assert_eq!(s.get_consent(&uref("a", "prod", "u1"), "web").await.unwrap(), None, "{l}");
        // the same id again is a new user without any of it
        s.create_user(&person("a", "prod", "u1"), &au()).await.unwrap();
        assert_eq!(s.get_consent(&uref("a", "prod", "u1"), "web").await.unwrap(), None, "{l}");
        // another user's are untouched
        assert!(matches!(s.redeem_code(&at, &[2; 32], "gy").await.unwrap(), Redeemed::First(_)), "{l}");
        assert_eq!(s.get_refresh(&at, &[2; 32]).await.unwrap().1, g2, "{l}");
        assert!(s.get_consent(&uref("a", "prod", "u2"), "web").await.unwrap().is_some(), "{l}");
    }
}

#[tokio::test]
async fn deleting_a_track_or_a_tenant_deletes_its_codes_grants_and_consents() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        seed_grant(s, "g1", 1, "j1").await;
        s.put_consent(&uref("a", "prod", "u1"), "web", &["openid".to_owned()], 5).await.unwrap();
        s.delete_track(&at, &au()).await.unwrap();
        s.create_track(&track("a", "prod"), &au()).await.unwrap();
        s.create_user(&person("a", "prod", "u1"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.redeem_code(&at, &[1; 32], "gx").await), "{l}");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[1; 32]).await), "{l}");
        assert!(!s.token_revoked(&at, "j1").await.unwrap(), "{l}");
        assert_eq!(s.get_consent(&uref("a", "prod", "u1"), "web").await.unwrap(), None, "{l}");
        // the grant id is free again in the new track
        seed_grant(s, "g1", 1, "j1").await;
        s.delete_tenant(&n("a"), &au()).await.unwrap();
        seed_user(s).await;
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[1; 32]).await), "{l}");
    }
}

#[tokio::test]
async fn the_purge_removes_only_what_has_ended() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        // codes: one ended and unused, one live, one ended but redeemed for a kept grant
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        s.create_code(&code("a", "prod", "u1", 2, 400)).await.unwrap();
        s.create_code(&code("a", "prod", "u1", 3, 40)).await.unwrap();
        s.redeem_code(&at, &[3; 32], "g1").await.unwrap();
        // g1 lives; its first refresh token and access token have ended
        let g1 = grant("a", "prod", "u1", "g1", 1000);
        s.create_grant(&g1, Some(&refresh(1, "g1", 50)), &issued("j1", "g1", 50)).await.unwrap();
        assert!(s.rotate_refresh(&at, &[1; 32], &refresh(2, "g1", 500), &issued("j2", "g1", 500)).await.unwrap());
        // g2 has ended, but an access token of it still runs
        let g2 = grant("a", "prod", "u1", "g2", 90);
        s.create_grant(&g2, Some(&refresh(3, "g2", 90)), &issued("j3", "g2", 150)).await.unwrap();
        // g3 has ended with everything in it
        let g3 = grant("a", "prod", "u1", "g3", 90);
        s.create_grant(&g3, Some(&refresh(4, "g3", 90)), &issued("j4", "g3", 90)).await.unwrap();
        s.revoke_grant(&at, "g2", 60).await.unwrap();
        // ended: code 1, refresh tokens 1, 3 and 4, access tokens j1 and j4, grant g3
        assert_eq!(s.purge_grants(100).await.unwrap(), 7, "{l}");
        assert!(is(StoreError::NotFound, s.redeem_code(&at, &[1; 32], "gx").await), "{l}");
        assert!(matches!(s.redeem_code(&at, &[2; 32], "gy").await.unwrap(), Redeemed::First(_)), "{l}");
        let Redeemed::Again(kept) = s.redeem_code(&at, &[3; 32], "gz").await.unwrap() else { panic!("{l}") };
        assert_eq!(kept.grant_id.as_deref(), Some("g1"), "{l}: its reuse can still revoke g1");
        assert!(is(StoreError::NotFound, s.get_refresh(&at, &[1; 32]).await), "{l}");
        assert_eq!(s.get_refresh(&at, &[2; 32]).await.unwrap().1, g1, "{l}");
        assert!(s.token_revoked(&at, "j3").await.unwrap(), "{l}: g2's revocation outlives its grant's end");
        // once its last access token has ended, g2 goes too
        assert_eq!(s.purge_grants(200).await.unwrap(), 2, "{l}: j3, then g2");
        assert!(!s.token_revoked(&at, "j3").await.unwrap(), "{l}");
        assert_eq!(s.purge_grants(200).await.unwrap(), 0, "{l}");
    }
}

/// Nothing of track `a/prod` is read, redeemed, rotated or revoked through another
/// track's or tenant's ref.
#[tokio::test]
async fn codes_grants_and_tokens_of_another_track_are_never_seen() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        seed(s, "b").await;
        let at = track_ref("a", "prod");
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        seed_grant(s, "g1", 2, "j1").await;
        s.put_consent(&uref("a", "prod", "u1"), "web", &["openid".to_owned()], 5).await.unwrap();
        for other in [track_ref("a", "master"), track_ref("b", "prod")] {
            assert!(is(StoreError::NotFound, s.redeem_code(&other, &[1; 32], "gx").await), "{l}");
            assert!(is(StoreError::NotFound, s.get_refresh(&other, &[2; 32]).await), "{l}");
            let rotated = s.rotate_refresh(&other, &[2; 32], &refresh(3, "g1", 600), &issued("jx", "g1", 200)).await;
            assert!(!rotated.unwrap(), "{l}");
            s.revoke_grant(&other, "g1", 50).await.unwrap();
            assert!(!s.token_revoked(&other, "j1").await.unwrap(), "{l}");
            assert_eq!(s.get_consent(&other.user("u1"), "web").await.unwrap(), None, "{l}");
        }
        // a's are untouched by all of the above
        assert!(matches!(s.redeem_code(&at, &[1; 32], "g9").await.unwrap(), Redeemed::First(_)), "{l}");
        let (r, g) = s.get_refresh(&at, &[2; 32]).await.unwrap();
        assert!(!r.used && !g.revoked, "{l}");
        assert!(!s.token_revoked(&at, "j1").await.unwrap(), "{l}");
        assert!(s.get_consent(&uref("a", "prod", "u1"), "web").await.unwrap().is_some(), "{l}");
    }
}

#[tokio::test]
async fn every_grant_method_call_counts_once() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed_user(s).await;
        let at = track_ref("a", "prod");
        let u1 = uref("a", "prod", "u1");
        let before = s.calls();
        s.create_code(&code("a", "prod", "u1", 1, 40)).await.unwrap();
        s.redeem_code(&at, &[1; 32], "g1").await.unwrap();
        s.redeem_code(&at, &[1; 32], "g1").await.unwrap();
        s.create_grant(&grant("a", "prod", "u1", "g1", 1000), Some(&refresh(1, "g1", 500)), &issued("j1", "g1", 100))
            .await
            .unwrap();
        s.get_refresh(&at, &[1; 32]).await.unwrap();
        s.rotate_refresh(&at, &[1; 32], &refresh(2, "g1", 600), &issued("j2", "g1", 200)).await.unwrap();
        s.rotate_refresh(&at, &[1; 32], &refresh(3, "g1", 600), &issued("j3", "g1", 200)).await.unwrap();
        s.revoke_grant(&at, "g1", 50).await.unwrap();
        s.revoke_grant(&at, "unknown", 50).await.unwrap();
        s.token_revoked(&at, "j1").await.unwrap();
        s.put_consent(&u1, "web", &["openid".to_owned()], 5).await.unwrap();
        s.get_consent(&u1, "web").await.unwrap();
        s.purge_grants(5000).await.unwrap();
        assert_eq!(s.calls() - before, 13, "{l}: one per port method call");
    }
}
