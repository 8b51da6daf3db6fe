//! Server functions and the types they exchange: each says who is asking, then calls a
//! service.

mod accounts;
mod overview;
mod reminders;
mod schedule;
pub mod types;

pub use accounts::*;
pub use overview::{SystemOverview, get_overview};
pub use reminders::*;
pub use schedule::*;
