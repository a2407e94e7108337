//! A TLS receiver on this machine for the sender's tests (and the local stack's), whose
//! certificate a certificate authority made on the spot signed. Built with the `testing`
//! feature only.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A request as the receiver read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `POST /path HTTP/1.1`.
    pub line: String,
    /// Names lower-cased.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A receiver listening on 127.0.0.1.
pub struct Receiver {
    pub port: u16,
    /// The authority that signed its certificate, to trust.
    pub ca_pem: String,
    got: Arc<Mutex<Vec<Request>>>,
}

impl Receiver {
    /// Starts a receiver whose certificate names `host` (a name or an IP address), answering
    /// each request with the next of `answers` (a status line and any headers), the last one
    /// once they run out.
    pub async fn start(host: &str, answers: Vec<&'static str>) -> Result<Self, String> {
        let fail = |e: &dyn std::fmt::Display| e.to_string();
        let ca_key = KeyPair::generate().map_err(|e| fail(&e))?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(&e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "video2mp3 test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| fail(&e))?;
        let leaf_key = KeyPair::generate().map_err(|e| fail(&e))?;
        let leaf = CertificateParams::new(vec![host.to_owned()])
            .and_then(|p| p.signed_by(&leaf_key, &ca))
            .map_err(|e| fail(&e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(&e))?
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .map_err(|e| fail(&e))?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| fail(&e))?;
        let port = listener.local_addr().map_err(|e| fail(&e))?.port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = got.clone();
        let answers = Arc::new(Mutex::new(answers));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, kept, answers) = (acceptor.clone(), kept.clone(), answers.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Some(request) = read_request(&mut tls).await else {
                        return;
                    };
                    let answer = {
                        let mut answers = answers.lock().unwrap_or_else(|p| p.into_inner());
                        if answers.len() > 1 {
                            answers.remove(0)
                        } else {
                            answers
                                .first()
                                .copied()
                                .unwrap_or("HTTP/1.1 204 No Content")
                        }
                    };
                    kept.lock().unwrap_or_else(|p| p.into_inner()).push(request);
                    let response =
                        format!("{answer}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Ok(Self {
            port,
            ca_pem: ca.pem(),
            got,
        })
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

async fn read_request(
    tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<Request> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tls.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(request) = parse(&data) {
            return Some(request);
        }
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
