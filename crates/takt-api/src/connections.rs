//! Accepting connections, with bounds a slow or greedy client cannot get round: a connection
//! that has not sent a request's headers within `header_timeout` (its first request, or the next
//! one after a response) is closed; so is one whose client takes nothing of its answer for
//! `write_timeout` (it asked for much and stopped reading); at most `per_client` connections from
//! one address are kept (more are closed as they come); at most `max` at once (more wait in the
//! listen backlog until one closes). Without them a few hundred connections that send half a
//! request and wait held every file descriptor, and the server accepted nothing more; and a
//! client that asked for large answers and read none of them held its connections for good.
//!
//! HTTP/1.1 through hyper, the way `axum::serve` runs it, with a timer and the bounds added;
//! each request carries its peer's address (`ConnectInfo<SocketAddr>`).

use axum::Router;
use axum::extract::connect_info::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// The bounds on connections (`takt serve --max-connections`, `--connections-per-client`,
/// `--header-timeout`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max: usize,
    /// Connections open at once from one address.
    pub per_client: usize,
    /// How long a connection may take to send a request's headers, counted from its opening or
    /// from the end of its last response (so also how long it may stay idle).
    pub header_timeout: Duration,
    /// How long an answer may wait for its client to take any of it (a client on a slow link
    /// still takes some; one that stopped reading takes none).
    pub write_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max: 1024,
            per_client: 128,
            header_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Open connections per address; an address leaves the map with its last connection.
#[derive(Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

impl PerClient {
    /// Counts a connection from `ip` in, unless it already has `most`.
    fn enter(self: &Arc<Self>, ip: IpAddr, most: usize) -> Option<ClientSlot> {
        let mut open = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if open.get(&ip).copied().unwrap_or(0) >= most {
            return None;
        }
        *open.entry(ip).or_default() += 1;
        Some(ClientSlot {
            clients: Arc::clone(self),
            ip,
        })
    }
}

/// One connection counted against its address, until dropped.
struct ClientSlot {
    clients: Arc<PerClient>,
    ip: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self
            .clients
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets the open
/// connections finish their requests (idle ones close at once) and returns when all have closed.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max.max(1)));
    let clients = Arc::new(PerClient::default());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A place first: at the bound, connections wait in the backlog, not in memory.
        let place = tokio::select! {
            place = Arc::clone(&open).acquire_owned() => place,
            () = &mut shutdown => break,
        };
        let Ok(place) = place else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or memory, or a connection reset before it was taken:
                    // wait a little rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = clients.enter(peer.ip(), limits.per_client) else {
            tracing::debug!(%peer, "closed: the client has its most connections open");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write_timeout));
        let service = app
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(
                TokioIo::new(Box::pin(stream)),
                TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(%peer, error = %e, "connection ended");
            }
            drop((slot, place));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_share_and_leaves_with_its_last_connection() {
        let clients = Arc::new(PerClient::default());
        let a: IpAddr = [127, 0, 0, 2].into();
        let b: IpAddr = [127, 0, 0, 3].into();
        let first = clients.enter(a, 2).expect("first");
        let second = clients.enter(a, 2).expect("second");
        assert!(
            clients.enter(a, 2).is_none(),
            "a third from the same address"
        );
        let other = clients
            .enter(b, 2)
            .expect("another address has its own share");
        drop(first);
        let again = clients.enter(a, 2).expect("a place freed");
        drop((second, again, other));
        assert!(clients.0.lock().expect("lock").is_empty());
        // An address refused holds no place in the map.
        assert!(clients.enter(a, 0).is_none());
        assert!(clients.0.lock().expect("lock").is_empty());
    }
}
