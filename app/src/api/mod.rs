//! Server functions: each says who is asking, then calls a service.

mod overview;

pub use overview::{SystemOverview, get_overview};
