//! The C ABI of libironicmdns.
//!
//! This layer converts and guards only (docs/DESIGN.md "The C ABI"): it
//! checks pointers and strings, calls the Rust API, and turns its results
//! into status codes and out-parameters. One module per exported object:
//!
//! - [`status`]: `zc_status`, the `ZC_*` codes, `zc_strerror`, `zc_version`
//! - [`boundary`]: the one panic/NULL/error-detail boundary every export uses
//! - [`strings`]: input strings (NUL-terminated UTF-8, bounded), returned
//!   strings and `zc_string_free`, snprintf-style copies
//! - [`options`]: `zc_options`, the options listing, the sample config
//! - [`props`]: `zc_props`, TXT properties
//! - [`log`]: `zc_set_log_callback`, the log levels
//! - [`browse`]: `zc_services`, `zc_browse`
//! - [`zeroconf`]: `zc_zeroconf`, `zc_new`, `zc_register_service`,
//!   `zc_get_endpoint`, `zc_close`, `zc_lookup`, `zc_last_error`
//! - [`cancel`]: `zc_cancel`, the token that cancels one call
//! - [`cancellable`]: the `_ex` calls, cancellable by a `zc_cancel`
//!
//! `boundary`, `status` and `strings` use each other on purpose: the
//! boundary maps errors to status codes and copies detail text with the
//! snprintf-style copy of `strings`, while the exports that live in
//! `status` and `strings` (`zc_strerror`, `zc_version`, `zc_string_free`)
//! pass through the boundary's panic guard like every other export; they
//! stay three modules because cbindgen writes the header in module order.
//!
//! The header `include/ironicmdns.h` is generated from these modules by
//! cbindgen (see `cbindgen.toml`); the doc comments below are its text.

// The exported names follow C conventions (`zc_status`, `zc_props`).
#![allow(non_camel_case_types)]
// Every pointer argument is checked for NULL before use (boundary.rs);
// beyond that the C caller promises what the header documents.
#![allow(clippy::missing_safety_doc)]
#![allow(clippy::not_unsafe_ptr_arg_deref)]

// The header follows this order (cbindgen reads the modules in turn).
pub mod status;

pub mod strings;

pub mod zeroconf;

pub mod cancel;

pub mod cancellable;

pub mod options;

pub mod props;

pub mod browse;

pub mod log;

pub mod boundary;

pub use status::zc_status;
