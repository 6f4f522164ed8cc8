use std::process::ExitCode;

use clap::Parser as _;
use sealed_secrets_controller::{run, Args};

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Explicit, so a build that also enables rustls's ring feature still works.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    if args.version {
        println!("controller version: v{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Err(err) = sealed_secrets_controller::telemetry::init(&args.log_level, &args.log_format)
    {
        eprintln!("error: {err:#}");
        return ExitCode::FAILURE;
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "controller stopped");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
