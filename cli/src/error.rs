use std::fmt::Write as _;

use sealed_secrets_api::Error as Api;

/// The error and its causes on one line, `error: cause: cause` (a cause the
/// text already holds is not repeated), then a hint when one applies: the
/// kubeseal flag that gets around a refusal of the library, which knows no
/// flags.
pub(crate) fn render(err: &anyhow::Error) -> String {
    let mut text = err.to_string();
    for cause in err.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            let _ = write!(text, ": {cause}");
        }
    }
    // These errors have no cause of their own: their text ends the line.
    if let Some(hint) = err
        .chain()
        .find_map(|e| e.downcast_ref::<Api>().and_then(hint))
    {
        text.push_str(hint);
    }
    text
}

/// What to do about `err` with kubeseal's flags, to follow its text.
fn hint(err: &Api) -> Option<&'static str> {
    match err {
        Api::EmptyData => Some(". To work with empty data, --allow-empty-data can be used"),
        Api::MissingName => Some(", or pass --name"),
        Api::MissingNamespace => Some(", pass -n/--namespace, or use --scope cluster-wide"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_the_library_end_with_the_flag_that_helps() {
        let empty = anyhow::Error::new(Api::EmptyData);
        assert_eq!(
            render(&empty),
            "secret.data is empty in input Secret, assuming this is an error and aborting. To work with empty data, --allow-empty-data can be used"
        );
        let unnamed =
            anyhow::Error::new(Api::MissingName).context("cannot seal input document 1 ()");
        assert_eq!(
            render(&unnamed),
            "cannot seal input document 1 (): missing metadata.name in input Secret: add metadata.name, or pass --name"
        );
        assert_eq!(
            render(&anyhow::Error::new(Api::MissingNamespace)),
            "secret must declare a namespace: add metadata.namespace, pass -n/--namespace, or use --scope cluster-wide"
        );
        let other = anyhow::Error::new(Api::DeprecatedData).context("cannot unseal a");
        assert_eq!(
            render(&other),
            "cannot unseal a: using deprecated 'data' field, use 'encryptedData' or flip the feature flag"
        );
    }
}
