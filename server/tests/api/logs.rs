//! The real binary: unattended first owner from the environment, and no password or
//! session id in its logs (at debug level).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::helpers::Browser;

#[tokio::test]
async fn admin_from_environment_and_no_secrets_in_logs() {
    let data_dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let admin_password = "unattended-Secret-42";
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_data-streaming"))
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir.path())
        .env("DS_ADMIN_EMAIL", "admin@acme.test")
        .env("DS_ADMIN_PASSWORD", admin_password)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let address = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..100 {
        if client
            .get(format!("{address}/healthz"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let browser = Browser {
        address: address.clone(),
        client,
    };
    let signed_in = browser
        .client
        .post(format!("{address}/api/sign_in"))
        .header("Origin", &address)
        .form(&[("email", "admin@acme.test"), ("password", admin_password)])
        .send()
        .await
        .unwrap();
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection());
    let session_id = signed_in
        .cookies()
        .find(|c| c.name() == "ds_session")
        .expect("a session cookie")
        .value()
        .to_string();
    let (_, who) = browser.call_json("whoami", &[]).await;
    assert_eq!(who["role"], "owner");
    browser
        .call(
            "change_password",
            &[
                ("current_password", admin_password),
                ("new_password", "another-Secret-43"),
            ],
        )
        .await;
    browser
        .call(
            "sign_in",
            &[
                ("email", "admin@acme.test"),
                ("password", "wrong-Secret-44"),
            ],
        )
        .await;

    child.start_kill().unwrap();
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .await
        .unwrap();
    assert!(logs.contains("signed in"), "the log is captured: {logs}");
    for secret in [
        admin_password,
        "another-Secret-43",
        "wrong-Secret-44",
        session_id.as_str(),
    ] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
}
