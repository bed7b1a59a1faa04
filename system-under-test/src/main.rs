//! The `kvnode` binary: everything is in `kvnode::process`.

fn main() -> std::process::ExitCode {
    kvnode::process::main_from_args(std::env::args_os())
}
