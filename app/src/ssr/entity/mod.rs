//! SeaORM entities: the tables as the services see them. Only `ssr` code touches these;
//! the browser gets the view types in `api`.

pub mod access_token;
pub mod audit_log;
pub mod calendar_feed;
pub mod channel;
pub mod channel_preference;
pub mod company_day;
pub mod delivery;
pub mod holiday_day;
pub mod notice;
pub mod punch;
pub mod reminder_skip;
pub mod request;
pub mod request_event;
pub mod robot_send;
pub mod robot_state;
pub mod schedule;
pub mod session;
pub mod setting;
pub mod shift;
pub mod used_link;
pub mod user;
pub mod worker_state;
