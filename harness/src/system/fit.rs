//! Whether a run's choices fit its system: the workload is one it supports, every fault asked
//! for can act on it where it runs, and its client protocol is built. Each refusal is one line
//! naming the flag, the system and why, given before anything starts.

use faultline_nemeses::FaultKind;
use faultline_workloads::WorkloadKind;

use super::System;
use super::definition::Protocol;
use crate::hosts::HostKind;

/// The client protocols this build can speak.
const BUILT_PROTOCOLS: [Protocol; 4] = [
    Protocol::Kvnode,
    Protocol::Etcd,
    Protocol::Stdio,
    Protocol::Postgres,
];

pub fn check(
    system: &System,
    workload: WorkloadKind,
    nemesis: &[FaultKind],
    hosts: HostKind,
) -> Result<(), String> {
    let d = &system.definition;
    if !d.workloads.iter().any(|w| w == workload.name()) {
        return Err(format!(
            "--workload {}: system {} supports {}",
            workload.name(),
            d.name,
            d.workloads.join(", ")
        ));
    }
    for fault in nemesis {
        match fault {
            FaultKind::Clock => {
                if let Some(reason) = &d.faults.clock {
                    return Err(format!(
                        "--nemesis clock: clock faults do not apply to system {}: {reason}",
                        d.name
                    ));
                }
            }
            FaultKind::Partition | FaultKind::Delay if hosts == HostKind::Loopback => {
                if let Some(reason) = &d.faults.loopback_partitions {
                    return Err(format!(
                        "--nemesis {}: system {} cannot be partitioned on loopback hosts: {reason}",
                        fault.name(),
                        d.name
                    ));
                }
                // On loopback the nft rules and the link proxies act on the client port only
                // (the one port kvnode has): a second port would carry its traffic through the
                // fault untouched, and a run would be valid for a partition that never was.
                if d.ports.0.len() > 1 {
                    let ports: Vec<&str> = d.ports.0.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!(
                        "--nemesis {}: system {} has several ports ({}), and loopback partitions cut \
                         the client port only: use --hosts netns or --hosts ssh",
                        fault.name(),
                        d.name,
                        ports.join(", ")
                    ));
                }
            }
            _ => {}
        }
    }
    // The etcd client takes linearizable or serializable ranges; any other value would be
    // recorded in test.json while the client silently did something else.
    if d.client.protocol == Protocol::Etcd
        && let Some(reads) = system.options.get("reads")
        && reads.parse::<faultline_workloads::EtcdReads>().is_err()
    {
        return Err(format!(
            "option reads: the etcd client reads linearizable or serializable, not \"{reads}\" (system {})",
            d.name
        ));
    }
    let protocol = d.client.protocol;
    if !BUILT_PROTOCOLS.contains(&protocol) {
        return Err(format!(
            "system {}: its client protocol \"{}\" is not built yet (built: {})",
            d.name,
            protocol.name(),
            BUILT_PROTOCOLS.map(Protocol::name).join(", ")
        ));
    }
    Ok(())
}

/// The `api` clock backend is kvnode's `POST /admin/clock`: another system's clock can only be
/// moved through libfaketime.
pub fn check_clock_backend(
    system: &System,
    backend: crate::clock::ClockBackend,
) -> Result<(), String> {
    if backend == crate::clock::ClockBackend::Api
        && system.definition.client.protocol != Protocol::Kvnode
    {
        return Err(format!(
            "--nemesis clock: the api clock backend is kvnode's POST /admin/clock, which system {} \
             does not have; use --clock faketime (Debian: apt-get install faketime)",
            system.name()
        ));
    }
    Ok(())
}
