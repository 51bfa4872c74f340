//! EXPOSE values: `80`, `80/tcp`, `53/udp`, `8000-8002/tcp` (a range
//! exposes each port), as the Docker engine's `nat.ParsePortSpecs` reads
//! them; the protocol defaults to tcp and is lower-cased.

/// The `port/proto` keys of `ExposedPorts` for one EXPOSE word, or None
/// when it is not a port.
pub fn expose_ports(word: &str) -> Option<Vec<String>> {
    let (ports, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return None;
    }
    let (start, end) = match ports.split_once('-') {
        Some((a, b)) => (a.parse::<u16>().ok()?, b.parse::<u16>().ok()?),
        None => {
            let p = ports.parse::<u16>().ok()?;
            (p, p)
        }
    };
    if start > end {
        return None;
    }
    Some((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_ranges_and_protocols() {
        assert_eq!(expose_ports("80"), Some(vec!["80/tcp".into()]));
        assert_eq!(expose_ports("53/UDP"), Some(vec!["53/udp".into()]));
        assert_eq!(
            expose_ports("8000-8002"),
            Some(vec![
                "8000/tcp".into(),
                "8001/tcp".into(),
                "8002/tcp".into()
            ])
        );
        assert_eq!(expose_ports("80/http"), None);
        assert_eq!(expose_ports("http"), None);
        assert_eq!(expose_ports("9-8"), None);
        assert_eq!(expose_ports("70000"), None);
    }
}
