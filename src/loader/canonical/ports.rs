//! `ports` short syntax (`[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`,
//! ranges included) to the long form, as compose-go's `ParsePortConfig` over
//! docker's `nat.ParsePortSpecs` does: one entry per container port, sorted by
//! `port/proto` as text, `mode: ingress`, `protocol` defaulting to `tcp`.

use super::{located, set_default, type_error, CanonicalError};
use crate::loader::node::{Mapping, Node, NodePath, Span, Value};

/// One parsed binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    pub host_ip: String,
    pub target: u32,
    pub published: String,
    pub protocol: String,
}

/// Rewrite a service's `ports` list in place.
pub fn transform(ports: &mut Node, path: &NodePath) -> Result<(), CanonicalError> {
    let Some(items) = ports.as_seq_mut() else {
        return Err(type_error(ports, path, "a list of ports"));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in std::mem::take(items).into_iter().enumerate() {
        let item_path = path.index(i);
        match &item.value {
            Value::Map(_) => out.push(with_defaults(item)),
            Value::Int(_) | Value::String(_) => {
                let spec = item.scalar_text().unwrap_or_default();
                let parsed = parse(&spec).map_err(|reason| CanonicalError::Port {
                    location: located(&item, &item_path),
                    spec: spec.clone(),
                    reason,
                })?;
                out.extend(parsed.into_iter().map(|p| to_node(&p, item.span.clone())));
            }
            _ => {
                return Err(type_error(
                    &item,
                    &item_path,
                    "a port (string, number or mapping)",
                ))
            }
        }
    }
    *items = out;
    Ok(())
}

/// compose-go's `portDefaults`: long entries get `protocol: tcp`, `mode: ingress`.
fn with_defaults(mut item: Node) -> Node {
    if let Some(m) = item.as_map_mut() {
        set_default(m, "protocol", Node::string("tcp"));
        set_default(m, "mode", Node::string("ingress"));
    }
    item
}

fn to_node(p: &PortSpec, span: Option<Span>) -> Node {
    let mut m = Mapping::new();
    let s = |v: &str| Node::with_span(Value::String(v.to_string()), span.clone());
    m.insert("mode".into(), s("ingress"));
    if !p.host_ip.is_empty() {
        m.insert("host_ip".into(), s(&p.host_ip));
    }
    m.insert(
        "target".into(),
        Node::with_span(Value::Int(p.target.into()), span.clone()),
    );
    if !p.published.is_empty() {
        m.insert("published".into(), s(&p.published));
    }
    m.insert("protocol".into(), s(&p.protocol));
    Node::with_span(Value::Map(m), span)
}

/// Parse one short port spec into its bindings.
pub fn parse(spec: &str) -> Result<Vec<PortSpec>, String> {
    let (ip, host, container) = split_parts(spec);
    let (container, proto) = match container.split_once('/') {
        Some((c, p)) => (c, p.to_ascii_lowercase()),
        None => (container, "tcp".to_string()),
    };
    let ip = strip_ipv6_brackets(ip)?;
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address {ip:?}"));
    }
    if container.is_empty() {
        return Err("no container port given".into());
    }
    let (start, end) = parse_range(container).ok_or_else(|| {
        format!("invalid container port {container:?}: expected a port or a range like 8000-8010")
    })?;
    let (host_start, host_end) = if host.is_empty() {
        (0, 0)
    } else {
        parse_range(host).ok_or_else(|| {
            format!("invalid host port {host:?}: expected a port or a range like 8000-8010")
        })?
    };
    if !host.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "the container port range {container} and the host port range {host} differ in size"
        ));
    }
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid protocol {proto:?}: expected tcp, udp or sctp"
        ));
    }
    let mut ports = Vec::new();
    for i in 0..=(end - start) {
        let published = if host.is_empty() {
            String::new()
        } else if start == end && host_start != host_end {
            // One container port and a host range: the range is where a free
            // host port is picked.
            format!("{host_start}-{host_end}")
        } else {
            (host_start + i).to_string()
        };
        ports.push(PortSpec {
            host_ip: ip.to_string(),
            target: start + i,
            published,
            protocol: proto.clone(),
        });
    }
    // compose-go sorts the ports by their `port/proto` text.
    ports.sort_by_key(|p| format!("{}/{}", p.target, p.protocol));
    Ok(ports)
}

/// docker's `splitParts`: the last part is the container port, the one
/// before it the host port, anything before that the host IP.
fn split_parts(spec: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    match n {
        1 => ("", "", parts[0]),
        2 => ("", parts[0], parts[1]),
        _ => {
            let ip_len: usize = parts[..n - 2].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
            (&spec[..ip_len], parts[n - 2], parts[n - 1])
        }
    }
}

fn strip_ipv6_brackets(ip: &str) -> Result<&str, String> {
    if let Some(rest) = ip.strip_prefix('[') {
        return rest
            .strip_suffix(']')
            .ok_or_else(|| format!("invalid IP address {ip:?}"));
    }
    Ok(ip)
}

fn parse_range(text: &str) -> Option<(u32, u32)> {
    let port = |s: &str| s.parse::<u32>().ok().filter(|p| *p <= 65535);
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            (a <= b).then_some((a, b))
        }
        None => port(text).map(|p| (p, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PortSpec {
        let mut v = parse(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}");
        v.remove(0)
    }

    #[test]
    fn short_forms() {
        assert_eq!(
            one("8080:80"),
            PortSpec {
                host_ip: String::new(),
                target: 80,
                published: "8080".into(),
                protocol: "tcp".into()
            }
        );
        let p = one("127.0.0.1:5000:5000/udp");
        assert_eq!(
            (p.host_ip.as_str(), p.protocol.as_str()),
            ("127.0.0.1", "udp")
        );
        let p = one("[::1]:80:80");
        assert_eq!(p.host_ip, "::1");
        assert_eq!(one("3000").published, "");
        assert_eq!(one("8000-8005:80").published, "8000-8005");
    }

    #[test]
    fn ranges_expand_sorted_as_text() {
        let v = parse("9-10:9-10").unwrap();
        let targets: Vec<u32> = v.iter().map(|p| p.target).collect();
        assert_eq!(targets, [10, 9]);
        assert_eq!(v[0].published, "10");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert!(parse("80-70").unwrap_err().contains("container port"));
        assert!(parse("1.2.3:80:80").unwrap_err().contains("IP address"));
        assert!(parse("80/xyz").unwrap_err().contains("protocol"));
        assert!(parse("8000-8001:80-82").unwrap_err().contains("differ"));
        assert!(parse("99999").is_err());
    }
}
