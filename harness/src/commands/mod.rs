//! One module per subcommand.

pub mod analyze;
pub mod campaign;
pub mod check;
pub mod compare;
pub mod prune;
pub mod quickstart;
pub mod run;
pub mod serve;
pub mod trends;
