//! berth's Dockerfile front end: the parser (directives, continuations, heredocs, every
//! instruction), Docker's variable substitution, `.dockerignore` rules, and the stage graph a
//! build executes. Pure: no I/O beyond what callers hand in.
#![deny(missing_docs)]

pub mod context;
pub mod error;
pub mod ignore;
pub mod instruction;
pub mod mount;
pub mod parse;
pub mod shell;
pub mod stages;

pub use error::ParseError;
pub use ignore::Ignore;
pub use instruction::{Command, CopySpec, Instruction, Located, RunMount};
pub use stages::{Dockerfile, Stage};
