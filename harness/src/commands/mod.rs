//! One module per subcommand.

pub mod analyze;
pub mod check;
pub mod run;
pub mod serve;
