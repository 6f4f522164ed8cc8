//! Where the sealing key comes from: `--cert` as a file, `file://` or
//! `http(s)://` URL. Fetching from the cluster comes with the cluster client.

use std::io::Read as _;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::crypto::{Certificate, PublicKey};

/// Hard cap on a downloaded certificate: real ones are a few KiB.
const MAX_CERT_BYTES: u64 = 1 << 20;

/// The raw PEM bytes `--cert` points at.
pub(crate) fn read(location: &str) -> Result<Vec<u8>> {
    match scheme(location) {
        None => std::fs::read(location)
            .with_context(|| format!("cannot read certificate file {location:?}")),
        Some("file") => {
            let path = location.trim_start_matches("file://");
            std::fs::read(path).with_context(|| format!("cannot read certificate {location:?}"))
        }
        Some("http" | "https") => fetch(location),
        Some(other) => bail!(
            "unsupported certificate URL scheme {other:?} in {location:?}: use a file path, file://, http:// or https://"
        ),
    }
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    let response = ureq::get(url)
        .call()
        .with_context(|| format!("cannot fetch {url:?}"))?;
    let mut body = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_CERT_BYTES)
        .read_to_end(&mut body)
        .with_context(|| format!("cannot read the response from {url:?}"))?;
    Ok(body)
}

/// A URL scheme, unless the text is a plain path (a one-letter scheme is a
/// Windows drive, as in the reference).
fn scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once("://")?;
    let valid = scheme.len() > 1
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some(scheme)
}

/// The sealing key in a PEM text: the first certificate (refused when
/// expired), or, as an extension, a bare `PUBLIC KEY` block.
pub(crate) fn parse_public_key(pem: &[u8], now: SystemTime) -> Result<PublicKey> {
    let certs = Certificate::all_from_pem(pem).context("cannot parse the certificate")?;
    if let Some(cert) = certs.into_iter().next() {
        if cert.is_expired_at(now) {
            bail!(
                "failed to encrypt using an expired certificate on {}: fetch the current one with --fetch-cert, or ask the cluster admin to rotate keys",
                format_date(cert.not_after())
            );
        }
        return Ok(cert.public_key().clone());
    }
    PublicKey::from_pem(pem).context(
        "no certificate found: --cert must point at the controller's certificate (PEM), as printed by kubeseal --fetch-cert",
    )
}

fn format_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let format = time::macros::format_description!("[month repr:long] [day padding:none], [year]");
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|d| d.format(format).ok())
        .unwrap_or_else(|| format!("unix time {secs}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(scheme("cert.pem"), None);
        assert_eq!(scheme("/abs/cert.pem"), None);
        assert_eq!(scheme("c://x"), None);
        assert_eq!(scheme("file:///x"), Some("file"));
        assert_eq!(scheme("https://x/y"), Some("https"));
    }
}
