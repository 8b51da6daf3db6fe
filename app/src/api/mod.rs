//! Server functions: each says who is asking, then calls a service. The types they
//! exchange are in `crate::wire`.

mod accounts;
mod overview;
mod reminders;
mod requests;
mod schedule;

pub use accounts::*;
pub use overview::get_overview;
pub use reminders::*;
pub use requests::*;
pub use schedule::*;
