//! The real sender (`HttpsPoster`) against a TLS receiver on this machine, with a certificate
//! authority made for the test: it connects to the pinned address whatever the name, verifies
//! the certificate, sends the signed headers, and follows no redirect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ::webhook::{Delivery, HttpsPoster, ID_HEADER, Poster};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use video2mp3_domain::webhook::{CallbackUrl, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};

/// A name that is not resolved: the sender must use the pinned address.
const HOST: &str = "hooks.video2mp3.invalid";

#[derive(Debug, Clone)]
struct Request {
    line: String,
    headers: BTreeMap<String, String>,
    body: String,
}

struct Receiver {
    port: u16,
    ca_pem: String,
    got: Arc<Mutex<Vec<Request>>>,
}

/// Starts a receiver for `HOST` whose certificate a new CA signed, answering `answer` (the
/// status line and headers) to every request.
async fn receiver(answer: &'static str) -> Receiver {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "video2mp3 test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec![HOST.to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let kept = kept.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let request = loop {
                    let Ok(n) = tls.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    data.extend_from_slice(&buf[..n]);
                    if let Some(request) = parse(&data) {
                        break request;
                    }
                };
                kept.lock().unwrap().push(request);
                let response =
                    format!("{answer}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Receiver {
        port,
        ca_pem: ca.pem(),
        got,
    }
}

/// The request in `data`, once its head and its whole body are there.
fn parse(data: &[u8]) -> Option<Request> {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let line = lines.next()?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length")?.parse().ok()?;
    (body.len() >= length).then(|| Request {
        line,
        headers,
        body: body[..length].to_owned(),
    })
}

fn delivery(port: u16, path: &str) -> Delivery {
    let body = r#"{"job_id":"01J","status":"done"}"#.to_owned();
    let timestamp = 1_800_000_000;
    Delivery {
        url: CallbackUrl::parse(&format!("https://{HOST}:{port}{path}")).unwrap(),
        addresses: vec![IpAddr::V4(Ipv4Addr::LOCALHOST)],
        job_id: "01J".into(),
        timestamp,
        signature: sign(b"whsec_k", timestamp, body.as_bytes()),
        body,
    }
}

#[tokio::test]
async fn it_posts_the_signed_body_over_verified_tls_to_the_pinned_address() {
    let r = receiver("HTTP/1.1 204 No Content").await;
    let poster = HttpsPoster::new(Duration::from_secs(10))
        .trusting(r.ca_pem.as_bytes())
        .unwrap();
    let d = delivery(r.port, "/in?x=1");
    assert_eq!(poster.post(&d).await, Ok(204));
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert_eq!(req.line, "POST /in?x=1 HTTP/1.1");
    assert_eq!(req.body, d.body);
    assert_eq!(req.headers["host"], format!("{HOST}:{}", r.port));
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers[&ID_HEADER.to_ascii_lowercase()], "01J");
    let ts: i64 = req.headers[&TIMESTAMP_HEADER.to_ascii_lowercase()]
        .parse()
        .unwrap();
    let signature = &req.headers[&SIGNATURE_HEADER.to_ascii_lowercase()];
    assert!(verify(
        b"whsec_k",
        ts,
        req.body.as_bytes(),
        signature,
        ts + 1
    ));
}

#[tokio::test]
async fn a_redirect_is_answered_not_followed() {
    let r = receiver("HTTP/1.1 307 Temporary Redirect\r\nlocation: https://169.254.169.254/").await;
    let poster = HttpsPoster::new(Duration::from_secs(10))
        .trusting(r.ca_pem.as_bytes())
        .unwrap();
    assert_eq!(poster.post(&delivery(r.port, "/in")).await, Ok(307));
    assert_eq!(r.got.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_certificate_no_trusted_authority_signed_is_refused() {
    let r = receiver("HTTP/1.1 200 OK").await;
    let poster = HttpsPoster::new(Duration::from_secs(10));
    let err = poster.post(&delivery(r.port, "/in")).await.unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(r.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_fails_the_try() {
    // Accepts the connection and never speaks TLS.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            held.push(tcp);
        }
    });
    let poster = HttpsPoster::new(Duration::from_secs(1));
    let started = std::time::Instant::now();
    let err = poster.post(&delivery(port, "/in")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
}
