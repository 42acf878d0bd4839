//! A JSON value whose arrays and objects are capped while parsing: the
//! first [`CAP`] elements are kept and the rest only counted, so a data
//! file with ten million evidence ids is read in bounded memory and the
//! report says "N more" instead of growing with the input.

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Most elements kept per array or object.
pub const CAP: usize = 2_000;
/// Longest string kept (longer ones are cut, with a marker).
pub const MAX_STR: usize = 4_096;

/// A parsed, capped JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// `null`.
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// Any number.
    Num(f64),
    /// A string (cut at [`MAX_STR`] bytes).
    Str(String),
    /// An array: kept elements and how many more there were.
    Arr(Vec<Val>, u64),
    /// An object in file order: kept members and how many more there were.
    Obj(Vec<(String, Val)>, u64),
}

impl Val {
    /// Member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Val> {
        match self {
            Val::Obj(m, _) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The number, also from a numeric string.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Str(s) => s.trim().trim_end_matches('%').parse().ok(),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// True for null, bool, number and string.
    pub fn is_scalar(&self) -> bool {
        !matches!(self, Val::Arr(..) | Val::Obj(..))
    }

    /// Short text for a table cell.
    pub fn cell(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Bool(b) => b.to_string(),
            Val::Num(n) => fmt_num(*n),
            Val::Str(s) => s.clone(),
            Val::Arr(items, more) => {
                let mut parts: Vec<String> = items.iter().take(8).map(Val::cell).collect();
                let rest = (items.len().saturating_sub(8)) as u64 + more;
                if rest > 0 {
                    parts.push(format!("… {rest} more"));
                }
                parts.join(", ")
            }
            Val::Obj(..) => {
                let mut s = self.to_json();
                if s.len() > 200 {
                    let mut cut = 200;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s.truncate(cut);
                    s.push('…');
                }
                s
            }
        }
    }

    /// Compact JSON text (capped members are not shown).
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.to_serde()).unwrap_or_default()
    }

    /// Converts to a `serde_json::Value` (for the JSON report form).
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Val::Null => J::Null,
            Val::Bool(b) => J::Bool(*b),
            Val::Num(n) => serde_json::Number::from_f64(*n)
                .map(J::Number)
                .unwrap_or(J::Null),
            Val::Str(s) => J::String(s.clone()),
            Val::Arr(a, _) => J::Array(a.iter().map(Val::to_serde).collect()),
            Val::Obj(m, _) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect()),
        }
    }
}

/// Numbers as people read them: integers without decimals, others to 4
/// significant decimals.
pub fn fmt_num(n: f64) -> String {
    if !n.is_finite() {
        return String::new();
    }
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn cut(mut s: String) -> String {
    if s.len() > MAX_STR {
        let mut c = MAX_STR;
        while !s.is_char_boundary(c) {
            c -= 1;
        }
        s.truncate(c);
        s.push('…');
    }
    s
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_none<E>(self) -> Result<Val, E> {
        Ok(Val::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(cut(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(cut(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut items = Vec::new();
        let mut more = 0u64;
        while items.len() < CAP {
            match seq.next_element::<Val>()? {
                Some(v) => items.push(v),
                None => return Ok(Val::Arr(items, 0)),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {
            more += 1;
        }
        Ok(Val::Arr(items, more))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut members = Vec::new();
        let mut more = 0u64;
        while let Some(k) = map.next_key::<String>()? {
            if members.len() < CAP {
                let v = map.next_value::<Val>()?;
                members.push((cut(k), v));
            } else {
                map.next_value::<IgnoredAny>()?;
                more += 1;
            }
        }
        Ok(Val::Obj(members, more))
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Val, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_long_arrays_and_counts_the_rest() {
        let text = format!(
            "{{\"a\":[{}]}}",
            (0..CAP + 5)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let v: Val = serde_json::from_str(&text).unwrap();
        let Some(Val::Arr(items, more)) = v.get("a") else {
            panic!()
        };
        assert_eq!((items.len(), *more), (CAP, 5));
        assert_eq!(items[3], Val::Num(3.0));
        assert_eq!(fmt_num(2.5), "2.5");
        assert_eq!(fmt_num(31846.0), "31846");
    }
}
