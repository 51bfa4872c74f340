//! Typing a canonical [`Node`] tree into the model with serde, keeping the
//! path and span of every value for errors.
//!
//! The deserializer is lenient in the ways compose-go's mapstructure decoding
//! is (`WeaklyTypedInput`-like): a number or boolean where text is expected
//! becomes its text (`environment: {A: 1}`), a numeric string where a number
//! is expected is parsed, and a scalar where a list is expected is a list of
//! one. A struct field named `#extensions` receives the mapping's `x-` keys.

use crate::loader::node::{Location, Node, NodePath, Span, Value};
use crate::model::emit::markers::EXTENSIONS_FIELD;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

/// A value that does not fit the model, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            location: None,
            message: msg.to_string(),
        }
    }
}

impl DeError {
    /// Attach the innermost location: the first caller to see the error wins.
    fn at(mut self, path: &NodePath, span: &Option<Span>) -> Self {
        if self.location.is_none() {
            self.location = Some(Location::new(span.clone(), path.clone()));
        }
        self
    }
}

/// Deserialize `T` from `node`, whose place in the document is `path`.
pub fn from_node<'a, T: de::Deserialize<'a>>(node: &'a Node, path: NodePath) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, path })
}

/// A deserializer over one node.
pub struct NodeDe<'a> {
    pub node: &'a Node,
    pub path: NodePath,
}

impl<'a> NodeDe<'a> {
    fn fail(&self, expected: &str) -> DeError {
        DeError {
            location: Some(Location::new(self.node.span.clone(), self.path.clone())),
            message: format!("expected {expected}, found {}", describe(self.node)),
        }
    }

    fn wrap<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.at(&self.path, &self.node.span))
    }

    fn text(&self) -> Option<String> {
        self.node.scalar_text()
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::String(s) => format!("string {s:?}"),
        Value::Int(i) => format!("number {i}"),
        Value::Float(f) => format!("number {f}"),
        Value::Bool(b) => format!("boolean {b}"),
        _ => node.kind_name().to_string(),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    // Go's strconv.ParseBool, plus the YAML 1.1 words compose accepts.
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" | "y" | "Y" | "yes" | "Yes" | "YES" | "on"
        | "On" | "ON" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" | "n" | "N" | "no" | "No" | "NO" | "off"
        | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

macro_rules! de_int {
    ($name:ident, $visit:ident, $ty:ty) => {
        fn $name<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n: Option<$ty> = match &self.node.value {
                // mapstructure leaves a null at the field's zero value.
                Value::Null => Some(0),
                Value::Int(i) => <$ty>::try_from(*i).ok(),
                Value::Float(f) if f.fract() == 0.0 => <$ty>::try_from(*f as i64).ok(),
                Value::String(s) => s.trim().parse::<$ty>().ok(),
                _ => None,
            };
            match n {
                Some(n) => self.wrap(visitor.$visit(n)),
                None => Err(self.fail(concat!("an integer (", stringify!($ty), ")"))),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_str(s),
            Value::Seq(_) => return self.deserialize_seq(visitor),
            Value::Map(_) => return self.deserialize_map(visitor),
        };
        self.wrap(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = match &self.node.value {
            Value::Null => Some(false),
            Value::Bool(b) => Some(*b),
            Value::String(s) => parse_bool(s),
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        };
        match b {
            Some(b) => self.wrap(visitor.visit_bool(b)),
            None => Err(self.fail("a boolean (true or false)")),
        }
    }

    de_int!(deserialize_i8, visit_i8, i8);
    de_int!(deserialize_i16, visit_i16, i16);
    de_int!(deserialize_i32, visit_i32, i32);
    de_int!(deserialize_i64, visit_i64, i64);
    de_int!(deserialize_u8, visit_u8, u8);
    de_int!(deserialize_u16, visit_u16, u16);
    de_int!(deserialize_u32, visit_u32, u32);
    de_int!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = match &self.node.value {
            Value::Null => Some(0.0),
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match f {
            Some(f) => self.wrap(visitor.visit_f64(f)),
            None => Err(self.fail("a number")),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::String(s) => self.wrap(visitor.visit_str(s)),
            Value::Null => self.wrap(visitor.visit_str("")),
            _ => match self.text() {
                Some(t) => self.wrap(visitor.visit_string(t)),
                None => Err(self.fail("a string")),
            },
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            self.wrap(visitor.visit_none())
        } else {
            let (path, span) = (self.path.clone(), self.node.span.clone());
            visitor
                .visit_some(self)
                .map_err(|e: DeError| e.at(&path, &span))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.wrap(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (path, span) = (self.path.clone(), self.node.span.clone());
        visitor
            .visit_newtype_struct(self)
            .map_err(|e: DeError| e.at(&path, &span))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => {
                let access = SeqAccess {
                    items: items.iter().enumerate(),
                    path: &self.path,
                };
                self.wrap(visitor.visit_seq(access))
            }
            Value::Null => self.wrap(visitor.visit_seq(SeqAccess {
                items: [].iter().enumerate(),
                path: &self.path,
            })),
            // compose-go's StringList and friends accept a single value.
            Value::String(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                let one = std::slice::from_ref(self.node);
                self.wrap(visitor.visit_seq(SingleAccess {
                    items: one.iter(),
                    path: &self.path,
                }))
            }
            Value::Map(_) => Err(self.fail("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.mapping(visitor, false)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.mapping(visitor, fields.contains(&EXTENSIONS_FIELD))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.text() {
            Some(t) => self.wrap(visitor.visit_enum(t.into_deserializer())),
            None => Err(self.fail("one of the allowed words")),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

impl<'de> NodeDe<'de> {
    /// A mapping (or null, read as an empty one); for a struct with an
    /// `#extensions` field, the `x-` keys are gathered into it.
    fn mapping<V: Visitor<'de>>(self, visitor: V, extensions: bool) -> Result<V::Value, DeError> {
        static EMPTY: std::sync::LazyLock<crate::loader::node::Mapping> =
            std::sync::LazyLock::new(crate::loader::node::Mapping::new);
        let map = match &self.node.value {
            Value::Map(m) => m,
            Value::Null => &*EMPTY,
            _ => return Err(self.fail("a mapping")),
        };
        let access = MapAccess {
            entries: map.iter(),
            path: &self.path,
            pending: None,
            extensions: if extensions {
                Some(map.iter().filter(|(k, _)| k.starts_with("x-")).collect())
            } else {
                None
            },
            ext_span: self.node.span.clone(),
        };
        self.wrap(visitor.visit_map(access))
    }
}

struct SeqAccess<'a, I> {
    items: I,
    path: &'a NodePath,
}

impl<'de, I> de::SeqAccess<'de> for SeqAccess<'_, I>
where
    I: Iterator<Item = (usize, &'de Node)>,
{
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => {
                let path = self.path.index(i);
                seed.deserialize(NodeDe {
                    node,
                    path: path.clone(),
                })
                .map(Some)
                .map_err(|e| e.at(&path, &node.span))
            }
            None => Ok(None),
        }
    }
}

struct SingleAccess<'a, I> {
    items: I,
    path: &'a NodePath,
}

impl<'de, I> de::SeqAccess<'de> for SingleAccess<'_, I>
where
    I: Iterator<Item = &'de Node>,
{
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed
                .deserialize(NodeDe {
                    node,
                    path: self.path.clone(),
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

enum Pending<'de> {
    Value(&'de str, &'de Node),
    Extensions,
}

struct MapAccess<'a, 'de, I> {
    entries: I,
    path: &'a NodePath,
    pending: Option<Pending<'de>>,
    extensions: Option<Vec<(&'de String, &'de Node)>>,
    ext_span: Option<Span>,
}

impl<'de, I> de::MapAccess<'de> for MapAccess<'_, 'de, I>
where
    I: Iterator<Item = (&'de String, &'de Node)>,
{
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (k, v) in self.entries.by_ref() {
            if self.extensions.is_some() && k.starts_with("x-") {
                continue;
            }
            self.pending = Some(Pending::Value(k, v));
            let key: de::value::StrDeserializer<'_, DeError> = k.as_str().into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        if self.extensions.as_ref().is_some_and(|e| !e.is_empty()) {
            self.pending = Some(Pending::Extensions);
            let key: de::value::StrDeserializer<'_, DeError> = EXTENSIONS_FIELD.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.pending.take() {
            Some(Pending::Value(k, node)) => {
                let path = self.path.key(k);
                seed.deserialize(NodeDe {
                    node,
                    path: path.clone(),
                })
                .map_err(|e| e.at(&path, &node.span))
            }
            Some(Pending::Extensions) => {
                let ext = self.extensions.take().unwrap_or_default();
                seed.deserialize(ExtensionsDe {
                    entries: ext,
                    path: self.path,
                    span: self.ext_span.clone(),
                })
            }
            None => Err(de::Error::custom("value requested before its key")),
        }
    }
}

/// The synthetic `#extensions` value: the `x-` entries of a mapping.
struct ExtensionsDe<'a, 'de> {
    entries: Vec<(&'de String, &'de Node)>,
    path: &'a NodePath,
    span: Option<Span>,
}

impl<'de> de::Deserializer<'de> for ExtensionsDe<'_, 'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let access = MapAccess {
            entries: self.entries.into_iter(),
            path: self.path,
            pending: None,
            extensions: None,
            ext_span: None,
        };
        visitor
            .visit_map(access)
            .map_err(|e| e.at(self.path, &self.span))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}
