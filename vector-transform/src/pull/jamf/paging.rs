//! Jamf Pro API paging: `?page=N&page-size=S` (pages count from 0), each answer
//! `{"totalCount": n, "results": [...]}`
//! (<https://developer.jamf.com/jamf-pro/docs/jamf-pro-api-overview>, "Pagination, sorting and
//! filtering"). The last page is the one that reaches `totalCount` (or comes back empty; without a
//! `totalCount`, short).
//! A page that repeats the one before it (a server ignoring `page`), or more than `--max-pages`
//! pages, stops the stream with a clear error; the page read before the problem is still returned,
//! so it is stored and the checkpoint stays at the last complete page.

use serde::Deserialize;
use serde_json::value::RawValue;
use url::Url;

use crate::pull::{ApiClient, PullError};

#[derive(Deserialize)]
struct JamfPage<'a> {
    #[serde(rename = "totalCount")]
    total_count: Option<u64>,
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

/// Reads the pages of one Jamf Pro API collection.
pub(super) struct PagePager<'c> {
    client: &'c ApiClient,
    what: String,
    permission: &'static str,
    base: Url,
    page_size: u64,
    max_pages: u64,
    page: u64,
    read: u64,
    done: bool,
    previous: Option<Vec<String>>,
    problem: Option<PullError>,
}

impl<'c> PagePager<'c> {
    /// Pages of `base` (its query kept; `page` and `page-size` added).
    pub(super) fn new(
        client: &'c ApiClient,
        what: String,
        permission: &'static str,
        base: Url,
        page_size: u64,
        max_pages: u64,
    ) -> Self {
        Self {
            client,
            what,
            permission,
            base,
            page_size: page_size.max(1),
            max_pages,
            page: 0,
            read: 0,
            done: false,
            previous: None,
            problem: None,
        }
    }

    /// The stream reached its last page.
    pub(super) fn done(&self) -> bool {
        self.done && self.problem.is_none()
    }

    fn paging_error(&self, reason: String) -> PullError {
        PullError::Paging {
            what: self.what.clone(),
            reason,
        }
    }

    /// The next page's records (each a JSON text as sent), `None` after the last.
    pub(super) async fn next_page(&mut self) -> Result<Option<Vec<String>>, PullError> {
        if let Some(p) = self.problem.take() {
            self.done = true;
            return Err(p);
        }
        if self.done {
            return Ok(None);
        }
        let mut url = self.base.clone();
        url.query_pairs_mut()
            .append_pair("page", &self.page.to_string())
            .append_pair("page-size", &self.page_size.to_string());
        let body = self.client.get(&url, &self.what, self.permission).await?;
        let page: JamfPage<'_> = serde_json::from_str(&body).map_err(|e| {
            self.paging_error(format!(
                "page {} is not a Jamf Pro API page ({{\"totalCount\", \"results\": [...]}}): {e}",
                self.page
            ))
        })?;
        let records: Vec<String> = page.results.iter().map(|r| r.get().to_owned()).collect();
        self.page += 1;
        self.read += records.len() as u64;
        // totalCount decides (a server may cap page-size below what was asked); without it, a
        // short page is the last.
        let total = page.total_count.unwrap_or(0);
        let last = records.is_empty()
            || match page.total_count {
                Some(t) => self.read >= t,
                None => (records.len() as u64) < self.page_size,
            };
        if last {
            self.done = true;
        } else if self.previous.as_ref() == Some(&records) {
            // The repeated records are already stored: nothing new to hand on.
            self.done = true;
            return Err(self.paging_error(format!(
                "page {} repeats page {} (the server ignores `page`?): the paging loops; stopped, \
                 the checkpoint stays at the last page stored",
                self.page - 1,
                self.page - 2
            )));
        } else if self.page >= self.max_pages {
            self.problem = Some(self.paging_error(format!(
                "still more after {} pages (--max-pages; totalCount {total}): the paging does not \
                 end; stopped, the checkpoint stays at the last page stored",
                self.page
            )));
        }
        self.previous = Some(records.clone());
        Ok(Some(records))
    }
}
