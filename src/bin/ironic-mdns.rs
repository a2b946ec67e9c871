//! Command-line tool. OWNER: cli helper.
fn main() {}
