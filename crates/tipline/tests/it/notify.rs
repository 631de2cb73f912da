//! `tipline notify` and `tipline outbox` on a real installation: the outbox without SMTP,
//! a real SMTP server (STARTTLS, AUTH, password from the environment) with it, and rules.

use tipline_testkit::smtp::{SmtpMode, SmtpServer};

use crate::support::{Tipline, str_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_test_mail_goes_to_the_outbox() {
    let (tipline, _) = Tipline::initialized();
    tipline.ok(&["org", "add", "Alpha", "--contact", "security=soc@alpha.example"]);
    let sent = tipline.json(&["notify", "test", "--to", "Alpha"]);
    let notification = &sent["notification"];
    assert_eq!(str_of(notification, "status"), "outbox");
    assert_eq!(notification["recipients"], serde_json::json!(["soc@alpha.example"]));
    let ticket = str_of(notification, "ticket");
    assert!(ticket.starts_with("TIPLINE-") && ticket.ends_with("-000001"), "{ticket}");
    let path = str_of(notification, "outbox_path");
    assert!(path.starts_with(&tipline.data_dir().join("outbox").display().to_string()), "{path}");
    let eml = std::fs::read_to_string(path).unwrap();
    assert!(eml.contains(&format!("Subject: [{ticket}] Test notification for Alpha")), "{eml}");
    assert!(eml.contains("To: Alpha <soc@alpha.example>"), "{eml}");

    let listed = tipline.json(&["outbox", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let text = tipline.ok(&["outbox", "list"]);
    assert!(text.starts_with("TICKET") && text.contains(ticket), "{text}");

    let rules = tipline.ok(&["notify", "rules", "show", "Alpha"]);
    assert!(rules.contains("host default") && rules.contains("infected-system"), "{rules}");
    assert!(rules.contains("7 days") && rules.contains("30 days"), "{rules}");
    let error = tipline.fails(&["notify", "test", "--to", "Alpha", "--template", "nope"]);
    assert!(
        error.contains("unknown template `nope`; available: alert-triage, digest, listing, test"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_mail_reaches_the_configured_smtp_server() {
    let server = SmtpServer::start(SmtpMode::Starttls, Some(("tipline", "hunter2"))).await;
    let (mut tipline, _) = Tipline::initialized();
    let ca = tipline.data_dir().join("smtp-ca.pem");
    std::fs::write(&ca, &server.cert_pem).unwrap();
    tipline.set_env("TIPLINE_SMTP_HOST", "127.0.0.1");
    tipline.set_env("TIPLINE_SMTP_PORT", &server.addr.port().to_string());
    tipline.set_env("TIPLINE_SMTP_USERNAME", "tipline");
    tipline.set_env("TIPLINE_SMTP_PASSWORD", "hunter2");
    tipline.set_env("TIPLINE_SMTP_CA_FILE", ca.to_str().unwrap());
    tipline.set_env("TIPLINE_NOTIFY_FROM", "cert@cert-xy.example");
    tipline.ok(&["org", "add", "Alpha", "--contact", "abuse=abuse@alpha.example"]);
    let output = tokio::task::spawn_blocking(move || {
        let out = tipline.ok(&["notify", "test", "--to", "Alpha", "--role", "abuse"]);
        (tipline, out)
    })
    .await
    .unwrap();
    let (tipline, text) = output;
    assert!(text.contains("sent through 127.0.0.1:"), "{text}");
    assert!(!text.contains("hunter2"));
    let mail = &server.wait_for(1).await[0];
    assert!(mail.tls);
    assert_eq!(mail.auth_user.as_deref(), Some("tipline"));
    assert_eq!(mail.rcpt_to, ["abuse@alpha.example"]);
    assert_eq!(mail.mail_from, "cert@cert-xy.example");
    assert!(mail.text().contains("Subject: [TIPLINE-"), "{}", mail.text());
    // A wrong password is an SMTP error the notification keeps, not a crash.
    let mut tipline = tipline;
    tipline.set_env("TIPLINE_SMTP_PASSWORD", "wrong");
    let run = tokio::task::spawn_blocking(move || {
        tipline.run(&["notify", "test", "--to", "Alpha", "--role", "abuse"])
    })
    .await
    .unwrap();
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("535"), "{run:#?}");
}
