//! Reading the Secrets a controller made, and its key Secrets.

use std::time::Duration;

use crate::control_plane::{poll, Kubectl, Result};
use crate::namespace::TestNamespace;

/// `data[key]` of Secret `name` in `ns`, decoded; `None` while it is absent.
pub fn secret_value(ns: &TestNamespace, name: &str, key: &str) -> Option<String> {
    use base64::Engine as _;
    let secret = ns.kubectl().get_optional("secret", name).ok()??;
    let encoded = secret["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Waits until `data[key]` of Secret `name` decodes to `expected`.
pub fn wait_secret_value(ns: &TestNamespace, name: &str, key: &str, expected: &str) -> Result<()> {
    poll(
        &format!("secret {name}.{key} == {expected:?}"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            Ok(secret_value(ns, name, key)
                .filter(|v| v == expected)
                .map(|_| ()))
        },
    )
}

/// The label of the controller's key Secrets.
pub const KEY_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key=active";

/// The sorted names of the key Secrets in `ns`.
pub fn key_secret_names(ns: &TestNamespace) -> Result<Vec<String>> {
    names_labelled(&ns.kubectl(), KEY_SELECTOR)
}

/// Every key Secret, whatever the label's value (the reference's too).
pub const ANY_KEY_SELECTOR: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// The sorted names of the Secrets `kubectl` sees with `selector`.
pub fn names_labelled(kubectl: &Kubectl, selector: &str) -> Result<Vec<String>> {
    let list = kubectl.get_json(["get", "secrets", "-l", selector])?;
    let mut names: Vec<String> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    names.sort();
    Ok(names)
}
