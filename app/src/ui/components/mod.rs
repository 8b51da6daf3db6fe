pub mod calendar;
pub mod form;
pub mod layout;
pub mod reminder;
