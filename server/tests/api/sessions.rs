//! Sessions end when they should: a password change signs out the user's other sessions
//! and rotates the current one, a removed member's sessions end at once, every session
//! ends at its absolute lifetime, ids are stored hashed, two owners cannot leave an
//! account without an owner, and pages carry security headers.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Row;

use crate::helpers::{Browser, PASSWORD, Storage, TestApp, poll, spawn_app, spawn_app_with};

const OWNER: &str = "owner@acme.test";

async fn signed_in(browser: &Browser) -> bool {
    let (status, me) = browser.call_json("whoami", &[]).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    !me.is_null()
}

/// The `ds_session` cookie an answer sets, if any.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("ds_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

async fn session_rows(app: &TestApp) -> Vec<String> {
    sqlx::query("SELECT id FROM sessions")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("id"))
        .collect()
}

async fn add_member(owner: &Browser, email: &str, role: &str) -> i64 {
    let (status, member) = owner
        .call_json(
            "add_member",
            &[("email", email), ("role", role), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{member}");
    member["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_password_change_signs_out_the_other_sessions_and_rotates_this_one() {
    let app = spawn_app(Storage::Sqlite).await;
    let here = app.set_up_owner(OWNER).await;
    let elsewhere = app.sign_in(OWNER, PASSWORD).await;
    assert!(signed_in(&elsewhere).await);

    let new_password = "a much newer passphrase";
    let r = here
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        session_cookie(&r).is_some(),
        "the current session goes on under a new id"
    );
    assert!(signed_in(&here).await, "this session stays signed in");
    assert!(
        !signed_in(&elsewhere).await,
        "the other session is signed out"
    );
    app.sign_in(OWNER, new_password).await;
}

#[tokio::test]
async fn a_removed_member_is_signed_out_at_once() {
    let app = spawn_app(Storage::Sqlite).await;
    let owner = app.set_up_owner(OWNER).await;
    let id = add_member(&owner, "ed@acme.test", "editor").await;
    let editor = app.sign_in("ed@acme.test", PASSWORD).await;
    assert!(signed_in(&editor).await);
    let before = session_rows(&app).await.len();

    let (status, body) = owner
        .call_json("remove_member", &[("user_id", &id.to_string())])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        session_rows(&app).await.len(),
        before - 1,
        "the member's session is gone before they make another request"
    );
    assert!(!signed_in(&editor).await);
}

#[tokio::test]
async fn a_session_ends_at_its_lifetime_however_active() {
    let app = spawn_app_with(Storage::Sqlite, |s| {
        s.session_lifetime = Duration::from_secs(2)
    })
    .await;
    let owner = app.set_up_owner(OWNER).await;
    assert!(signed_in(&owner).await);
    // Busy all along (every 50 ms), so the idle expiry never applies.
    poll(Duration::from_secs(10), || async {
        (!signed_in(&owner).await).then_some(())
    })
    .await
    .expect("the session ended at --session-lifetime");
}

#[tokio::test]
async fn session_ids_are_stored_hashed() {
    let app = spawn_app(Storage::Sqlite).await;
    app.set_up_owner(OWNER).await;
    let browser = app.browser();
    let r = browser
        .call("sign_in", &[("email", OWNER), ("password", PASSWORD)])
        .await;
    let cookie = session_cookie(&r).expect("sign-in sets the session cookie");
    let rows = session_rows(&app).await;
    assert!(!rows.contains(&cookie), "the cookie's value is not stored");
    assert!(
        rows.contains(&app::backend::tokens::token_hash(&cookie)),
        "its SHA-256 is"
    );
}

async fn owners_never_demote_each_other_to_none(storage: Storage) {
    let app = spawn_app(storage).await;
    let mut first = (app.set_up_owner(OWNER).await, OWNER.to_string());
    for round in 0..5 {
        let email = format!("second{round}@acme.test");
        let second_id = add_member(&first.0, &email, "owner").await;
        let second = app.sign_in(&email, PASSWORD).await;
        let (_, me) = first.0.call_json("whoami", &[]).await;
        let first_id = me["id"].as_i64().unwrap().to_string();
        let second_id = second_id.to_string();
        let demote_second = [("user_id", second_id.as_str()), ("role", "viewer")];
        let demote_first = [("user_id", first_id.as_str()), ("role", "viewer")];
        let (a, b) = tokio::join!(
            first.0.call_json("change_role", &demote_second),
            second.call_json("change_role", &demote_first),
        );
        let (_, members) = first.0.call_json("list_members", &[]).await;
        let (_, members_seen_by_second) = second.call_json("list_members", &[]).await;
        let members = if members.is_array() {
            members
        } else {
            members_seen_by_second
        };
        let owners: Vec<&Value> = members
            .as_array()
            .unwrap_or_else(|| panic!("no owner can list the members: {a:?} {b:?}"))
            .iter()
            .filter(|m| m["role"] == "owner")
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "round {round}: one demotion applies, the other is refused: {a:?} {b:?}"
        );
        assert!([a.0, b.0].contains(&StatusCode::FORBIDDEN), "{a:?} {b:?}");
        if owners[0]["email"] == email.as_str() {
            first = (second, email);
        }
    }
}

#[tokio::test]
async fn two_owners_demoting_each_other_keep_an_owner_on_sqlite() {
    owners_never_demote_each_other_to_none(Storage::Sqlite).await;
}

#[tokio::test]
async fn two_owners_demoting_each_other_keep_an_owner_on_postgres() {
    owners_never_demote_each_other_to_none(Storage::Postgres).await;
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app(Storage::Sqlite).await;
    let r = app.browser().get("/sign-in").await;
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let policy = header("content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert_eq!(
        header("strict-transport-security"),
        "",
        "no HSTS without TLS"
    );
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("scripts need this response's nonce")
        .to_string();
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    assert!(
        !page.contains("<script>"),
        "no inline script without the nonce"
    );

    let tls = spawn_app_with(Storage::Sqlite, |s| s.secure_cookies = true).await;
    let r = tls.browser().get("/sign-in").await;
    assert!(
        r.headers().contains_key("strict-transport-security"),
        "HSTS with --secure-cookies"
    );
}
