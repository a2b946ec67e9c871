//! The C ABI. OWNER: capi helper.
