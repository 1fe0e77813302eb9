//! Issue 20: what the snapshot is built from, on both backends: one app with its
//! credentials (`load_app`), and every track streamed a page of apps at a time
//! (`stream_all`) holding exactly what the whole load (`load_all`) holds.

use ferrid_core::store::SnapshotSink;

use super::*;

fn client(tenant: &str, track: &str, name: &str) -> App {
    let spec = ClientSpec {
        client_auth_method: ClientAuthMethod::ClientSecretBasic,
        resource_scopes: Vec::new(),
        access_token_lifetime: None,
        claims: Vec::new(),
        issued_claims: ferrid_core::claims::issue::default_issued(),
        claim_transforms: Vec::new(),
    };
    App { spec: AppSpec::OauthClient(spec), ..resource(tenant, track, name) }
}

/// One app as the sink saw it: name, secret ids, kids.
type AppSeen = (String, Vec<String>, Vec<String>);

/// What a sink saw: per track, its name, resources and the pages of apps.
#[derive(Default)]
struct Seen {
    tracks: Vec<(String, Vec<String>, Vec<Vec<AppSeen>>)>,
    ended: usize,
}

impl SnapshotSink for Seen {
    fn start_track(&mut self, track: Track, _keys: Vec<TrackKey>, resources: Vec<App>) {
        let name = format!("{}/{}", track.tenant, track.name);
        self.tracks.push((name, resources.into_iter().map(|a| a.name.to_string()).collect(), Vec::new()));
    }

    fn apps(&mut self, page: Vec<AppData>) {
        let page = page
            .into_iter()
            .map(|a| {
                let secrets = a.secrets.into_iter().map(|s| s.id).collect();
                let kids = a.client_keys.into_iter().map(|k| k.key.kid).collect();
                (a.app.name.to_string(), secrets, kids)
            })
            .collect();
        self.tracks.last_mut().expect("a track was started").2.push(page);
    }

    fn end_track(&mut self) {
        self.ended += 1;
    }
}

#[tokio::test]
async fn a_streamed_load_hands_over_every_app_with_its_credentials_page_by_page() {
    for b in backends().await {
        let (s, l) = (b.store.as_ref(), b.label);
        seed(s, "a").await;
        for (name, secrets) in [("c1", &["s2"][..]), ("c2", &[]), ("c3", &["s3", "s4"]), ("c4", &["s5"])] {
            let records: Vec<_> = secrets.iter().map(|id| secret(id)).collect();
            s.create_app(&client("a", "prod", name), &records, &au()).await.unwrap();
        }
        s.add_client_key(&app_ref("a", "prod", "c3"), &client_key("k3"), 4, &au()).await.unwrap();
        let mut seen = Seen::default();
        s.stream_all(2, &mut seen).await.unwrap();
        assert_eq!(seen.ended, seen.tracks.len(), "{l}");
        let names: Vec<&str> = seen.tracks.iter().map(|t| t.0.as_str()).collect();
        assert_eq!(names, ["a/master", "a/prod"], "{l}");
        let (_, resources, pages) = &seen.tracks[1];
        assert_eq!(resources, &["x"], "{l}");
        assert!(pages.iter().all(|p| p.len() <= 2), "{l}: pages of at most 2 apps");
        let flat: Vec<_> = pages.iter().flatten().cloned().collect();
        let own = |a: &str, s: &[&str], k: &[&str]| {
            (a.to_owned(), s.iter().map(|x| x.to_string()).collect(), k.iter().map(|x| x.to_string()).collect())
        };
        let expected = vec![
            own("c1", &["s2"], &[]),
            own("c2", &[], &[]),
            own("c3", &["s3", "s4"], &["k3"]),
            own("c4", &["s5"], &[]),
            own("x", &["s1"], &["k1"]),
        ];
        assert_eq!(flat, expected, "{l}");
        assert_eq!(s.load_all().await.unwrap()[1].apps.len(), flat.len(), "{l}: the same as the whole load");

        let one = s.load_app(&app_ref("a", "prod", "c3")).await.unwrap();
        assert_eq!(one.app, client("a", "prod", "c3"), "{l}");
        assert_eq!(one.secrets, vec![secret("s3"), secret("s4")], "{l}");
        assert_eq!(one.client_keys, vec![client_key("k3")], "{l}");
        assert!(is(StoreError::NotFound, s.load_app(&app_ref("a", "prod", "nope")).await), "{l}");
        assert!(is(StoreError::NotFound, s.load_app(&app_ref("b", "prod", "c3")).await), "{l}: another tenant's");
    }
}
