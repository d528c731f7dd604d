//! One page of a staff list: its rows, how many match in all, and which
//! page it is. Lists page in SQL (`LIMIT`/`OFFSET` on an indexed order); the
//! page number travels in the list's query string as `page`.

use serde::{Deserialize, Serialize};

/// How many rows a staff list shows per page.
pub const PER_PAGE: i64 = 100;

/// The deepest page a staff list serves (100,000 pages of 100 rows).
pub const MAX_PAGE: i64 = 100_000;

/// A page of a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// How many rows match the filters, on every page.
    pub total: i64,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
}

impl<T> Listed<T> {
    /// How many pages the rows fill (at least one).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }

    /// "101–200 of 1,234": the rows shown, for people; "none" when empty.
    pub fn range_text(&self) -> String {
        if self.rows.is_empty() {
            return format!("none of {}", thousands(self.total));
        }
        let first = (self.page - 1) * self.per_page + 1;
        let last = first + self.rows.len() as i64 - 1;
        format!(
            "{}–{} of {}",
            thousands(first),
            thousands(last),
            thousands(self.total)
        )
    }
}

/// A page number as typed in a query string: empty is the first page.
pub fn page_number(text: &str) -> Result<i64, String> {
    match text.trim() {
        "" => Ok(1),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| format!("a page is a whole number from 1 to {MAX_PAGE}")),
    }
}

/// The offset of a page's first row.
pub fn offset_of(page: i64, per_page: i64) -> i64 {
    (page - 1) * per_page
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(rows: usize, total: i64, page: i64) -> Listed<u8> {
        Listed {
            rows: vec![0; rows],
            total,
            page,
            per_page: 100,
        }
    }

    #[test]
    fn a_page_knows_its_neighbours_and_says_what_it_shows() {
        let first = listed(100, 1234, 1);
        assert_eq!(first.pages(), 13);
        assert!(!first.has_previous() && first.has_next());
        assert_eq!(first.range_text(), "1–100 of 1,234");
        let last = listed(34, 1234, 13);
        assert!(last.has_previous() && !last.has_next());
        assert_eq!(last.range_text(), "1,201–1,234 of 1,234");
        let empty = listed(0, 0, 1);
        assert_eq!((empty.pages(), empty.has_next()), (1, false));
        assert_eq!(empty.range_text(), "none of 0");
    }

    #[test]
    fn page_numbers_are_read_and_bad_ones_named() {
        assert_eq!(page_number(""), Ok(1));
        assert_eq!(page_number(" 3 "), Ok(3));
        for bad in ["0", "-1", "two", "100001"] {
            assert!(page_number(bad).unwrap_err().contains("whole number"));
        }
        assert_eq!(offset_of(3, 100), 200);
    }
}
