//! Byte sizes (`mem_limit: 1g`, `shm_size: 64m`): read as docker's
//! go-units `RAMInBytes` reads them (binary multiples, `b`/`ib` suffixes
//! optional), printed as compose-go's `UnitBytes` prints them: the number of
//! bytes as a string (`"1073741824"`).

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// A size in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnitBytes(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BytesError {
    #[error(
        "invalid size {0:?}: expected a number of bytes with an optional unit, like 512m or 1g"
    )]
    Invalid(String),
}

impl UnitBytes {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parse `1073741824`, `1g`, `1.5GB`, `512 MiB`.
    pub fn parse(text: &str) -> Result<UnitBytes, BytesError> {
        let invalid = || BytesError::Invalid(text.to_string());
        if let Ok(n) = text.parse::<i64>() {
            return Ok(UnitBytes(n));
        }
        let num_len = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(num_len);
        if number.is_empty() || number.starts_with('.') {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit = unit.strip_prefix(' ').unwrap_or(unit).to_ascii_lowercase();
        let unit = unit.strip_suffix('b').unwrap_or(&unit);
        let unit = unit.strip_suffix('i').unwrap_or(unit);
        let factor: f64 = match unit {
            "" => 1.0,
            "k" => 1024.0,
            "m" => 1024f64.powi(2),
            "g" => 1024f64.powi(3),
            "t" => 1024f64.powi(4),
            "p" => 1024f64.powi(5),
            _ => return Err(invalid()),
        };
        Ok(UnitBytes((value * factor) as i64))
    }
}

impl Serialize for UnitBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for UnitBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        UnitBytes::parse(text.trim()).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_like_go_units() {
        assert_eq!(UnitBytes::parse("1g").unwrap().0, 1 << 30);
        assert_eq!(UnitBytes::parse("512m").unwrap().0, 512 << 20);
        assert_eq!(UnitBytes::parse("1.5GB").unwrap().0, 3 << 29);
        assert_eq!(UnitBytes::parse("64 MiB").unwrap().0, 64 << 20);
        assert_eq!(UnitBytes::parse("1024").unwrap().0, 1024);
        assert_eq!(UnitBytes::parse("10k").unwrap().0, 10240);
        assert!(UnitBytes::parse("1x").is_err());
        assert!(UnitBytes::parse("g").is_err());
    }
}
