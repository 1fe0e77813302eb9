use serde_json::json;

use super::*;

fn token(header: &str, payload: &str) -> String {
    format!("{}.{}.c2ln", b64::encode(header.as_bytes()), b64::encode(payload.as_bytes()))
}

#[test]
fn a_compact_jws_has_exactly_three_parts_and_a_header_object() {
    let t = token(r#"{"alg":"ES256","kid":"k","typ":"at+jwt"}"#, "{}");
    let c = split(&t).unwrap();
    assert_eq!(
        (c.header.alg.as_str(), c.header.kid.as_deref(), c.header.typ.as_deref()),
        ("ES256", Some("k"), Some("at+jwt"))
    );
    assert!(!c.header.crit);
    assert_eq!(c.signing_input, t.rsplit_once('.').unwrap().0);
    assert_eq!(c.signature, "c2ln");
    for bad in [format!("{t}.x"), t.rsplit_once('.').unwrap().0.to_owned(), "a.b.c".into(), String::new()] {
        assert_eq!(split(&bad).err(), Some(Refusal::NotJws), "{bad}");
    }
    for header in
        [r#"{"kid":"k"}"#, r#"{"alg":5}"#, r#"{"alg":"ES256","kid":7}"#, r#"["alg"]"#, r#"{"alg":"ES256","typ":{}}"#]
    {
        assert_eq!(split(&token(header, "{}")).err(), Some(Refusal::NotJws), "{header}");
    }
}

#[test]
fn a_repeated_header_or_claim_name_is_refused() {
    assert_eq!(split(&token(r#"{"alg":"none","alg":"ES256"}"#, "{}")).err(), Some(Refusal::NotJws));
    assert!(object(br#"{"exp":1,"exp":2}"#).is_none());
    assert!(object(br#"{"a":{"b":1},"c":[1,1]}"#).is_some());
    assert!(object(b"[]").is_none());
}

#[test]
fn crit_in_any_form_is_marked() {
    for crit in [r#""crit":["exp"]"#, r#""crit":[]"#, r#""crit":null"#] {
        let t = token(&format!(r#"{{"alg":"ES256",{crit}}}"#), "{}");
        assert!(split(&t).unwrap().header.crit, "{crit}");
    }
}

fn rules<'a>(iss: Option<&'a str>, aud: &'a [String]) -> ClaimRules<'a> {
    ClaimRules { issuer: iss, audiences: aud, leeway: 5 }
}

fn check(claims: Value, r: &ClaimRules<'_>, now: u64) -> Result<u64, Refusal> {
    check_claims(claims.as_object().unwrap(), r, now)
}

#[test]
fn exp_and_nbf_are_checked_with_the_leeway() {
    let r = rules(None, &[]);
    assert_eq!(check(json!({ "exp": 100 }), &r, 104), Ok(100));
    assert_eq!(check(json!({ "exp": 100 }), &r, 105), Err(Refusal::Expired), "on exp + leeway it has expired");
    assert_eq!(check(json!({ "exp": 99.6 }), &r, 104), Ok(100), "a fraction is rounded");
    assert_eq!(check(json!({ "exp": 200, "nbf": 105 }), &r, 100), Ok(200));
    assert_eq!(check(json!({ "exp": 200, "nbf": 106 }), &r, 100), Err(Refusal::NotYetValid));
    for missing in [json!({}), json!({ "exp": null }), json!({ "exp": -1 }), json!({ "exp": "200" })] {
        assert_eq!(check(missing.clone(), &r, 100), Err(Refusal::MissingClaim), "{missing}");
    }
    assert_eq!(check(json!({ "exp": 200, "nbf": "soon" }), &r, 100), Err(Refusal::Malformed));
}

#[test]
fn iss_and_aud_are_required_and_compared_when_configured() {
    let aud = ["other".to_owned(), "api".to_owned()];
    let r = rules(Some("https://iss"), &aud);
    let ok = json!({ "exp": 200, "iss": "https://iss", "aud": "api" });
    assert_eq!(check(ok.clone(), &r, 100), Ok(200));
    let with = |k: &str, v: Value| {
        let mut c = ok.clone();
        c[k] = v;
        c
    };
    assert_eq!(check(with("aud", json!(["x", "api"])), &r, 100), Ok(200));
    assert_eq!(check(with("iss", json!("https://evil")), &r, 100), Err(Refusal::Issuer));
    assert_eq!(check(with("iss", json!(["https://iss"])), &r, 100), Err(Refusal::Issuer), "iss is one string");
    assert_eq!(check(with("iss", Value::Null), &r, 100), Err(Refusal::MissingClaim));
    assert_eq!(check(with("aud", json!("nope")), &r, 100), Err(Refusal::Audience));
    assert_eq!(check(with("aud", json!([])), &r, 100), Err(Refusal::Audience));
    assert_eq!(check(with("aud", json!(["api", 3])), &r, 100), Err(Refusal::MissingClaim));
    assert_eq!(check(with("aud", Value::Null), &r, 100), Err(Refusal::MissingClaim));
    // unconfigured, neither is required nor compared
    assert_eq!(check(json!({ "exp": 200, "aud": 5, "iss": 5 }), &rules(None, &[]), 100), Ok(200));
}
