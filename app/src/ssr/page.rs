//! Paging parameters, validated once for every list.

use crate::AppError;
use crate::wire::{DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u64,
    per_page: u64,
}

impl PageRequest {
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Result<Self, AppError> {
        Self::with_default_size(page, per_page, DEFAULT_PAGE_SIZE)
    }

    /// Like `new`, for a list whose page size is `default_per_page` when none is asked for.
    pub fn with_default_size(
        page: Option<u64>,
        per_page: Option<u64>,
        default_per_page: u64,
    ) -> Result<Self, AppError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(default_per_page);
        // Out-of-range numbers are refused, not clamped: an offset past i64 is not a
        // query the database can run.
        if page == 0 || page > MAX_PAGE {
            return Err(AppError::invalid(
                "page",
                format!("应为 1 到 {MAX_PAGE} 之间的整数"),
            ));
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
        assert!(PageRequest::new(Some(u64::MAX), None).is_err());
        assert!(PageRequest::new(Some(MAX_PAGE + 1), None).is_err());
        let last = PageRequest::new(Some(MAX_PAGE), Some(MAX_PAGE_SIZE)).unwrap();
        assert!(i64::try_from(last.offset()).is_ok());
        let deliveries = PageRequest::with_default_size(None, None, 50).unwrap();
        assert_eq!(deliveries.limit(), 50);
    }
}
