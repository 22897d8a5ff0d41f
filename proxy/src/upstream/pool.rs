//! A worker's idle upstream connections, by target, reused newest first so a burst's
//! connections stay warm and the rest age out.

use super::conn::{Conn, Key};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

/// An idle connection older than this is closed (targets close theirs after a while too;
/// node's keep-alive timeout is 5 s, Jupyter's tornado keeps them longer).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
/// At most this many idle connections are kept per target.
const MAX_IDLE_PER_TARGET: usize = 256;

/// Only the worker's own thread uses its pool, so the lock is never contended; it is there
/// because connection tasks must be `Send`.
#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<Key, Vec<(Conn, Instant)>>>,
}

impl Pool {
    /// The most recently used idle connection to `key`, if one is fresh. `check`: also make
    /// sure the target has not closed it (see [`Conn::is_usable`]).
    pub fn take(&self, key: &Key, check: bool) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = idle.get_mut(key)?;
        let now = Instant::now();
        while let Some((conn, since)) = list.pop() {
            if now.duration_since(since) < IDLE_TIMEOUT && (!check || conn.is_usable()) {
                return Some(conn);
            }
        }
        None
    }

    /// Keep a connection whose last exchange ended cleanly. Its read buffer is let go: idle
    /// connections to many targets would otherwise each hold one.
    pub fn put(&self, mut conn: Conn) {
        conn.release_buffer();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let list = match idle.get_mut(&conn.key) {
            Some(list) => list,
            None => idle.entry(conn.key.clone()).or_default(),
        };
        if list.len() < MAX_IDLE_PER_TARGET {
            list.push((conn, Instant::now()));
        }
    }

    /// Close connections idle for longer than [`IDLE_TIMEOUT`] and forget targets left with
    /// none, so routes removed long ago hold no sockets or memory.
    pub fn sweep(&self) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        idle.retain(|_, list| {
            list.retain(|(_, since)| now.duration_since(*since) < IDLE_TIMEOUT);
            !list.is_empty()
        });
    }
}

/// Sweep `pool` every [`IDLE_TIMEOUT`] until it is dropped. Spawn on the pool's worker.
pub async fn sweep_until_dropped(pool: Weak<Pool>) {
    let mut tick = tokio::time::interval(IDLE_TIMEOUT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match pool.upgrade() {
            Some(p) => p.sweep(),
            None => return,
        }
    }
}
