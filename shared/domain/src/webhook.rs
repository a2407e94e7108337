//! Webhooks: which addresses a job's end may be POSTed to, and how each POST is signed.
//!
//! A callback URL must be `https`, carry no credentials and name a host whose every address is
//! public: a URL that resolves to a private, loopback, link-local or otherwise special address
//! would let a user make the service call into its own network. The addresses are checked when
//! the job is created and again at each delivery (DNS answers change), and a delivery connects
//! to the addresses it checked, not to a second lookup.
//!
//! The POST carries `Webhook-Timestamp` (Unix seconds) and `Webhook-Signature: v1=<hex>`, the
//! HMAC-SHA256 under the user's webhook key of `"{timestamp}.{body}"`. A receiver recomputes it
//! and refuses a timestamp older than a few minutes, so a captured call cannot be replayed.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The longest callback URL accepted.
pub const MAX_CALLBACK_URL: usize = 2048;
/// The header with the Unix time of the signing.
pub const TIMESTAMP_HEADER: &str = "Webhook-Timestamp";
/// The header with the signature, `v1=<hex>`.
pub const SIGNATURE_HEADER: &str = "Webhook-Signature";
/// How far a receiver should let a signature's time be from its clock.
pub const SIGNATURE_TOLERANCE: Duration = Duration::from_secs(300);
/// Deliveries tried at most for one job end.
pub const MAX_ATTEMPTS: u32 = 8;

/// Why a callback URL is refused; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("callback_url must be at most {MAX_CALLBACK_URL} characters")]
    TooLong,
    #[error("callback_url is not a URL ({0})")]
    NotUrl(String),
    #[error("callback_url must start with https://")]
    NotHttps,
    #[error("callback_url must not carry a user name or password")]
    Credentials,
    #[error("callback_url has no host")]
    NoHost,
    #[error("callback_url's host {host} did not resolve to any address")]
    Unresolved { host: String },
    #[error("callback_url's host {host} could not be resolved ({why})")]
    Lookup { host: String, why: String },
    #[error(
        "callback_url's host {host} resolves to {address}, a private, loopback, link-local or reserved address"
    )]
    NotPublic { host: String, address: IpAddr },
}

/// A callback URL that passed the checks that need no DNS: `https`, a host, no credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl {
    url: url::Url,
}

impl CallbackUrl {
    /// Parses and checks `text` (not yet its addresses: see [`check_addresses`]).
    pub fn parse(text: &str) -> Result<Self, CallbackError> {
        if text.len() > MAX_CALLBACK_URL {
            return Err(CallbackError::TooLong);
        }
        let url = url::Url::parse(text.trim()).map_err(|e| CallbackError::NotUrl(e.to_string()))?;
        if url.scheme() != "https" {
            return Err(CallbackError::NotHttps);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CallbackError::Credentials);
        }
        match url.host() {
            None => return Err(CallbackError::NoHost),
            Some(url::Host::Domain("")) => return Err(CallbackError::NoHost),
            Some(_) => {}
        }
        Ok(Self { url })
    }

    /// The host to resolve, without the brackets of an IPv6 literal.
    pub fn host(&self) -> String {
        match self.url.host() {
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The host's address when the URL names one instead of a domain.
    pub fn literal_address(&self) -> Option<IpAddr> {
        match self.url.host()? {
            url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        }
    }

    /// The port to connect to (443 unless the URL says).
    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

/// Finds the addresses of a host.
#[async_trait::async_trait]
pub trait Resolver: Send + Sync {
    /// Every address of `host`, or why there are none.
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String>;
}

/// Which addresses a callback may go to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AddressRule {
    /// Public addresses only: what every deployed function uses.
    #[default]
    PublicOnly,
    /// Loopback too: set in code by the local stack alone, whose test receivers listen on
    /// this machine. No configuration variable selects it.
    AlsoLoopback,
}

/// The addresses of `url`'s host (its literal address, or what `resolver` finds), once each
/// has passed `rule`.
pub async fn resolve_checked(
    url: &CallbackUrl,
    resolver: &dyn Resolver,
    rule: AddressRule,
) -> Result<Vec<IpAddr>, CallbackError> {
    let host = url.host();
    let addresses = match url.literal_address() {
        Some(ip) => vec![ip],
        None => resolver
            .resolve(&host, url.port())
            .await
            .map_err(|why| CallbackError::Lookup {
                host: host.clone(),
                why,
            })?,
    };
    match rule {
        AddressRule::PublicOnly => check_addresses(&host, &addresses)?,
        AddressRule::AlsoLoopback => {
            let others: Vec<IpAddr> = addresses
                .iter()
                .copied()
                .filter(|a| !a.is_loopback())
                .collect();
            if addresses.is_empty() {
                return Err(CallbackError::Unresolved { host });
            }
            if !others.is_empty() {
                check_addresses(&host, &others)?;
            }
        }
    }
    Ok(addresses)
}

/// Checks that `host` resolved to at least one address and that every one is public.
pub fn check_addresses(host: &str, addresses: &[IpAddr]) -> Result<(), CallbackError> {
    if addresses.is_empty() {
        return Err(CallbackError::Unresolved { host: host.into() });
    }
    match addresses.iter().find(|a| !is_public(**a)) {
        Some(address) => Err(CallbackError::NotPublic {
            host: host.into(),
            address: *address,
        }),
        None => Ok(()),
    }
}

/// Whether `ip` is a global unicast address: not private, loopback, link-local, shared (CGNAT),
/// multicast, documentation, benchmarking or reserved, also when an IPv6 address carries an
/// IPv4 one (mapped, compatible, NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        // IPv4-compatible (deprecated) ::a.b.c.d.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 => is_public_v4(embedded_v4(hi, lo)),
        // NAT64 64:ff9b::/96 carries an IPv4 address in its last 32 bits.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => is_public_v4(embedded_v4(hi, lo)),
        // 6to4 2002::/16 carries one in bits 16-48.
        [0x2002, hi, lo, ..] => is_public_v4(embedded_v4(hi, lo)),
        _ => {
            !(ip.is_unspecified()
                || ip.is_loopback()
                || ip.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments (Teredo, ...)
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
                || s[0] == 0) // the rest of ::/16 (reserved)
        }
    }
}

/// The `Webhook-Signature` value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(key: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac(key);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(3 + 64);
    out.push_str("v1=");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `signature` (a `Webhook-Signature` value) signs `body` at `timestamp` under `key`,
/// and `timestamp` is within [`SIGNATURE_TOLERANCE`] of `now` (Unix seconds). The comparison
/// takes the same time whatever the bytes.
pub fn verify(key: &[u8], timestamp: i64, body: &[u8], signature: &str, now: i64) -> bool {
    if now.abs_diff(timestamp) > SIGNATURE_TOLERANCE.as_secs() {
        return false;
    }
    let Some(hex) = signature.trim().strip_prefix("v1=") else {
        return false;
    };
    let Some(given) = decode_hex(hex) else {
        return false;
    };
    let mut mac = hmac(key);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    #[allow(clippy::expect_used)]
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// How long to wait before delivery `attempt` (1 is the first retry): 30 s, doubling, at most
/// an hour; after [`MAX_ATTEMPTS`] attempts the delivery is given up.
pub fn backoff(attempt: u32) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(3600))
}

/// A new webhook key: 256 random bits as URL-safe text after `whsec_`. The user is shown it
/// once; the store keeps it (the signer needs it whole).
pub fn new_key() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    use base64::Engine;
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// One try at delivering a job's end, as recorded on the job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WebhookAttempt {
    /// When the POST was made (or found impossible).
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
    /// The receiver's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why the try failed, in words, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether this try delivered the call (a 2xx answer).
    pub delivered: bool,
}

/// The JSON body POSTed for a job's end: the job event, with its type and the time of sending.
pub fn payload(event: &crate::JobEvent, job_url: &str, sent_at: time::OffsetDateTime) -> String {
    let kind = match event.status {
        crate::JobStatus::Done => "job.done",
        _ => "job.failed",
    };
    let mut body = serde_json::to_value(event).unwrap_or_default();
    if let Some(obj) = body.as_object_mut() {
        obj.insert("type".into(), kind.into());
        obj.insert("job_url".into(), job_url.into());
        obj.insert(
            "sent_at".into(),
            sent_at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
                .into(),
        );
    }
    body.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_https_urls_with_a_host_and_no_credentials_pass() {
        let ok = CallbackUrl::parse("https://hooks.example.com:8443/v2/job?x=1").unwrap();
        assert_eq!(ok.host(), "hooks.example.com");
        assert_eq!(ok.port(), 8443);
        assert_eq!(
            CallbackUrl::parse("https://[2606:4700::1]/")
                .unwrap()
                .host(),
            "2606:4700::1"
        );
        assert_eq!(
            CallbackUrl::parse("http://hooks.example.com/"),
            Err(CallbackError::NotHttps)
        );
        assert_eq!(
            CallbackUrl::parse("https://me:pw@hooks.example.com/"),
            Err(CallbackError::Credentials)
        );
        assert!(matches!(
            CallbackUrl::parse("hooks.example.com/x"),
            Err(CallbackError::NotUrl(_))
        ));
        let long = format!("https://a.example/{}", "x".repeat(MAX_CALLBACK_URL));
        assert_eq!(CallbackUrl::parse(&long), Err(CallbackError::TooLong));
        assert_eq!(
            CallbackError::NotHttps.to_string(),
            "callback_url must start with https://"
        );
    }

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:0a00:0001::1",
            "2001:db8::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn one_private_address_among_public_ones_refuses_the_host() {
        assert_eq!(check_addresses("a.example", &[ip("8.8.8.8")]), Ok(()));
        assert_eq!(
            check_addresses("a.example", &[ip("8.8.8.8"), ip("10.0.0.1")]),
            Err(CallbackError::NotPublic {
                host: "a.example".into(),
                address: ip("10.0.0.1")
            })
        );
        assert_eq!(
            check_addresses("a.example", &[]),
            Err(CallbackError::Unresolved {
                host: "a.example".into()
            })
        );
    }

    #[test]
    fn a_signature_verifies_only_for_its_key_body_and_time() {
        let key = b"whk_0123456789abcdef";
        let body = br#"{"job_id":"01J","status":"done"}"#;
        let signature = sign(key, 1_700_000_000, body);
        assert!(
            signature.starts_with("v1=") && signature.len() == 67,
            "{signature}"
        );
        assert!(verify(key, 1_700_000_000, body, &signature, 1_700_000_100));
        assert!(!verify(
            b"another key",
            1_700_000_000,
            body,
            &signature,
            1_700_000_100
        ));
        assert!(!verify(key, 1_700_000_001, body, &signature, 1_700_000_100));
        assert!(!verify(
            key,
            1_700_000_000,
            b"{}",
            &signature,
            1_700_000_100
        ));
        // Too old: a replay.
        assert!(!verify(key, 1_700_000_000, body, &signature, 1_700_000_400));
        assert!(!verify(key, 1_700_000_000, body, "v1=zz", 1_700_000_000));
    }

    #[test]
    fn the_signature_is_standard_hmac_sha256() {
        // The known answer for "0.hello" under "key", from an independent implementation:
        // `printf '0.hello' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            sign(b"key", 0, b"hello"),
            "v1=552b25b10c33de2db9fe7fa273d44ab105d596c023fa954d01444d4642487149"
        );
    }

    struct Answer(Result<Vec<IpAddr>, String>);

    #[async_trait::async_trait]
    impl Resolver for Answer {
        async fn resolve(&self, _host: &str, _port: u16) -> Result<Vec<IpAddr>, String> {
            self.0.clone()
        }
    }

    #[tokio::test]
    async fn loopback_passes_only_under_the_local_rule_and_private_never() {
        let url = CallbackUrl::parse("https://hooks.example.com/in").unwrap();
        let check = |answer: Vec<&'static str>, rule| {
            let url = url.clone();
            let answer = Answer(Ok(answer.into_iter().map(ip).collect()));
            async move { resolve_checked(&url, &answer, rule).await }
        };
        use AddressRule::*;
        assert!(check(vec!["127.0.0.1"], PublicOnly).await.is_err());
        assert_eq!(
            check(vec!["127.0.0.1"], AlsoLoopback).await.unwrap(),
            vec![ip("127.0.0.1")]
        );
        assert!(
            check(vec!["127.0.0.1", "10.0.0.1"], AlsoLoopback)
                .await
                .is_err()
        );
        assert!(check(vec!["192.168.1.2"], AlsoLoopback).await.is_err());
        assert!(check(vec![], AlsoLoopback).await.is_err());
        assert!(check(vec!["93.184.215.14"], PublicOnly).await.is_ok());
        let failed = resolve_checked(&url, &Answer(Err("NXDOMAIN".into())), PublicOnly).await;
        assert_eq!(
            failed.unwrap_err().to_string(),
            "callback_url's host hooks.example.com could not be resolved (NXDOMAIN)"
        );
    }

    #[test]
    fn keys_are_new_each_time_and_long() {
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() == 6 + 43, "{a}");
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(7), Duration::from_secs(1920));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(100), Duration::from_secs(3600));
    }
}
