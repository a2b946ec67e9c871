//! TODO(owner): see engine/mod.rs
