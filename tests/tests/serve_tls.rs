//! `mdm-audit serve` over HTTPS with client certificates (mutual TLS), through the real binary:
//! certificates are made inside the test (rcgen); a client with no certificate, one with a
//! certificate of another CA, and a plain-HTTP client store nothing; a client with a certificate of
//! the trusted CA is admitted, and its commit records `client-certificate`.

use std::path::Path;
use std::time::Duration;

use mdm_audit_tests::query::{event_uid_counts, open_store};
use mdm_audit_tests::{ServeProcess, normalized_estate};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, SanType,
};

/// A CA: its certificate (PEM), and what signs with it.
struct Ca {
    pem: String,
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let cert = p.self_signed(&key).expect("ca");
    Ca {
        pem: cert.pem(),
        cert,
        key,
    }
}

/// A leaf signed by `ca`: (certificate PEM, key PEM).
fn leaf(ca: &Ca, name: &str, server: bool) -> (String, String) {
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("params");
    p.distinguished_name.push(DnType::CommonName, name);
    if server {
        p.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().expect("ip"))];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    } else {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    }
    let cert = p.signed_by(&key, &ca.cert, &ca.key).expect("sign");
    (cert.pem(), key.serialize_pem())
}

fn client(root: &str, identity: Option<&(String, String)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).expect("root"));
    if let Some((cert, key)) = identity {
        b = b.identity(
            reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).expect("identity"),
        );
    }
    b.build().expect("client")
}

async fn stored(store: &Path) -> u64 {
    let (ctx, tables) = open_store(store).await;
    if !tables.iter().any(|t| t == "events") {
        return 0;
    }
    event_uid_counts(&ctx).await.values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_clients_with_a_certificate_of_the_trusted_ca_may_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let trusted = ca("mdm-audit test CA");
    let other = ca("some other CA");
    let (srv_cert, srv_key) = leaf(&trusted, "serve", true);
    let vector = leaf(&trusted, "vector", false);
    let stranger = leaf(&other, "vector", false);
    for (name, text) in [
        ("ca.pem", &trusted.pem),
        ("server.pem", &srv_cert),
        ("server.key", &srv_key),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let server = ServeProcess::start(
        dir.path(),
        "data",
        &[
            "--writer-id",
            "tls",
            "--tls-cert",
            "server.pem",
            "--tls-key",
            "server.key",
            "--tls-client-ca",
            "ca.pem",
        ],
    );
    let url = format!("https://{}/v1/events", server.addr);
    let body = std::fs::read_to_string(normalized_estate(11, 600, 2))
        .expect("events")
        .lines()
        .take(25)
        .collect::<Vec<_>>()
        .join("\n");
    let store = dir.path().join("data");

    // No client certificate: the handshake fails; nothing is stored.
    let r = client(&trusted.pem, None)
        .post(&url)
        .body(body.clone())
        .send()
        .await;
    assert!(r.is_err(), "no client certificate must fail: {r:?}");
    // A certificate of another CA: refused too.
    let r = client(&trusted.pem, Some(&stranger))
        .post(&url)
        .body(body.clone())
        .send()
        .await;
    assert!(r.is_err(), "a certificate of another CA must fail: {r:?}");
    // Plain HTTP to the HTTPS port: no answer that stores anything.
    let plain = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("plain");
    let r = plain
        .post(format!("http://{}/v1/events", server.addr))
        .body(body.clone())
        .send()
        .await;
    assert!(
        r.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain HTTP must not be served: {r:?}"
    );
    assert_eq!(stored(&store).await, 0, "nothing stored on a refusal");

    // A certificate of the trusted CA: stored, and the commit says a client certificate admitted it.
    let r = client(&trusted.pem, Some(&vector))
        .post(&url)
        .body(body.clone())
        .send()
        .await
        .expect("the trusted client is served");
    assert_eq!(r.status().as_u16(), 200);
    let resp: serde_json::Value = r.json().await.expect("json");
    let n = resp["stored"].as_u64().expect("stored");
    assert!(n > 0, "{resp}");
    assert_eq!(stored(&store).await, n);
    let log = std::fs::read_to_string(
        std::fs::read_dir(store.join("events/_delta_log"))
            .expect("log")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .max()
            .expect("a commit"),
    )
    .expect("read");
    assert!(
        log.contains("\"admitted_by\":\"client-certificate\""),
        "{log}"
    );
    // /health is served over HTTPS too (to a client with a certificate).
    let h = client(&trusted.pem, Some(&vector))
        .get(format!("https://{}/health", server.addr))
        .send()
        .await
        .expect("health");
    assert_eq!(h.status().as_u16(), 200);
    assert_eq!(
        server.terminate().code(),
        Some(0),
        "graceful shutdown over TLS"
    );
}
