use std::process::ExitCode;

use clap::Parser as _;
use sealed_secrets_controller::{run, Args};

fn main() -> ExitCode {
    // Before the runtime starts its threads.
    limit_malloc_arenas();
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "controller stopped");
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives every thread that allocates while another does its own arena
/// (up to 8 per core) and keeps what each frees; the unsealing threads then
/// hold about 1 MiB more at peak than two shared arenas do, and two about
/// 0.3 MiB more than one, at no measurable cost in time (docs/benchmarks.md).
/// `MALLOC_ARENA_MAX` still wins when set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a glibc tunable; it runs before any other
        // thread exists.
        #[allow(unsafe_code)]
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}
