//! What this machine offers the fault backends and hosts, asked once before a run is resolved.

use std::path::Path;

/// Where Debian's `faketime` package puts the library kvnode is started under.
pub const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Root and an `nft` that answers.
    pub nft: bool,
    /// libfaketime at `LIBFAKETIME`.
    pub faketime: bool,
    /// Root, `ip netns` and nft: what netns hosts need.
    pub netns: bool,
}

/// Whether a process with this pid exists (the owner of a leftover table or file).
pub(crate) fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

pub fn probe() -> Capabilities {
    Capabilities {
        nft: crate::network::nft::available(),
        faketime: Path::new(LIBFAKETIME).is_file(),
        netns: crate::hosts::netns::available(),
    }
}
