//! The `kvnode` binary: parse flags, set up logging to stderr, run the node.

use clap::Parser;
use kvnode::config::Config;

fn main() -> anyhow::Result<()> {
    let cfg = Config::parse();
    if let Err(e) = cfg.validate() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(kvnode::run(cfg))?;
    Ok(())
}
