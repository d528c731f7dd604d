//! Paginated lists: `?page_size=&cursor=` or `?page=`, answered with
//! `{ count, next, previous, results }` and absolute links. Lists are in id
//! order and nothing listed is ever deleted, so a cursor (an opaque position)
//! stays right while rows are added.

use axum::http::{HeaderMap, Uri, header};
use backend::members::Window;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 200;

/// Which page of a list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Results per page, 1 to 200 (default 50).
    pub page_size: Option<String>,
    /// The `next` or `previous` link's cursor.
    pub cursor: Option<String>,
    /// A page number from 1, instead of a cursor.
    pub page: Option<String>,
}

impl PageQuery {
    /// The rows asked for (one more than the page, to tell whether there is a next).
    pub fn window(&self) -> Result<Window, ApiError> {
        let size = match self.page_size.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_PAGE_SIZE,
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "page_size",
                        format!("a page size is a whole number from 1 to {MAX_PAGE_SIZE}"),
                    )
                })?,
        };
        let offset = match (self.cursor.as_deref(), self.page.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "cursor",
                    "send either a cursor or a page, not both",
                ));
            }
            (Some(c), None) => decode_cursor(c).ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "this cursor is not one of ours; start again from the first page",
                )
            })?,
            (None, Some(p)) => {
                let page = p
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=1_000_000).contains(n))
                    .ok_or_else(|| ApiError::invalid("page", "a page is a whole number from 1"))?;
                (page - 1) * size
            }
            (None, None) => 0,
        };
        Ok(Window {
            offset,
            limit: size,
        })
    }
}

fn encode_cursor(offset: i64) -> String {
    format!("o{offset:x}")
}

fn decode_cursor(text: &str) -> Option<i64> {
    let hex = text.trim().strip_prefix('o')?;
    if hex.is_empty() || hex.len() > 12 {
        return None;
    }
    i64::from_str_radix(hex, 16).ok()
}

/// The address of the request, to make absolute links from.
#[derive(Clone, Debug)]
pub struct Here {
    base: String,
    path: String,
    query: Vec<(String, String)>,
}

impl Here {
    pub fn new(headers: &HeaderMap, uri: &Uri) -> Here {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .unwrap_or("localhost");
        let scheme = match headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
        {
            Some("https") => "https",
            _ => "http",
        };
        let query = uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .filter(|(k, _)| !matches!(k.as_str(), "cursor" | "page"))
                    .collect()
            })
            .unwrap_or_default();
        Here {
            base: format!("{scheme}://{host}"),
            path: uri.path().to_string(),
            query,
        }
    }

    fn with_cursor(&self, offset: i64) -> String {
        let mut pairs: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        pairs.push(format!("cursor={}", encode_cursor(offset)));
        format!("{}{}?{}", self.base, self.path, pairs.join("&"))
    }

    /// The page's answer: `rows` holds up to one more than the window's size.
    pub fn page<T>(
        &self,
        window: Window,
        mut rows: Vec<T>,
        count: i64,
    ) -> (i64, Option<String>, Option<String>, Vec<T>) {
        let has_next = rows.len() as i64 > window.limit;
        rows.truncate(window.limit as usize);
        let next = has_next.then(|| self.with_cursor(window.offset + window.limit));
        let previous =
            (window.offset > 0).then(|| self.with_cursor((window.offset - window.limit).max(0)));
        (count, next, previous, rows)
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A window of a list held in memory (one more row than the page, as
/// `Here::page` wants) and how many rows there are in all.
pub fn in_memory<T>(all: Vec<T>, window: Window) -> (Vec<T>, i64) {
    let count = all.len() as i64;
    let rows = all
        .into_iter()
        .skip(window.offset as usize)
        .take(window.limit as usize + 1)
        .collect();
    (rows, count)
}

/// The rows to fetch for a window: one more than the page, to tell whether there is a next.
pub fn one_more(window: Window) -> Window {
    Window {
        limit: window.limit + 1,
        ..window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(size: Option<&str>, cursor: Option<&str>, page: Option<&str>) -> PageQuery {
        PageQuery {
            page_size: size.map(Into::into),
            cursor: cursor.map(Into::into),
            page: page.map(Into::into),
        }
    }

    #[test]
    fn pages_and_cursors_are_read_and_bad_ones_named() {
        assert_eq!(query(None, None, None).window().unwrap().limit, 50);
        assert_eq!(
            query(Some("10"), None, Some("3")).window().unwrap().offset,
            20
        );
        assert_eq!(
            query(Some("10"), Some("o1e"), None)
                .window()
                .unwrap()
                .offset,
            30
        );
        for (bad, field) in [
            (query(Some("0"), None, None), "page_size"),
            (query(Some("201"), None, None), "page_size"),
            (query(None, Some("xyz"), None), "cursor"),
            (query(None, Some("o1"), Some("1")), "cursor"),
            (query(None, None, Some("0")), "page"),
        ] {
            let error = bad.window().unwrap_err();
            assert_eq!(error.body.error.field.as_deref(), Some(field));
        }
    }

    #[test]
    fn links_are_absolute_and_keep_the_filters() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "club.example:8080".parse().unwrap());
        let uri: Uri = "/api/v1/members?status=active&search=ann%20b&cursor=o2"
            .parse()
            .unwrap();
        let here = Here::new(&headers, &uri);
        let window = query(Some("2"), Some("o2"), None).window().unwrap();
        let (count, next, previous, rows) = here.page(window, vec![1, 2, 3], 9);
        assert_eq!((count, rows), (9, vec![1, 2]));
        assert_eq!(
            next.as_deref(),
            Some("http://club.example:8080/api/v1/members?status=active&search=ann+b&cursor=o4")
        );
        assert_eq!(
            previous.as_deref(),
            Some("http://club.example:8080/api/v1/members?status=active&search=ann+b&cursor=o0")
        );
        let first = query(Some("2"), None, None).window().unwrap();
        let (_, next, previous, _) = here.page(first, vec![1, 2], 2);
        assert_eq!((next, previous), (None, None));
    }
}
