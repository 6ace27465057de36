//! Loading TOML configuration with errors a user can act on.
//!
//! Every config struct denies unknown keys; a parse error names the file, the
//! line and column, and what was expected.

use core::fmt;
use serde::de::DeserializeOwned;

/// A configuration file that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the text came from (a path, or a description).
    pub source_name: String,
    /// 1-based line of the problem, when known.
    pub line: Option<usize>,
    /// 1-based column of the problem, when known.
    pub column: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(col)) => {
                write!(f, "{}:{line}:{col}: {}", self.source_name, self.message)
            }
            (Some(line), None) => write!(f, "{}:{line}: {}", self.source_name, self.message),
            _ => write!(f, "{}: {}", self.source_name, self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// 1-based (line, column) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    (line, before.len() - line_start + 1)
}

/// Parses `text` as `T`, reporting errors against `source_name`.
pub fn from_toml<T: DeserializeOwned>(text: &str, source_name: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let (line, column) = match err.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ConfigError {
            source_name: source_name.to_owned(),
            line,
            column,
            message: err.message().trim_end().to_owned(),
        }
    })
}

/// Reads and parses a TOML file.
pub fn load_toml<T: DeserializeOwned>(path: &std::path::Path) -> Result<T, ConfigError> {
    let text = read_file(path)?;
    from_toml(&text, &path.display().to_string())
}

/// Reads a configuration file's text, naming the file if it cannot.
pub fn read_file(path: &std::path::Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|err| ConfigError {
        source_name: path.display().to_string(),
        line: None,
        column: None,
        message: format!("cannot read: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        size: u32,
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let err =
            from_toml::<Sample>("name = \"a\"\nsize = 1\ncolour = 2\n", "x.toml").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("colour"), "{err}");
        assert!(err.to_string().starts_with("x.toml:3:"), "{err}");
    }

    #[test]
    fn bad_values_name_the_line() {
        let err = from_toml::<Sample>("name = \"a\"\nsize = -4\n", "x.toml").unwrap_err();
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}

/// A number in a config file, written as a string (`"0.5"`, exact) or an
/// integer; read with a [`Reader`].
#[derive(Debug, Clone)]
pub struct Number(pub String);

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number as a string (\"0.5\") or an integer")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                Ok(Number(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An optional number with where it was written.
pub type Field = Option<toml::Spanned<Number>>;

/// Reads [`Field`]s of one file: a field's default when absent, else parsed
/// and checked, with an error naming the key, the value, the line and what
/// was expected.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    text: &'a str,
    source: &'a str,
}

impl<'a> Reader<'a> {
    /// Fields of `text`, which came from `source`.
    pub fn new(text: &'a str, source: &'a str) -> Reader<'a> {
        Reader { text, source }
    }

    /// An error at `field`: `key = "value": expected …`.
    pub fn error(&self, key: &str, field: &toml::Spanned<Number>, expected: &str) -> ConfigError {
        let (line, column) = line_col(self.text, field.span().start);
        ConfigError {
            source_name: self.source.to_owned(),
            line: Some(line),
            column: Some(column),
            message: format!("{key} = {:?}: expected {expected}", field.get_ref().0),
        }
    }

    /// A fixed-point decimal (raw, at eight decimal places) of at
    /// least `min`; `default` when absent.
    pub fn decimal(
        &self,
        key: &str,
        field: &Field,
        default: &str,
        min: i64,
        expected: &str,
    ) -> Result<i64, ConfigError> {
        self.decimal_in(key, field, default, min..=i64::MAX, expected)
    }

    /// A fixed-point decimal (raw) within `range`; `default` when absent.
    pub fn decimal_in(
        &self,
        key: &str,
        field: &Field,
        default: &str,
        range: core::ops::RangeInclusive<i64>,
        expected: &str,
    ) -> Result<i64, ConfigError> {
        let Some(field) = field else {
            return Ok(crate::model::Qty::parse(default)
                .expect("a valid default")
                .raw());
        };
        match crate::model::Qty::parse(&field.get_ref().0) {
            Ok(v) if range.contains(&v.raw()) => Ok(v.raw()),
            _ => Err(self.error(key, field, expected)),
        }
    }

    /// A whole number of at least `min`; `default` when absent.
    pub fn count(
        &self,
        key: &str,
        field: &Field,
        default: u32,
        min: u32,
    ) -> Result<u32, ConfigError> {
        let Some(field) = field else {
            return Ok(default);
        };
        match field.get_ref().0.parse::<u32>() {
            Ok(v) if v >= min => Ok(v),
            _ => Err(self.error(key, field, &format!("a whole number of at least {min}"))),
        }
    }
}
