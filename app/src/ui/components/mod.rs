pub mod calendar;
pub mod channel_order;
pub mod company_apps;
pub mod form;
pub mod layout;
pub mod reminder;
