//! An ordered list of RPC endpoints with failover.
//!
//! The first endpoint is preferred (an edge agent lists its parent regional site's read replica
//! first, then a core node). A transport failure moves to the next one; after
//! [`Endpoints::failback_after`] on a fallback endpoint the next [`Endpoints::pick`] tries the
//! preferred one again. Failover itself never loses or repeats events because the log stream
//! re-derives everything from its cursor (block number + hash) on whichever endpoint it uses.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use alloy::providers::{ProviderBuilder, RootProvider};
use alloy::transports::http::reqwest;
use alloy::transports::http::reqwest::Url;

use crate::error::{Error, Result};

/// One configured RPC endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// A name for logs and metrics (e.g. `reg-lagos-replica`).
    pub name: String,
    /// The HTTP JSON-RPC url (used for backfill, reads and transactions).
    pub http: Url,
    /// The WebSocket url, if the node offers one (used for live subscriptions).
    pub ws: Option<Url>,
}

impl Endpoint {
    /// Parses an endpoint from strings, naming the endpoint in any error.
    pub fn parse(name: &str, http: &str, ws: Option<&str>) -> Result<Self> {
        let parse = |url: &str, schemes: &[&str]| -> Result<Url> {
            let parsed = Url::parse(url).map_err(|e| Error::InvalidUrl {
                name: name.to_owned(),
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
            if !schemes.contains(&parsed.scheme()) {
                return Err(Error::InvalidUrl {
                    name: name.to_owned(),
                    url: url.to_owned(),
                    reason: format!("scheme must be one of {schemes:?}"),
                });
            }
            Ok(parsed)
        };
        Ok(Self {
            name: name.to_owned(),
            http: parse(http, &["http", "https"])?,
            ws: ws.map(|w| parse(w, &["ws", "wss"])).transpose()?,
        })
    }
}

/// A connected endpoint: its description and an HTTP provider without fillers.
#[derive(Clone, Debug)]
pub struct Connected {
    /// Index in the configured order (0 = preferred).
    pub index: usize,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// A plain HTTP provider for it (requests time out after the configured request timeout).
    pub provider: RootProvider,
}

#[derive(Debug)]
struct State {
    current: usize,
    /// When we left the preferred endpoint, to know when to try it again.
    since: Instant,
}

/// The ordered endpoint list.
#[derive(Debug)]
pub struct Endpoints {
    list: Vec<Connected>,
    state: Mutex<State>,
    failback_after: Duration,
}

impl Endpoints {
    /// Builds the HTTP providers (no connection is made yet).
    pub fn new(
        list: Vec<Endpoint>,
        request_timeout: Duration,
        failback_after: Duration,
    ) -> Result<Self> {
        if list.is_empty() {
            return Err(Error::NoEndpoints);
        }
        let client = reqwest::Client::builder()
            .timeout(request_timeout)
            .connect_timeout(request_timeout)
            // Few requests per agent; idle sockets would only count against the node's limits.
            .pool_max_idle_per_host(1)
            .build()
            .map_err(|e| Error::InvalidUrl {
                name: list[0].name.clone(),
                url: list[0].http.to_string(),
                reason: format!("building the HTTP client failed: {e}"),
            })?;
        let list = list
            .into_iter()
            .enumerate()
            .map(|(index, endpoint)| Connected {
                index,
                provider: ProviderBuilder::new()
                    .disable_recommended_fillers()
                    .connect_reqwest(client.clone(), endpoint.http.clone()),
                endpoint,
            })
            .collect();
        Ok(Self {
            list,
            state: Mutex::new(State {
                current: 0,
                since: Instant::now(),
            }),
            failback_after,
        })
    }

    /// How long to stay on a fallback endpoint before trying the preferred one again.
    pub fn failback_after(&self) -> Duration {
        self.failback_after
    }

    /// The endpoint at position `i` of the configured order.
    pub fn nth(&self, i: usize) -> Connected {
        self.list[i % self.list.len()].clone()
    }

    /// Number of endpoints.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Always false: construction rejects an empty list.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The endpoint to use now (the preferred one once `failback_after` has passed).
    pub fn pick(&self) -> Connected {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.current != 0 && st.since.elapsed() >= self.failback_after {
            tracing::info!(target: "chain::endpoints", preferred = %self.list[0].endpoint.name, "trying the preferred endpoint again");
            st.current = 0;
        }
        self.list[st.current].clone()
    }

    /// Records that `index` failed at the transport level; the next pick uses the next endpoint.
    pub fn report_failure(&self, index: usize) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.current == index {
            let next = (index + 1) % self.list.len();
            if next != index {
                tracing::warn!(target: "chain::endpoints", from = %self.list[index].endpoint.name, to = %self.list[next].endpoint.name, "failing over");
            }
            st.current = next;
            st.since = Instant::now();
        }
    }

    /// Runs `f` on the current endpoint, failing over on transport failures; JSON-RPC error
    /// responses are returned as they are (they are the node's answer, not an endpoint fault).
    pub async fn call<T, F, Fut>(&self, method: &'static str, f: F) -> Result<T>
    where
        F: Fn(RootProvider) -> Fut,
        Fut: Future<Output = alloy::transports::TransportResult<T>>,
    {
        let mut last = String::new();
        for _ in 0..self.list.len() {
            let c = self.pick();
            match f(c.provider.clone()).await {
                Ok(v) => return Ok(v),
                Err(source) => {
                    let err = Error::Rpc {
                        endpoint: c.endpoint.name.clone(),
                        method,
                        source,
                    };
                    if !err.is_endpoint_failure() {
                        return Err(err);
                    }
                    last = err.to_string();
                    self.report_failure(c.index);
                }
            }
        }
        Err(Error::AllEndpointsFailed {
            count: self.list.len(),
            last,
        })
    }
}

/// Wraps a transport error with the endpoint and method.
pub(crate) fn rpc_err<'a>(
    c: &'a Connected,
    method: &'static str,
) -> impl FnOnce(alloy::transports::TransportError) -> Error + 'a {
    move |source| Error::Rpc {
        endpoint: c.endpoint.name.clone(),
        method,
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parse_rejects_wrong_scheme_and_names_endpoint() {
        let err = Endpoint::parse("core", "ws://127.0.0.1:8545", None).unwrap_err();
        assert!(err.to_string().contains("core"), "{err}");
        assert!(
            Endpoint::parse("core", "http://127.0.0.1:8545", Some("ws://127.0.0.1:8546")).is_ok()
        );
    }

    #[test]
    fn failover_cycles_and_fails_back() {
        let eps = vec![
            Endpoint::parse("a", "http://127.0.0.1:1", None).unwrap(),
            Endpoint::parse("b", "http://127.0.0.1:2", None).unwrap(),
        ];
        let e = Endpoints::new(eps, Duration::from_secs(1), Duration::ZERO).unwrap();
        assert_eq!(e.pick().index, 0);
        e.report_failure(0);
        // failback_after is zero, so the preferred endpoint comes back at once.
        assert_eq!(e.pick().index, 0);
        let e = Endpoints::new(
            vec![
                Endpoint::parse("a", "http://127.0.0.1:1", None).unwrap(),
                Endpoint::parse("b", "http://127.0.0.1:2", None).unwrap(),
            ],
            Duration::from_secs(1),
            Duration::from_secs(3600),
        )
        .unwrap();
        e.report_failure(0);
        assert_eq!(e.pick().index, 1);
        // A stale failure report for an endpoint no longer current changes nothing.
        e.report_failure(0);
        assert_eq!(e.pick().index, 1);
    }
}
