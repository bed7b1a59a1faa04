//! `faultline serve`: browse the store over HTTP, read-only, on loopback unless told otherwise.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::ServeArgs;

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !args.store.is_dir() {
        anyhow::bail!("--store: {} is not a folder", args.store.display());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("--listen: cannot listen on {}", args.listen))?;
        println!(
            "serving {} read-only on http://{}/ (Ctrl-C stops)",
            args.store.display(),
            listener.local_addr().unwrap_or(args.listen)
        );
        let app = faultline_results::serve::router(args.store.clone());
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
