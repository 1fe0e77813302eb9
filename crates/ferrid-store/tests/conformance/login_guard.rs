//! Issue 15: the login lockout's failure counters (`LoginGuard`), on both backends.

use ferrid_core::store::LockRule;

use super::*;

/// 3 failures → 10 s, doubling up to 25 s; forgotten after 100 s without a failure.
const RULE: LockRule = LockRule { threshold: 3, lock: 10, cap: 25, forget: 100 };

#[tokio::test]
async fn login_counters_lock_at_the_threshold_double_reset_and_are_purged() {
    for b in backends().await {
        let s = b.store.as_ref();
        let l = b.label;
        seed(s, "a").await;
        seed(s, "b").await;
        let at = track_ref("a", "prod");
        let p = || vec![("p".to_owned(), RULE)];
        let names = |ks: &[&str]| ks.iter().map(|k| (*k).to_owned()).collect::<Vec<_>>();
        assert_eq!(s.login_locked(&at, &names(&["p"]), 1_000).await.unwrap(), None, "{l}");
        // two failures lock nothing; the third locks for 10 s
        assert_eq!(s.login_failed(&at, &p(), 1_000).await.unwrap(), None, "{l}");
        assert_eq!(s.login_failed(&at, &p(), 1_001).await.unwrap(), None, "{l}");
        assert_eq!(s.login_failed(&at, &p(), 1_002).await.unwrap(), Some(1_012), "{l}");
        assert_eq!(s.login_locked(&at, &names(&["p", "other"]), 1_011).await.unwrap(), Some(1_012), "{l}");
        assert_eq!(s.login_locked(&at, &names(&["p"]), 1_012).await.unwrap(), None, "{l}");
        // the next lockout lasts 20 s, the one after it 25 s (the cap)
        for t in [1_020, 1_021] {
            assert_eq!(s.login_failed(&at, &p(), t).await.unwrap(), None, "{l}");
        }
        assert_eq!(s.login_failed(&at, &p(), 1_022).await.unwrap(), Some(1_042), "{l}");
        for t in [1_050, 1_051] {
            s.login_failed(&at, &p(), t).await.unwrap();
        }
        assert_eq!(s.login_failed(&at, &p(), 1_052).await.unwrap(), Some(1_077), "{l}");
        // another track, another tenant and another counter are not locked
        assert_eq!(s.login_locked(&track_ref("b", "prod"), &names(&["p"]), 1_060).await.unwrap(), None, "{l}");
        assert_eq!(s.login_locked(&track_ref("a", "master"), &names(&["p"]), 1_060).await.unwrap(), None, "{l}");
        assert_eq!(s.login_locked(&at, &names(&["q"]), 1_060).await.unwrap(), None, "{l}");
        // a success forgets the counter: failures and lockout length start afresh
        s.login_succeeded(&at, &names(&["p"])).await.unwrap();
        assert_eq!(s.login_locked(&at, &names(&["p"]), 1_060).await.unwrap(), None, "{l}");
        for t in [1_100, 1_101] {
            s.login_failed(&at, &p(), t).await.unwrap();
        }
        assert_eq!(s.login_failed(&at, &p(), 1_102).await.unwrap(), Some(1_112), "{l}");
        // 100 s without a failure: forgotten (two more failures lock nothing)
        for t in [1_202, 1_203] {
            assert_eq!(s.login_failed(&at, &p(), t).await.unwrap(), None, "{l}");
        }
        // each counter under its own rule, the latest lockout answered
        let one = LockRule { threshold: 1, lock: 50, cap: 100, forget: 100 };
        let both = vec![("p".to_owned(), RULE), ("u".to_owned(), one)];
        assert_eq!(s.login_failed(&at, &both, 1_204).await.unwrap(), Some(1_254), "{l}");
        assert_eq!(s.login_locked(&at, &names(&["p", "u"]), 1_230).await.unwrap(), Some(1_254), "{l}");
        // concurrent failures (instances) all count: 30 at threshold 30 lock once
        let many = LockRule { threshold: 30, lock: 10, cap: 10, forget: 100 };
        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let st = b.store.clone();
                let at = at.clone();
                tokio::spawn(async move { st.login_failed(&at, &[("c".to_owned(), many)], 1_300).await.unwrap() })
            })
            .collect();
        let mut locked = 0;
        for t in tasks {
            locked += usize::from(t.await.unwrap().is_some());
        }
        assert_eq!(locked, 1, "{l}");
        // quiet counters that lock nothing are purged (a's `p`, b's `p`); a running
        // lockout (`u`) and a counter with a recent failure (`c`) are not
        s.login_failed(&track_ref("b", "prod"), &p(), 1_000).await.unwrap();
        assert_eq!(s.purge_login_guard(1_250, 1_253).await.unwrap(), 2, "{l}");
        assert_eq!(s.login_locked(&at, &names(&["u"]), 1_253).await.unwrap(), Some(1_254), "{l}");
        // deleting the track deletes its counters
        s.delete_track(&at, &au()).await.unwrap();
        assert_eq!(s.purge_login_guard(i64::MAX, i64::MAX).await.unwrap(), 0, "{l}");
    }
}
