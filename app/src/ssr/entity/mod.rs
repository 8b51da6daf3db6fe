//! SeaORM entities: the tables as the services see them. Only `ssr` code touches these;
//! the browser gets the view types in `api`.

pub mod audit_log;
pub mod session;
pub mod user;
