//! Where the sealing key comes from: `--cert [NAME=]LOCATION`, a file,
//! `file://` or `http(s)://` URL. Fetching from the cluster comes with the
//! cluster client.

use std::io::Read as _;
use std::time::SystemTime;

use anyhow::{bail, Context as _, Result};
use sealed_secrets_api::cluster_name;
use sealed_secrets_api::crypto::{Certificate, PublicKey};

/// Hard cap on a downloaded certificate: real ones are a few KiB.
const MAX_CERT_BYTES: u64 = 1 << 20;

/// One `--cert`: `NAME=LOCATION` names the cluster, a bare location is
/// named after its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertSpec {
    pub(crate) name: Option<String>,
    pub(crate) location: String,
}

impl CertSpec {
    /// `NAME=` counts only when the text before the first `=` is a valid
    /// name, so paths and URLs holding `=` (`./a=b.pem`, `https://h/c?x=y`)
    /// stay locations, as they always were.
    pub(crate) fn parse(text: &str) -> Self {
        match text.split_once('=') {
            Some((name, location)) if cluster_name::is_valid(name) && !location.is_empty() => {
                Self {
                    name: Some(name.to_owned()),
                    location: location.to_owned(),
                }
            }
            _ => Self {
                name: None,
                location: text.to_owned(),
            },
        }
    }

    /// The cluster's name: as given, else the stem of the file or of the
    /// URL's last path segment (`certs/oslo.pem` -> `oslo`). Refused when
    /// that is no valid name.
    pub(crate) fn cluster_name(&self) -> Result<String> {
        if let Some(name) = &self.name {
            return Ok(name.clone());
        }
        let stem = default_name(&self.location);
        if cluster_name::is_valid(stem) {
            return Ok(stem.to_owned());
        }
        bail!(
            "--cert {} gives no cluster name ({stem:?} is not one: use letters, digits, '-' and '_'): name it, e.g. --cert oslo={}",
            self.location,
            self.location
        )
    }
}

/// The stem of the location's last path segment (query and fragment of a
/// URL left out).
fn default_name(location: &str) -> &str {
    let path = match scheme(location) {
        Some(_) => {
            let after = location.split_once("://").map_or(location, |(_, a)| a);
            let end = after.find(['?', '#']).unwrap_or(after.len());
            // A bare host has no path segment.
            after[..end].split_once('/').map_or("", |(_, p)| p)
        }
        None => location,
    };
    let last = path.rsplit(['/', '\\']).next().unwrap_or_default();
    match last.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => last,
    }
}

/// The raw PEM bytes `--cert` points at.
pub(crate) fn read(location: &str) -> Result<Vec<u8>> {
    match scheme(location) {
        None => std::fs::read(location).with_context(|| {
            // `a.b=c.pem` was not taken as NAME=: say how to name a cluster.
            let hint = match location.split_once('=') {
                Some((name, _)) if !name.contains(['/', '\\']) => format!(
                    " (for a cluster named {name:?}, NAME= takes letters, digits, '-' and '_')"
                ),
                _ => String::new(),
            };
            format!("cannot read certificate file {location:?}{hint}")
        }),
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

    #[test]
    fn specs() {
        let named = |name: &str, location: &str| CertSpec {
            name: Some(name.into()),
            location: location.into(),
        };
        let bare = |location: &str| CertSpec {
            name: None,
            location: location.into(),
        };
        for (text, spec) in [
            ("oslo=certs/oslo.pem", named("oslo", "certs/oslo.pem")),
            (
                "b-2_x=https://h/v1/cert.pem",
                named("b-2_x", "https://h/v1/cert.pem"),
            ),
            ("certs/oslo.pem", bare("certs/oslo.pem")),
            ("./oslo=x.pem", bare("./oslo=x.pem")),
            ("https://h/c?x=y", bare("https://h/c?x=y")),
            ("a.b=c.pem", bare("a.b=c.pem")),
            ("-x=c.pem", bare("-x=c.pem")),
            ("=c.pem", bare("=c.pem")),
            ("oslo=", bare("oslo=")),
            (r"C:\certs\a=b.pem", bare(r"C:\certs\a=b.pem")),
        ] {
            assert_eq!(CertSpec::parse(text), spec, "{text}");
        }
        let long = "a".repeat(64);
        assert_eq!(CertSpec::parse(&format!("{long}=c.pem")).name, None);
        assert!(cluster_name::is_valid(&long[..63]));
    }

    #[test]
    fn cluster_names() {
        let name = |text: &str| {
            CertSpec::parse(text)
                .cluster_name()
                .map_err(|e| e.to_string())
        };
        assert_eq!(name("oslo=x/y.pem").unwrap(), "oslo");
        assert_eq!(name("certs/tromso.pem").unwrap(), "tromso");
        assert_eq!(name("tromso").unwrap(), "tromso");
        assert_eq!(
            name("https://bergen.example/v1/cert.pem?x=1").unwrap(),
            "cert"
        );
        assert_eq!(name("file:///etc/k/oslo.crt").unwrap(), "oslo");
        assert_eq!(
            name("https://bergen.example/oslo-prod#frag").unwrap(),
            "oslo-prod"
        );
        let err = name("certs/my.cert.pem").unwrap_err();
        assert_eq!(
            err,
            "--cert certs/my.cert.pem gives no cluster name (\"my.cert\" is not one: use letters, digits, '-' and '_'): name it, e.g. --cert oslo=certs/my.cert.pem"
        );
        assert!(name("https://bergen.example").is_err());
        assert!(name("https://bergen.example/").is_err());
        assert!(name("certs/.pem").is_err());
    }
}
