//! In-process route-source lookup and address choice (SPEC 4.2).
//! OWNER: endpoint helper.
