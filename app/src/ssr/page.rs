//! Paging parameters, validated once for every list.

use crate::AppError;
use crate::api::types::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

impl PageRequest {
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self, AppError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PAGE_SIZE);
        if page == 0 || page > 1_000_000 {
            return Err(AppError::invalid("page", "应为 1 到 1000000 之间的整数"));
        }
        if per_page == 0 || per_page > MAX_PAGE_SIZE {
            return Err(AppError::invalid(
                "per_page",
                format!("应为 1 到 {MAX_PAGE_SIZE} 之间的整数"),
            ));
        }
        Ok(Self { page, per_page })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1) * self.per_page
    }

    pub fn limit(self) -> u64 {
        self.per_page
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_one_based_and_bounded() {
        let page = PageRequest::new(Some(3), Some(10)).unwrap();
        assert_eq!((page.offset(), page.limit()), (20, 10));
        assert_eq!(PageRequest::new(None, None).unwrap().offset(), 0);
        assert!(PageRequest::new(Some(0), None).is_err());
        assert!(PageRequest::new(None, Some(101)).is_err());
        assert!(PageRequest::new(None, Some(0)).is_err());
    }
}
