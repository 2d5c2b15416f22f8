//! The error type of the core library.

use std::{fmt, io};

/// What was wrong with one line of a text profile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The first non-blank line is not `mode: MODE`.
    BadModeLine(String),
    /// A separator could not be found where a field should end.
    MissingSeparator {
        /// The separator looked for (`:`, `.`, `,` or a space).
        sep: char,
        /// The field that should follow it.
        field: &'static str,
    },
    /// A field is not a decimal integer.
    BadNumber {
        /// The field's name.
        field: &'static str,
        /// Its text.
        text: String,
    },
    /// A field is negative.
    Negative {
        /// The field's name.
        field: &'static str,
        /// Its text.
        text: String,
    },
    /// A field does not fit (counts above 2^63-1, positions above 2^32-1).
    OutOfRange {
        /// The field's name.
        field: &'static str,
        /// Its text.
        text: String,
        /// The largest value accepted.
        max: u64,
    },
    /// Nothing before the `:` of the start position.
    BlankFileName,
    /// The file name is not UTF-8.
    NonUtf8FileName,
    /// The same block appears again with another statement count.
    InconsistentNumStmt {
        /// The statement count seen first.
        first: u32,
        /// Line of the first occurrence.
        first_line: u32,
        /// The statement count seen here.
        now: u32,
    },
    /// A second `mode:` line names another mode.
    ModeClash {
        /// The mode in force.
        first: String,
        /// The mode found on this line.
        now: String,
    },
    /// No newline within the line length limit
    /// ([`ParseOptions::max_line`](crate::ParseOptions::max_line)).
    LineTooLong {
        /// The limit, in bytes.
        max: usize,
        /// Byte offset of the line's start in the input.
        offset: u64,
    },
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ParseErrorKind::*;
        match self {
            BadModeLine(line) => write!(
                f,
                "expected a mode line such as \"mode: set\", found {:?}",
                truncate(line)
            ),
            MissingSeparator { sep, field } => {
                write!(f, "expected {sep:?} before the {field} field")
            }
            BadNumber { field, text } => write!(
                f,
                "invalid {field} {:?}: expected a decimal integer",
                truncate(text)
            ),
            Negative { field, text } => {
                write!(
                    f,
                    "invalid {field} {text:?}: expected a non-negative integer"
                )
            }
            OutOfRange { field, text, max } => write!(
                f,
                "{field} {:?} is out of range: expected at most {max}",
                truncate(text)
            ),
            BlankFileName => write!(f, "expected a file name before ':'"),
            NonUtf8FileName => write!(f, "expected a UTF-8 file name"),
            InconsistentNumStmt {
                first,
                first_line,
                now,
            } => write!(
                f,
                "inconsistent NumStmt: expected {first} as on line {first_line}, found {now}"
            ),
            ModeClash { first, now } => write!(
                f,
                "mode {now:?} clashes with mode {first:?} declared earlier"
            ),
            LineTooLong { max, offset } => write!(
                f,
                "expected a newline within {max} bytes (the line length limit) \
                 of the line starting at byte offset {offset}"
            ),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.len() <= 80 {
        s.to_string()
    } else {
        let mut end = 80;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}

/// A parse error at a position in an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The input's name (a path, or `-` for stdin).
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// 1-based byte column.
    pub column: u64,
    /// What was wrong.
    pub kind: ParseErrorKind,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for ParseError {}

/// Errors of the core library.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("{path}")]
    Io {
        /// The file involved.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Creating, writing or renaming an output file failed.
    #[error("{message}")]
    Write {
        /// What failed, naming the file (`cannot write out.txt`).
        message: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A text profile is malformed.
    #[error("{0}")]
    Parse(Box<ParseError>),
    /// Two inputs use different modes.
    #[error(
        "mode mismatch: {first_path} has mode {first_mode:?} but {second_path} has mode \
         {second_mode:?}"
    )]
    ModeMismatch {
        /// The input whose mode is in force.
        first_path: String,
        /// Its mode.
        first_mode: String,
        /// The input with the other mode.
        second_path: String,
        /// That mode.
        second_mode: String,
    },
    /// Two profiles describe the same source file differently.
    #[error("{0}")]
    Conflict(Box<Conflict>),
    /// A binary coverage file (GOCOVERDIR) is truncated, corrupt or does
    /// not match its meta-data file.
    #[error("{0}")]
    Covdata(Box<crate::covdata::CovdataError>),
    /// A count went down between two snapshots of a `diff` (the program
    /// restarted in between) and the restart policy says to stop.
    #[error(
        "{input}:{line}:1: count of {file}:{block} went down from {before} to {after} \
         (the program restarted?)"
    )]
    CountWentDown {
        /// The later snapshot.
        input: String,
        /// The block's line in it.
        line: u32,
        /// The Go source file.
        file: String,
        /// The block's range and statements.
        block: String,
        /// The earlier count.
        before: u64,
        /// The later count.
        after: u64,
    },
    /// Finding or opening an input outside the file system (an
    /// object-store URL) failed; the error names the input.
    #[error(transparent)]
    Remote(Box<dyn std::error::Error + Send + Sync>),
    /// An operation would produce a profile with no blocks, which gopherage
    /// refuses to write.
    #[error("can't write an empty profile")]
    EmptyProfile,
    /// Invalid arguments to an operation.
    #[error("{0}")]
    Invalid(String),
    /// A file is outside the root its rows are counted below: a rollup
    /// under that root would leave its counts out.
    #[error("{name} is not under the root {root}/")]
    OutsideRoot {
        /// The file's name in the profile.
        name: String,
        /// The root, without its trailing `/`.
        root: String,
    },
    /// `git` cannot be run.
    #[error("cannot run git")]
    GitRun(#[source] io::Error),
    /// A `git` command failed.
    #[error("git {args} failed: {stderr}")]
    Git {
        /// Its arguments.
        args: String,
        /// What it said.
        stderr: String,
    },
    /// A Go source file does not parse (`go tool cover -func` rejects it
    /// too).
    #[error("{path}:{line}:{column}: {message}")]
    GoSyntax {
        /// The file.
        path: String,
        /// 1-based line.
        line: u32,
        /// 1-based byte column.
        column: u32,
        /// What is wrong.
        message: String,
    },
    /// The Go source file a profile names cannot be found.
    #[error("cannot find the source of {name}: {detail}")]
    SourceNotFound {
        /// The file name as written in the profile.
        name: String,
        /// Where it was looked for and why that failed.
        detail: String,
    },
    /// A Go source file a profile names is not read: it is not an import
    /// path, or it lies outside the directories the mapping trusts.
    #[error("not reading the source of {name}: {reason}")]
    SourceRefused {
        /// The file name as written in the profile.
        name: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

impl Error {
    /// An output that could not be written; `message` names the file.
    pub(crate) fn write(message: impl Into<String>, source: io::Error) -> Error {
        Error::Write {
            message: message.into(),
            source,
        }
    }
}

/// `e` and its sources, joined by `: ` (what `{:#}` of anyhow prints), for
/// messages that carry an error as text.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Error {
        Error::Parse(Box::new(e))
    }
}

/// Why two inputs cannot be combined for one source file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// The Go source file name.
    pub file: String,
    /// The input(s) already combined.
    pub first_input: String,
    /// The input that disagrees.
    pub second_input: String,
    /// Line in `second_input` of the first disagreeing block, when known.
    pub line: Option<u32>,
    /// Human-readable reason.
    pub reason: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}:1: ", self.second_input, l)?,
            None => write!(f, "{}: ", self.second_input)?,
        }
        write!(
            f,
            "cannot combine {} with {}: {}",
            self.file, self.first_input, self.reason
        )
    }
}
