//! `lapdev`: the command-line interface, `lapdev server` and `lapdev demo`.
fn main() {}
