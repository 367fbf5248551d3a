//! Loading compose files into one tree.
