use std::collections::BTreeMap;
use std::fmt;

use thiserror::Error;

/// Failures of the Secret <-> SealedSecret conversions and of reading key
/// Secrets, one variant per cause, so callers can match on them. Messages
/// name keys and causes, never values. This crate knows no command-line
/// flags: a tool that has one to get around an error adds it (kubeseal's
/// hints follow [`Error::EmptyData`], [`Error::MissingName`] and
/// [`Error::MissingNamespace`]).
#[derive(Debug, Error)]
pub enum Error {
    /// The input Secret has no item in `data` nor `stringData`.
    #[error("secret.data is empty in input Secret, assuming this is an error and aborting")]
    EmptyData,
    #[error("missing metadata.name in input Secret: add metadata.name")]
    MissingName,
    #[error("namespace mismatch: input secret is in namespace {secret:?} but {requested:?} was specified")]
    NamespaceMismatch { secret: String, requested: String },
    /// Not cluster-wide, and no namespace declared nor given.
    #[error("secret must declare a namespace: add metadata.namespace")]
    MissingNamespace,
    #[error(
        "cannot use the field 'encryptedData' and the deprecated field 'data' at the same time"
    )]
    BothDataFields,
    #[error("using deprecated 'data' field, use 'encryptedData' or flip the feature flag")]
    DeprecatedData,
    /// The deprecated `spec.data` blob opened but is no JSON Secret: where
    /// and what kind of error only (serde's message would quote the
    /// decrypted blob).
    #[error("the deprecated 'data' field holds no valid Secret: not a JSON Secret ({category} error at line {line} column {column})")]
    DeprecatedDataNotASecret {
        /// `read`, `syntax`, `type` or `truncation`.
        category: &'static str,
        line: usize,
        column: usize,
    },
    /// Items that did not open or templates that did not render, each with
    /// its own error (one of the variants below).
    #[error(transparent)]
    Items(#[from] ItemErrors),
    /// The encryption failed, or (an item, the deprecated blob) no key
    /// opens it.
    #[error(transparent)]
    Crypto(#[from] sealed_secrets_crypto::Error),
    /// An item's value is not base64 (Go's words, as the reference).
    #[error("illegal base64 data at input byte {at}")]
    IllegalBase64 { at: usize },
    /// A template of `spec.template.data` did not render: its syntax, a
    /// function's failure, or one of its bounds (`gotemplate::Error::Limit`).
    #[error(transparent)]
    Template(#[from] gotemplate::Error),
    /// The templates together print more than a Secret holds.
    #[error("the templates print more than a Secret holds (1 MiB)")]
    TemplatesTooLarge,
    /// A key Secret without `data`. The key Secret errors say what is wrong
    /// with "it", the Secret the caller names.
    #[error("it has no data")]
    KeySecretNoData,
    /// A key Secret without `item` (`tls.key` or `tls.crt`).
    #[error("it has no {item}")]
    KeySecretMissing { item: &'static str },
    /// A key Secret's `item` holds no key or certificate.
    #[error("{item}: {source}")]
    KeySecretInvalid {
        item: &'static str,
        #[source]
        source: sealed_secrets_crypto::Error,
    },
    /// A key Secret's certificate is another key's.
    #[error("its tls.crt does not belong to its tls.key")]
    KeySecretMismatch,
    /// A KMS-wrapped key Secret's `item` cannot be read (`kms.annotations`
    /// not a JSON map of base64 values, `kms.key-id` not UTF-8).
    #[error("{item}: {reason}")]
    KeySecretMalformed {
        item: &'static str,
        reason: &'static str,
    },
}

impl Error {
    /// True when the keys are to blame (an item did not open), false when
    /// only templates failed or the input is malformed.
    pub fn is_key_failure(&self) -> bool {
        match self {
            Error::Crypto(_) => true,
            Error::Items(items) => !items.by_key.is_empty(),
            _ => false,
        }
    }
}

/// One error per failed item, shown as the reference shows them (Go's
/// `multierror.Uniq` joined by `errors.Join`): items failing for the same
/// reason are one line, `reason (key1, key2)`, lines apart by `\n`. The
/// reference orders lines and keys as Go iterates a map (at random); here
/// lines follow their reason and keys their name. The message stays short
/// however many keys there are.
#[derive(Debug, Default)]
pub struct ItemErrors {
    /// Items that did not open: [`Error::Crypto`] or [`Error::IllegalBase64`].
    by_key: BTreeMap<String, Error>,
    /// Templates that did not render: [`Error::Template`] or
    /// [`Error::TemplatesTooLarge`] (Go's reason, no values).
    templates: BTreeMap<String, Error>,
}

impl ItemErrors {
    /// Item `key` did not open.
    pub fn push(&mut self, key: &str, error: impl Into<Error>) {
        self.by_key.insert(key.to_string(), error.into());
    }

    /// A template of `key` failed; the key itself is not to blame.
    pub fn push_template(&mut self, key: &str, error: impl Into<Error>) {
        self.templates.insert(key.to_string(), error.into());
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty() && self.templates.is_empty()
    }

    /// Whether only templates failed (every item opened).
    pub fn only_templates(&self) -> bool {
        self.by_key.is_empty() && !self.templates.is_empty()
    }

    /// Failed keys and why, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.by_key.iter().map(|(k, e)| (k.as_str(), e))
    }

    /// Failed templates and why, in key order: match on
    /// `Error::Template(gotemplate::Error::Limit(_))` to tell a bound that
    /// was reached from a template that is wrong.
    pub fn templates(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.templates.iter().map(|(k, e)| (k.as_str(), e))
    }
}

/// Keys named per reason, and reasons shown, at most: a SealedSecret may
/// have thousands of items, its status and events stay short.
const MAX_NAMED: usize = 10;

/// `a, b, c` or `a, b, c and 9997 more`: keys as messages name them, a few
/// at most however many there are.
pub fn named(keys: &[&str]) -> String {
    let shown = keys[..keys.len().min(MAX_NAMED)].join(", ");
    match keys.len().saturating_sub(MAX_NAMED) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

impl fmt::Display for ItemErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As the reference: items that did not open first, then templates;
        // a reason shared by several keys is one line.
        let mut lines: Vec<(String, Vec<&str>)> = Vec::new();
        for errors in [&self.by_key, &self.templates] {
            let mut grouped: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for (key, error) in errors {
                grouped.entry(error.to_string()).or_default().push(key);
            }
            lines.extend(grouped);
        }
        let hidden = lines.len().saturating_sub(MAX_NAMED);
        let mut parts: Vec<String> = lines
            .into_iter()
            .take(MAX_NAMED)
            .map(|(message, keys)| format!("{message} ({})", named(&keys)))
            .collect();
        if hidden > 0 {
            parts.push(format!("and {hidden} more failures"));
        }
        f.write_str(&parts.join("\n"))
    }
}

impl std::error::Error for ItemErrors {}

#[cfg(test)]
mod tests {
    use super::*;
    use sealed_secrets_crypto::Error as Crypto;

    #[test]
    fn thousands_of_failed_items_make_a_short_message() {
        let mut errors = ItemErrors::default();
        for i in 0..10_000 {
            errors.push(&format!("k{i:05}"), Crypto::NoKeyCouldDecrypt);
        }
        for i in 0..20 {
            let Err(reason) = gotemplate::Template::new(format!("reason {i}")).parse("{{ end }}")
            else {
                panic!("a stray end parses");
            };
            errors.push_template(&format!("odd{i:02}"), reason);
            errors.push_template(&format!("t{i:02}"), Error::TemplatesTooLarge);
        }
        let text = errors.to_string();
        assert!(text.len() < 2_000, "{} bytes: {text}", text.len());
        assert!(
            text.starts_with("no key could decrypt secret (k00000, k00001, k00002, k00003, k00004, k00005, k00006, k00007, k00008, k00009 and 9990 more)\n"),
            "{text}"
        );
        assert!(text.ends_with("\nand 12 more failures"), "{text}");
        let mut one = ItemErrors::default();
        one.push("a", Error::IllegalBase64 { at: 3 });
        one.push("b", Error::IllegalBase64 { at: 3 });
        assert_eq!(
            one.to_string(),
            "illegal base64 data at input byte 3 (a, b)"
        );
        let Err(unclosed) = gotemplate::Template::new("t").parse("{{ .k ") else {
            panic!("an unclosed action parses");
        };
        one.push_template("t", unclosed);
        assert_eq!(
            one.to_string(),
            "illegal base64 data at input byte 3 (a, b)\ntemplate: t:1: unclosed action (t)"
        );
    }
}
