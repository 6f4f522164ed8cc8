//! The rules the API server holds a plugin's answers to (k8s.io/apiserver
//! v0.37.2: `pkg/storage/value/encrypt/envelope/kmsv2/envelope.go` and
//! `pkg/server/options/encryptionconfig/config.go`), as pure functions.

use std::collections::BTreeMap;

use crate::error::cut;
use crate::{v2, Error, Invalid, Method, Status, Wrapped};

/// `KeyIDMaxSize`: a key_id may be 1..=1024 bytes.
pub(crate) const KEY_ID_MAX: usize = 1024;
/// `encryptedDEKSourceMaxSize`: a ciphertext may be 1..=1024 bytes.
pub(crate) const CIPHERTEXT_MAX: usize = 1024;
/// `annotationsMaxSize`: the keys and values together, at most 32 KiB.
pub(crate) const ANNOTATIONS_MAX: usize = 32 * 1024;

/// How much of a plugin's healthz text an error keeps.
const HEALTHZ_SHOWN: usize = 256;
/// How much of an annotation key an error keeps.
const KEY_SHOWN: usize = 80;

/// Status: healthz `ok`, version `v2` or `v2beta1`, a valid key_id.
pub(crate) fn status(response: v2::StatusResponse) -> Result<Status, Error> {
    if response.healthz != "ok" {
        return Err(Error::Unhealthy {
            healthz: cut(&response.healthz, HEALTHZ_SHOWN),
        });
    }
    let invalid = |problem| Error::InvalidResponse {
        method: Method::Status,
        problem,
    };
    if !matches!(response.version.as_str(), "v2" | "v2beta1") {
        return Err(invalid(Invalid::Version(cut(&response.version, 64))));
    }
    key_id(&response.key_id).map_err(invalid)?;
    Ok(Status {
        version: response.version,
        healthz: response.healthz,
        key_id: response.key_id,
    })
}

/// Encrypt: the ciphertext, the key_id and the annotations, in the API
/// server's order.
pub(crate) fn encrypt_response(response: v2::EncryptResponse) -> Result<Wrapped, Invalid> {
    ciphertext(&response.ciphertext)?;
    key_id(&response.key_id)?;
    annotations(&response.annotations)?;
    Ok(Wrapped {
        ciphertext: response.ciphertext,
        key_id: response.key_id,
        annotations: response.annotations,
    })
}

pub(crate) fn key_id(key_id: &str) -> Result<(), Invalid> {
    match key_id.len() {
        0 => Err(Invalid::EmptyKeyId),
        n if n > KEY_ID_MAX => Err(Invalid::KeyIdTooLong(n)),
        _ => Ok(()),
    }
}

pub(crate) fn ciphertext(ciphertext: &[u8]) -> Result<(), Invalid> {
    match ciphertext.len() {
        0 => Err(Invalid::EmptyCiphertext),
        n if n > CIPHERTEXT_MAX => Err(Invalid::CiphertextTooLong(n)),
        _ => Ok(()),
    }
}

/// Every key a fully qualified domain name; the keys and values together at
/// most 32 KiB. (The API server reports all problems at once; the first one
/// here is enough to refuse the answer.)
pub(crate) fn annotations(annotations: &BTreeMap<String, Vec<u8>>) -> Result<(), Invalid> {
    let mut total = 0usize;
    for (key, value) in annotations {
        fqdn(key).map_err(|reason| Invalid::AnnotationKey {
            key: cut(key, KEY_SHOWN),
            reason,
        })?;
        total = total.saturating_add(key.len()).saturating_add(value.len());
    }
    if total > ANNOTATIONS_MAX {
        return Err(Invalid::AnnotationsTooLarge(total));
    }
    Ok(())
}

const DNS1123_SUBDOMAIN_MAX: usize = 253;
const DNS1123_LABEL_MAX: usize = 63;

/// k8s.io/apimachinery `validation.IsFullyQualifiedDomainName`: one trailing
/// dot is allowed; the rest is a lowercase RFC 1123 subdomain (≤ 253 bytes)
/// of at least two labels, each ≤ 63 bytes.
pub(crate) fn fqdn(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > DNS1123_SUBDOMAIN_MAX {
        return Err("it is longer than 253 characters");
    }
    if !name.split('.').all(is_label_shape) {
        return Err("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
    }
    if !name.contains('.') {
        return Err("it should be a domain with at least two segments separated by dots");
    }
    if name.split('.').any(|label| label.len() > DNS1123_LABEL_MAX) {
        return Err("a label is longer than 63 characters");
    }
    Ok(())
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, of any length.
fn is_label_shape(label: &str) -> bool {
    let bytes = label.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_response(version: &str, healthz: &str, key_id: &str) -> v2::StatusResponse {
        v2::StatusResponse {
            version: version.into(),
            healthz: healthz.into(),
            key_id: key_id.into(),
        }
    }

    fn problem(result: Result<Status, Error>) -> Invalid {
        match result {
            Err(Error::InvalidResponse {
                method: Method::Status,
                problem,
            }) => problem,
            other => panic!("expected an invalid Status response, got {other:?}"),
        }
    }

    #[test]
    fn status_accepts_what_the_api_server_accepts() {
        for version in ["v2", "v2beta1"] {
            let s = status(status_response(version, "ok", "kek-1")).unwrap();
            assert_eq!((s.version.as_str(), s.key_id.as_str()), (version, "kek-1"));
        }
        let long = "k".repeat(KEY_ID_MAX);
        assert_eq!(
            status(status_response("v2", "ok", &long)).unwrap().key_id,
            long
        );
    }

    #[test]
    fn status_not_ok_is_unhealthy_and_says_what_the_plugin_said() {
        let err = status(status_response("v2", "key kek-9 not found", "kek-9")).unwrap_err();
        assert!(matches!(&err, Error::Unhealthy { healthz } if healthz == "key kek-9 not found"));
        assert!(err.is_retryable());
        assert!(err.to_string().contains("key kek-9 not found"), "{err}");
        // Case matters, as in the API server.
        let err = status(status_response("v2", "OK", "kek-1")).unwrap_err();
        assert!(matches!(err, Error::Unhealthy { .. }));
        // A huge healthz is cut.
        let err = status(status_response("v2", &"x".repeat(10_000), "k")).unwrap_err();
        assert!(err.to_string().len() < 400, "{err}");
    }

    #[test]
    fn status_version_and_key_id_are_checked() {
        for version in ["", "v1", "v2beta2", "V2", "v2 "] {
            assert_eq!(
                problem(status(status_response(version, "ok", "k"))),
                Invalid::Version(version.into())
            );
        }
        assert_eq!(
            problem(status(status_response("v2", "ok", ""))),
            Invalid::EmptyKeyId
        );
        assert_eq!(
            problem(status(status_response("v2", "ok", &"k".repeat(1025)))),
            Invalid::KeyIdTooLong(1025)
        );
        let err = status(status_response("v1", "ok", "k")).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidResponse);
        assert_eq!(
            err.to_string(),
            "invalid KMS plugin Status response: version \"v1\" is neither \"v2\" nor \"v2beta1\""
        );
    }

    fn encrypt(
        ciphertext: &[u8],
        key_id: &str,
        annotations: &[(&str, &[u8])],
    ) -> Result<Wrapped, Invalid> {
        encrypt_response(v2::EncryptResponse {
            ciphertext: ciphertext.to_vec(),
            key_id: key_id.into(),
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_vec()))
                .collect(),
        })
    }

    #[test]
    fn encrypt_response_limits() {
        let w = encrypt(&[7; 1024], "kek", &[("version.kms.example.com", b"1")]).unwrap();
        assert_eq!(w.ciphertext.len(), 1024);
        assert_eq!(w.annotations["version.kms.example.com"], b"1");
        assert!(
            encrypt(b"c", "kek", &[]).is_ok(),
            "annotations are optional"
        );
        assert_eq!(
            encrypt(b"", "kek", &[]).unwrap_err(),
            Invalid::EmptyCiphertext
        );
        assert_eq!(
            encrypt(&[7; 1025], "kek", &[]).unwrap_err(),
            Invalid::CiphertextTooLong(1025)
        );
        assert_eq!(encrypt(b"c", "", &[]).unwrap_err(), Invalid::EmptyKeyId);
        assert_eq!(
            encrypt(b"c", &"k".repeat(2000), &[]).unwrap_err(),
            Invalid::KeyIdTooLong(2000)
        );
    }

    #[test]
    fn annotations_size_counts_keys_and_values() {
        let key = "a.example.com"; // 13 bytes
        let exact = vec![0u8; ANNOTATIONS_MAX - key.len()];
        assert!(encrypt(b"c", "k", &[(key, &exact)]).is_ok());
        let over = vec![0u8; ANNOTATIONS_MAX - key.len() + 1];
        assert_eq!(
            encrypt(b"c", "k", &[(key, &over)]).unwrap_err(),
            Invalid::AnnotationsTooLarge(ANNOTATIONS_MAX + 1)
        );
        let half = vec![0u8; ANNOTATIONS_MAX / 2];
        assert_eq!(
            encrypt(
                b"c",
                "k",
                &[("a.example.com", &half), ("b.example.com", &half)]
            )
            .unwrap_err(),
            Invalid::AnnotationsTooLarge(ANNOTATIONS_MAX + 26)
        );
    }

    #[test]
    fn annotation_keys_must_be_fqdns() {
        let err = encrypt(b"c", "k", &[("version", b"1")]).unwrap_err();
        assert!(
            matches!(&err, Invalid::AnnotationKey { key, .. } if key == "version"),
            "{err:?}"
        );
        assert!(err.to_string().contains("at least two segments"), "{err}");
    }

    #[test]
    fn fqdn_follows_is_fully_qualified_domain_name() {
        let label63 = "a".repeat(63);
        let ok = [
            "version.encryption.remote.io",
            "foo.kms.k8s.io",
            "a.b",
            "a.b.",
            "1.2",
            "x-y.z-0",
            "version.softhsm.kms.example.com",
        ];
        for name in ok {
            assert_eq!(fqdn(name), Ok(()), "{name}");
        }
        assert_eq!(fqdn(&format!("{label63}.io")), Ok(()));
        // 253 bytes, and a trailing dot on top.
        let long = format!("{label63}.{label63}.{label63}.{}", "b".repeat(61));
        assert_eq!(long.len(), 253);
        assert_eq!(fqdn(&long), Ok(()));
        assert_eq!(fqdn(&format!("{long}.")), Ok(()));

        let bad = [
            "",
            ".",
            "version",
            "version.",
            "Version.example.com",
            "a..b",
            ".a.b",
            "a.b..",
            "-a.b",
            "a-.b",
            "a_b.c",
            "a.b/c",
            "a b.c",
            "ä.example.com",
            "a.b\n",
        ];
        for name in bad {
            assert!(fqdn(name).is_err(), "{name:?} should be refused");
        }
        assert_eq!(
            fqdn(&format!("{}.io", "a".repeat(64))),
            Err("a label is longer than 63 characters")
        );
        assert_eq!(
            fqdn(&format!("{long}b")),
            Err("it is longer than 253 characters")
        );
    }

    #[test]
    fn a_long_annotation_key_is_cut_in_the_error() {
        let key = format!("{}.Example.com", "a".repeat(5000));
        let err = encrypt(b"c", "k", &[(&key, b"1")]).unwrap_err();
        assert!(err.to_string().len() < 400, "{err}");
    }
}
