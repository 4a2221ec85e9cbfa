//! Record writers, one module per vendor. Each function appends one record to a [`super::buf::Buf`]
//! in the vendor's own wire format; none allocates a JSON tree.

pub mod intune;
pub mod jamf;
pub mod ws1;
