//! Port specifications: numbers in range, ranges that go up, published and
//! container ranges of the same size (docker's `nat.ParsePortSpec` rules),
//! and host IPs that parse (compose-go validation `checkIPAddress`).

use super::{Checker, IssueKind, PortProblem};
use crate::loader::node::{Node, NodePath, Value};

pub(super) fn check(c: &mut Checker<'_>, service: &Node, path: &NodePath) {
    let list = service.get("ports").and_then(Node::as_seq).unwrap_or(&[]);
    for (i, port) in list.iter().enumerate() {
        let at = path.key("ports").index(i);
        match &port.value {
            Value::String(text) => short(c, text, at),
            Value::Int(_) | Value::Float(_) => {
                let text = port.scalar_text().unwrap_or_default();
                if let Err(p) = range(&text, 1) {
                    c.report(at, IssueKind::Port(p));
                }
            }
            Value::Map(_) => long(c, port, at),
            _ => {}
        }
    }
}

/// `[[host_ip:]published:]target[/protocol]`.
fn short(c: &mut Checker<'_>, text: &str, at: NodePath) {
    // Left for interpolation to fill in (`--no-interpolate`).
    if text.contains('$') {
        return;
    }
    let spec = text.split_once('/').map_or(text, |(s, _proto)| s);
    let mut parts = spec.rsplitn(3, ':');
    let target = parts.next().unwrap_or_default();
    let published = parts.next();
    let host_ip = parts.next();
    if let Some(ip) = host_ip {
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
            c.report(at.clone(), IssueKind::InvalidHostIp { ip: ip.to_string() });
        }
    }
    pair(c, published.filter(|p| !p.is_empty()), target, at);
}

/// `{target, published, host_ip, protocol}`.
fn long(c: &mut Checker<'_>, port: &Node, at: NodePath) {
    if let Some(ip) = port.get("host_ip").and_then(Node::as_str) {
        if !ip.contains('$') && ip.parse::<std::net::IpAddr>().is_err() {
            let kind = IssueKind::InvalidHostIp { ip: ip.to_string() };
            c.report(at.key("host_ip"), kind);
        }
    }
    let target = port.get("target").and_then(Node::scalar_text);
    let published = port.get("published").and_then(Node::scalar_text);
    if target.as_deref().is_some_and(|t| t.contains('$'))
        || published.as_deref().is_some_and(|p| p.contains('$'))
    {
        return;
    }
    if let Some(target) = target {
        let at = if published.is_some() {
            at
        } else {
            at.key("target")
        };
        pair(
            c,
            published.as_deref().filter(|p| !p.is_empty()),
            &target,
            at,
        );
    }
}

fn pair(c: &mut Checker<'_>, published: Option<&str>, target: &str, at: NodePath) {
    let target_range = match range(target, 1) {
        Ok(r) => r,
        Err(p) => return c.report(at, IssueKind::Port(p)),
    };
    let Some(published) = published else {
        return;
    };
    let published_range = match range(published, 0) {
        Ok(r) => r,
        Err(p) => return c.report(at, IssueKind::Port(p)),
    };
    let target_len = target_range.1 - target_range.0;
    let published_len = published_range.1 - published_range.0;
    // A published range with a single target picks one free port of it.
    if target_len != 0 && target_len != published_len {
        let kind = IssueKind::Port(PortProblem::RangeSizes {
            published: published.to_string(),
            target: target.to_string(),
        });
        c.report(at, kind);
    }
}

/// `N` or `N-M`, each in `min..=65535`, `N <= M`.
pub(super) fn range(text: &str, min: i64) -> Result<(u32, u32), PortProblem> {
    let (start, end) = text.split_once('-').unwrap_or((text, text));
    let start = number(start, min)?;
    let end = number(end, min)?;
    if start > end {
        return Err(PortProblem::Reversed { start, end });
    }
    Ok((start, end))
}

fn number(text: &str, min: i64) -> Result<u32, PortProblem> {
    let n: i64 = text.trim().parse().map_err(|_| PortProblem::NotANumber {
        text: text.to_string(),
    })?;
    if n < min || n > 65535 {
        return Err(PortProblem::OutOfRange { port: n });
    }
    Ok(n as u32)
}
