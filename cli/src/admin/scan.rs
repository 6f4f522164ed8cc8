//! The SealedSecrets in the cluster, listed for `keys list` (which keys they
//! record) and `keys prune` (which keys their items need).

use anyhow::Result;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::Client;
use sealed_secrets_api::SealedSecret;

use crate::cluster::{api_error, Place};

/// How many SealedSecrets a message names before saying "and N more".
const NAMED: usize = 10;

#[derive(Debug, clap::Args)]
pub(super) struct ScanArgs {
    /// Count only SealedSecrets in these namespaces (e.g. those the controller watches). Default: all namespaces
    #[arg(long, value_delimiter = ',', value_name = "NS[,NS...]")]
    pub(super) watched_namespaces: Vec<String>,
}

/// Lists SealedSecrets (everywhere, or in `namespaces`) as untyped objects,
/// so one malformed object cannot stop the scan, a page at a time.
pub(super) async fn each_sealed_secret(
    client: &Client,
    namespaces: &[String],
    mut each: impl FnMut(&DynamicObject),
) -> Result<()> {
    let resource = ApiResource::erase::<SealedSecret>(&());
    let apis: Vec<(Api<DynamicObject>, Place<'_>)> = if namespaces.is_empty() {
        vec![(Api::all_with(client.clone(), &resource), Place::Cluster)]
    } else {
        namespaces
            .iter()
            .map(|ns| {
                (
                    Api::namespaced_with(client.clone(), ns, &resource),
                    Place::Namespace(ns),
                )
            })
            .collect()
    };
    for (api, place) in apis {
        let mut params = ListParams::default().limit(500);
        loop {
            let page = api
                .list(&params)
                .await
                .map_err(|e| api_error(e, "list", "sealedsecrets.bitnami.com", place))?;
            for object in &page.items {
                each(object);
            }
            match page.metadata.continue_.filter(|t| !t.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
    }
    Ok(())
}

pub(super) fn scanned(namespaces: &[String]) -> String {
    if namespaces.is_empty() {
        "all namespaces".into()
    } else {
        format!("namespaces {}", namespaces.join(", "))
    }
}

pub(super) fn some_of(ids: &[String]) -> String {
    let mut text = ids
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMED {
        text.push_str(&format!(" and {} more", ids.len() - NAMED));
    }
    text
}
