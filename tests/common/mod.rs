//! Test support shared by the integration tests (`mod common;`).
#![allow(dead_code)]

pub mod intruder;
pub mod lab;
pub mod support;
