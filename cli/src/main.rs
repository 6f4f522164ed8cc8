//! `kubeseal`: seals Kubernetes Secrets into SealedSecrets that only the
//! cluster's controller can open. Flag-compatible with Bitnami's kubeseal.

mod admin;
mod args;
mod cert;
mod cluster;
mod error;
mod kms;
mod kubeconfig;
mod layout;
mod modes;
mod output;
mod pflag;
mod recipients;
mod sealed_with;

// Parsers of untrusted input live in the library (src/lib.rs) for the fuzz targets.
use kubeseal::{input, recovery};

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let mut args = args::Args::parse();
    let result = match args.command.take() {
        Some(args::Command::Admin(admin)) => admin::run(admin, &args.cluster, &args.kms),
        None => modes::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {}", error::render(&err));
            ExitCode::FAILURE
        }
    }
}
