//! Errors of the Dockerfile front end.

use std::fmt;

/// A syntax or semantic error in a Dockerfile, located at a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The Dockerfile's name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The text of that line.
    pub source_line: String,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    pub(crate) fn at(
        file: &str,
        line: usize,
        column: usize,
        source_line: &str,
        message: impl Into<String>,
    ) -> Self {
        ParseError {
            file: file.to_string(),
            line,
            column,
            source_line: source_line.trim_end().to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dockerfile parse error on {}:{}:{}: {}\n {:>4} | {}",
            self.file, self.line, self.column, self.message, self.line, self.source_line
        )
    }
}

impl std::error::Error for ParseError {}

/// An [`Invalid`] from `format!` arguments.
#[macro_export]
#[doc(hidden)]
macro_rules! invalid {
    ($($t:tt)*) => {
        $crate::error::Invalid(format!($($t)*))
    };
}

/// What is wrong with a word, an option or a pattern, before the caller gives it a location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

impl From<String> for Invalid {
    fn from(s: String) -> Self {
        Invalid(s)
    }
}

impl From<&str> for Invalid {
    fn from(s: &str) -> Self {
        Invalid(s.to_string())
    }
}

impl From<Invalid> for String {
    fn from(e: Invalid) -> Self {
        e.0
    }
}
