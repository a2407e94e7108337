//! The system's resolver, for checking callback URLs.

use async_trait::async_trait;
use std::net::IpAddr;
use video2mp3_domain::webhook::Resolver;

/// How long one lookup may take.
const LOOKUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Resolves through the operating system (on Lambda, the VPC's or AWS's resolver).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl Resolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let found = tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| format!("no answer in {} s", LOOKUP_TIMEOUT.as_secs()))?
            .map_err(|e| e.to_string())?;
        let mut ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
        ips.sort();
        ips.dedup();
        Ok(ips)
    }
}
