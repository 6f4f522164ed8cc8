//! A SealedSecret's status: its Synced condition, and waiting until the
//! controller has applied it.

use std::time::Duration;

use crate::control_plane::poll;
use crate::controller::Controller;
use crate::namespace::TestNamespace;
use crate::secrets::secret_value;

/// A SealedSecret's Synced condition (status and message) and the whole object.
pub fn synced(ns: &TestNamespace, name: &str) -> Option<(String, String, serde_json::Value)> {
    let ss = ns.kubectl().get_optional("sealedsecret", name).ok()??;
    let cond = ss["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Synced")?
        .clone();
    Some((
        cond["status"].as_str()?.to_string(),
        cond["message"].as_str().unwrap_or_default().to_string(),
        ss,
    ))
}

/// Waits until `name` is Synced=True at its current generation (as `who`
/// unsealed it; its log is shown on failure) and returns the SealedSecret.
pub fn wait_synced_true(ns: &TestNamespace, name: &str, who: &Controller) -> serde_json::Value {
    poll(
        &format!("{name} Synced=True"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || {
            let Some(ss) = ns.kubectl().get_optional("sealedsecret", name)? else {
                return Ok(None);
            };
            let synced = ss["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["type"] == "Synced" && c["status"] == "True");
            let current = ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
            Ok((synced && current).then_some(ss))
        },
    )
    .unwrap_or_else(|e| panic!("{e}\ncontroller log:\n{}", who.log()))
}

/// Whether SealedSecret `name` is Synced=True at its current generation and
/// its Secret, made by the controller (owned by the SealedSecret), holds
/// `k: value`; `Err` says what is wrong.
pub fn applied(ns: &TestNamespace, name: &str, value: &str) -> std::result::Result<(), String> {
    let (status, message, ss) = synced(ns, name).ok_or("no Synced condition")?;
    let current = ss["status"]["observedGeneration"] == ss["metadata"]["generation"];
    let secret = ns
        .kubectl()
        .get_optional("secret", name)
        .map_err(|e| e.to_string())?;
    let owned = secret.as_ref().is_some_and(|s| {
        s["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["kind"] == "SealedSecret" && o["name"] == name)
    });
    let held = secret_value(ns, name, "k");
    if status == "True" && current && owned && held.as_deref() == Some(value) {
        return Ok(());
    }
    Err(format!(
        "Synced={status} ({message:?}) at generation {} (observed {}); Secret {}, k = {held:?}, want {value:?}",
        ss["metadata"]["generation"],
        ss["status"]["observedGeneration"],
        match (&secret, owned) {
            (None, _) => "absent",
            (Some(_), true) => "owned by the SealedSecret",
            (Some(_), false) => "not owned by the SealedSecret",
        }
    ))
}

/// Polls until every `(name, value)` is [`applied`] or `within` passes; the
/// error lists what is still wrong, one line each.
pub fn wait_applied(
    ns: &TestNamespace,
    expected: &[(&str, &str)],
    within: Duration,
) -> std::result::Result<(), String> {
    let report = || {
        expected
            .iter()
            .map(|(name, value)| (*name, applied(ns, name, value)))
            .collect::<Vec<_>>()
    };
    let done = poll(
        "the changes to be applied",
        within,
        Duration::from_millis(250),
        || Ok(report().iter().all(|(_, r)| r.is_ok()).then_some(())),
    );
    done.map_err(|e| {
        let wrong: Vec<String> = report()
            .into_iter()
            .filter_map(|(name, r)| r.err().map(|why| format!("  {name}: {why}")))
            .collect();
        format!("{e}; still wrong:\n{}", wrong.join("\n"))
    })
}
