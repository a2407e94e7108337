//! The real sender (`HttpsPoster`) against a TLS receiver on this machine, with a certificate
//! authority made for the test: it connects to the pinned address whatever the name, verifies
//! the certificate, sends the signed headers, and follows no redirect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ::webhook::testing::Receiver;
use ::webhook::{Delivery, HttpsPoster, ID_HEADER, Poster};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;
use video2mp3_domain::webhook::{CallbackUrl, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify};

/// A name that is not resolved: the sender must use the pinned address.
const HOST: &str = "hooks.video2mp3.invalid";

async fn receiver(answer: &'static str) -> Receiver {
    Receiver::start(HOST, vec![answer]).await.unwrap()
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
    let got = r.requests();
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
    assert_eq!(r.requests().len(), 1);
}

#[tokio::test]
async fn a_certificate_no_trusted_authority_signed_is_refused() {
    let r = receiver("HTTP/1.1 200 OK").await;
    let poster = HttpsPoster::new(Duration::from_secs(10));
    let err = poster.post(&delivery(r.port, "/in")).await.unwrap_err();
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(r.requests().is_empty());
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
