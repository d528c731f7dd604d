//! Paginated lists: `?page_size=&cursor=` or `?page=`, answered with
//! `{ count, next, previous, results }` and absolute links. Lists are in id
//! order and nothing listed is ever deleted, so a cursor (an opaque position)
//! stays right while rows are added. A cursor is an offset (`o…`) or, on
//! lists that seek (memberships, members), a row's id to continue after (`a…`) or
//! before (`b…`): as fast on the thousandth page as on the first.

use axum::http::{HeaderMap, Uri, header};
use backend::members::Window;
use backend::memberships::Seek;
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
    fn size(&self) -> Result<i64, ApiError> {
        match self.page_size.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_PAGE_SIZE),
            Some(t) => t
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| {
                    ApiError::invalid(
                        "page_size",
                        format!("a page size is a whole number from 1 to {MAX_PAGE_SIZE}"),
                    )
                }),
        }
    }

    /// Where the page starts (a cursor's position, a page number's offset)
    /// and its size. `seeks`: whether the list takes id cursors.
    fn position(&self, seeks: bool) -> Result<(Seek, i64), ApiError> {
        let size = self.size()?;
        let seek = match (self.cursor.as_deref(), self.page.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "cursor",
                    "send either a cursor or a page, not both",
                ));
            }
            (Some(c), None) => decode_cursor(c)
                .filter(|seek| seeks || matches!(seek, Seek::Offset(_)))
                .ok_or_else(|| {
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
                Seek::Offset((page - 1) * size)
            }
            (None, None) => Seek::Offset(0),
        };
        Ok((seek, size))
    }

    /// The rows asked for by offset (one more than the page is fetched, to
    /// tell whether there is a next).
    pub fn window(&self) -> Result<Window, ApiError> {
        match self.position(false)? {
            (Seek::Offset(offset), limit) => Ok(Window { offset, limit }),
            _ => unreachable!("position(false) answers offsets only"),
        }
    }

    /// Where a seeking list's page starts, and its size.
    pub fn seek(&self) -> Result<(Seek, i64), ApiError> {
        self.position(true)
    }
}

fn encode_cursor(seek: Seek) -> String {
    match seek {
        Seek::Offset(offset) => format!("o{offset:x}"),
        Seek::After(id) => format!("a{id:x}"),
        Seek::Before(id) => format!("b{id:x}"),
    }
}

fn decode_cursor(text: &str) -> Option<Seek> {
    let text = text.trim();
    let kind = text.chars().next()?;
    let hex = &text[kind.len_utf8()..];
    if hex.is_empty() || hex.len() > 12 {
        return None;
    }
    let n = i64::from_str_radix(hex, 16).ok().filter(|n| *n >= 0)?;
    match kind {
        'o' => Some(Seek::Offset(n)),
        'a' => Some(Seek::After(n)),
        'b' => Some(Seek::Before(n)),
        _ => None,
    }
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

    fn with_cursor(&self, seek: Seek) -> String {
        let mut pairs: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        pairs.push(format!("cursor={}", encode_cursor(seek)));
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
        let next = has_next.then(|| self.with_cursor(Seek::Offset(window.offset + window.limit)));
        let previous = (window.offset > 0)
            .then(|| self.with_cursor(Seek::Offset((window.offset - window.limit).max(0))));
        (count, next, previous, rows)
    }

    /// The page's answer for a seeking list: `rows` as fetched from `seek`
    /// (up to `size + 1`; before an id, in descending id order), `id` reads
    /// a row's id. The links are id cursors.
    pub fn seek_page<T>(
        &self,
        (seek, size): (Seek, i64),
        mut rows: Vec<T>,
        count: i64,
        id: impl Fn(&T) -> i64,
    ) -> (i64, Option<String>, Option<String>, Vec<T>) {
        let more = rows.len() as i64 > size;
        rows.truncate(size as usize);
        if let Seek::Before(_) = seek {
            rows.reverse();
        }
        let first = rows.first().map(&id);
        let last = rows.last().map(&id);
        let (has_next, has_previous) = match seek {
            Seek::Offset(offset) => (more, offset > 0),
            Seek::After(_) => (more, true),
            Seek::Before(_) => (true, more),
        };
        let next = match (has_next, last, seek) {
            (true, Some(last), _) => Some(Seek::After(last)),
            // An empty page before an id: the rows from that id on.
            (true, None, Seek::Before(id)) => Some(Seek::After(id - 1)),
            _ => None,
        };
        let previous = match (has_previous, first, seek) {
            (true, Some(first), _) => Some(Seek::Before(first)),
            // An empty page past the end: the rows up to where it started.
            (true, None, Seek::After(id)) => Some(Seek::Before(id + 1)),
            (true, None, Seek::Offset(_)) => Some(Seek::Offset(0)),
            _ => None,
        };
        (
            count,
            next.map(|s| self.with_cursor(s)),
            previous.map(|s| self.with_cursor(s)),
            rows,
        )
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
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

    #[test]
    fn seeking_lists_link_by_id_both_ways_and_offset_lists_refuse_id_cursors() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "club.example".parse().unwrap());
        let uri: Uri = "/api/v1/memberships?status=active".parse().unwrap();
        let here = Here::new(&headers, &uri);
        let link = |cursor: &str| {
            format!("http://club.example/api/v1/memberships?status=active&cursor={cursor}")
        };
        let id = |r: &i64| *r;

        let first = query(Some("2"), None, None).seek().unwrap();
        assert_eq!(first, (Seek::Offset(0), 2));
        let (count, next, previous, rows) = here.seek_page(first, vec![10, 11, 12], 5, id);
        assert_eq!((count, rows), (5, vec![10, 11]));
        assert_eq!((next, previous), (Some(link("ab")), None));

        let after = query(Some("2"), Some("ab"), None).seek().unwrap();
        assert_eq!(after.0, Seek::After(11));
        let (_, next, previous, rows) = here.seek_page(after, vec![12, 13, 14], 5, id);
        assert_eq!(rows, [12, 13]);
        assert_eq!((next, previous), (Some(link("ad")), Some(link("bc"))));

        // Before 12: fetched nearest first, answered in id order; nothing
        // before 10, so no previous.
        let before = query(Some("2"), Some("bc"), None).seek().unwrap();
        let (_, next, previous, rows) = here.seek_page(before, vec![11, 10], 5, id);
        assert_eq!(rows, [10, 11]);
        assert_eq!((next, previous), (Some(link("ab")), None));

        // The last page: no next.
        let last = query(Some("2"), Some("ad"), None).seek().unwrap();
        let (_, next, previous, rows) = here.seek_page(last, vec![14], 5, id);
        assert_eq!(rows, [14]);
        assert_eq!((next, previous), (None, Some(link("be"))));

        for bad in ["a", "zz", "a-1", "ag"] {
            assert!(query(None, Some(bad), None).seek().is_err(), "{bad}");
        }
        let error = query(None, Some("ab"), None).window().unwrap_err();
        assert_eq!(error.body.error.field.as_deref(), Some("cursor"));
    }
}
