//! Namespaces, bridge and veths of one run: made by `NetnsHosts::create`, removed when it is
//! dropped, and those of dead controllers removed by `remove_stale`.
//!
//! Names carry the controller's pid, so leftovers are recognised and parallel runs never
//! collide (`<pid>` decimal, `<run>` this process's counter):
//! - bridge `flb<pid>x<run % 1000>` (root namespace; at most 3+7+1+3 = 14 characters; a
//!   counter past 999 wraps, long after its run's bridge is gone: runs of one controller
//!   follow each other),
//! - namespace `fl<pid>x<run>n<id>` (no length limit; `node_marker::node_name`, also the
//!   marker in the environment of the node's processes),
//! - veth `flv<pid36>-<run36>-<id>` in the root namespace, pid and counter in base 36 so that
//!   the name fits the kernel's 15 characters (3+5+1+2+1+3), separated by `-`, which no base-36
//!   digit is (an `x` would be: a pid such as `1bx9a` in base 36 would then be misread); its
//!   peer is `eth0` inside the node's namespace (created there directly, so deleting the
//!   namespace deletes the pair).
//!
//! Addresses: one /24 per run, `10.213.<subnet>.0/24`, the third octet derived from the pid
//! and the counter, skipping any /24 that an interface of this machine already uses; the
//! choice and the bridge's address are made under an exclusive file lock, so two controllers
//! never take the same /24. The bridge takes .1, node N .(10+N).

use std::ffi::OsString;
use std::fs::File;
use std::os::fd::AsRawFd;

use faultline_nemeses::NodeId;

use super::{NetnsHost, address, firewall, node_octet};
use crate::hosts::process::exec_blocking;
use crate::hosts::{HostError, node_marker};

const BRIDGE: &str = "flb";
const VETH: &str = "flv";

/// The namespaces and bridge of one run's hosts.
#[derive(Debug)]
pub struct NetnsHosts {
    bridge: String,
    subnet: u8,
    hosts: Vec<(NodeId, NetnsHost)>,
    /// What exists so far, removed in Drop (also after a failed `create`).
    made_bridge: bool,
    made_namespaces: Vec<String>,
    made_veths: Vec<String>,
}

impl NetnsHosts {
    /// Removes the leftovers of dead controllers, then makes a bridge and one namespace per
    /// id. Whatever was made is removed again if a step fails.
    pub fn create(ids: &[NodeId]) -> Result<NetnsHosts, HostError> {
        remove_stale();
        let pid = std::process::id();
        let run = node_marker::next_run();
        let bridge = format!("{BRIDGE}{pid}x{}", run % 1000);
        let lock = Lock::take().map_err(|e| HostError::io(&bridge, "cannot take the lock", e))?;
        let subnet = free_subnet(&bridge, pid, run)?;
        let mut made = NetnsHosts {
            bridge: bridge.clone(),
            subnet,
            hosts: Vec::new(),
            made_bridge: false,
            made_namespaces: Vec::new(),
            made_veths: Vec::new(),
        };
        // From here on an early return drops `made`, which removes what exists.
        ip(&bridge, &["link", "add", &bridge, "type", "bridge"])?;
        made.made_bridge = true;
        // Bridged frames skip the root namespace's iptables (br_netfilter): a FORWARD drop
        // policy, as Docker sets, would otherwise cut the nodes apart. Best effort: without
        // br_netfilter there is nothing to skip.
        let _ = ip(
            &bridge,
            &[
                "link",
                "set",
                &bridge,
                "type",
                "bridge",
                "nf_call_iptables",
                "0",
            ],
        );
        let bridge_ip = format!("{}/24", address(subnet, 1));
        ip(&bridge, &["addr", "add", &bridge_ip, "dev", &bridge])?;
        drop(lock);
        ip(&bridge, &["link", "set", &bridge, "up"])?;
        for &id in ids {
            let ns = node_marker::node_name(pid, run, id);
            ip(&ns, &["netns", "add", &ns])?;
            made.made_namespaces.push(ns.clone());
            let veth = veth_name(pid, run, id);
            ip(
                &ns,
                &[
                    "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
                ],
            )?;
            made.made_veths.push(veth.clone());
            ip(&ns, &["link", "set", &veth, "master", &bridge, "up"])?;
            let node_ip = address(subnet, node_octet(id));
            let cidr = format!("{node_ip}/24");
            ip(&ns, &["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
            ip(&ns, &["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&ns, &["-n", &ns, "link", "set", "lo", "up"])?;
            let host = NetnsHost::new(ns.clone(), node_ip);
            run_in(&host, &["nft", &firewall::create_table()])?;
            made.hosts.push((id, host));
        }
        Ok(made)
    }

    pub fn hosts(&self) -> Vec<(NodeId, NetnsHost)> {
        self.hosts.clone()
    }

    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    pub fn namespaces(&self) -> Vec<String> {
        self.made_namespaces.clone()
    }

    /// The /24's third octet.
    pub fn subnet(&self) -> u8 {
        self.subnet
    }
}

impl Drop for NetnsHosts {
    /// Deletes the veths, the namespaces (their nft tables go with them) and the bridge. The
    /// veths are deleted first and by name: a namespace whose name is gone is torn down by the
    /// kernel later (asynchronously, or once the last process in it exits), and its end of a
    /// pair with it. The cluster kills its nodes before its hosts go.
    fn drop(&mut self) {
        for veth in self.made_veths.drain(..) {
            let _ = ip(&veth, &["link", "del", &veth]);
        }
        for ns in self.made_namespaces.drain(..) {
            let _ = ip(&ns, &["netns", "del", &ns]);
        }
        if self.made_bridge {
            let _ = ip(&self.bridge, &["link", "del", &self.bridge]);
        }
    }
}

fn veth_name(pid: u32, run: u32, id: NodeId) -> String {
    format!(
        "{VETH}{}-{}-{id}",
        base36(pid),
        // Two base-36 digits: a counter past 1295 wraps, long after its run is gone.
        base36(run % 1296)
    )
}

fn base36(mut n: u32) -> String {
    let mut digits = Vec::new();
    loop {
        digits.push(char::from_digit(n % 36, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    digits.iter().rev().collect()
}

/// The first /24 from the one derived from (pid, run) that no interface uses.
fn free_subnet(bridge: &str, pid: u32, run: u32) -> Result<u8, HostError> {
    let argv = ["ip", "-o", "-4", "addr", "show"];
    let out = exec_blocking(&os(&argv), None)
        .map_err(|e| HostError::io(bridge, "cannot run ip -o -4 addr show", e))?;
    // An empty listing from a failed `ip` would make every /24 look free.
    if !out.status.success() {
        return Err(HostError::Command {
            host: bridge.to_owned(),
            command: argv.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    let start = (pid.wrapping_mul(31).wrapping_add(run.wrapping_mul(7))) % 256;
    (0..256u32)
        .map(|i| ((start + i) % 256) as u8)
        .find(|&s| !listing.contains(&format!(" 10.213.{s}.")))
        .ok_or_else(|| HostError::Command {
            host: bridge.to_owned(),
            command: argv.join(" "),
            message: "every /24 of 10.213.0.0/16 is in use".into(),
        })
}

/// Serialises choosing a /24 with other controllers on this machine (flock on a file in /run,
/// which netns hosts need anyway; released on drop or when the process dies).
struct Lock {
    /// Held for its Drop, which closes it and so releases the lock.
    _file: File,
}

impl Lock {
    fn take() -> std::io::Result<Lock> {
        let file = File::options()
            .create(true)
            .append(true)
            .open("/run/faultline-netns.lock")?;
        // SAFETY: flock(2) on a descriptor we own.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Lock { _file: file })
    }
}

/// Removes namespaces, bridges and veths named by a controller that is no longer running,
/// first killing any process left inside such a namespace. Best effort.
pub fn remove_stale() {
    let alive = crate::machine::process_alive;
    if let Ok(out) = exec_blocking(&os(&["ip", "netns", "list"]), None) {
        let listing = String::from_utf8_lossy(&out.stdout);
        for ns in listing.lines().filter_map(|l| l.split_whitespace().next()) {
            if stale_namespace(ns, alive) {
                kill_processes_in(ns);
                let _ = ip(ns, &["netns", "del", ns]);
            }
        }
    }
    if let Ok(out) = exec_blocking(&os(&["ip", "-o", "link", "show"]), None) {
        let listing = String::from_utf8_lossy(&out.stdout);
        for link in link_names(&listing) {
            if stale_link(&link, alive) {
                let _ = ip(&link, &["link", "del", &link]);
            }
        }
    }
}

fn kill_processes_in(ns: &str) {
    let Ok(out) = exec_blocking(&os(&["ip", "netns", "pids", ns]), None) else {
        return;
    };
    for pid in String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse::<libc::pid_t>().ok())
    {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// `fl<pid>x<run>n<id>` (`node_marker::node_name`) of a dead pid.
fn stale_namespace(name: &str, alive: impl Fn(u32) -> bool) -> bool {
    node_marker::owner(name).is_some_and(|pid| !alive(pid))
}

/// A bridge `flb<pid>x<run>` or veth `flv<pid36>-<run36>-<id>` of a dead pid.
fn stale_link(name: &str, alive: impl Fn(u32) -> bool) -> bool {
    let owner = if let Some(rest) = name.strip_prefix(BRIDGE) {
        rest.split_once('x')
            .filter(|(_, run)| is_number(run, 10))
            .and_then(|(pid, _)| pid.parse().ok())
    } else if let Some(rest) = name.strip_prefix(VETH) {
        let mut parts = rest.split('-');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(pid), Some(run), Some(id), None)
                if is_number(pid, 36) && is_number(run, 36) && is_number(id, 10) =>
            {
                u32::from_str_radix(pid, 36).ok()
            }
            _ => None,
        }
    } else {
        None
    };
    owner.is_some_and(|pid| !alive(pid))
}

fn is_number(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

/// Interface names in an `ip -o link show` listing (`5: flv1-0-1@if2: <...`).
fn link_names(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| {
            let name = line.split(": ").nth(1)?;
            Some(name.split('@').next()?.to_owned())
        })
        .collect()
}

fn os(argv: &[&str]) -> Vec<OsString> {
    argv.iter().map(OsString::from).collect()
}

/// `ip ARGS...` in the root namespace; `what` names the host or bridge in an error.
fn ip(what: &str, args: &[&str]) -> Result<(), HostError> {
    let mut argv = vec!["ip"];
    argv.extend_from_slice(args);
    run(what, &argv, None)
}

fn run_in(host: &NetnsHost, argv: &[&str]) -> Result<(), HostError> {
    run(&host.name, argv, Some(host.namespace_path()))
}

fn run(what: &str, argv: &[&str], netns: Option<&std::path::Path>) -> Result<(), HostError> {
    let out = exec_blocking(&os(argv), netns)
        .map_err(|e| HostError::io(what, format!("cannot run {}", argv.join(" ")), e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(HostError::Command {
            host: what.to_owned(),
            command: argv.join(" "),
            message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_the_kernel_limit_and_carry_the_pid() {
        let veth = veth_name(4_194_304, 1295, 244);
        assert!(veth.len() <= 15, "{veth}");
        assert!(stale_link(&veth, |pid| pid != 4_194_304));
        assert!(!stale_link(&veth, |_| true));
        assert!(format!("{BRIDGE}{}x{}", 4_194_304, 999).len() <= 15);
    }

    #[test]
    fn only_names_of_dead_controllers_are_stale() {
        // Only pid 7 runs.
        let alive = |pid| pid == 7;
        assert!(stale_namespace("fl12x0n3", alive));
        assert!(!stale_namespace("fl7x0n3", alive));
        assert!(!stale_namespace("flannel", alive));
        assert!(!stale_namespace("fl12x0", alive));
        assert!(stale_link("flb12x3", alive));
        assert!(!stale_link("flb7x3", alive));
        assert!(stale_link(&veth_name(12, 3, 1), alive));
        assert!(!stale_link("eth0", alive));
        assert!(!stale_link("flbx", alive));
    }

    #[test]
    fn a_pid_whose_base_36_holds_an_x_is_read_whole() {
        // 2235934 is "1bx9a" in base 36: read up to its "x", it would be pid 47.
        let veth = veth_name(2_235_934, 0, 1);
        assert_eq!(veth, "flv1bx9a-0-1");
        assert!(!stale_link(&veth, |pid| pid == 2_235_934), "alive: kept");
        assert!(
            stale_link(&veth, |pid| pid == 47),
            "its owner is dead: removed"
        );
    }

    #[test]
    fn link_names_are_read_from_a_listing() {
        let listing = "1: lo: <LOOPBACK,UP> mtu 65536\n7: flvc-0-1@if2: <BROADCAST> mtu 1500\n";
        assert_eq!(link_names(listing), ["lo", "flvc-0-1"]);
    }
}
