//! Issue 14: users of a track and their login sessions, on both backends.

use ferrid_core::store::{UserFilter, UserRef};

use super::*;

fn user(tenant: &str, track: &str, id: &str, username: Option<&str>, email: Option<&str>) -> User {
    let mut claims = serde_json::Map::new();
    claims.insert("name".into(), serde_json::json!(format!("Person {id}")));
    User {
        tenant: n(tenant),
        track: n(track),
        id: id.into(),
        username: username.map(str::to_owned),
        email: email.map(str::to_owned),
        email_verified: true,
        password: PasswordHash("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$dGFn".into()),
        claims,
        disabled: false,
        version: 1,
        created: 1,
        updated: 1,
    }
}

fn session(tenant: &str, track: &str, user_id: &str, d: u8, expires: i64) -> Session {
    Session {
        tenant: n(tenant),
        track: n(track),
        id_digest: [d; 32],
        sid: format!("sid-{d}"),
        user_id: user_id.into(),
        auth_time: 10,
        created: i64::from(d),
        last_seen: 10,
        expires,
    }
}

fn uref(tenant: &str, track: &str, id: &str) -> UserRef {
    track_ref(tenant, track).user(id)
}

fn page(limit: u32) -> PageRequest {
    PageRequest { after: None, limit }
}

#[tokio::test]
async fn users_round_trip_and_are_found_by_username_or_email_in_any_case() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        let u = user("a", "prod", "u1", Some("alice"), Some("Alice@Example.com"));
        s.create_user(&u, &record("a", 2, "user.create", "t")).await.unwrap();
        assert_eq!(s.get_user(&uref("a", "prod", "u1")).await.unwrap(), u, "{l}");
        let at = track_ref("a", "prod");
        assert_eq!(s.find_user(&at, "alice").await.unwrap().id, "u1", "{l}");
        assert_eq!(s.find_user(&at, "ALICE@example.COM").await.unwrap().id, "u1", "{l}");
        assert!(is(StoreError::NotFound, s.find_user(&at, "Alice").await), "{l}: usernames match exactly");
        assert!(is(StoreError::NotFound, s.get_user(&uref("a", "prod", "nobody")).await), "{l}");
        let log = s.list_audit(&n("a"), &all(10)).await.unwrap();
        assert!(log.iter().any(|e| e.record.action == "user.create"), "{l}: the record is written with the user");
    }
}

#[tokio::test]
async fn a_username_or_an_email_in_any_case_is_unique_per_track() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        s.create_user(&user("a", "prod", "u1", Some("alice"), Some("a@x.io")), &au()).await.unwrap();
        let same_name = user("a", "prod", "u2", Some("alice"), None);
        assert!(is(StoreError::Conflict, s.create_user(&same_name, &au()).await), "{l}");
        let same_email = user("a", "prod", "u3", None, Some("A@X.IO"));
        assert!(is(StoreError::Conflict, s.create_user(&same_email, &au()).await), "{l}");
        // another track may hold the same names
        s.create_user(&user("a", "master", "u1", Some("alice"), Some("a@x.io")), &au()).await.unwrap();
        // users without a username or without an email do not collide on the missing one
        s.create_user(&user("a", "prod", "u4", None, Some("b@x.io")), &au()).await.unwrap();
        s.create_user(&user("a", "prod", "u5", None, Some("c@x.io")), &au()).await.unwrap();
        s.create_user(&user("a", "prod", "u6", Some("bob"), None), &au()).await.unwrap();
        s.create_user(&user("a", "prod", "u7", Some("carol"), None), &au()).await.unwrap();
    }
}

#[tokio::test]
async fn users_list_by_id_in_pages_filtered_by_username_or_email_prefix() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        for (id, name, email) in [("u1", "alice", "alice@x.io"), ("u2", "alfred", "Al@y.io"), ("u3", "bob", "bob@x.io")]
        {
            s.create_user(&user("a", "prod", id, Some(name), Some(email)), &au()).await.unwrap();
        }
        let at = track_ref("a", "prod");
        let ids = |v: Vec<User>| v.into_iter().map(|u| u.id).collect::<Vec<_>>();
        let none = UserFilter::default();
        assert_eq!(ids(s.list_users(&at, &none, &page(2)).await.unwrap()), ["u1", "u2"], "{l}");
        let next = PageRequest { after: Some("u2".into()), limit: 2 };
        assert_eq!(ids(s.list_users(&at, &none, &next).await.unwrap()), ["u3"], "{l}");
        let al = UserFilter { username: Some("al".into()), email: None };
        assert_eq!(ids(s.list_users(&at, &al, &page(10)).await.unwrap()), ["u1", "u2"], "{l}");
        let al_upper = UserFilter { username: Some("AL".into()), email: None };
        assert!(s.list_users(&at, &al_upper, &page(10)).await.unwrap().is_empty(), "{l}");
        let email = UserFilter { username: None, email: Some("AL".into()) };
        assert_eq!(ids(s.list_users(&at, &email, &page(10)).await.unwrap()), ["u1", "u2"], "{l}");
        let both = UserFilter { username: Some("ali".into()), email: Some("al".into()) };
        assert_eq!(ids(s.list_users(&at, &both, &page(10)).await.unwrap()), ["u1"], "{l}");
        // a prefix holding LIKE's wildcards matches only itself
        let wild = UserFilter { username: Some("%".into()), email: Some("_".into()) };
        assert!(s.list_users(&at, &wild, &page(10)).await.unwrap().is_empty(), "{l}");
    }
}

#[tokio::test]
async fn a_user_update_needs_the_expected_version_and_bumps_it() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        let u = user("a", "prod", "u1", Some("alice"), None);
        s.create_user(&u, &au()).await.unwrap();
        let changed = User { email: Some("New@x.io".into()), disabled: true, updated: 5, ..u.clone() };
        let after = s.update_user(&changed, Some(1), &au()).await.unwrap();
        assert_eq!(after.version, 2, "{l}");
        assert_eq!(s.get_user(&u.user_ref()).await.unwrap(), after, "{l}");
        assert!(is(StoreError::VersionMismatch, s.update_user(&changed, Some(1), &au()).await), "{l}");
        assert_eq!(s.update_user(&changed, None, &au()).await.unwrap().version, 3, "{l}");
        let gone = User { id: "nobody".into(), ..changed.clone() };
        assert!(is(StoreError::NotFound, s.update_user(&gone, Some(1), &au()).await), "{l}");
        // an update taking another user's username is a conflict
        s.create_user(&user("a", "prod", "u2", Some("bob"), None), &au()).await.unwrap();
        let taken = User { username: Some("bob".into()), ..after };
        assert!(is(StoreError::Conflict, s.update_user(&taken, None, &au()).await), "{l}");
    }
}

#[tokio::test]
async fn sessions_are_found_by_digest_touched_listed_and_ended() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        s.create_user(&user("a", "prod", "u1", Some("alice"), None), &au()).await.unwrap();
        let at = track_ref("a", "prod");
        let (s1, s2) = (session("a", "prod", "u1", 1, 100), session("a", "prod", "u1", 2, 200));
        s.create_session(&s1).await.unwrap();
        s.create_session(&s2).await.unwrap();
        assert_eq!(s.get_session(&at, &[1; 32]).await.unwrap(), s1, "{l}");
        assert!(is(StoreError::NotFound, s.get_session(&at, &[9; 32]).await), "{l}");
        s.touch_session(&at, &[1; 32], 50).await.unwrap();
        assert_eq!(s.get_session(&at, &[1; 32]).await.unwrap().last_seen, 50, "{l}");
        assert!(is(StoreError::NotFound, s.touch_session(&at, &[9; 32], 50).await), "{l}");
        let listed = s.list_sessions(&uref("a", "prod", "u1")).await.unwrap();
        assert_eq!(listed.iter().map(|x| x.sid.as_str()).collect::<Vec<_>>(), ["sid-1", "sid-2"], "{l}");
        s.delete_session(&at, &[1; 32]).await.unwrap();
        assert!(is(StoreError::NotFound, s.delete_session(&at, &[1; 32]).await), "{l}");
        let end = record("a", 3, "user.sessions.delete", "t");
        assert_eq!(s.delete_user_sessions(&uref("a", "prod", "u1"), &end).await.unwrap(), 1, "{l}");
        assert!(s.list_sessions(&uref("a", "prod", "u1")).await.unwrap().is_empty(), "{l}");
        let log = s.list_audit(&n("a"), &all(10)).await.unwrap();
        assert!(log.iter().any(|e| e.record.action == "user.sessions.delete"), "{l}");
        // a session of a user that does not exist is refused
        let orphan = session("a", "prod", "nobody", 3, 100);
        assert!(is(StoreError::NotFound, s.create_session(&orphan).await), "{l}");
    }
}

#[tokio::test]
async fn expired_sessions_are_purged_and_a_deleted_user_takes_its_sessions() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        s.create_user(&user("a", "prod", "u1", Some("alice"), None), &au()).await.unwrap();
        s.create_user(&user("a", "prod", "u2", Some("bob"), None), &au()).await.unwrap();
        s.create_session(&session("a", "prod", "u1", 1, 100)).await.unwrap();
        s.create_session(&session("a", "prod", "u1", 2, 300)).await.unwrap();
        s.create_session(&session("a", "prod", "u2", 3, 300)).await.unwrap();
        assert_eq!(s.purge_sessions(200).await.unwrap(), 1, "{l}");
        s.delete_user(&uref("a", "prod", "u1"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.delete_user(&uref("a", "prod", "u1"), &au()).await), "{l}");
        let at = track_ref("a", "prod");
        assert!(is(StoreError::NotFound, s.get_session(&at, &[2; 32]).await), "{l}: the user's sessions went");
        assert!(s.get_session(&at, &[3; 32]).await.is_ok(), "{l}: another user's stayed");
    }
}

#[tokio::test]
async fn deleting_a_track_or_a_tenant_deletes_its_users_and_sessions() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        s.create_user(&user("a", "prod", "u1", Some("alice"), None), &au()).await.unwrap();
        s.create_user(&user("a", "master", "u2", Some("root"), None), &au()).await.unwrap();
        s.create_session(&session("a", "prod", "u1", 1, 100)).await.unwrap();
        s.create_session(&session("a", "master", "u2", 2, 100)).await.unwrap();
        s.delete_track(&track_ref("a", "prod"), &au()).await.unwrap();
        s.create_track(&track("a", "prod"), &au()).await.unwrap();
        assert!(is(StoreError::NotFound, s.get_user(&uref("a", "prod", "u1")).await), "{l}");
        assert!(is(StoreError::NotFound, s.get_session(&track_ref("a", "prod"), &[1; 32]).await), "{l}");
        s.delete_tenant(&n("a"), &au()).await.unwrap();
        seed(s, "a").await;
        assert!(is(StoreError::NotFound, s.get_user(&uref("a", "master", "u2")).await), "{l}");
        assert!(is(StoreError::NotFound, s.get_session(&track_ref("a", "master"), &[2; 32]).await), "{l}");
    }
}

#[tokio::test]
async fn users_and_sessions_of_another_tenant_are_never_read_or_changed() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        seed(s, "b").await;
        let u = user("a", "prod", "u1", Some("alice"), Some("a@x.io"));
        s.create_user(&u, &au()).await.unwrap();
        s.create_session(&session("a", "prod", "u1", 1, 100)).await.unwrap();
        let (b_prod, b_u1) = (track_ref("b", "prod"), uref("b", "prod", "u1"));
        assert!(is(StoreError::NotFound, s.get_user(&b_u1).await), "{l}");
        assert!(is(StoreError::NotFound, s.find_user(&b_prod, "alice").await), "{l}");
        assert!(is(StoreError::NotFound, s.find_user(&b_prod, "a@x.io").await), "{l}");
        assert!(s.list_users(&b_prod, &UserFilter::default(), &page(10)).await.unwrap().is_empty(), "{l}");
        let moved = User { tenant: n("b"), ..u.clone() };
        assert!(is(StoreError::NotFound, s.update_user(&moved, None, &au()).await), "{l}");
        assert!(is(StoreError::NotFound, s.delete_user(&b_u1, &au()).await), "{l}");
        assert!(is(StoreError::NotFound, s.get_session(&b_prod, &[1; 32]).await), "{l}");
        assert!(is(StoreError::NotFound, s.touch_session(&b_prod, &[1; 32], 5).await), "{l}");
        assert!(is(StoreError::NotFound, s.delete_session(&b_prod, &[1; 32]).await), "{l}");
        assert!(s.list_sessions(&b_u1).await.unwrap().is_empty(), "{l}");
        assert_eq!(s.delete_user_sessions(&b_u1, &au()).await.unwrap(), 0, "{l}");
        // a session for b naming a's user is refused
        assert!(is(StoreError::NotFound, s.create_session(&session("b", "prod", "u1", 2, 100)).await), "{l}");
        assert_eq!(s.get_user(&u.user_ref()).await.unwrap(), u, "{l}: a's user is untouched");
        assert_eq!(s.list_sessions(&u.user_ref()).await.unwrap().len(), 1, "{l}");
    }
}

#[tokio::test]
async fn every_user_and_session_method_call_counts_once() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        let u = user("a", "prod", "u1", Some("alice"), None);
        let at = track_ref("a", "prod");
        let before = s.calls();
        s.create_user(&u, &au()).await.unwrap();
        s.get_user(&u.user_ref()).await.unwrap();
        s.find_user(&at, "alice").await.unwrap();
        s.list_users(&at, &UserFilter::default(), &page(10)).await.unwrap();
        s.update_user(&u, None, &au()).await.unwrap();
        s.create_session(&session("a", "prod", "u1", 1, 100)).await.unwrap();
        s.get_session(&at, &[1; 32]).await.unwrap();
        s.touch_session(&at, &[1; 32], 5).await.unwrap();
        s.list_sessions(&u.user_ref()).await.unwrap();
        s.delete_session(&at, &[1; 32]).await.unwrap();
        s.delete_user_sessions(&u.user_ref(), &au()).await.unwrap();
        s.purge_sessions(5).await.unwrap();
        s.delete_user(&u.user_ref(), &au()).await.unwrap();
        assert_eq!(s.calls() - before, 13, "{l}: one per port method call");
    }
}
