//! etcd itself, through its JSON gateway: what the API server stored, read
//! below the API (e.g. that no private key is in it).

use base64::Engine as _;
use serde_json::Value;

use crate::control_plane::{read_text, Result};
use crate::{http, ControlPlane, Error};

/// etcd's client URL, from the values `scripts/control-plane up` recorded.
pub fn url(cp: &ControlPlane) -> Result<String> {
    let config = cp
        .kubeconfig()
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("config.env");
    let text = read_text(&config)?;
    let port = text
        .lines()
        .find_map(|l| l.strip_prefix("ETCD_PORT="))
        .ok_or_else(|| Error::ControlPlane(format!("no ETCD_PORT in {}", config.display())))?
        .trim()
        .to_string();
    Ok(format!("http://127.0.0.1:{port}"))
}

/// Every key under `prefix` with its stored bytes (the API server's
/// protobuf encoding, or its encryption-at-rest envelope).
pub fn values_under(cp: &ControlPlane, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut end = prefix.as_bytes().to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    let request = serde_json::json!({"key": b64.encode(prefix), "range_end": b64.encode(&end)});
    let (code, body) = http::post(
        &format!("{}/v3/kv/range", url(cp)?),
        request.to_string().as_bytes(),
    )?;
    if code != 200 {
        return Err(Error::ControlPlane(format!("etcd range: {code}: {body}")));
    }
    let answer: Value = serde_json::from_str(&body).map_err(|e| Error::Parse {
        command: "etcd range".into(),
        message: e.to_string(),
    })?;
    let decode = |v: &Value| {
        b64.decode(v.as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    Ok(answer["kvs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|kv| {
            (
                String::from_utf8_lossy(&decode(&kv["key"])).into_owned(),
                decode(&kv["value"]),
            )
        })
        .collect())
}
