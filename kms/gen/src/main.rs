//! Generates the KMS v2 gRPC client from `api.proto`.
//!
//! Usage: `sealed-secrets-kms-gen PROTO_DIR OUT_DIR` (PROTO_DIR holds
//! `api.proto`; OUT_DIR receives `v2.rs`). Needs `protoc` on the PATH (or in
//! `PROTOC`). Run through `scripts/gen-kms-proto`, which fetches the proto.

use std::env;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let [proto_dir, out_dir] = args.as_slice() else {
        eprintln!("usage: sealed-secrets-kms-gen PROTO_DIR OUT_DIR");
        return ExitCode::from(2);
    };
    let proto = format!("{proto_dir}/api.proto");
    // Only the structure of the proto ends up in the generated file, none of
    // its text: no comments of messages and fields...
    let mut config = prost_build::Config::new();
    config.disable_comments(["."]);
    let result = tonic_prost_build::configure()
        // A client only: the crate never serves the API.
        .build_server(false)
        // No `connect` helper: the crate dials the unix socket itself, with
        // tonic's `channel` feature alone (no `transport`, which brings the
        // server).
        .build_transport(false)
        // Annotations as a BTreeMap: ordered, as the crate hands them out.
        .btree_map(".")
        // The service's and methods' comments (tonic-build matches exact
        // names); the messages' are disabled in `config` above.
        .disable_comments([
            "v2.KeyManagementService",
            "v2.KeyManagementService.Status",
            "v2.KeyManagementService.Decrypt",
            "v2.KeyManagementService.Encrypt",
        ])
        .emit_rerun_if_changed(false)
        .out_dir(out_dir)
        .compile_with_config(config, &[proto.as_str()], &[proto_dir.as_str()]);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealed-secrets-kms-gen: {e}");
            ExitCode::FAILURE
        }
    }
}
