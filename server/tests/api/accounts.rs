//! Accounts, sign-in, roles and tenant isolation, on SQLite and on Postgres.

use app::backend::auth::Passwords;
use app::model::Role;

use crate::helpers::{PASSWORD, Storage, TestApp, spawn_app};

/// Account B with its owner and a domain, arranged directly in the database.
pub async fn other_account(app: &TestApp) -> (i64, i64, i64) {
    let b = app.db.create_account("Globex").await.unwrap();
    let hash = Passwords::default().hash(PASSWORD.into()).await.unwrap();
    let b_owner = app
        .db
        .create_user(b.id, "owner@globex.test", &hash, Role::Owner)
        .await
        .unwrap();
    let b_domain = app
        .db
        .create_domain(b.id, "shop.globex.test")
        .await
        .unwrap();
    (b.id, b_owner.id, b_domain.id)
}

async fn roles_and_isolation(storage: Storage) {
    let app = spawn_app(storage).await;
    let owner = app.set_up_owner("owner@acme.test").await;
    let (_, b_owner_id, b_domain_id) = other_account(&app).await;

    // Set-up is one-time.
    let (status, _) = app
        .browser()
        .call_json(
            "set_up",
            &[
                ("account_name", "Again"),
                ("email", "x@y.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 409);

    // The owner adds an editor and a viewer.
    for (email, role) in [("ed@acme.test", "editor"), ("vi@acme.test", "viewer")] {
        let (status, body) = owner
            .call_json(
                "add_member",
                &[("email", email), ("role", role), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, members) = owner.call_json("list_members", &[]).await;
    assert_eq!(status, 200);
    let emails: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["ed@acme.test", "owner@acme.test", "vi@acme.test"],
        "only account A's users"
    );

    let editor = app.sign_in("ed@acme.test", PASSWORD).await;
    let viewer = app.sign_in("vi@acme.test", PASSWORD).await;

    // Editor writes; viewer reads but every write is refused with 403.
    let (status, _) = editor
        .call_json("add_domain", &[("name", "shop.acme.test")])
        .await;
    assert_eq!(status, 200);
    let (status, domains) = viewer.call_json("list_domains", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(domains.as_array().unwrap().len(), 1, "{domains}");
    assert_eq!(domains[0]["name"], "shop.acme.test");
    let a_domain_id = domains[0]["id"].as_i64().unwrap().to_string();
    for (function, form) in [
        ("add_domain", vec![("name", "blog.acme.test")]),
        (
            "rename_domain",
            vec![("id", a_domain_id.as_str()), ("name", "x.acme.test")],
        ),
        ("remove_domain", vec![("id", a_domain_id.as_str())]),
        ("list_members", vec![]),
        (
            "add_member",
            vec![
                ("email", "z@acme.test"),
                ("role", "owner"),
                ("password", PASSWORD),
            ],
        ),
    ] {
        let (status, body) = viewer.call_json(function, &form).await;
        assert_eq!(status, 403, "viewer {function}: {body}");
    }
    let (status, _) = editor.call_json("list_members", &[]).await;
    assert_eq!(status, 403, "editors do not manage users");

    // Bad input names the field.
    let (status, body) = editor
        .call_json("add_domain", &[("name", "not a host")])
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["Invalid"]["field"], "name", "{body}");

    // Account A never reaches account B's objects, even by guessed ids: 404.
    let b_domain = b_domain_id.to_string();
    let b_owner = b_owner_id.to_string();
    for (function, form) in [
        (
            "rename_domain",
            vec![("id", b_domain.as_str()), ("name", "mine.acme.test")],
        ),
        ("remove_domain", vec![("id", b_domain.as_str())]),
        (
            "change_role",
            vec![("user_id", b_owner.as_str()), ("role", "viewer")],
        ),
        ("remove_member", vec![("user_id", b_owner.as_str())]),
    ] {
        let (status, body) = owner.call_json(function, &form).await;
        assert_eq!(status, 404, "{function} on account B's object: {body}");
    }
    let (_, domains) = owner.call_json("list_domains", &[]).await;
    assert!(!domains.to_string().contains("globex"), "{domains}");
    let b_side = app.sign_in("owner@globex.test", PASSWORD).await;
    let (_, b_domains) = b_side.call_json("list_domains", &[]).await;
    assert_eq!(
        b_domains[0]["name"], "shop.globex.test",
        "B's domain untouched"
    );
    let (_, b_members) = b_side.call_json("list_members", &[]).await;
    assert_eq!(b_members[0]["role"], "owner", "B's owner untouched");

    // Role change takes effect at once; the owner cannot demote or remove themself.
    let (_, members) = owner.call_json("list_members", &[]).await;
    let id_of = |email: &str| {
        members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == email)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
            .to_string()
    };
    let (status, _) = owner
        .call_json(
            "change_role",
            &[("user_id", &id_of("vi@acme.test")), ("role", "editor")],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = viewer
        .call_json("add_domain", &[("name", "blog.acme.test")])
        .await;
    assert_eq!(status, 200, "the promoted viewer may now write");
    let (status, _) = owner
        .call_json(
            "change_role",
            &[("user_id", &id_of("owner@acme.test")), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = owner
        .call_json("remove_member", &[("user_id", &id_of("ed@acme.test"))])
        .await;
    assert_eq!(status, 200);
    let (status, _) = editor.call_json("list_domains", &[]).await;
    assert_eq!(status, 401, "a removed user's session is void");

    // Without a session: 401 for functions, redirect for pages.
    let anonymous = app.browser();
    let (status, _) = anonymous.call_json("list_domains", &[]).await;
    assert_eq!(status, 401);
    for page in ["/", "/domains", "/users", "/account"] {
        let r = anonymous.get(page).await;
        assert_eq!(r.status(), 303, "{page}");
    }

    // Passwords are stored only as argon2id PHC strings.
    let users = app.db.users(owner_account_id(&app).await).await.unwrap();
    assert!(
        users
            .iter()
            .all(|u| u.password_hash.starts_with("$argon2id$v=19$"))
    );
    assert!(users.iter().all(|u| !u.password_hash.contains(PASSWORD)));
}

async fn owner_account_id(app: &TestApp) -> i64 {
    app.db
        .user_by_email("owner@acme.test")
        .await
        .unwrap()
        .unwrap()
        .account_id
}

#[tokio::test]
async fn roles_and_isolation_on_sqlite() {
    roles_and_isolation(Storage::Sqlite).await;
}

#[tokio::test]
async fn roles_and_isolation_on_postgres() {
    roles_and_isolation(Storage::Postgres).await;
}

async fn sign_in_rules(storage: Storage) {
    let app = spawn_app(storage).await;
    let owner = app.set_up_owner("owner@acme.test").await;

    // A wrong password: an error and no session.
    let stranger = app.browser();
    let (status, body) = stranger
        .call_json(
            "sign_in",
            &[("email", "owner@acme.test"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body, "BadCredentials");
    let (_, who) = stranger.call_json("whoami", &[]).await;
    assert_eq!(who, serde_json::Value::Null);

    // A forged cross-site POST is refused, even with a valid session cookie.
    let forged = owner
        .client
        .post(format!("{}/api/add_domain", app.address))
        .header("Origin", "https://evil.example")
        .form(&[("name", "evil.acme.test")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let (_, domains) = owner.call_json("list_domains", &[]).await;
    assert_eq!(
        domains,
        serde_json::json!([]),
        "nothing created by the forged request"
    );

    // Sessions survive a restart (stored in the database).
    let restarted = app.restart().await;
    let same_cookie = crate::helpers::Browser {
        address: restarted.address.clone(),
        client: owner.client.clone(),
    };
    let (status, who) = same_cookie.call_json("whoami", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(who["email"], "owner@acme.test");

    // Sign-out ends the session.
    let (status, _) = owner.call_json("sign_out", &[]).await;
    assert!(status.is_success() || status.is_redirection());
    let (_, who) = owner.call_json("whoami", &[]).await;
    assert_eq!(who, serde_json::Value::Null);

    // Attempts are limited per email: after 5 failures, "try again in N s".
    for _ in 0..4 {
        stranger
            .call(
                "sign_in",
                &[("email", "owner@acme.test"), ("password", "wrong again")],
            )
            .await;
    }
    let (status, body) = stranger
        .call_json(
            "sign_in",
            &[("email", "owner@acme.test"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(status, 429, "{body}");
    let seconds = body["RateLimited"]["retry_after_secs"].as_u64().unwrap();
    assert!((1..=300).contains(&seconds), "{body}");
}

#[tokio::test]
async fn sign_in_rules_on_sqlite() {
    sign_in_rules(Storage::Sqlite).await;
}

#[tokio::test]
async fn sign_in_rules_on_postgres() {
    sign_in_rules(Storage::Postgres).await;
}
