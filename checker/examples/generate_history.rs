//! Writes a generated cas-register history (see `faultline_checker::generate`) for
//! `faultline check` or Porcupine's bench:
//!
//! ```sh
//! cargo run --release -p faultline-checker --example generate_history -- \
//!     --clients 50 --ops 100000 [--keys 1] [--info 1] [--bad-read] [--seed 1] \
//!     [--format jsonl|jepsen-log] --out FILE
//! ```
//!
//! `scripts/generate-histories.sh` writes the benchmark's grid with it.

use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;

use faultline_checker::generate::{GenSpec, write_jepsen_log, write_jsonl};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("generate_history: {message}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut spec = GenSpec {
        clients: 5,
        ops: 1000,
        keys: 1,
        info_percent: 0,
        bad_read: false,
        seed: 1,
    };
    let mut format = "jsonl".to_owned();
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = |what: &str| {
            args.next()
                .ok_or_else(|| format!("{flag}: expected {what} after it"))
        };
        let number = |text: String| {
            text.parse::<u64>()
                .map_err(|_| format!("{flag}: expected a non-negative integer, found {text:?}"))
        };
        match flag.as_str() {
            "--clients" => spec.clients = number(value("a number")?)? as usize,
            "--ops" => spec.ops = number(value("a number")?)? as usize,
            "--keys" => spec.keys = number(value("a number")?)? as usize,
            "--info" => spec.info_percent = number(value("a percentage")?)?,
            "--seed" => spec.seed = number(value("a number")?)?,
            "--bad-read" => spec.bad_read = true,
            "--format" => format = value("jsonl or jepsen-log")?,
            "--out" => out = Some(value("a file")?),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    let out = out.ok_or("--out FILE is required")?;
    let file = File::create(&out).map_err(|e| format!("{out}: {e}"))?;
    let file = BufWriter::new(file);
    match format.as_str() {
        "jsonl" => write_jsonl(&spec, file).map(drop),
        "jepsen-log" => write_jepsen_log(&spec, file).map(drop),
        other => {
            return Err(format!(
                "--format: expected jsonl or jepsen-log, found {other:?}"
            ));
        }
    }
    .map_err(|e| format!("{out}: {e}"))
}
