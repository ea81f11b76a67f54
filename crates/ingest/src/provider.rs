//! The two API providers behind one set of commands: names, resources and plans.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{fitbit, google, Request};
use fitpipe_catalog::GoogleOp;

/// An API fitpipe can fetch from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// The Fitbit Web API (turned off on 2026-11-02; archives and the simulator remain).
    Fitbit,
    /// The Google Health API v4.
    Google,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 2] = [Provider::Fitbit, Provider::Google];

    /// The provider's name, as in `--provider`, `source` and the raw and token folders.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Fitbit => fitbit::PROVIDER,
            Provider::Google => google::PROVIDER,
        }
    }

    /// The provider of a name.
    pub fn parse(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The production API base.
    pub fn api_base(self) -> &'static str {
        match self {
            Provider::Fitbit => "https://api.fitbit.com",
            Provider::Google => google::API_BASE,
        }
    }

    /// OAuth endpoints (authorize, token, revoke) for an API base.
    pub fn endpoints(self, base: &str) -> (String, String, String) {
        match self {
            Provider::Fitbit => fitbit::endpoints(base),
            Provider::Google => google::endpoints(base),
        }
    }

    /// Scopes fitpipe asks for.
    pub fn scopes(self) -> Vec<String> {
        let s: &[&str] = match self {
            Provider::Fitbit => fitbit::SCOPES,
            Provider::Google => google::SCOPES,
        };
        s.iter().map(|x| x.to_string()).collect()
    }

    /// Extra parameters of the authorization URL.
    pub fn auth_params(self) -> Vec<(String, String)> {
        let p: &[(&str, &str)] = match self {
            Provider::Fitbit => &[],
            Provider::Google => google::AUTH_PARAMS,
        };
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The default `--resources`.
    pub fn default_resources(self) -> Vec<&'static str> {
        match self {
            Provider::Fitbit => fitbit::default_resources(),
            Provider::Google => google::default_resources(),
        }
    }

    /// Names accepted by `--resources`.
    pub fn resource_names(self) -> Vec<&'static str> {
        match self {
            Provider::Fitbit => fitbit::resource_names(),
            Provider::Google => google::resource_names(),
        }
    }

    /// Names accepted by `--intraday` (the catalog's intraday types this API reads).
    pub fn intraday_names(self) -> Vec<&'static str> {
        fitpipe_catalog::names(self.api(), fitpipe_catalog::Kind::Intraday, false)
    }

    /// The catalog's name for this API.
    pub fn api(self) -> fitpipe_catalog::Api {
        match self {
            Provider::Fitbit => fitpipe_catalog::Api::Fitbit,
            Provider::Google => fitpipe_catalog::Api::Google,
        }
    }

    /// Parses a `--resources` name.
    pub fn resource(self, name: &str) -> Option<Resource> {
        match self {
            Provider::Fitbit => fitbit::Resource::parse(name).map(Resource::Fitbit),
            Provider::Google => google::Resource::parse(name).map(Resource::Google),
        }
    }

    /// Parses an `--intraday` name.
    pub fn intraday(self, name: &str) -> Option<Resource> {
        match self {
            Provider::Fitbit => fitbit::Resource::parse_intraday(name).map(Resource::Fitbit),
            Provider::Google => google::Resource::parse_intraday(name).map(Resource::Google),
        }
    }
}

/// A resource of either provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// Fitbit Web API.
    Fitbit(fitbit::Resource),
    /// Google Health API.
    Google(google::Resource),
}

/// One planned request.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// First day covered.
    pub start: NaiveDate,
    /// Last day covered.
    pub end: NaiveDate,
    /// What to send.
    pub request: Request,
}

/// The Google sleep list (the one list with a fallback when its filter is refused).
fn is_sleep(r: &google::Resource) -> bool {
    r.data_type() == Some("sleep")
}

/// What a complete answer for a window replaces: declared per data type in the catalog.
pub use fitpipe_catalog::Replace as Replaces;

impl Provider {
    /// The resource whose [`Resource::key`] is `key` (raw folders are named by key).
    pub fn resource_by_key(self, key: &str) -> Option<Resource> {
        let daily = self
            .resource_names()
            .into_iter()
            .filter_map(|n| self.resource(n));
        let intraday = self.intraday_names().into_iter().flat_map(|n| {
            ["", ":1sec", ":1min", ":15min"]
                .into_iter()
                .filter_map(move |d| self.intraday(&format!("{n}{d}")))
        });
        daily.chain(intraday).find(|r| r.key() == key)
    }
}

impl Resource {
    /// Its catalog row, and how the row says this resource's API reads it.
    fn catalog(
        &self,
    ) -> (
        Option<&'static fitpipe_catalog::DataType>,
        Option<fitpipe_catalog::Read>,
    ) {
        let (api, kind, name) = match self {
            Resource::Fitbit(r) => (fitpipe_catalog::Api::Fitbit, r.kind(), r.catalog_name()),
            Resource::Google(r) => (fitpipe_catalog::Api::Google, r.kind(), r.catalog_name()),
        };
        let row = fitpipe_catalog::get(kind, name);
        (row, row.and_then(|t| t.read_by(api)))
    }

    /// What an answer for one window replaces.
    pub fn replaces(&self) -> Replaces {
        self.catalog().1.map_or(Replaces::Nothing, |r| r.replaces)
    }

    /// Which device's sync makes this resource's days final (from the catalog).
    pub fn synced_by(&self) -> fitpipe_catalog::SyncedBy {
        self.catalog()
            .0
            .map_or(fitpipe_catalog::SyncedBy::Nothing, |t| t.synced_by())
    }

    /// Whether the scope that guards it is one people may leave unticked
    /// ([`fitpipe_catalog::OPTIONAL_SCOPES`]).
    pub fn optional_scope(&self) -> bool {
        self.catalog()
            .1
            .is_some_and(|r| fitpipe_catalog::OPTIONAL_SCOPES.contains(&r.scope))
    }

    /// A stable name for state, raw files and progress.
    pub fn key(&self) -> String {
        match self {
            Resource::Fitbit(r) => r.key(),
            Resource::Google(r) => r.key(),
        }
    }

    /// Whether this is the profile (fetched first: it gives the time zone).
    pub fn is_profile(&self) -> bool {
        matches!(self, Resource::Fitbit(fitbit::Resource::Profile))
            || matches!(self, Resource::Google(r) if r.op() == GoogleOp::Profile)
    }

    /// Read whole on every run, whatever the recorded progress (the paired devices: their
    /// last sync says which days are final): one request, filed under the run's last day.
    pub fn every_run(&self) -> bool {
        matches!(self, Resource::Fitbit(fitbit::Resource::Devices))
            || matches!(self, Resource::Google(r) if r.op() == GoogleOp::Devices)
    }

    /// The fewest requests covering `from..=to` (local days of `tz`, as of `now`).
    pub fn plan(&self, from: NaiveDate, to: NaiveDate, tz: Tz, now: DateTime<Utc>) -> Vec<Window> {
        match self {
            Resource::Fitbit(r) => fitbit::plan(r, from, to)
                .into_iter()
                .map(|w| Window {
                    start: w.start,
                    end: w.end,
                    request: Request::get(&w.path),
                })
                .collect(),
            Resource::Google(r) => google::plan(r, from, to, tz, now),
        }
    }

    /// For a request the API refused, one that gets the same data another way: the sleep
    /// list without its filter, paged back to the first day wanted
    /// ([`google::oldest_sleep_end`] tells how far a page reached).
    pub fn fallback(&self, e: &crate::IngestError) -> Option<Request> {
        match self {
            Resource::Google(r) if is_sleep(r) && google::filter_refused(e) => {
                Some(google::sleep_unfiltered())
            }
            _ => None,
        }
    }

    /// The next page of a [`Resource::fallback`] list, which runs newest first: none once
    /// a page reached back past `from`.
    pub fn next_fallback_page(
        &self,
        req: &Request,
        body: &[u8],
        from: NaiveDate,
    ) -> Option<Request> {
        match self {
            Resource::Google(r)
                if is_sleep(r) && google::oldest_sleep_end(body).is_some_and(|d| d >= from) =>
            {
                google::next_page(req, body)
            }
            _ => None,
        }
    }

    /// Requests an answer leads to besides its next page: the route (TCX) of each exercise
    /// of a list page recorded with GPS, for the routes resource (Fitbit's list runs on to
    /// today: only those started by `until`, the window's last day).
    pub fn follow_ups(&self, body: &[u8], until: NaiveDate) -> Vec<Request> {
        match self {
            Resource::Fitbit(fitbit::Resource::Route) => fitbit::route_requests(body, until)
                .iter()
                .map(|p| Request::get(p))
                .collect(),
            Resource::Google(r) if r.op() == GoogleOp::Routes => google::route_requests(body),
            _ => Vec::new(),
        }
    }

    /// The request for the next page of an answer, if it has one (and, for Fitbit's
    /// activity list, which runs on to today, if the answer has not passed `until`, the
    /// window's last day).
    pub fn next_page(&self, req: &Request, body: &[u8], until: NaiveDate) -> Option<Request> {
        match self {
            Resource::Fitbit(fitbit::Resource::Exercise | fitbit::Resource::Route) => {
                fitbit::next_page(body, until).map(|path| Request {
                    path,
                    ..req.clone()
                })
            }
            Resource::Fitbit(_) => None,
            Resource::Google(_) => google::next_page(req, body),
        }
    }
}
