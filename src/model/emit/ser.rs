//! A serde `Serializer` that builds an [`Emit`] tree, keeping structs apart
//! from maps and honouring the [`markers`](super::markers).

use super::markers::{EXTENSIONS_FIELD, JSON_GO_FIELD_NAMES, KEEP_IN_JSON};
use super::{Emit, Format};
use serde::ser::{self, Serialize};
use std::fmt;

/// Serialising the model failed (only for map keys that are not strings,
/// which the model never has).
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("cannot print the model: {0}")]
    Serialize(String),
    #[error("cannot print the model: mapping keys must be strings")]
    KeyNotString,
}

impl ser::Error for EmitError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        EmitError::Serialize(msg.to_string())
    }
}

/// Turn any serialisable model value into an [`Emit`] tree for `format`.
pub fn to_emit<T: Serialize + ?Sized>(value: &T, format: Format) -> Result<Emit, EmitError> {
    value.serialize(EmitSerializer { format })
}

#[derive(Clone, Copy)]
struct EmitSerializer {
    format: Format,
}

pub struct SeqBuilder {
    format: Format,
    items: Vec<Emit>,
}

pub struct MapBuilder {
    format: Format,
    entries: Vec<(String, Emit)>,
    key: Option<String>,
}

pub struct StructBuilder {
    format: Format,
    /// JSON keys are the capitalised field names (Go structs without tags).
    capitalize: bool,
    fields: Vec<(String, Emit)>,
    extensions: Vec<(String, Emit)>,
}

impl ser::Serializer for EmitSerializer {
    type Ok = Emit;
    type Error = EmitError;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = SeqBuilder;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = StructBuilder;

    fn serialize_bool(self, v: bool) -> Result<Emit, EmitError> {
        Ok(Emit::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Emit, EmitError> {
        Ok(Emit::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Emit, EmitError> {
        Ok(Emit::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Emit, EmitError> {
        Ok(Emit::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Emit, EmitError> {
        Ok(Emit::Int(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Emit, EmitError> {
        Ok(Emit::UInt(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Emit, EmitError> {
        Ok(Emit::UInt(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Emit, EmitError> {
        Ok(Emit::UInt(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Emit, EmitError> {
        Ok(Emit::UInt(v))
    }
    fn serialize_f32(self, v: f32) -> Result<Emit, EmitError> {
        Ok(Emit::F32(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Emit, EmitError> {
        Ok(Emit::F64(v))
    }
    fn serialize_char(self, v: char) -> Result<Emit, EmitError> {
        Ok(Emit::Str(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Emit, EmitError> {
        Ok(Emit::Str(v.to_string()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Emit, EmitError> {
        Ok(Emit::Seq(
            v.iter().map(|b| Emit::UInt((*b).into())).collect(),
        ))
    }
    fn serialize_none(self) -> Result<Emit, EmitError> {
        Ok(Emit::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Emit, EmitError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Emit, EmitError> {
        Ok(Emit::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Emit, EmitError> {
        Ok(Emit::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Emit, EmitError> {
        Ok(Emit::Str(variant.to_string()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Emit, EmitError> {
        let inner = value.serialize(self)?;
        if name == KEEP_IN_JSON && self.format == Format::Yaml && inner.is_yaml_empty() {
            return Ok(Emit::Omit);
        }
        Ok(inner)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Emit, EmitError> {
        Ok(Emit::Map(vec![(
            variant.to_string(),
            value.serialize(self)?,
        )]))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder, EmitError> {
        Ok(SeqBuilder {
            format: self.format,
            items: Vec::with_capacity(len.unwrap_or(0)),
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder, EmitError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, EmitError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<SeqBuilder, EmitError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder, EmitError> {
        Ok(MapBuilder {
            format: self.format,
            entries: Vec::new(),
            key: None,
        })
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<StructBuilder, EmitError> {
        Ok(StructBuilder {
            format: self.format,
            capitalize: self.format == Format::Json && name.starts_with(JSON_GO_FIELD_NAMES),
            fields: Vec::new(),
            extensions: Vec::new(),
        })
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        len: usize,
    ) -> Result<StructBuilder, EmitError> {
        self.serialize_struct("", len)
    }
}

impl ser::SerializeSeq for SeqBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        let item = value.serialize(EmitSerializer {
            format: self.format,
        })?;
        self.items.push(item);
        Ok(())
    }
    fn end(self) -> Result<Emit, EmitError> {
        Ok(Emit::Seq(self.items))
    }
}

impl ser::SerializeTuple for SeqBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Emit, EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Emit, EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleVariant for SeqBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<Emit, EmitError> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EmitError> {
        let k = key.serialize(EmitSerializer {
            format: self.format,
        })?;
        self.key = Some(match k {
            Emit::Str(s) => s,
            Emit::Int(i) => i.to_string(),
            Emit::UInt(u) => u.to_string(),
            Emit::Bool(b) => b.to_string(),
            _ => return Err(EmitError::KeyNotString),
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EmitError> {
        let key = self.key.take().ok_or(EmitError::KeyNotString)?;
        let v = value.serialize(EmitSerializer {
            format: self.format,
        })?;
        if v != Emit::Omit {
            self.entries.push((key, v));
        }
        Ok(())
    }
    fn end(self) -> Result<Emit, EmitError> {
        Ok(Emit::Map(self.entries))
    }
}

impl ser::SerializeStruct for StructBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        let v = value.serialize(EmitSerializer {
            format: self.format,
        })?;
        if key == EXTENSIONS_FIELD {
            // yaml `,inline`: the x- keys follow the fields, sorted as a map's.
            if let Emit::Map(entries) = v {
                self.extensions.extend(entries);
            }
            return Ok(());
        }
        if v != Emit::Omit {
            let key = if self.capitalize {
                capitalized(key)
            } else {
                key.to_string()
            };
            self.fields.push((key, v));
        }
        Ok(())
    }
    fn end(self) -> Result<Emit, EmitError> {
        Ok(Emit::Struct {
            fields: self.fields,
            extensions: self.extensions,
        })
    }
}

impl ser::SerializeStructVariant for StructBuilder {
    type Ok = Emit;
    type Error = EmitError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EmitError> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<Emit, EmitError> {
        ser::SerializeStruct::end(self)
    }
}

fn capitalized(key: &str) -> String {
    let mut c = key.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
