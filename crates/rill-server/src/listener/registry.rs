//! The open connections, oldest first, under a cap.
//!
//! At the cap a new connection is not simply refused: that would let a flood of idle
//! connections (or slow ones that never finish a request) lock everyone else out until
//! they time out. Instead the oldest connection with nothing in flight is closed to make
//! room (HTTP lets a server close an idle connection at any time). Only when every
//! connection it looks at is busy serving a request is the new one refused.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus_client::metrics::gauge::Gauge;
use tokio::time::Instant;

use super::conn::Conn;

/// How many of the oldest connections one admission looks at for an idle one. Bounds the
/// work per accept when the oldest are long streams.
const EVICTION_SCAN: usize = 64;

pub struct Registry {
    max: usize,
    epoch: Instant,
    /// `rill_connections_open`.
    gauge: Gauge,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    open: BTreeMap<u64, Arc<Conn>>,
}

/// A place in the registry; leaving it (dropping this) frees it.
pub struct Slot {
    registry: Arc<Registry>,
    id: u64,
    pub conn: Arc<Conn>,
}

/// What admitting a connection did.
pub enum Admission {
    /// Under the cap.
    Admitted(Slot),
    /// At the cap: the oldest idle connection was told to close to make room.
    Evicted(Slot),
    /// At the cap with every connection looked at busy.
    Refused,
}

impl Registry {
    pub fn new(max: usize, gauge: Gauge) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            epoch: Instant::now(),
            gauge,
            inner: Mutex::default(),
        })
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections open now.
    #[cfg(test)]
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }

    pub fn admit(self: &Arc<Self>) -> Admission {
        let mut inner = self.lock();
        let mut evicted = false;
        if inner.open.len() >= self.max {
            let victim = inner
                .open
                .iter()
                .take(EVICTION_SCAN)
                .find(|(_, conn)| conn.is_idle() && !conn.is_evicted())
                .map(|(id, conn)| (*id, Arc::clone(conn)));
            let Some((id, conn)) = victim else {
                return Admission::Refused;
            };
            // Out of the count at once: its task closes the socket in a moment.
            inner.open.remove(&id);
            self.gauge.dec();
            conn.evict();
            evicted = true;
        }
        let id = inner.next;
        inner.next += 1;
        let conn = Arc::new(Conn::new(self.epoch));
        inner.open.insert(id, Arc::clone(&conn));
        self.gauge.inc();
        drop(inner);
        let slot = Slot {
            registry: Arc::clone(self),
            id,
            conn,
        };
        if evicted {
            Admission::Evicted(slot)
        } else {
            Admission::Admitted(slot)
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update is a single map operation; a panic cannot leave it torn.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.registry.lock().open.remove(&self.id).is_some() {
            self.registry.gauge.dec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(admission: Admission) -> Slot {
        match admission {
            Admission::Admitted(slot) | Admission::Evicted(slot) => slot,
            Admission::Refused => panic!("refused"),
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let registry = Registry::new(2, Gauge::default());
        let first = slot(registry.admit());
        let second = slot(registry.admit());
        let _busy = first.conn.request_started();
        // The first is busy, so the second (idle) goes.
        let third = registry.admit();
        assert!(matches!(third, Admission::Evicted(_)));
        assert!(second.conn.is_evicted() && !first.conn.is_evicted());
        assert_eq!(registry.open(), 2);
        drop(second);
        assert_eq!(
            registry.open(),
            2,
            "an evicted connection is no longer counted"
        );
        let third = slot(third);
        let _busy_too = third.conn.request_started();
        assert!(matches!(registry.admit(), Admission::Refused));
    }

    #[tokio::test]
    async fn closing_frees_the_place() {
        let registry = Registry::new(1, Gauge::default());
        let only = slot(registry.admit());
        let busy = only.conn.request_started();
        assert!(matches!(registry.admit(), Admission::Refused));
        drop(busy);
        drop(only);
        let again = registry.admit();
        assert!(matches!(again, Admission::Admitted(_)));
        assert_eq!(registry.open(), 1);
    }
}
